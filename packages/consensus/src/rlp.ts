/**
 * RLP (Ethereum's Recursive Length Prefix, via @ethereumjs/rlp) for consensus messages: items
 * are byte strings or lists. Integers are big-endian with no leading zeros (0 is the empty string).
 */
import { RLP } from '@ethereumjs/rlp'
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

/** RLP-encodes bytes, integers and (nested) lists (with @ethereumjs/rlp). */
export function rlpEncode(input: RLPInput): Uint8Array {
  return RLP.encode(toBytesInput(input))
}

function toBytesInput(input: RLPInput): RLPItem {
  if (Array.isArray(input)) return input.map(toBytesInput)
  return input instanceof Uint8Array ? input : bigintToBytes(input)
}

/**
 * Decodes exactly one RLP item with @ethereumjs/rlp, which refuses every non-canonical form
 * (prefixed single bytes, long forms of short lengths, leading zeros in lengths, trailing bytes);
 * any refusal is a ConsensusError ERR_INVALID_ENCODING.
 */
export function rlpDecode(b: Uint8Array): RLPItem {
  if (b.length === 0) fail('unexpected end of input')
  try {
    return RLP.decode(b) as RLPItem
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e))
  }
}

function fail(msg: string): never {
  throw new ConsensusError(ConsensusErrorCode.INVALID_ENCODING, `invalid RLP: ${msg}`)
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
