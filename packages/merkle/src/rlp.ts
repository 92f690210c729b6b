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

function headerSize(payload: number): number {
  return payload < 56 ? 1 : 1 + lengthOfLength(payload)
}

/** Total encoded size of `item`; pushes each list's payload size to `lists` (pre-order). */
function measure(item: RLPInput, lists: number[]): number {
  if (item instanceof Uint8Array) {
    const n = item.length
    if (n === 1 && item[0] < 0x80) return 1
    return headerSize(n) + n
  }
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

function header(out: Uint8Array, at: number, short: number, len: number): number {
  if (len < 56) {
    out[at] = short + len
    return at + 1
  }
  const k = lengthOfLength(len)
  out[at] = short + 55 + k
  for (let i = k, l = len; i >= 1; i--, l = Math.floor(l / 256)) out[at + i] = l & 255
  return at + 1 + k
}

interface Cursor {
  at: number
  list: number
}

function write(item: RLPInput, out: Uint8Array, c: Cursor, lists: number[]): void {
  if (item instanceof Uint8Array) {
    const n = item.length
    if (n === 1 && item[0] < 0x80) {
      out[c.at++] = item[0]
      return
    }
    c.at = header(out, c.at, 0x80, n)
    out.set(item, c.at)
    c.at += n
    return
  }
  if (item === null || item === undefined) {
    out[c.at++] = 0x80
    return
  }
  c.at = header(out, c.at, 0xc0, lists[c.list++])
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
