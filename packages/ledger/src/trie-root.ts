/**
 * Root of a Merkle Patricia trie (Ethereum's, not secure: keys are used as they are) built in
 * one pass from all its entries. Used for txRoot and receiptsRoot (keys RLP(index)); hashing once
 * per block with no database.
 */
import { keccak256 } from '@aureon/merkle'
import { bigintToBytes, type RLPItem, rlpEncode } from './codec.js'
import { EMPTY_TRIE_ROOT } from './hash.js'

interface Entry {
  nibbles: Uint8Array
  value: Uint8Array
}

function toNibbles(key: Uint8Array): Uint8Array {
  const n = new Uint8Array(key.length * 2)
  for (let i = 0; i < key.length; i++) {
    n[2 * i] = key[i] >> 4
    n[2 * i + 1] = key[i] & 15
  }
  return n
}

function hexPrefix(nibbles: Uint8Array, leaf: boolean): Uint8Array {
  const odd = nibbles.length & 1
  const flag = (leaf ? 2 : 0) + odd
  const out = new Uint8Array((nibbles.length >> 1) + 1)
  let i = 0
  if (odd) {
    out[0] = (flag << 4) | nibbles[0]
    i = 1
  } else {
    out[0] = flag << 4
  }
  for (let o = 1; i < nibbles.length; i += 2, o++) out[o] = (nibbles[i] << 4) | nibbles[i + 1]
  return out
}

function ref(node: RLPItem): RLPItem {
  const enc = rlpEncode(node)
  return enc.length < 32 ? node : keccak256(enc)
}

function build(items: Entry[], depth: number): RLPItem {
  if (items.length === 1) {
    return [hexPrefix(items[0].nibbles.subarray(depth), true), items[0].value]
  }
  // items are sorted: the common prefix of all is the common prefix of the first and last
  const first = items[0].nibbles
  const last = items[items.length - 1].nibbles
  let p = depth
  while (p < first.length && p < last.length && first[p] === last[p]) p++
  if (p > depth) {
    return [hexPrefix(first.subarray(depth, p), false), ref(build(items, p))]
  }
  const branch: RLPItem[] = new Array(17).fill(new Uint8Array(0))
  let i = 0
  if (items[0].nibbles.length === depth) {
    branch[16] = items[0].value
    i = 1
  }
  while (i < items.length) {
    const nib = items[i].nibbles[depth]
    let j = i + 1
    while (j < items.length && items[j].nibbles[depth] === nib) j++
    branch[nib] = ref(build(items.slice(i, j), depth + 1))
    i = j
  }
  return branch
}

function cmpNibbles(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/**
 * Trie root of key/value pairs (keys distinct; empty values are skipped like deletions).
 * @example
 * trieRoot([[rlpEncode(new Uint8Array()), value]])
 */
export function trieRoot(entries: [Uint8Array, Uint8Array][]): Uint8Array {
  const items: Entry[] = []
  for (const [k, v] of entries) if (v.length > 0) items.push({ nibbles: toNibbles(k), value: v })
  if (items.length === 0) return EMPTY_TRIE_ROOT
  items.sort((a, b) => cmpNibbles(a.nibbles, b.nibbles))
  return keccak256(rlpEncode(build(items, 0)))
}

/**
 * Root of the trie RLP(i) -> values[i]: the txRoot / receiptsRoot rule.
 * @example
 * orderedTrieRoot(block.transactions.map(encodeTransaction))
 */
export function orderedTrieRoot(values: Uint8Array[]): Uint8Array {
  return trieRoot(values.map((v, i) => [rlpEncode(bigintToBytes(BigInt(i))), v]))
}
