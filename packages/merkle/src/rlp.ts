/**
 * RLP encoding of byte strings and nested lists, in two passes (measure, then write into one
 * buffer): the same bytes as @ethereumjs/rlp's `RLP.encode` for these inputs (property-tested),
 * without its per-item concatenations. `null` and `undefined` encode as the empty string, as in
 * @ethereumjs/rlp (mpt's branch nodes hold `null` for empty children).
 */
import { MerkleError, MerkleErrorCode } from './errors.js'

/** An RLP input: bytes, empty (null / undefined), or a list of inputs. */
export type RLPInput = Uint8Array | null | undefined | RLPInput[]

function lengthOfLength(n: number): number {
  let k = 1
  while (n > 255) {
    n = Math.floor(n / 256)
    k++
  }
  return k
}

/** Size of the RLP header of a payload of `payload` bytes. */
export function headerSize(payload: number): number {
  return payload < 56 ? 1 : 1 + lengthOfLength(payload)
}

/**
 * Writes the RLP header (`short` = 0x80 for strings, 0xc0 for lists) of a payload of `len` bytes
 * at `at`; returns the next offset.
 */
export function writeHeader(out: Uint8Array, at: number, short: number, len: number): number {
  if (len < 56) {
    out[at] = short + len
    return at + 1
  }
  const k = lengthOfLength(len)
  out[at] = short + 55 + k
  for (let i = k, l = len; i >= 1; i--, l = Math.floor(l / 256)) out[at + i] = l & 255
  return at + 1 + k
}

/** Size of the RLP encoding of byte string `b`. */
export function stringSize(b: Uint8Array): number {
  if (b.length === 1 && b[0] < 0x80) return 1
  return headerSize(b.length) + b.length
}

/** Writes the RLP encoding of byte string `b` at `at`; returns the next offset. */
export function writeString(out: Uint8Array, at: number, b: Uint8Array): number {
  if (b.length === 1 && b[0] < 0x80) {
    out[at] = b[0]
    return at + 1
  }
  at = writeHeader(out, at, 0x80, b.length)
  out.set(b, at)
  return at + b.length
}

/** Total encoded size of `item`; pushes each list's payload size to `lists` (pre-order). */
function measure(item: RLPInput, lists: number[]): number {
  if (item instanceof Uint8Array) return stringSize(item)
  if (item === null || item === undefined) return 1
  if (!Array.isArray(item)) {
    throw new MerkleError(
      MerkleErrorCode.INVALID_INPUT,
      'invalid RLP input: expected bytes, null or an array',
    )
  }
  const at = lists.length
  lists.push(0)
  let payload = 0
  for (let i = 0; i < item.length; i++) payload += measure(item[i], lists)
  lists[at] = payload
  return headerSize(payload) + payload
}

interface Cursor {
  at: number
  list: number
}

function write(item: RLPInput, out: Uint8Array, c: Cursor, lists: number[]): void {
  if (item instanceof Uint8Array) {
    c.at = writeString(out, c.at, item)
    return
  }
  if (item === null || item === undefined) {
    out[c.at++] = 0x80
    return
  }
  c.at = writeHeader(out, c.at, 0xc0, lists[c.list++])
  for (let i = 0; i < item.length; i++) write(item[i], out, c, lists)
}

/**
 * RLP-encodes bytes and nested lists of bytes.
 * @example
 * encodeRLP([new Uint8Array([1]), []]) // c2 01 c0
 */
export function encodeRLP(item: RLPInput): Uint8Array {
  const lists: number[] = []
  const out = new Uint8Array(measure(item, lists))
  write(item, out, { at: 0, list: 0 }, lists)
  return out
}

/** A decoded node item: bytes, or a list (an embedded node). */
type Item = Uint8Array | Item[]

function malformed(): never {
  throw new MerkleError(MerkleErrorCode.INVALID_INPUT, 'invalid trie node encoding')
}

/**
 * Decodes a trie node's RLP (a list of strings and embedded lists) into raw items; the strings
 * are views into `b` (no copies). Throws on malformed input (a corrupt store: nodes are
 * content-addressed, so their encodings come from our own encoder).
 */
export function decodeNodeRLP(b: Uint8Array): Item[] {
  const [item, end] = decodeAt(b, 0)
  if (end !== b.length || !Array.isArray(item)) malformed()
  return item
}

function decodeAt(b: Uint8Array, at: number): [Item, number] {
  if (at >= b.length) malformed()
  const p = b[at]
  if (p < 0x80) return [b.subarray(at, at + 1), at + 1]
  const list = p >= 0xc0
  const short = list ? p - 0xc0 : p - 0x80
  let start = at + 1
  let len = short
  if (short > 55) {
    const k = short - 55
    len = 0
    for (let i = 1; i <= k; i++) len = len * 256 + b[at + i]
    start = at + 1 + k
  }
  const end = start + len
  if (end > b.length) malformed()
  if (!list) return [b.subarray(start, end), end]
  const items: Item[] = []
  let i = start
  while (i < end) {
    const [x, next] = decodeAt(b, i)
    items.push(x)
    i = next
  }
  if (i !== end) malformed()
  return [items, end]
}
