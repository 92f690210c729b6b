import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeStatus,
  encodeStatus,
  gossipTopic,
  installPromiseWithResolvers,
  isP2PError,
  P2PError,
  P2PErrorCode,
  requestProtocol,
  STATUS_LENGTH,
  statusMismatch,
} from '../src/index.js'

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 })
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

describe('[status]: codec', () => {
  it('round-trips any status in 81 bytes', () => {
    fc.assert(
      fc.property(u64, hash, u64, hash, (chainId, genesisHash, headHeight, headHash) => {
        const s = { chainId, genesisHash, headHeight, headHash }
        const b = encodeStatus(s)
        expect(b.length).toBe(STATUS_LENGTH)
        expect(decodeStatus(b)).toEqual(s)
      }),
    )
  })

  it('refuses bad lengths, versions and fields', () => {
    const s = {
      chainId: 1n,
      genesisHash: new Uint8Array(32),
      headHeight: 0n,
      headHash: new Uint8Array(32),
    }
    const b = encodeStatus(s)
    expect(() => decodeStatus(b.subarray(1))).toThrow(/must be 81 bytes/)
    const v = b.slice()
    v[0] = 9
    expect(() => decodeStatus(v)).toThrow(/version 9/)
    expect(() => encodeStatus({ ...s, genesisHash: new Uint8Array(31) })).toThrow(/32 bytes/)
    expect(() => encodeStatus({ ...s, chainId: -1n })).toThrow(/u64/)
    try {
      decodeStatus(new Uint8Array(3))
    } catch (e) {
      expect(isP2PError(e) && e.code).toBe(P2PErrorCode.INVALID_MESSAGE)
      expect((e as P2PError).toJSON()).toMatchObject({
        name: 'P2PError',
        code: 'ERR_INVALID_MESSAGE',
      })
    }
  })

  it('explains a mismatch', () => {
    const s = {
      chainId: 1n,
      genesisHash: new Uint8Array(32),
      headHeight: 0n,
      headHash: new Uint8Array(32),
    }
    expect(statusMismatch(s, { ...s, headHeight: 9n })).toBeUndefined()
    expect(statusMismatch(s, { ...s, chainId: 2n })).toBe('chain id 2 differs from ours (1)')
    expect(statusMismatch(s, { ...s, genesisHash: new Uint8Array(32).fill(1) })).toMatch(
      /^genesis 0x0101.* differs from ours \(0x0000/,
    )
  })

  it('names topics and protocols per chain id', () => {
    expect(gossipTopic(7n, 'blocks')).toBe('/aureon/7/blocks/1')
    expect(requestProtocol(7n, 'snapshot-chunk')).toBe('/aureon/7/req/snapshot-chunk/1')
    const e = new P2PError(P2PErrorCode.TIMEOUT, 'x', { details: { ms: 1 }, cause: 'c' })
    expect(e.toJSON()).toEqual({
      name: 'P2PError',
      code: 'ERR_TIMEOUT',
      message: 'x',
      details: { ms: 1 },
    })
  })
})

describe('[polyfill]: Promise.withResolvers', () => {
  it('installs only when missing, and works', async () => {
    const P = Promise as unknown as { withResolvers?: unknown }
    const saved = P.withResolvers
    try {
      delete P.withResolvers
      expect(installPromiseWithResolvers()).toBe(true)
      expect(installPromiseWithResolvers()).toBe(false)
      const { promise, resolve } = (
        Promise as unknown as { withResolvers<T>(): { promise: Promise<T>; resolve(v: T): void } }
      ).withResolvers<number>()
      resolve(42)
      expect(await promise).toBe(42)
      const r = (
        Promise as unknown as {
          withResolvers<T>(): { promise: Promise<T>; reject(e: unknown): void }
        }
      ).withResolvers<number>()
      r.reject(new Error('no'))
      await expect(r.promise).rejects.toThrow('no')
    } finally {
      if (saved) P.withResolvers = saved
    }
  })
})
