import wabtInit from 'wabt'
import { DEFAULT_GAS_SCHEDULE, instrumentContract } from '../src/index.js'

export const LOOP_WAT = `(module
  (memory (export "memory") 1)
  (func (export "run") (result i64)
    (local $i i32) (local $x i64) (local $y i64)
    (local.set $x (i64.const 0x243f6a8885a308d3))
    (local.set $y (i64.const 0x13198a2e03707344))
    (loop $l
      (local.set $x (i64.add (local.get $x) (local.get $y)))
      (local.set $y (i64.rotl (local.get $y) (i64.const 13)))
      (local.set $y (i64.xor (local.get $y) (local.get $x)))
      (local.set $x (i64.rotl (local.get $x) (i64.const 32)))
      (local.set $x (i64.add (local.get $x) (i64.extend_i32_u (local.get $i))))
      (local.set $y (i64.mul (local.get $y) (i64.const 0x9e3779b97f4a7c15)))
      (i64.store (i32.and (i32.shl (local.get $i) (i32.const 3)) (i32.const 0xfff8)) (local.get $x))
      (local.set $x (i64.xor (local.get $x) (i64.load (i32.and (i32.shl (local.get $i) (i32.const 2)) (i32.const 0xfff8)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))
    (i64.xor (local.get $x) (local.get $y))))`

export const FIB_WAT = `(module
  (memory (export "memory") 1)
  (func $fib (param i32) (result i64)
    (if (result i64) (i32.lt_u (local.get 0) (i32.const 2))
      (then (i64.extend_i32_u (local.get 0)))
      (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (result i64) (call $fib (i32.const 30))))`

export async function watToWasm(src: string): Promise<Uint8Array> {
  const wabt = await wabtInit()
  const m = wabt.parseWat('x.wat', src, {
    multi_value: true,
    bulk_memory: true,
    sign_extension: true,
    mutable_globals: true,
  })
  return new Uint8Array(m.toBinary({}).buffer)
}

/** Instantiates `code` (instrumented or not) and returns a runner of its `run` export. */
export async function runner(code: Uint8Array, instrumented: boolean): Promise<() => bigint> {
  const module = await WebAssembly.compile(code as Uint8Array<ArrayBuffer>)
  const instance = new WebAssembly.Instance(module, {})
  const run = instance.exports.run as () => bigint
  if (!instrumented) return run
  const gas = instance.exports.__aureon_gas as WebAssembly.Global
  return () => {
    gas.value = 1n << 60n
    return run()
  }
}

/** CPU time of the process in ms (the machine is shared: time spent descheduled is not ours). */
function cpuMs(): number {
  const c = process.cpuUsage()
  return (c.user + c.system) / 1000
}

/** Median CPU time of the instrumented and the original run, same process, alternating. */
export async function meteringRatio(src: string, rounds = 15) {
  const code = await watToWasm(src)
  const inst = instrumentContract(code, { schedule: DEFAULT_GAS_SCHEDULE }).code
  const plain = await runner(code, false)
  const metered = await runner(inst, true)
  if (plain() !== metered()) throw new Error('instrumented result differs')
  for (let i = 0; i < 8; i++) {
    plain()
    metered()
  }
  const tp: number[] = []
  const tm: number[] = []
  for (let i = 0; i < rounds; i++) {
    let t = cpuMs()
    plain()
    tp.push(cpuMs() - t)
    t = cpuMs()
    metered()
    tm.push(cpuMs() - t)
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
  return { plainMs: med(tp), meteredMs: med(tm) }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log('loop', await meteringRatio(LOOP_WAT))
  console.log('fib', await meteringRatio(FIB_WAT))
}
