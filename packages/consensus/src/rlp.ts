/**
 * A minimal RLP codec (Ethereum's Recursive Length Prefix) for consensus messages: items are
 * byte strings or lists. Integers are big-endian with no leading zeros (0 is the empty string).
 */
import { ConsensusError, ConsensusErrorCode } from './errors.js'

export type RLPInput = Uint8Array | bigint | number | RLPInput[]
export type RLPItem = Uint8Array | RLPItem[]

/** Encodes a non-negative integer as minimal big-endian bytes. */
export function bigintToBytes(n: bigint | number): Uint8Array {
  let v = BigInt(n)
  if (v < 0n) throw new ConsensusError(ConsensusErrorCode.INVALID_ENCODING, `negative integer ${v}`)
  const out: number[] = []
  while (v > 0n) {
    out.push(Number(v & 0xffn))
    v >>= 8n
  }
  return Uint8Array.from(out.reverse())
}

/** Decodes minimal big-endian bytes to a bigint (rejects leading zeros). */
export function bytesToBigint(b: Uint8Array): bigint {
  if (b.length > 0 && b[0] === 0) {
    throw new ConsensusError(
      ConsensusErrorCode.INVALID_ENCODING,
      'integer with a leading zero byte',
    )
  }
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v
}

function lengthPrefix(len: number, offset: number): Uint8Array {
  if (len < 56) return Uint8Array.of(offset + len)
  const lb = bigintToBytes(len)
  return Uint8Array.of(offset + 55 + lb.length, ...lb)
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** RLP-encodes bytes, integers and (nested) lists. */
export function rlpEncode(input: RLPInput): Uint8Array {
  if (Array.isArray(input)) {
    const body = concat(input.map(rlpEncode))
    return concat([lengthPrefix(body.length, 0xc0), body])
  }
  const b = input instanceof Uint8Array ? input : bigintToBytes(input)
  if (b.length === 1 && b[0] < 0x80) return b
  return concat([lengthPrefix(b.length, 0x80), b])
}

function fail(msg: string): never {
  throw new ConsensusError(ConsensusErrorCode.INVALID_ENCODING, `invalid RLP: ${msg}`)
}

function decodeAt(b: Uint8Array, pos: number): [RLPItem, number] {
  if (pos >= b.length) fail('unexpected end of input')
  const p = b[pos]
  if (p < 0x80) return [b.subarray(pos, pos + 1), pos + 1]
  const readLen = (llen: number): number => {
    if (pos + 1 + llen > b.length) fail('length past the end')
    if (b[pos + 1] === 0) fail('length with a leading zero')
    let n = 0
    for (let i = 0; i < llen; i++) n = n * 256 + b[pos + 1 + i]
    if (n < 56) fail('long form for a short length')
    return n
  }
  if (p < 0xc0) {
    let start = pos + 1
    let len = p - 0x80
    if (p > 0xb7) {
      const llen = p - 0xb7
      len = readLen(llen)
      start = pos + 1 + llen
    }
    const end = start + len
    if (end > b.length) fail('string past the end')
    if (len === 1 && p === 0x81 && b[start] < 0x80) fail('single byte not encoded as itself')
    return [b.subarray(start, end), end]
  }
  let start = pos + 1
  let len = p - 0xc0
  if (p > 0xf7) {
    const llen = p - 0xf7
    len = readLen(llen)
    start = pos + 1 + llen
  }
  const end = start + len
  if (end > b.length) fail('list past the end')
  const items: RLPItem[] = []
  let q = start
  while (q < end) {
    const [item, next] = decodeAt(b, q)
    items.push(item)
    q = next
  }
  if (q !== end) fail('list length mismatch')
  return [items, end]
}

/** Decodes exactly one RLP item (throws ConsensusError ERR_INVALID_ENCODING otherwise). */
export function rlpDecode(b: Uint8Array): RLPItem {
  const [item, end] = decodeAt(b, 0)
  if (end !== b.length) fail('trailing bytes')
  return item
}

/** Reads a list item or throws. */
export function asList(item: RLPItem | undefined, what: string): RLPItem[] {
  if (!Array.isArray(item)) fail(`${what} must be a list`)
  return item
}

/** Reads a byte-string item or throws. */
export function asBytes(item: RLPItem | undefined, what: string): Uint8Array {
  if (!(item instanceof Uint8Array)) fail(`${what} must be a byte string`)
  return item
}

/** Reads an integer item or throws. */
export function asBigint(item: RLPItem | undefined, what: string): bigint {
  return bytesToBigint(asBytes(item, what))
}
