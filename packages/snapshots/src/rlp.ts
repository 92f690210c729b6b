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

/** Body length of a list (cached per list: `write` asks again). */
const bodyCache = new WeakMap<RLPInput[], number>()

function encodedLength(item: RLPInput): number {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0] < 0x80) return 1
    return prefixSize(item.length) + item.length
  }
  if (item instanceof RawRLP) return item.bytes.length
  let body = 0
  for (const x of item) body += encodedLength(x)
  bodyCache.set(item, body)
  return prefixSize(body) + body
}

function write(item: RLPInput, out: Uint8Array, pos: number): number {
  if (item instanceof Uint8Array) {
    if (item.length === 1 && item[0] < 0x80) {
      out[pos] = item[0]
      return pos + 1
    }
    const q = writePrefix(item.length, 0x80, out, pos)
    out.set(item, q)
    return q + item.length
  }
  if (item instanceof RawRLP) {
    out.set(item.bytes, pos)
    return pos + item.bytes.length
  }
  let body = bodyCache.get(item)
  if (body === undefined) {
    body = 0
    for (const x of item) body += encodedLength(x)
  }
  let q = writePrefix(body, 0xc0, out, pos)
  for (const x of item) q = write(x, out, q)
  return q
}

/** RLP encoding of `item`. */
export function rlpEncode(item: RLPInput): Uint8Array {
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
