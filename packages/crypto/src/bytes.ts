import { randomFillSync } from 'node:crypto'
import { CryptoError, CryptoErrorCode } from './errors.js'

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/**
 * Lowercase hex with a `0x` prefix.
 *
 * @example
 * bytesToHex(new Uint8Array([1, 255])) // '0x01ff'
 */
export function bytesToHex(b: Uint8Array): string {
  let s = '0x'
  for (let i = 0; i < b.length; i++) s += HEX[b[i]]
  return s
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

/**
 * Parses hex, with or without `0x`, upper or lower case. Throws CryptoError `ERR_INVALID_HEX` on
 * an odd length or a non-hex character.
 *
 * @example
 * hexToBytes('0x01ff') // Uint8Array [1, 255]
 */
export function hexToBytes(hex: string): Uint8Array {
  if (typeof hex !== 'string') {
    throw new CryptoError(CryptoErrorCode.INVALID_HEX, `expected a hex string, got ${typeof hex}`)
  }
  const start = hex.startsWith('0x') || hex.startsWith('0X') ? 2 : 0
  const len = hex.length - start
  if (len % 2 !== 0) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_HEX,
      `hex string has an odd number of digits (${len}); expected pairs of hex digits`,
    )
  }
  const out = new Uint8Array(len / 2)
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(start + 2 * i))
    const lo = nibble(hex.charCodeAt(start + 2 * i + 1))
    if (hi < 0 || lo < 0) {
      const pos = start + 2 * i + (hi < 0 ? 0 : 1)
      throw new CryptoError(
        CryptoErrorCode.INVALID_HEX,
        `invalid hex character ${JSON.stringify(hex[pos])} at position ${pos}; expected 0-9, a-f or A-F`,
        { details: { position: pos } },
      )
    }
    out[i] = (hi << 4) | lo
  }
  return out
}

/**
 * Concatenates byte arrays into a new one.
 *
 * @example
 * concatBytes(new Uint8Array([1]), new Uint8Array([2, 3])) // [1, 2, 3]
 */
export function concatBytes(...bs: Uint8Array[]): Uint8Array {
  let n = 0
  for (const b of bs) n += b.length
  const out = new Uint8Array(n)
  let o = 0
  for (const b of bs) {
    out.set(b, o)
    o += b.length
  }
  return out
}

/**
 * Byte-wise equality (not constant time; do not compare secrets with it).
 *
 * @example
 * equalBytes(new Uint8Array([1]), new Uint8Array([1])) // true
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Lexicographic byte order: negative, zero or positive, as for `Array.prototype.sort`.
 *
 * @example
 * [b, a].sort(compareBytes)
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * UTF-8 encoding of a string.
 *
 * @example
 * utf8ToBytes('hi') // [104, 105]
 */
export function utf8ToBytes(s: string): Uint8Array {
  return encoder.encode(s)
}

/**
 * Decodes UTF-8; throws CryptoError `ERR_INVALID_UTF8` on malformed input.
 *
 * @example
 * bytesToUtf8(new Uint8Array([104, 105])) // 'hi'
 */
export function bytesToUtf8(b: Uint8Array): string {
  try {
    return decoder.decode(b)
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.INVALID_UTF8, 'bytes are not valid UTF-8', { cause })
  }
}

/**
 * Cryptographically secure random bytes (node:crypto).
 *
 * @example
 * const nonce = randomBytes(32)
 */
export function randomBytes(n: number): Uint8Array {
  return randomFillSync(new Uint8Array(n))
}

/** Views a Buffer as a plain Uint8Array without copying. */
export function toUint8Array(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** Throws CryptoError when `b` is not a Uint8Array of `len` bytes. `what` names it in the message. */
export function assertBytes(
  b: unknown,
  len: number | undefined,
  what: string,
  code: CryptoErrorCode = CryptoErrorCode.INVALID_LENGTH,
): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) {
    throw new CryptoError(code, `${what} must be a Uint8Array, got ${typeof b}`)
  }
  if (len !== undefined && b.length !== len) {
    throw new CryptoError(code, `${what} must be ${len} bytes, got ${b.length}`, {
      details: { expected: len, actual: b.length },
    })
  }
}
