import { createHash } from 'node:crypto'
import { RLP } from '@ethereumjs/rlp'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  bigintToBytes,
  bytesToBigint,
  checkUint,
  decodeU128,
  decodeUint,
  decodeUtf8,
  expectBytes,
  expectList,
  type RLPItem,
  rlpDecodeStrict,
  rlpEncode,
} from '../src/codec.js'
import { isLedgerError, LedgerError, LedgerErrorCode } from '../src/errors.js'
import { sha256 } from '../src/hash.js'
import { MAX_U128 } from '../src/params.js'

describe('[codec]: integers', () => {
  it('round-trips minimal big-endian integers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (n) => {
        const b = bigintToBytes(n)
        expect(bytesToBigint(b)).toBe(n)
        if (b.length) expect(b[0]).not.toBe(0)
      }),
    )
    // the small-number path and its boundary
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 1n << 70n }), (n) => {
        const hex =
          n === 0n
            ? ''
            : n.toString(16).padStart(n.toString(16).length + (n.toString(16).length & 1), '0')
        expect(Buffer.from(bigintToBytes(n)).toString('hex')).toBe(hex)
      }),
    )
    for (const n of [
      255n,
      256n,
      65_535n,
      65_536n,
      2n ** 32n,
      2n ** 53n + 1n,
      2n ** 64n - 1n,
      2n ** 64n,
    ]) {
      expect(bytesToBigint(bigintToBytes(n))).toBe(n)
      expect(bigintToBytes(n)[0]).not.toBe(0)
    }
    expect(bigintToBytes(0n).length).toBe(0)
    expect(() => bigintToBytes(-1n)).toThrow(LedgerError)
  })

  it('refuses leading zeros and out-of-range values', () => {
    expect(() => decodeUint(Uint8Array.of(0, 1), 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_NON_CANONICAL' }),
    )
    expect(() => decodeU128(new Uint8Array(17).fill(1), 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_AMOUNT_OUT_OF_RANGE' }),
    )
    expect(() => decodeUint(new Uint8Array(9).fill(1), 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FIELD' }),
    )
    expect(() => decodeUint(new Uint8Array(33).fill(1), 'x')).toThrow(LedgerError)
    expect(() => decodeUint([], 'x')).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }))
    expect(() => checkUint(MAX_U128 + 1n, 'x', MAX_U128)).toThrow(
      expect.objectContaining({ code: 'ERR_AMOUNT_OUT_OF_RANGE' }),
    )
    expect(() => checkUint(-1n, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_FIELD' }),
    )
  })
})

describe('[codec]: RLP encoding', () => {
  it('gives the bytes of @ethereumjs/rlp for nested items (property)', () => {
    const { item } = fc.letrec<{ item: RLPItem }>((tie) => ({
      item: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.uint8Array({ maxLength: 3 }), fc.uint8Array({ minLength: 50, maxLength: 300 })),
        fc.array(tie('item'), { maxLength: 6 }),
      ),
    }))
    fc.assert(
      fc.property(item, (x) => {
        expect(Buffer.from(rlpEncode(x)).toString('hex')).toBe(
          Buffer.from(RLP.encode(x)).toString('hex'),
        )
      }),
      { numRuns: 500 },
    )
  })

  it('sha256 of one part and of several parts agree with node:crypto', () => {
    const a = Uint8Array.of(1, 2, 3)
    const b = new Uint8Array(100).fill(7)
    const all = Buffer.concat([a, b])
    const want = createHash('sha256').update(all).digest('hex')
    expect(Buffer.from(sha256(all)).toString('hex')).toBe(want)
    expect(Buffer.from(sha256(a, b)).toString('hex')).toBe(want)
  })
})

describe('[codec]: strict RLP', () => {
  it('refuses trailing bytes, non-canonical lengths, oversize and empty input', () => {
    const ok = rlpEncode([Uint8Array.of(1, 2)])
    expect(rlpDecodeStrict(ok, 100, 'x')).toEqual([Uint8Array.of(1, 2)])
    const trailing = new Uint8Array([...ok, 0])
    expect(() => rlpDecodeStrict(trailing, 100, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_TRAILING_BYTES' }),
    )
    // single byte < 0x80 wrapped in a length prefix
    expect(() => rlpDecodeStrict(Uint8Array.of(0x81, 0x05), 100, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_NON_CANONICAL' }),
    )
    // long form used for a short string
    expect(() => rlpDecodeStrict(Uint8Array.of(0xb8, 0x01, 0xff), 100, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_NON_CANONICAL' }),
    )
    expect(() => rlpDecodeStrict(ok, 1, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_OVERSIZE' }),
    )
    expect(() => rlpDecodeStrict(new Uint8Array(0), 1, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
    expect(() => rlpDecodeStrict('x' as unknown as Uint8Array, 1, 'x')).toThrow(LedgerError)
  })

  it('checks shapes', () => {
    expect(() => expectList(Uint8Array.of(1), 1, 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_DECODE' }),
    )
    expect(() => expectList([], [1, 2], 'x')).toThrow(
      expect.objectContaining({ code: 'ERR_FIELD_COUNT' }),
    )
    expect(() => expectBytes([], 'x')).toThrow(expect.objectContaining({ code: 'ERR_DECODE' }))
    expect(() => expectBytes(Uint8Array.of(1), 'x', { length: 2 })).toThrow(LedgerError)
    expect(() => expectBytes(Uint8Array.of(1), 'x', { lengths: [0, 2] })).toThrow(LedgerError)
    expect(() => expectBytes(Uint8Array.of(1, 2), 'x', { max: 1 })).toThrow(
      expect.objectContaining({ code: 'ERR_OVERSIZE' }),
    )
    expect(() => decodeUtf8(Uint8Array.of(0xff), 'x')).toThrow(LedgerError)
  })

  it('never crashes on random bytes: it decodes or throws a LedgerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          rlpDecodeStrict(b, 1000, 'x')
        } catch (e) {
          expect(isLedgerError(e)).toBe(true)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('errors serialise with their code', () => {
    const e = new LedgerError(LedgerErrorCode.DECODE, 'm', {
      details: { a: 1 },
      cause: new Error('c'),
    })
    expect(e.toJSON()).toEqual({
      name: 'LedgerError',
      code: 'ERR_DECODE',
      message: 'm',
      details: { a: 1 },
    })
    expect(isLedgerError({ code: 'ERR_NONCE_TOO_LOW' })).toBe(true)
    expect(isLedgerError({ code: 'ERR_OTHER' })).toBe(false)
    expect(isLedgerError(null)).toBe(false)
  })
})
