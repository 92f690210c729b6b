import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import wabtInit from 'wabt'

const here = dirname(fileURLToPath(import.meta.url))
export const repoRoot = join(here, '..', '..', '..')

let wabt: Awaited<ReturnType<typeof wabtInit>> | undefined

/** Compiles WebAssembly text to bytes (all features wabt knows, so hostile modules build too). */
export async function wat(source: string): Promise<Uint8Array> {
  wabt ??= await wabtInit()
  const m = wabt.parseWat('test.wat', source, {
    multi_value: true,
    bulk_memory: true,
    sign_extension: true,
    mutable_globals: true,
    simd: true,
    threads: true,
    tail_call: true,
    exceptions: true,
    reference_types: true,
    memory64: true,
  })
  try {
    return new Uint8Array(m.toBinary({}).buffer)
  } finally {
    m.destroy()
  }
}

/** Reads a WAT file of examples/contracts and compiles it. */
export async function exampleContract(name: string): Promise<Uint8Array> {
  return wat(readFileSync(join(repoRoot, 'examples', 'contracts', name), 'utf8'))
}

export const addr = (n: number) => {
  const a = new Uint8Array(20)
  a[19] = n
  a[0] = 0xaa
  return a
}

export const u64le = (v: bigint) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, v, true)
  return b
}

export const readU64le = (b: Uint8Array) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true)

/** A valid contract of close to (at most) `targetSize` bytes of looping integer code. */
export async function bigModule(targetSize: number): Promise<Uint8Array> {
  const body = `(local $i i32) (local $x i64)
    (loop $l
      (local.set $x (i64.add (local.get $x) (i64.extend_i32_u (local.get $i))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 3))))
      (if (i32.eqz (i32.and (local.get $i) (i32.const 7)))
        (then (i32.store (i32.const 0) (i32.wrap_i64 (local.get $x))))
        (else (i64.store (i32.const 8) (local.get $x))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))`
  const build = (n: number) =>
    wat(
      `(module (memory (export "memory") 1) ${Array.from({ length: n }, (_, i) => `(func (export "f${i}") ${body})`).join('\n')})`,
    )
  const probe = await build(100)
  let n = Math.floor((targetSize / probe.length) * 100)
  let code = await build(n)
  while (code.length > targetSize) {
    n -= Math.ceil((code.length - targetSize) / (probe.length / 100)) + 1
    code = await build(n)
  }
  return code
}

/** Compiles an AssemblyScript file with asc (--runtime stub, --exportStart _initialize). */
export async function compileAssemblyScript(
  entry: string,
  extra: string[] = [],
): Promise<Uint8Array> {
  const asc = (await import('assemblyscript/asc')).default
  let wasm: Uint8Array | undefined
  const { error, stderr } = await asc.main(
    [entry, '--outFile', 'out.wasm', '--runtime', 'stub', '--exportStart', '_initialize', ...extra],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith('.wasm')) wasm = contents as Uint8Array
      },
    },
  )
  if (error || !wasm) throw new Error(`asc failed: ${stderr.toString()}`)
  return wasm
}

export const tokenSource = join(repoRoot, 'examples', 'contracts', 'token', 'assembly', 'index.ts')
