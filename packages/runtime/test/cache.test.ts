import { describe, expect, it } from 'vitest'
import { codeHashOf, instrumentContract, ModuleCache } from '../src/index.js'
import { wat } from './helpers.js'

async function contract(i: number) {
  const code = await wat(`(module (memory (export "memory") 1) (func (export "f${i}")))`)
  const out = instrumentContract(code).code
  return { hash: codeHashOf(out), code: out }
}

describe('[ModuleCache]: byte-bounded LRU', () => {
  it('compiles once and serves hits', async () => {
    const cache = new ModuleCache()
    const c = await contract(1)
    const [a, b] = await Promise.all([cache.get(c.hash, c.code), cache.get(c.hash, c.code)])
    expect(a).toBe(b)
    expect(await cache.get(c.hash, c.code)).toBe(a)
    expect(cache.hits).toBe(1)
    expect(cache.count).toBe(1)
    expect(cache.has(c.hash)).toBe(true)
  })

  it('evicts the least recently used beyond maxBytes', async () => {
    const cs = await Promise.all([1, 2, 3].map(contract))
    const cache = new ModuleCache({ maxBytes: cs[0].code.length * 2 + 1 })
    await cache.get(cs[0].hash, cs[0].code)
    await cache.get(cs[1].hash, cs[1].code)
    await cache.get(cs[0].hash, cs[0].code) // 0 is now the most recent
    await cache.get(cs[2].hash, cs[2].code)
    expect(cache.has(cs[0].hash)).toBe(true)
    expect(cache.has(cs[1].hash)).toBe(false)
    expect(cache.has(cs[2].hash)).toBe(true)
    expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes)
    const tiny = new ModuleCache({ maxBytes: 10 })
    await tiny.get(cs[0].hash, cs[0].code)
    expect(tiny.count).toBe(0)
    cache.clear()
    expect(cache.count).toBe(0)
    expect(cache.bytes).toBe(0)
  })

  it('reports compile errors and can retry', async () => {
    const cache = new ModuleCache()
    const bad = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 99])
    await expect(cache.get(new Uint8Array(32), bad)).rejects.toThrow()
    await expect(cache.get(new Uint8Array(32), bad)).rejects.toThrow()
  })
})
