/**
 * The little RLP the trie code needs: encode strings and lists (with pre-encoded items for
 * embedded nodes) and a strict decoder. Internal to the package.
 */
import { SnapshotError, SnapshotErrorCode } from './errors.js'

/** An item already RLP-encoded (an embedded trie node inside its parent). */
export class RawRLP {
  constructor(readonly bytes: Uint8Array) {}
}

export type RLPInput = Uint8Array | RawRLP | RLPInput[]
export type RLPItem = Uint8Array | RLPItem[]

function prefixSize(len: number): number {
  if (len < 56) return 1
  let n = 1
  for (let v = len; v >= 256; v = Math.floor(v / 256)) n++
  return 1 + n
}

function writePrefix(len: number, offset: number, out: Uint8Array, pos: number): number {
  if (len < 56) {
    out[pos] = offset + len
    return pos + 1
  }
  const n = prefixSize(len) - 1
  out[pos] = offset + 55 + n
  let v = len
  for (let i = n; i >= 1; i--) {
    out[pos + i] = v & 0xff
    v = Math.floor(v / 256)
  }
  return pos + 1 + n
}

/** Encoded size of a list whose items take `body` bytes. */
export function listLength(body: number): number {
  return prefixSize(body) + body
}

/** Writes a list header for a body of `body` bytes; returns the next position. */
export function writeListHeader(body: number, out: Uint8Array, pos: number): number {
  return writePrefix(body, 0xc0, out, pos)
}

/** Encoded size of a string or pre-encoded item. */
export function itemLength(x: Uint8Array | RawRLP): number {
  if (x instanceof RawRLP) return x.bytes.length
  if (x.length === 1 && x[0] < 0x80) return 1
  return (x.length < 56 ? 1 : prefixSize(x.length)) + x.length
}

/** Writes a string or pre-encoded item; returns the next position. */
export function writeItem(x: Uint8Array | RawRLP, out: Uint8Array, pos: number): number {
  if (x instanceof RawRLP) {
    out.set(x.bytes, pos)
    return pos + x.bytes.length
  }
  if (x.length === 1 && x[0] < 0x80) {
    out[pos] = x[0]
    return pos + 1
  }
  const q = writePrefix(x.length, 0x80, out, pos)
  out.set(x, q)
  return q + x.length
}

function encodedLength(item: RLPInput): number {
  if (!Array.isArray(item)) return itemLength(item)
  let body = 0
  for (const x of item) body += encodedLength(x)
  return prefixSize(body) + body
}

function write(item: RLPInput, out: Uint8Array, pos: number): number {
  if (!Array.isArray(item)) return writeItem(item, out, pos)
  let body = 0
  for (const x of item) body += encodedLength(x)
  let q = writePrefix(body, 0xc0, out, pos)
  for (const x of item) q = write(x, out, q)
  return q
}

/**
 * RLP encoding of a list of strings and pre-encoded items (every trie node is one): no
 * recursion, lengths computed once.
 */
export function rlpEncodeList(items: (Uint8Array | RawRLP)[]): Uint8Array {
  let body = 0
  for (let i = 0; i < items.length; i++) body += itemLength(items[i])
  const out = new Uint8Array(prefixSize(body) + body)
  let q = writePrefix(body, 0xc0, out, 0)
  for (let i = 0; i < items.length; i++) q = writeItem(items[i], out, q)
  return out
}

/** RLP encoding of `item`. */
export function rlpEncode(item: RLPInput): Uint8Array {
  if (Array.isArray(item) && !item.some(Array.isArray)) {
    return rlpEncodeList(item as (Uint8Array | RawRLP)[])
  }
  const out = new Uint8Array(encodedLength(item))
  write(item, out, 0)
  return out
}

function fail(msg: string): never {
  throw new SnapshotError(SnapshotErrorCode.FORGED, `invalid RLP: ${msg}`)
}

function readLength(b: Uint8Array, pos: number, n: number): number {
  if (pos + n > b.length) fail('length runs past the end')
  if (b[pos] === 0) fail('length with a leading zero')
  let len = 0
  for (let i = 0; i < n; i++) len = len * 256 + b[pos + i]
  if (len < 56) fail('long form for a short length')
  return len
}

function decodeAt(b: Uint8Array, pos: number): [RLPItem, number] {
  if (pos >= b.length) fail('item runs past the end')
  const t = b[pos]
  if (t < 0x80) return [b.subarray(pos, pos + 1), pos + 1]
  if (t < 0xb8) {
    const len = t - 0x80
    if (pos + 1 + len > b.length) fail('string runs past the end')
    if (len === 1 && b[pos + 1] < 0x80) fail('single byte encoded as a string')
    return [b.subarray(pos + 1, pos + 1 + len), pos + 1 + len]
  }
  if (t < 0xc0) {
    const ll = t - 0xb7
    const len = readLength(b, pos + 1, ll)
    const start = pos + 1 + ll
    if (start + len > b.length) fail('string runs past the end')
    return [b.subarray(start, start + len), start + len]
  }
  let start: number
  let len: number
  if (t < 0xf8) {
    len = t - 0xc0
    start = pos + 1
  } else {
    const ll = t - 0xf7
    len = readLength(b, pos + 1, ll)
    start = pos + 1 + ll
  }
  const end = start + len
  if (end > b.length) fail('list runs past the end')
  const items: RLPItem[] = []
  let p = start
  while (p < end) {
    const [it, next] = decodeAt(b, p)
    items.push(it)
    p = next
  }
  if (p !== end) fail('list items overrun the list')
  return [items, end]
}

/** Decodes exactly one RLP item (trailing bytes are refused). */
export function rlpDecode(b: Uint8Array): RLPItem {
  const [item, end] = decodeAt(b, 0)
  if (end !== b.length) fail('trailing bytes')
  return item
}
