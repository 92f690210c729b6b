import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const engine = fileURLToPath(new URL('../src/engine.ts', import.meta.url))

// (module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
const MODULE = [
  0, 97, 115, 109, 1, 0, 0, 0, 1, 6, 1, 96, 1, 127, 1, 127, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10,
  9, 1, 7, 0, 32, 0, 65, 1, 106, 11,
]

/** Compiles and calls a function in a fresh process; reports whether V8 ran it as Liftoff code. */
function liftoffInChild(callFirst: boolean): boolean {
  const script = `
    const { isOptimizingTierOnly, useOptimizingTierOnly } = await import(${JSON.stringify(engine)})
    if (isOptimizingTierOnly()) throw new Error('on before it was asked for')
    if (${callFirst}) useOptimizingTierOnly()
    if (isOptimizingTierOnly() !== ${callFirst}) throw new Error('isOptimizingTierOnly is wrong')
    const m = new WebAssembly.Module(new Uint8Array(${JSON.stringify(MODULE)}))
    const f = new WebAssembly.Instance(m).exports.f
    if (f(41) !== 42) throw new Error('wrong result')
    console.log(String(%IsLiftoffFunction(f)))
  `
  const r = spawnSync(
    process.execPath,
    ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 60_000 },
  )
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`)
  return r.stdout.trim() === 'true'
}

describe('[engine]: V8 tier', () => {
  it('by default a fresh module runs in the baseline tier; after useOptimizingTierOnly (which isOptimizingTierOnly then reports) it does not', () => {
    expect(liftoffInChild(false)).toBe(true)
    expect(liftoffInChild(true)).toBe(false)
  })
})
