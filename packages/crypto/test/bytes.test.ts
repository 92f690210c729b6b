import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  assertBytes,
  bytesToHex,
  bytesToUtf8,
  CryptoError,
  CryptoErrorCode,
  compareBytes,
  concatBytes,
  equalBytes,
  hexToBytes,
  isCryptoError,
  randomBytes,
  sha256,
  sha512,
  toUint8Array,
  utf8ToBytes,
} from '../src/index.js'

describe('[bytes]: hex', () => {
  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        const h = bytesToHex(b)
        expect(h).toMatch(/^0x[0-9a-f]*$/)
        expect(hexToBytes(h)).toEqual(b)
        expect(hexToBytes(h.slice(2).toUpperCase())).toEqual(b)
      }),
    )
  })
  it('accepts 0X and no prefix', () => {
    expect(hexToBytes('0XAbFF')).toEqual(new Uint8Array([0xab, 0xff]))
    expect(hexToBytes('')).toEqual(new Uint8Array())
  })
  it('refuses odd length and bad characters with ERR_INVALID_HEX', () => {
    for (const bad of ['0x1', 'abc', '0xzz', 'g0', '0x0g', ' 00']) {
      try {
        hexToBytes(bad)
        expect.unreachable()
      } catch (e) {
        expect(isCryptoError(e)).toBe(true)
        expect((e as CryptoError).code).toBe(CryptoErrorCode.INVALID_HEX)
      }
    }
    expect(() => hexToBytes(1 as any)).toThrow(/expected a hex string/)
    try {
      hexToBytes('0x0g')
    } catch (e) {
      expect((e as CryptoError).message).toMatch(/position 3/)
      expect((e as CryptoError).toJSON()).toMatchObject({
        code: 'ERR_INVALID_HEX',
        details: { position: 3 },
      })
    }
  })
})

describe('[bytes]: helpers', () => {
  it('concat, equal, compare', () => {
    const a = new Uint8Array([1, 2])
    const b = new Uint8Array([1, 3])
    expect(concatBytes(a, b, new Uint8Array())).toEqual(new Uint8Array([1, 2, 1, 3]))
    expect(equalBytes(a, a.slice())).toBe(true)
    expect(equalBytes(a, b)).toBe(false)
    expect(equalBytes(a, a.subarray(0, 1))).toBe(false)
    expect(compareBytes(a, b)).toBeLessThan(0)
    expect(compareBytes(b, a)).toBeGreaterThan(0)
    expect(compareBytes(a, a.subarray(0, 1))).toBeGreaterThan(0)
    expect(compareBytes(a, a.slice())).toBe(0)
  })
  it('compareBytes agrees with hex order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        const ha = bytesToHex(a)
        const hb = bytesToHex(b)
        const c = compareBytes(a, b)
        expect(Math.sign(c)).toBe(ha < hb ? -1 : ha > hb ? 1 : 0)
      }),
    )
  })
  it('utf8 round trip and invalid utf8', () => {
    expect(bytesToUtf8(utf8ToBytes('héllo ✓'))).toBe('héllo ✓')
    expect(() => bytesToUtf8(new Uint8Array([0xff]))).toThrow(CryptoError)
  })
  it('randomBytes gives plain Uint8Arrays of the length asked', () => {
    const r = randomBytes(70000)
    expect(r.constructor).toBe(Uint8Array)
    expect(r.length).toBe(70000)
    expect(equalBytes(randomBytes(32), randomBytes(32))).toBe(false)
  })
  it('toUint8Array and assertBytes', () => {
    const buf = Buffer.from([1, 2, 3])
    expect(toUint8Array(buf).constructor).toBe(Uint8Array)
    const u = new Uint8Array(1)
    expect(toUint8Array(u)).toBe(u)
    expect(() => assertBytes('x', 1, 'thing')).toThrow(/thing must be a Uint8Array/)
    expect(() => assertBytes(u, 2, 'thing')).toThrow(/thing must be 2 bytes, got 1/)
    assertBytes(u, 1, 'thing')
    assertBytes(u, undefined, 'thing')
  })
})

describe('[hashes]: sha256 / sha512', () => {
  it('matches the FIPS 180 "abc" vectors', () => {
    expect(bytesToHex(sha256(utf8ToBytes('abc')))).toBe(
      '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(bytesToHex(sha512(utf8ToBytes('abc')))).toBe(
      '0xddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    )
    expect(sha256(new Uint8Array()).constructor).toBe(Uint8Array)
  })
  it('agrees with @noble/hashes', async () => {
    const { sha256: n256, sha512: n512 } = await import('@noble/hashes/sha2.js')
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(sha256(b)).toEqual(n256(b))
        expect(sha512(b)).toEqual(n512(b))
      }),
    )
  })
})

describe('[errors]: CryptoError', () => {
  it('has code, details, cause, toJSON and a guard', () => {
    const cause = new Error('inner')
    const e = new CryptoError(CryptoErrorCode.INVALID_LENGTH, 'bad', { cause })
    expect(e.cause).toBe(cause)
    expect(e.toJSON()).toEqual({ name: 'CryptoError', code: 'ERR_INVALID_LENGTH', message: 'bad' })
    expect(isCryptoError(e)).toBe(true)
    const lookalike = Object.assign(new Error('x'), { name: 'CryptoError', code: 'ERR_X' })
    expect(isCryptoError(lookalike)).toBe(true)
    expect(isCryptoError(new Error('x'))).toBe(false)
    expect(isCryptoError('x')).toBe(false)
  })
})
