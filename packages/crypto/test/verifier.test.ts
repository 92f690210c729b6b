import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import {
  bls,
  CryptoErrorCode,
  createMainThreadVerifier,
  createWorkerPoolVerifier,
  type Ed25519VerifyItem,
  ed25519,
  hexToBytes,
  isCryptoError,
  POOL_WORKERS,
  type SignatureVerifier,
  utf8ToBytes,
} from '../src/index.js'
import { loadVectors } from './vectors.js'

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')

function edItems(n: number, bad: number[] = []): Ed25519VerifyItem[] {
  const items: Ed25519VerifyItem[] = []
  const sks = Array.from({ length: 4 }, () => ed25519.randomSecretKey())
  for (let i = 0; i < n; i++) {
    const sk = sks[i % 4]
    const message = utf8ToBytes(`tx ${i}`)
    const signature = ed25519.sign(message, sk)
    if (bad.includes(i)) signature[10] ^= 1
    items.push({ publicKey: ed25519.getPublicKey(sk), message, signature })
  }
  return items
}

function blsItems(n: number, bad: number[] = []) {
  const sks = Array.from({ length: 3 }, () => bls.randomSecretKey())
  return Array.from({ length: n }, (_, i) => {
    const sk = sks[i % 3]
    const message = utf8ToBytes(`vote ${i}`)
    const signature = bls.sign(bad.includes(i) ? utf8ToBytes('other') : message, sk)
    return { publicKey: bls.getPublicKey(sk), message, signature }
  })
}

const speccheckItems = (): Ed25519VerifyItem[] =>
  loadVectors('ed25519-speccheck.json').vectors.map((v: any) => ({
    publicKey: hexToBytes(v.pub_key),
    message: hexToBytes(v.message),
    signature: hexToBytes(v.signature),
  }))

const pool = createWorkerPoolVerifier({ workers: 2, ed25519MinBatch: 8, blsMinBatch: 4 })
afterAll(() => pool.close())

const verifiers: [string, SignatureVerifier][] = [
  ['main thread', createMainThreadVerifier()],
  ['worker pool', pool],
]

describe.each(verifiers)('[SignatureVerifier %s]: batches', (_name, v) => {
  it('ed25519: all good, some bad, empty', async () => {
    expect(await v.verifyEd25519(edItems(40))).toEqual({ valid: true, invalid: [] })
    expect(await v.verifyEd25519(edItems(40, [0, 17, 39]))).toEqual({
      valid: false,
      invalid: [0, 17, 39],
    })
    expect(await v.verifyEd25519([])).toEqual({ valid: true, invalid: [] })
  })
  it('ed25519: the pinned rule (speccheck: only case 3 is valid), also in large batches', async () => {
    const spec = speccheckItems()
    const r = await v.verifyEd25519([...spec, ...spec, ...spec])
    const valid = [3, 15, 27]
    expect(r.invalid).toEqual([...Array(36).keys()].filter((i) => !valid.includes(i)))
  })
  it('ed25519: malformed items are invalid, not errors', async () => {
    const items: any[] = edItems(12)
    items[2] = null
    items[3] = { ...items[3], signature: items[3].signature.subarray(1) }
    items[4] = { ...items[4], message: 'x' }
    expect((await v.verifyEd25519(items)).invalid).toEqual([2, 3, 4])
  })
  it('BLS: batch check, then one by one to name the bad ones', async () => {
    expect(await v.verifyBLS(blsItems(12))).toEqual({ valid: true, invalid: [] })
    expect(await v.verifyBLS(blsItems(12, [1, 10]))).toEqual({ valid: false, invalid: [1, 10] })
    const items: any[] = blsItems(9)
    const inf = new Uint8Array(48)
    inf[0] = 0xc0
    items[0] = { ...items[0], publicKey: inf }
    items[5] = { ...items[5], signature: new Uint8Array(95) }
    items[6] = undefined
    expect((await v.verifyBLS(items)).invalid).toEqual([0, 5, 6])
    expect(await v.verifyBLS([])).toEqual({ valid: true, invalid: [] })
    expect(await v.verifyBLS(blsItems(1))).toEqual({ valid: true, invalid: [] })
  })
  it('refuses a non-array', async () => {
    await expect(v.verifyEd25519('x' as any)).rejects.toThrow(/array/)
    await expect(v.verifyBLS(5 as any)).rejects.toThrow(/array/)
  })
})

describe('[SignatureVerifier worker pool]: agrees with ed25519.verify', () => {
  it('on random honest and bit-flipped signatures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 20 }), fc.nat(511), fc.boolean()), {
          minLength: 8,
          maxLength: 40,
        }),
        async (specs) => {
          const sk = ed25519.randomSecretKey()
          const publicKey = ed25519.getPublicKey(sk)
          const items = specs.map(([message, bit, flip]) => {
            const signature = ed25519.sign(message, sk)
            if (flip) signature[bit >> 3] ^= 1 << (bit & 7)
            return { publicKey, message, signature }
          })
          const expected = items
            .map((it, i) => (ed25519.verify(it.signature, it.message, it.publicKey) ? -1 : i))
            .filter((i) => i >= 0)
          expect((await pool.verifyEd25519(items)).invalid).toEqual(expected)
        },
      ),
      { numRuns: 15 },
    )
  })
  it('runs concurrent batches', async () => {
    const rs = await Promise.all([
      pool.verifyEd25519(edItems(30, [3])),
      pool.verifyEd25519(edItems(30, [29])),
      pool.verifyBLS(blsItems(8, [7])),
    ])
    expect(rs.map((r) => r.invalid)).toEqual([[3], [29], [7]])
  })
})

describe('[SignatureVerifier worker pool]: a dying worker', () => {
  it('its chunk is checked on the calling thread and the worker is replaced', async () => {
    const v = createWorkerPoolVerifier({ workers: 2, ed25519MinBatch: 1, blsMinBatch: 1 })
    await v.verifyEd25519(edItems(4))
    const workers = () => (v as any)[POOL_WORKERS]() as import('node:worker_threads').Worker[]
    const first = workers()[0]
    const pending = v.verifyEd25519(edItems(400, [5, 399]))
    await first.terminate()
    expect(await pending).toEqual({ valid: false, invalid: [5, 399] })
    expect(workers()[0]).not.toBe(first)
    expect((await v.verifyBLS(blsItems(4, [2]))).invalid).toEqual([2])
    expect((await v.verifyEd25519(edItems(10, [9]))).invalid).toEqual([9])
    // an idle worker that stops is replaced too
    const idle = workers()[1]
    await idle.terminate()
    expect(workers()[1]).not.toBe(idle)
    expect((await v.verifyEd25519(edItems(40, [0, 39]))).invalid).toEqual([0, 39])
    await v.close()
  })
})

describe('[SignatureVerifier]: close', () => {
  it('rejects calls after close with ERR_VERIFIER_CLOSED', async () => {
    for (const v of [createMainThreadVerifier(), createWorkerPoolVerifier({ workers: 1 })]) {
      await v.verifyEd25519(edItems(2))
      await v.close()
      await v.close()
      try {
        await v.verifyEd25519(edItems(1))
        expect.unreachable()
      } catch (e) {
        expect(isCryptoError(e) && e.code).toBe(CryptoErrorCode.VERIFIER_CLOSED)
      }
      await expect(v.verifyBLS([])).rejects.toThrow(/closed/)
    }
  })
  it('close while a batch runs rejects that batch', async () => {
    const v = createWorkerPoolVerifier({ workers: 1, ed25519MinBatch: 1 })
    const p = expect(v.verifyEd25519(edItems(200))).rejects.toThrow(/closed/)
    await v.close()
    await p
  })
})

describe('[SignatureVerifier]: from the built package', () => {
  const dist = resolve(pkgDir, 'dist/index.js')
  it.runIf(existsSync(dist))('the worker pool works from dist (no TypeScript involved)', () => {
    const script = `
      import { createWorkerPoolVerifier, ed25519, bls, utf8ToBytes } from ${JSON.stringify(dist)}
      const v = createWorkerPoolVerifier({ workers: 2, ed25519MinBatch: 1, blsMinBatch: 1 })
      const sk = ed25519.randomSecretKey(); const pk = ed25519.getPublicKey(sk)
      const items = Array.from({ length: 20 }, (_, i) => { const m = utf8ToBytes('m' + i); return { publicKey: pk, message: m, signature: ed25519.sign(i === 7 ? utf8ToBytes('x') : m, sk) } })
      const bsk = bls.randomSecretKey(); const bpk = bls.getPublicKey(bsk)
      const bitems = Array.from({ length: 6 }, (_, i) => { const m = utf8ToBytes('b' + i); return { publicKey: bpk, message: m, signature: bls.sign(i === 2 ? utf8ToBytes('x') : m, bsk) } })
      const r = await v.verifyEd25519(items); const b = await v.verifyBLS(bitems)
      await v.close()
      console.log(JSON.stringify([r, b]))
    `
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(JSON.parse(out)).toEqual([
      { valid: false, invalid: [7] },
      { valid: false, invalid: [2] },
    ])
  })
})
