/**
 * Merkle Patricia trie pieces for snapshots, on hashed 32-byte keys:
 * - `walkLeaves`: leaves of a committed trie in key order, reading nodes by hash (bounded memory);
 * - `proofPath`: the nodes on the path to a key (an edge proof);
 * - `buildSubtree`: the nodes of a subtrie from sorted leaves (what an importer writes);
 * - `verifyRange`: checks that a list of leaves is EXACTLY the trie's leaves in [start, end],
 *   given the nodes on the paths to `start` and `end`, and yields every node of the trie that the
 *   range owns (so the verified chunks of a snapshot rebuild the whole trie, in any order).
 *
 * Node encoding is Ethereum's: branch = 17-item list, extension / leaf = [hexPrefix(path), x],
 * children by keccak256 when their RLP is 32 bytes or more, embedded otherwise.
 */
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { keccak256 } from './hash.js'
import { EMPTY_TRIE_ROOT } from './params.js'
import {
  itemLength,
  listLength,
  RawRLP,
  type RLPInput,
  type RLPItem,
  rlpDecode,
  rlpEncode,
  writeItem,
  writeListHeader,
} from './rlp.js'

/** A trie leaf: 32-byte hashed key and the value stored in the trie. */
export interface TrieLeaf {
  key: Uint8Array
  value: Uint8Array
}

/** Reads a trie node by its hash (`undefined` when the store lacks it). */
export type NodeReader = (hashes: Uint8Array[]) => Promise<(Uint8Array | undefined)[]>
/** Receives a node (hash and RLP) that belongs to the trie being rebuilt. */
export type NodeSink = (hash: Uint8Array, rlp: Uint8Array) => void

const EMPTY = new Uint8Array(0)

/**
 * Where the rebuild path (leaves, branches and extensions built from leaves, edge leaves) encodes
 * its nodes. Each encoding is consumed (hashed, handed to the sink, or copied when embedded)
 * before the next one is made, so one buffer serves them all: no allocation per node, which at
 * 1M accounts was a fifth of verifying a chunk (each node over 64 bytes an off-heap
 * ArrayBuffer). Sinks inside this module copy; the exported functions hand theirs a copy.
 */
let encodeBuf = new Uint8Array(1 << 12)
function scratchFor(n: number): Uint8Array {
  if (encodeBuf.length < n) encodeBuf = new Uint8Array(Math.max(n, encodeBuf.length * 2))
  return encodeBuf
}

/** rlpEncodeList into the scratch buffer (items must not be views of it). */
function encodeListScratch(items: (Uint8Array | RawRLP)[]): Uint8Array {
  let body = 0
  for (let i = 0; i < items.length; i++) body += itemLength(items[i])
  const len = listLength(body)
  const out = scratchFor(len)
  let q = writeListHeader(body, out, 0)
  for (let i = 0; i < items.length; i++) q = writeItem(items[i], out, q)
  return out.subarray(0, len)
}

/** A sink for the exported functions: the node's RLP copied out of the scratch buffer. */
const copying = (sink: NodeSink | undefined): NodeSink | undefined =>
  sink && ((hash, rlp) => sink(hash, rlp.slice()))

function forged(msg: string, details?: Record<string, unknown>): never {
  throw new SnapshotError(SnapshotErrorCode.FORGED, msg, { details })
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')

function nib(key: Uint8Array, d: number): number {
  const b = key[d >> 1]
  return d & 1 ? b & 15 : b >> 4
}

/** Hex-prefix encoding of nibbles key[from..to) (nibble positions in a 32-byte key). */
function hpFromKey(key: Uint8Array, from: number, to: number, leaf: boolean): Uint8Array {
  const n = to - from
  const odd = n & 1
  const out = new Uint8Array((n >> 1) + 1)
  const flag = (leaf ? 2 : 0) + odd
  let p = from
  if (odd) {
    out[0] = (flag << 4) | nib(key, p)
    p++
  } else out[0] = flag << 4
  for (let i = 1; i < out.length; i++) {
    out[i] = (nib(key, p) << 4) | nib(key, p + 1)
    p += 2
  }
  return out
}

/**
 * RLP of the leaf node holding `value` at `key`, the leaf starting at nibble `from` (in the
 * scratch buffer).
 */
function encodeLeaf(key: Uint8Array, from: number, value: Uint8Array): Uint8Array {
  const n = 64 - from
  const hpLen = (n >> 1) + 1
  // a one-byte hex prefix (0x20 or 0x3x) is its own RLP; longer ones get a string header
  const body = (hpLen === 1 ? 1 : 1 + hpLen) + itemLength(value)
  const len = listLength(body)
  const out = scratchFor(len)
  let p = writeListHeader(body, out, 0)
  if (hpLen > 1) out[p++] = 0x80 + hpLen
  // the path's nibbles from `from` on are the key's bytes from from/2 on, after the flag nibble
  let k = from >> 1
  if (n & 1) out[p++] = 0x30 | (key[k++] & 15)
  else out[p++] = 0x20
  while (k < 32) out[p++] = key[k++]
  writeItem(value, out, p)
  return out.subarray(0, len)
}

function hpDecode(b: Uint8Array): { path: number[]; leaf: boolean } {
  if (b.length === 0) forged('empty hex-prefix path')
  const flag = b[0] >> 4
  if (flag > 3) forged('bad hex-prefix flag')
  const path: number[] = []
  if (flag & 1) path.push(b[0] & 15)
  else if ((b[0] & 15) !== 0) forged('bad hex-prefix padding')
  for (let i = 1; i < b.length; i++) path.push(b[i] >> 4, b[i] & 15)
  return { path, leaf: flag >= 2 }
}

type Node =
  | { t: 'branch'; children: RLPItem[]; value: RLPItem }
  | { t: 'ext'; path: number[]; child: RLPItem }
  | { t: 'leaf'; path: number[]; value: Uint8Array }

function decodeNodeItem(item: RLPItem): Node {
  if (!Array.isArray(item)) forged('trie node is not a list')
  if (item.length === 17) return { t: 'branch', children: item.slice(0, 16), value: item[16] }
  if (item.length === 2 && item[0] instanceof Uint8Array) {
    const { path, leaf } = hpDecode(item[0])
    if (leaf) {
      if (!(item[1] instanceof Uint8Array)) forged('leaf value is not bytes')
      return { t: 'leaf', path, value: item[1] }
    }
    return { t: 'ext', path, child: item[1] }
  }
  return forged('trie node of unknown shape')
}

/** Reference to a node from its parent: its hash, or the node itself when under 32 bytes. */
function ref(enc: Uint8Array, sink?: NodeSink): Uint8Array | RawRLP {
  if (enc.length < 32) return new RawRLP(enc.slice())
  const h = keccak256(enc)
  sink?.(h, enc)
  return h
}

function keyFromNibbles(n: number[]): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = (n[2 * i] << 4) | n[2 * i + 1]
  return out
}

function itemToInput(item: RLPItem): RLPInput {
  return item
}

/**
 * Encoded node of the subtrie of `leaves[lo..hi)` (sorted, sharing their first `depth`
 * nibbles). Hashed child nodes go to `sink`; the returned node itself does not.
 * @example
 * const enc = buildSubtree(leaves, 0, leaves.length, 0, (hash, rlp) => nodes.push([hash, rlp]))
 */
export function buildSubtree(
  leaves: TrieLeaf[],
  lo: number,
  hi: number,
  depth: number,
  sink?: NodeSink,
): Uint8Array {
  return subtree(leaves, lo, hi, depth, copying(sink)).slice()
}

/** {@link buildSubtree} in the scratch buffer, for a sink that copies. */
function subtree(
  leaves: TrieLeaf[],
  lo: number,
  hi: number,
  depth: number,
  sink?: NodeSink,
): Uint8Array {
  const first = leaves[lo].key
  if (hi - lo === 1) return encodeLeaf(first, depth, leaves[lo].value)
  const last = leaves[hi - 1].key
  let cp = depth
  while (cp < 64 && nib(first, cp) === nib(last, cp)) cp++
  if (cp === 64) forged('duplicate leaf key', { key: hex(first) })
  const branch = buildBranch(leaves, lo, hi, cp, sink)
  if (cp === depth) return branch
  return encodeListScratch([hpFromKey(first, depth, cp, false), ref(branch, sink)])
}

function buildBranch(
  leaves: TrieLeaf[],
  lo: number,
  hi: number,
  depth: number,
  sink?: NodeSink,
): Uint8Array {
  const items: (Uint8Array | RawRLP)[] = new Array(17).fill(EMPTY)
  let i = lo
  while (i < hi) {
    const n = nib(leaves[i].key, depth)
    let j = i + 1
    while (j < hi && nib(leaves[j].key, depth) === n) j++
    items[n] = ref(subtree(leaves, i, j, depth + 1, sink), sink)
    i = j
  }
  return encodeListScratch(items)
}

/**
 * Root of the trie holding exactly `leaves` (sorted by key); every node goes to `sink`, the root
 * included (always by hash).
 * @example
 * const root = trieRoot([{ key, value }])
 */
export function trieRoot(leaves: TrieLeaf[], sink?: NodeSink): Uint8Array {
  return trieRootOf(leaves, copying(sink))
}

function trieRootOf(leaves: TrieLeaf[], sink?: NodeSink): Uint8Array {
  if (leaves.length === 0) return EMPTY_TRIE_ROOT
  const enc = subtree(leaves, 0, leaves.length, 0, sink)
  const h = keccak256(enc)
  sink?.(h, enc)
  return h
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

export { compareBytes }

// --------------------------------------------------------------------------------------------
// Range verification
// --------------------------------------------------------------------------------------------

enum Cls {
  Outside = 0,
  Inside = 1,
  Boundary = 2,
}

/** Options of {@link verifyRange}. */
export interface VerifyRangeOptions {
  root: Uint8Array
  /** First key of the range (inclusive, 32 bytes). */
  start: Uint8Array
  /** Last key of the range (inclusive, 32 bytes). */
  end: Uint8Array
  /** The leaves claimed to be all of the trie's leaves in [start, end], sorted by key. */
  leaves: TrieLeaf[]
  /** Nodes on the paths from the root to `start` and to `end` (any order, duplicates allowed). */
  proof: Uint8Array[]
  /** Receives every node the range owns (inside nodes and the boundary nodes, root included). */
  sink?: NodeSink
}

/**
 * Verifies that `leaves` are exactly the leaves of the trie `root` whose keys lie in
 * [start, end]. Throws `ERR_SNAPSHOT_FORGED` otherwise.
 * @example
 * verifyRange({ root, start, end, leaves, proof })
 */
export function verifyRange(opts: VerifyRangeOptions): void {
  verifyRangeCopying({ ...opts, sink: copying(opts.sink) })
}

/**
 * {@link verifyRange} for a sink that copies what it keeps: the RLP it gets is valid only during
 * the call (what the importer's packed node buffer does).
 */
export function verifyRangeCopying(opts: VerifyRangeOptions): void {
  const { root, start, end, leaves, sink } = opts
  if (start.length !== 32 || end.length !== 32) forged('range bounds must be 32 bytes')
  if (compareBytes(start, end) > 0) forged('range start is after its end')
  for (let i = 0; i < leaves.length; i++) {
    const k = leaves[i].key
    if (k.length !== 32) forged('leaf key must be 32 bytes')
    if (compareBytes(k, start) < 0 || compareBytes(k, end) > 0) {
      forged('leaf key outside the range', { key: hex(k) })
    }
    if (i > 0 && compareBytes(leaves[i - 1].key, k) >= 0) forged('leaves not strictly sorted')
  }
  const full = start.every((b) => b === 0) && end.every((b) => b === 0xff)
  if (full) {
    const got = trieRootOf(leaves, sink)
    if (compareBytes(got, root) !== 0) {
      forged('leaves do not hash to the root', { expected: hex(root), got: hex(got) })
    }
    return
  }
  const proof = new Map<string, Uint8Array>()
  for (const n of opts.proof) proof.set(hex(keccak256(n)), n)
  const rootNode = proof.get(hex(root))
  if (!rootNode) {
    if (compareBytes(root, EMPTY_TRIE_ROOT) === 0 && leaves.length === 0) return
    forged('the proof lacks the root node', { root: hex(root) })
  }
  let pos = 0
  const prefix: number[] = []

  const cls = (d: number): Cls => {
    // prefix[0..d) against start and end
    let lo = 0 // compare prefix with start[0..d)
    for (let i = 0; i < d; i++) {
      const s = nib(start, i)
      if (prefix[i] !== s) {
        lo = prefix[i] < s ? -1 : 1
        break
      }
    }
    if (lo < 0) return Cls.Outside
    let hi = 0
    for (let i = 0; i < d; i++) {
      const e = nib(end, i)
      if (prefix[i] !== e) {
        hi = prefix[i] < e ? -1 : 1
        break
      }
    }
    if (hi > 0) return Cls.Outside
    // min key = prefix||0.., max key = prefix||f..
    let minOk = lo > 0
    if (lo === 0) {
      minOk = true
      for (let i = d; i < 64; i++) if (nib(start, i) !== 0) minOk = false
    }
    let maxOk = hi < 0
    if (hi === 0) {
      maxOk = true
      for (let i = d; i < 64; i++) if (nib(end, i) !== 15) maxOk = false
    }
    return minOk && maxOk ? Cls.Inside : Cls.Boundary
  }

  const hasPrefix = (key: Uint8Array, d: number): boolean => {
    for (let i = 0; i < d; i++) if (nib(key, i) !== prefix[i]) return false
    return true
  }

  /** Subtrie of the leaves under the current prefix (depth d), or null when there are none. */
  const inside = (d: number): Uint8Array | null => {
    const lo = pos
    while (pos < leaves.length && hasPrefix(leaves[pos].key, d)) pos++
    if (pos === lo) return null
    return subtree(leaves, lo, pos, d, sink)
  }

  const resolve = (item: RLPItem): Node => {
    if (Array.isArray(item)) return decodeNodeItem(item)
    if (item.length !== 32) forged('child reference is neither a hash nor a node')
    const n = proof.get(hex(item))
    if (!n) forged('the proof lacks a node on the range edge', { node: hex(item) })
    return decodeNodeItem(rlpDecode(n))
  }

  const process = (node: Node, d: number): Uint8Array => {
    if (node.t === 'branch') {
      const items: RLPInput[] = []
      for (let i = 0; i < 16; i++) {
        prefix[d] = i
        const c = cls(d + 1)
        const child = node.children[i]
        if (c === Cls.Outside) items.push(itemToInput(child))
        else if (c === Cls.Inside) {
          const enc = inside(d + 1)
          items.push(enc ? ref(enc, sink) : EMPTY)
        } else if (child instanceof Uint8Array && child.length === 0) items.push(EMPTY)
        else items.push(ref(process(resolve(child), d + 1), sink))
      }
      prefix.length = d
      items.push(itemToInput(node.value))
      return rlpEncode(items)
    }
    if (d + node.path.length > 64) forged('trie path longer than a key')
    for (let i = 0; i < node.path.length; i++) prefix[d + i] = node.path[i]
    const q = d + node.path.length
    if (node.t === 'leaf') {
      if (q !== 64) forged('leaf path shorter than a key')
      const key = keyFromNibbles(prefix)
      prefix.length = d
      if (compareBytes(key, start) >= 0 && compareBytes(key, end) <= 0) {
        const l = leaves[pos]
        if (!l || compareBytes(l.key, key) !== 0)
          forged('a leaf of the range is missing', { key: hex(key) })
        pos++
        return encodeLeaf(key, d, l.value)
      }
      return encodeLeaf(key, d, node.value)
    }
    const c = cls(q)
    let child: RLPInput
    if (c === Cls.Outside) child = itemToInput(node.child)
    else if (c === Cls.Inside) {
      const enc = inside(q)
      if (!enc) forged('a subtrie of the range has no leaves')
      child = ref(enc, sink)
    } else child = ref(process(resolve(node.child), q), sink)
    const hp = hpFromNibbles(node.path, false)
    prefix.length = d
    return rlpEncode([hp, child])
  }

  const enc = process(decodeNodeItem(rlpDecode(rootNode as Uint8Array)), 0)
  const got = keccak256(enc)
  if (compareBytes(got, root) !== 0) {
    forged('leaves and edge proofs do not hash to the root', { expected: hex(root), got: hex(got) })
  }
  if (pos !== leaves.length)
    forged('leaves that are not in the trie', { extra: leaves.length - pos })
  sink?.(got, enc)
}

function hpFromNibbles(path: number[], leaf: boolean): Uint8Array {
  const odd = path.length & 1
  const out = new Uint8Array((path.length >> 1) + 1)
  const flag = (leaf ? 2 : 0) + odd
  let p = 0
  if (odd) out[0] = (flag << 4) | path[p++]
  else out[0] = flag << 4
  for (let i = 1; i < out.length; i++) {
    out[i] = (path[p] << 4) | path[p + 1]
    p += 2
  }
  return out
}

// --------------------------------------------------------------------------------------------
// Reading a committed trie
// --------------------------------------------------------------------------------------------

function missing(hash: Uint8Array): never {
  throw new SnapshotError(
    SnapshotErrorCode.MISSING_STATE,
    `the state store lacks trie node ${hex(hash)}: is the state at this root complete (not pruned)?`,
    { details: { node: hex(hash) } },
  )
}

async function readNode(read: NodeReader, hash: Uint8Array): Promise<Uint8Array> {
  // one node at a time: only for proofs (a few nodes per chunk)
  const [n] = await read([hash])
  if (!n) missing(hash)
  return n
}

// The walk reads many nodes: it parses them in place (offsets into the node's bytes) rather
// than through the generic RLP decoder, and keeps one small object per node.

/** A node of the trie being walked. */
class WalkFrame {
  /** RLP of the node once read (or embedded in its parent). */
  enc: Uint8Array | undefined
  /** 0 = not parsed yet, 1 = branch, 2 = extension, 3 = leaf. */
  kind = 0
  /** Children in key order (branch, extension), until emitted. */
  kids: WalkFrame[] | undefined
  /** Extension: its path nibbles. */
  extPath: number[] | undefined
  /** Leaf: its value, and where its hex-prefix path lies in `enc`. */
  value: Uint8Array | undefined
  hpStart = 0
  hpEnd = 0
  /** Whether the node is referenced by hash (a proof node), not embedded in its parent. */
  readonly hashed: boolean

  constructor(
    readonly up: WalkFrame | undefined,
    /** Nibble under a parent branch; -1 under an extension. */
    readonly nib: number,
    /** Nibbles of the key above this node. */
    readonly depth: number,
    /** Hash to read the node by until it is read (undefined when embedded). */
    public hash: Uint8Array | undefined,
    enc: Uint8Array | undefined,
  ) {
    this.enc = enc
    this.hashed = hash !== undefined
  }
}

// header of the RLP item last read by `hdr` (module state: no allocation per item)
let hList = false
let hStart = 0
let hEnd = 0

function hdr(b: Uint8Array, pos: number): void {
  if (pos >= b.length) forged('invalid RLP: item runs past the end')
  const t = b[pos]
  let len: number
  if (t < 0x80) {
    hList = false
    hStart = pos
    hEnd = pos + 1
    return
  }
  if (t < 0xb8) {
    hList = false
    len = t - 0x80
    hStart = pos + 1
    if (len === 1 && b[hStart] < 0x80) forged('invalid RLP: single byte encoded as a string')
  } else if (t < 0xc0 || t >= 0xf8) {
    hList = t >= 0xf8
    const ll = t - (hList ? 0xf7 : 0xb7)
    if (pos + 1 + ll > b.length) forged('invalid RLP: length runs past the end')
    if (b[pos + 1] === 0) forged('invalid RLP: length with a leading zero')
    len = 0
    for (let k = 0; k < ll; k++) len = len * 256 + b[pos + 1 + k]
    if (len < 56) forged('invalid RLP: long form for a short length')
    hStart = pos + 1 + ll
  } else {
    hList = true
    len = t - 0xc0
    hStart = pos + 1
  }
  hEnd = hStart + len
  if (hEnd > b.length) forged('invalid RLP: item runs past the end')
}

/** A child reference at `pos` of `enc` as a frame (undefined when empty). */
function childAt(
  f: WalkFrame,
  enc: Uint8Array,
  pos: number,
  nib: number,
  depth: number,
): WalkFrame | undefined {
  hdr(enc, pos)
  if (hList) return new WalkFrame(f, nib, depth, undefined, enc.subarray(pos, hEnd))
  if (hEnd - hStart === 32)
    return new WalkFrame(f, nib, depth, enc.subarray(hStart, hEnd), undefined)
  if (hEnd === hStart) return undefined
  return forged('bad child reference')
}

/** Parses a read node: its kind, and children frames (not yet read) for branches/extensions. */
function parseFrame(f: WalkFrame): void {
  if (f.kind !== 0) return
  const enc = f.enc as Uint8Array
  hdr(enc, 0)
  if (!hList || hEnd !== enc.length) forged('trie node is not a list')
  const end = hEnd
  let items = 0
  for (let p = hStart; p < end; p = hEnd) {
    hdr(enc, p)
    items++
  }
  if (hEnd !== end) forged('invalid RLP: list items overrun the list')
  hdr(enc, 0)
  let p = hStart
  if (items === 17) {
    f.kind = 1
    const kids: WalkFrame[] = []
    for (let i = 0; i < 16; i++) {
      const k = childAt(f, enc, p, i, f.depth + 1)
      p = hEnd
      if (k) kids.push(k)
    }
    f.kids = kids
    return
  }
  if (items !== 2) forged('trie node of unknown shape')
  hdr(enc, p)
  if (hList) forged('trie node of unknown shape')
  const hs = hStart
  const he = hEnd
  if (he === hs) forged('empty hex-prefix path')
  const flag = enc[hs] >> 4
  if (flag > 3) forged('bad hex-prefix flag')
  if (!(flag & 1) && (enc[hs] & 15) !== 0) forged('bad hex-prefix padding')
  const n = (he - hs - 1) * 2 + (flag & 1)
  if (f.depth + n > 64) forged('trie path longer than a key')
  if (flag >= 2) {
    hdr(enc, he)
    if (hList) forged('leaf value is not bytes')
    if (f.depth + n !== 64) forged('leaf path is not 64 nibbles')
    f.kind = 3
    f.value = enc.subarray(hStart, hEnd)
    f.hpStart = hs
    f.hpEnd = he
    return
  }
  f.kind = 2
  const path: number[] = []
  if (flag & 1) path.push(enc[hs] & 15)
  for (let k = hs + 1; k < he; k++) path.push(enc[k] >> 4, enc[k] & 15)
  f.extPath = path
  const k = childAt(f, enc, he, -1, f.depth + n)
  if (!k) forged('extension without a child')
  f.kids = [k as WalkFrame]
}

const scratch = new Uint8Array(64)

/** The full key of a parsed leaf frame (its path above, then its own hex-prefix path). */
function leafKey(f: WalkFrame): Uint8Array {
  const enc = f.enc as Uint8Array
  let d = f.depth
  if (enc[f.hpStart] & 0x10) scratch[d++] = enc[f.hpStart] & 15
  for (let k = f.hpStart + 1; k < f.hpEnd; k++) {
    scratch[d++] = enc[k] >> 4
    scratch[d++] = enc[k] & 15
  }
  for (let g: WalkFrame = f; g.up; g = g.up) {
    if (g.nib >= 0) scratch[g.depth - 1] = g.nib
    else {
      const up = g.up
      const path = up.extPath as number[]
      for (let k = 0; k < path.length; k++) scratch[up.depth + k] = path[k]
    }
  }
  const key = new Uint8Array(32)
  for (let k = 0; k < 32; k++) key[k] = (scratch[2 * k] << 4) | scratch[2 * k + 1]
  return key
}

/** Most keys per store read; larger reads are split and issued together. */
const READ_BATCH = 1024

/** Reads (in a few large batched reads) and parses the frames of one level. */
async function loadLevel(read: NodeReader, level: WalkFrame[], parse = true): Promise<void> {
  const need: WalkFrame[] = []
  for (const f of level) if (f.enc === undefined) need.push(f)
  if (need.length > 0) {
    const parts: Promise<(Uint8Array | undefined)[]>[] = []
    for (let i = 0; i < need.length; i += READ_BATCH) {
      const hashes: Uint8Array[] = []
      for (let k = i; k < Math.min(need.length, i + READ_BATCH); k++) {
        hashes.push(need[k].hash as Uint8Array)
      }
      parts.push(read(hashes))
    }
    let k = 0
    for (const got of await Promise.all(parts)) {
      for (const n of got) {
        const f = need[k++]
        if (!n) missing(f.hash as Uint8Array)
        f.enc = n
        f.hash = undefined // read: a walk keeps nodes, not the views of their hashes
      }
    }
  }
  if (parse) for (const f of level) parseFrame(f)
}

function kidsOf(level: WalkFrame[]): WalkFrame[] {
  const out: WalkFrame[] = []
  for (const f of level) if (f.kids) for (const k of f.kids) out.push(k)
  return out
}

/** Reads every node under the (parsed) frames of `group`, level by level. */
async function loadAll(read: NodeReader, group: WalkFrame[]): Promise<void> {
  for (let level = kidsOf(group); level.length > 0; level = kidsOf(level)) {
    await loadLevel(read, level)
  }
}

/** A leaf from {@link walkLeaves}, which can also give its proof (the walk read those nodes). */
export class WalkedLeaf implements TrieLeaf {
  constructor(
    readonly key: Uint8Array,
    readonly value: Uint8Array,
    private readonly frame: WalkFrame,
  ) {}

  /** The hashed nodes from the root to this leaf: what `proofPath(read, root, key)` returns. */
  proof(): Uint8Array[] {
    const out: Uint8Array[] = []
    for (let g: WalkFrame | undefined = this.frame; g; g = g.up) {
      if (g.hashed) out.push(g.enc as Uint8Array)
    }
    return out.reverse()
  }
}

/**
 * Leaf frames under fully read frames, in key order; with `free`, drops each subtree's children
 * as it goes (the walk's emission) instead of leaving them (a look at a group before it).
 */
function* leafFrames(top: WalkFrame[], free: boolean): Generator<WalkFrame> {
  const stack: WalkFrame[] = []
  for (let i = top.length - 1; i >= 0; i--) stack.push(top[i])
  while (stack.length > 0) {
    const f = stack.pop() as WalkFrame
    if (f.kind === 3) {
      yield f
      continue
    }
    const kids = f.kids
    if (!kids) continue
    if (free) f.kids = undefined
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i])
  }
}

/** Most leaves in one batch of {@link walkLeafBatches}. */
const LEAF_BATCH = 1024

/** Leaves under fully read frames, in key order, in batches; frees the subtrees as it goes. */
function* emitBatches(top: WalkFrame[]): Generator<WalkedLeaf[]> {
  let batch: WalkedLeaf[] = []
  for (const f of leafFrames(top, true)) {
    batch.push(new WalkedLeaf(leafKey(f), f.value as Uint8Array, f))
    if (batch.length === LEAF_BATCH) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

/** Options of {@link walkLeaves}. */
export interface WalkOptions {
  /** Subtries read together as one group (default 32). */
  window?: number
  /** Groups read ahead of the consumer (default 4). */
  ahead?: number
  /** Split the trie into about this many subtries (default 4096). */
  frontier?: number
  /**
   * Called with the leaf values of each group of subtries once the group is read, in key order
   * and ahead of the leaves being yielded (by up to `ahead` groups): what a consumer needs to
   * start its own reads for leaves it will reach soon.
   */
  onGroupRead?: (values: Uint8Array[]) => void
}

/**
 * Leaves of the committed trie `root` in key order.
 * @example
 * for await (const leaf of walkLeaves(reader, root)) console.log(leaf.key, leaf.value)
 */
export async function* walkLeaves(
  read: NodeReader,
  root: Uint8Array,
  opts: WalkOptions = {},
): AsyncGenerator<WalkedLeaf> {
  for await (const batch of walkLeafBatches(read, root, opts)) yield* batch
}

/**
 * Leaves of the committed trie `root` in key order, in arrays of up to 1024 (a consumer that
 * takes them a batch at a time saves the promise of an async iteration step per leaf). The top
 * of the trie is read breadth-first
 * until it splits into about `frontier` subtries; those are then loaded `window` at a time,
 * level by level with one large batched read per level (a store round trip per node would cost
 * far more), the next groups being read while the consumer takes the current one. Memory stays
 * bounded: a few groups of subtries plus the frontier.
 * @example
 * for await (const batch of walkLeafBatches(reader, root)) for (const leaf of batch) use(leaf)
 */
export async function* walkLeafBatches(
  read: NodeReader,
  root: Uint8Array,
  opts: WalkOptions = {},
): AsyncGenerator<WalkedLeaf[]> {
  if (compareBytes(root, EMPTY_TRIE_ROOT) === 0) return
  const window = Math.max(1, opts.window ?? 32)
  const ahead = Math.max(1, opts.ahead ?? 4)
  const target = Math.max(1, opts.frontier ?? 4096)
  // the frontier: the top levels, read breadth-first until wide enough or fully read
  let frontier: WalkFrame[] = [new WalkFrame(undefined, -1, 0, root, undefined)]
  // the last level read is parsed group by group, as its groups are loaded: parsed at once, its
  // nodes' children (16 frames a branch, some 65,000 for a wide frontier) would all be in memory
  await loadLevel(read, frontier, false)
  while (frontier.length < target) {
    for (const f of frontier) parseFrame(f)
    if (!frontier.some((f) => f.kids)) break
    const wider: WalkFrame[] = []
    for (const f of frontier) {
      if (f.kids) for (const k of f.kids) wider.push(k)
      else wider.push(f)
    }
    frontier = wider
    await loadLevel(read, frontier, false)
  }
  let i = 0
  const onRead = opts.onGroupRead
  // onGroupRead sees the groups in order, whichever of the reads ahead finishes first
  let seen: Promise<unknown> = Promise.resolve()
  const nextGroup = () => {
    const group = frontier.slice(i, i + window)
    i += group.length
    for (const f of group) parseFrame(f)
    const loaded = loadAll(read, group)
    const p = onRead
      ? Promise.all([loaded, seen]).then(() => {
          const values: Uint8Array[] = []
          for (const f of leafFrames(group, false)) values.push(f.value as Uint8Array)
          onRead(values)
          return group
        })
      : loaded.then(() => group)
    seen = p
    p.catch(() => {}) // surfaced when awaited
    return p
  }
  // groups being read ahead of the consumer: reads wait on the store's threads, so several in
  // flight keep those busy while this thread parses and emits
  const pending: Promise<WalkFrame[]>[] = []
  while (pending.length < ahead && i < frontier.length) pending.push(nextGroup())
  while (pending.length > 0) {
    const group = await (pending.shift() as Promise<WalkFrame[]>)
    if (i < frontier.length) pending.push(nextGroup())
    yield* emitBatches(group)
  }
}

/**
 * The hashed nodes on the path from `root` towards `key` (an edge proof; works for absent keys).
 * @example
 * const proof = await proofPath(reader, root, key)
 */
export async function proofPath(
  read: NodeReader,
  root: Uint8Array,
  key: Uint8Array,
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  if (compareBytes(root, EMPTY_TRIE_ROOT) === 0) return out
  let enc = await readNode(read, root)
  out.push(enc)
  let node = decodeNodeItem(rlpDecode(enc))
  let d = 0
  for (;;) {
    let next: RLPItem
    if (node.t === 'leaf') return out
    if (node.t === 'ext') {
      for (let i = 0; i < node.path.length; i++) {
        if (d + i >= 64 || node.path[i] !== nib(key, d + i)) return out
      }
      d += node.path.length
      next = node.child
    } else {
      if (d >= 64) return out
      next = node.children[nib(key, d)]
      d++
    }
    if (Array.isArray(next)) node = decodeNodeItem(next)
    else if (next.length === 0) return out
    else {
      enc = await readNode(read, next)
      out.push(enc)
      node = decodeNodeItem(rlpDecode(enc))
    }
  }
}

/**
 * The value at `key` in the trie `root`, proven by `proof` (nodes on the path); `undefined` when
 * the proof shows the key is absent. Throws `ERR_SNAPSHOT_FORGED` on a bad proof.
 * @example
 * const account = verifyKeyProof(stateRoot, keyHash, proof)
 */
export function verifyKeyProof(
  root: Uint8Array,
  key: Uint8Array,
  proof: Uint8Array[],
): Uint8Array | undefined {
  const map = new Map<string, Uint8Array>()
  for (const n of proof) map.set(hex(keccak256(n)), n)
  const get = (h: Uint8Array): Node => {
    const n = map.get(hex(h))
    if (!n) forged('the key proof lacks a node', { node: hex(h) })
    return decodeNodeItem(rlpDecode(n))
  }
  if (compareBytes(root, EMPTY_TRIE_ROOT) === 0) return undefined
  let node = get(root)
  let d = 0
  for (;;) {
    let next: RLPItem
    if (node.t === 'leaf') {
      if (d + node.path.length !== 64) forged('leaf path is not 64 nibbles')
      for (let i = 0; i < node.path.length; i++) {
        if (node.path[i] !== nib(key, d + i)) return undefined
      }
      return node.value
    }
    if (node.t === 'ext') {
      for (let i = 0; i < node.path.length; i++) {
        if (d + i >= 64 || node.path[i] !== nib(key, d + i)) return undefined
      }
      d += node.path.length
      next = node.child
    } else {
      if (d >= 64) forged('branch below key depth')
      next = node.children[nib(key, d)]
      d++
    }
    if (Array.isArray(next)) node = decodeNodeItem(next)
    else if (next.length === 0) return undefined
    else node = get(next)
  }
}
