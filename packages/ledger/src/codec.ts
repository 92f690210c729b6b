/**
 * Strict RLP helpers: every consensus-critical structure is RLP (docs/encoding.md). Decoding
 * refuses anything that is not the one canonical encoding: leading zeros in integers, wrong
 * field counts, wrong byte lengths, trailing bytes, oversize input.
 */
import { encodeRLP } from '@aureon/merkle'
import { RLP } from '@ethereumjs/rlp'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { MAX_U64, MAX_U128 } from './params.js'

/** A decoded RLP item: bytes or a list of items. */
export type RLPItem = Uint8Array | RLPItem[]

const EMPTY = new Uint8Array(0)

/**
 * Minimal big-endian bytes of a non-negative integer (0 -> empty), as RLP integers are encoded.
 * @example
 * bigintToBytes(256n) // Uint8Array [1, 0]
 */
export function bigintToBytes(n: bigint): Uint8Array {
  if (n < 0n) throw new LedgerError(LedgerErrorCode.INVALID_FIELD, `negative integer ${n}`)
  if (n === 0n) return EMPTY
  if (n < 256n) return Uint8Array.of(Number(n))
  if (n <= U64_MAX) {
    // u64 fast path in 32-bit integer arithmetic (no hex string, no float)
    const hi = Number(n >> 32n) >>> 0
    const lo = Number(n & 0xffffffffn) >>> 0
    const full = Uint8Array.of(
      hi >>> 24,
      hi >>> 16,
      hi >>> 8,
      hi,
      lo >>> 24,
      lo >>> 16,
      lo >>> 8,
      lo,
    )
    let start = 0
    while (full[start] === 0) start++
    return full.slice(start)
  }
  let hex = n.toString(16)
  if (hex.length & 1) hex = `0${hex}`
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

const U64_MAX = 0xffff_ffff_ffff_ffffn

/** Big-endian bytes to bigint (no canonical check; see `decodeUint`). */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length === 0) return 0n
  if (b.length === 1) return BigInt(b[0])
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')}`)
}

/**
 * RLP-encodes an item.
 * @example
 * rlpEncode([bigintToBytes(1n), new Uint8Array([0xaa])])
 */
export function rlpEncode(item: RLPItem): Uint8Array {
  // merkle's two-pass encoder: the same bytes as RLP.encode (property-tested), one allocation
  return encodeRLP(item)
}

/**
 * Decodes exactly one RLP item, refusing non-canonical or trailing bytes and input longer than
 * `maxSize`.
 * @example
 * rlpDecodeStrict(rlpEncode([]), 1024, 'block') // []
 */
export function rlpDecodeStrict(bytes: Uint8Array, maxSize: number, what: string): RLPItem {
  if (!(bytes instanceof Uint8Array)) {
    throw new LedgerError(LedgerErrorCode.DECODE, `${what}: expected bytes`)
  }
  if (bytes.length > maxSize) {
    throw new LedgerError(
      LedgerErrorCode.OVERSIZE,
      `${what}: ${bytes.length} bytes, expected at most ${maxSize}`,
      { details: { size: bytes.length, max: maxSize } },
    )
  }
  if (bytes.length === 0) throw new LedgerError(LedgerErrorCode.DECODE, `${what}: empty input`)
  try {
    return RLP.decode(bytes) as RLPItem
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    const code = /remainder/i.test(msg)
      ? LedgerErrorCode.TRAILING_BYTES
      : /extra zeros|invalid prefix|greater than 55/i.test(msg)
        ? LedgerErrorCode.NON_CANONICAL
        : LedgerErrorCode.DECODE
    throw new LedgerError(code, `${what}: invalid RLP (${msg})`, { cause: e })
  }
}

/** Expects a list of exactly `count` items (or one of `counts`). */
export function expectList(item: RLPItem, counts: number | number[], what: string): RLPItem[] {
  if (!Array.isArray(item)) {
    throw new LedgerError(LedgerErrorCode.DECODE, `${what}: expected a list, got bytes`)
  }
  const ok = typeof counts === 'number' ? item.length === counts : counts.includes(item.length)
  if (!ok) {
    throw new LedgerError(
      LedgerErrorCode.FIELD_COUNT,
      `${what}: ${item.length} fields, expected ${Array.isArray(counts) ? counts.join(' or ') : counts}`,
      { details: { got: item.length, expected: counts } },
    )
  }
  return item
}

/** Expects a list of any length. */
export function expectAnyList(item: RLPItem, what: string): RLPItem[] {
  if (!Array.isArray(item)) {
    throw new LedgerError(LedgerErrorCode.DECODE, `${what}: expected a list, got bytes`)
  }
  return item
}

/** Expects a byte string (optionally of an exact length or at most `max` bytes). */
export function expectBytes(
  item: RLPItem,
  what: string,
  opts: { length?: number; lengths?: number[]; max?: number } = {},
): Uint8Array {
  if (Array.isArray(item)) {
    throw new LedgerError(LedgerErrorCode.DECODE, `${what}: expected bytes, got a list`)
  }
  if (opts.length !== undefined && item.length !== opts.length) {
    throw new LedgerError(
      LedgerErrorCode.INVALID_FIELD,
      `${what}: ${item.length} bytes, expected ${opts.length}`,
    )
  }
  if (opts.lengths !== undefined && !opts.lengths.includes(item.length)) {
    throw new LedgerError(
      LedgerErrorCode.INVALID_FIELD,
      `${what}: ${item.length} bytes, expected ${opts.lengths.join(' or ')}`,
    )
  }
  if (opts.max !== undefined && item.length > opts.max) {
    throw new LedgerError(
      LedgerErrorCode.OVERSIZE,
      `${what}: ${item.length} bytes, expected at most ${opts.max}`,
    )
  }
  return item
}

/** Decodes a canonical unsigned integer (no leading zero byte) of at most `max`. */
export function decodeUint(item: RLPItem, what: string, max: bigint = MAX_U64): bigint {
  const b = expectBytes(item, what)
  if (b.length > 0 && b[0] === 0) {
    throw new LedgerError(
      LedgerErrorCode.NON_CANONICAL,
      `${what}: integer with a leading zero byte, expected minimal big-endian`,
    )
  }
  if (b.length > 32) {
    throw new LedgerError(LedgerErrorCode.AMOUNT_OUT_OF_RANGE, `${what}: integer too long`)
  }
  const v = bytesToBigint(b)
  if (v > max) {
    throw new LedgerError(
      max === MAX_U128 ? LedgerErrorCode.AMOUNT_OUT_OF_RANGE : LedgerErrorCode.INVALID_FIELD,
      `${what}: ${v} is above the maximum ${max}`,
    )
  }
  return v
}

/** Decodes a u128 amount. */
export function decodeU128(item: RLPItem, what: string): bigint {
  return decodeUint(item, what, MAX_U128)
}

/** Decodes a small unsigned integer as a JS number (<= 2^32). */
export function decodeSmall(item: RLPItem, what: string): number {
  return Number(decodeUint(item, what, 0xffffffffn))
}

/** Checks an integer is within [0, max] before encoding. */
export function checkUint(v: bigint, what: string, max: bigint = MAX_U64): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > max) {
    throw new LedgerError(
      max === MAX_U128 ? LedgerErrorCode.AMOUNT_OUT_OF_RANGE : LedgerErrorCode.INVALID_FIELD,
      `${what}: ${String(v)} is out of range, expected a bigint in [0, ${max}]`,
    )
  }
  return v
}

const textDecoder = new TextDecoder('utf-8', { fatal: true })
const textEncoder = new TextEncoder()

/** UTF-8 decoding that refuses invalid sequences. */
export function decodeUtf8(b: Uint8Array, what: string): string {
  try {
    const s = textDecoder.decode(b)
    if (!equalBytesFast(textEncoder.encode(s), b)) throw new Error('not canonical')
    return s
  } catch (e) {
    throw new LedgerError(LedgerErrorCode.INVALID_FIELD, `${what}: invalid UTF-8`, { cause: e })
  }
}

export function encodeUtf8(s: string): Uint8Array {
  return textEncoder.encode(s)
}

/** Byte equality. */
export function equalBytesFast(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lowercase hex without 0x (map keys). */
export function toHexKey(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')
}

/** Inverse of toHexKey. */
export function fromHexKey(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'))
}

/** Compares byte strings lexicographically. */
export function compareBytesFast(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
