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
import { keccak256 } from './keccak.js'
import { EMPTY_TRIE_ROOT } from './params.js'
import {
  itemLength,
  listLength,
  RawRLP,
  type RLPInput,
  type RLPItem,
  rlpDecode,
  rlpEncode,
  rlpEncodeList,
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

/** RLP of the leaf node holding `value` at `key`, the leaf starting at nibble `from`. */
function encodeLeaf(key: Uint8Array, from: number, value: Uint8Array): Uint8Array {
  const n = 64 - from
  const hpLen = (n >> 1) + 1
  // a one-byte hex prefix (0x20 or 0x3x) is its own RLP; longer ones get a string header
  const body = (hpLen === 1 ? 1 : 1 + hpLen) + itemLength(value)
  const out = new Uint8Array(listLength(body))
  let p = writeListHeader(body, out, 0)
  if (hpLen > 1) out[p++] = 0x80 + hpLen
  let k = from
  if (n & 1) {
    out[p++] = 0x30 | nib(key, k)
    k++
  } else out[p++] = 0x20
  for (; k < 64; k += 2) {
    const b = key[k >> 1]
    out[p++] = k & 1 ? ((b & 15) << 4) | (key[(k >> 1) + 1] >> 4) : b
  }
  writeItem(value, out, p)
  return out
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
  if (enc.length < 32) return new RawRLP(enc)
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
 */
export function buildSubtree(
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
  return rlpEncodeList([hpFromKey(first, depth, cp, false), ref(branch, sink)])
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
    items[n] = ref(buildSubtree(leaves, i, j, depth + 1, sink), sink)
    i = j
  }
  return rlpEncodeList(items)
}

/**
 * Root of the trie holding exactly `leaves` (sorted by key); every node goes to `sink`, the root
 * included (always by hash).
 * @example
 * const root = trieRoot([{ key, value }])
 */
export function trieRoot(leaves: TrieLeaf[], sink?: NodeSink): Uint8Array {
  if (leaves.length === 0) return EMPTY_TRIE_ROOT
  const enc = buildSubtree(leaves, 0, leaves.length, 0, sink)
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
    const got = trieRoot(leaves, sink)
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
    return buildSubtree(leaves, lo, pos, d, sink)
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
  const [n] = await read([hash])
  if (!n) missing(hash)
  return n
}

type Frame = { node: Node; path: number[] }

/** Children frames of a branch (hashed children fetched in one getMany). */
async function expand(
  read: NodeReader,
  node: Node & { t: 'branch' },
  path: number[],
): Promise<Frame[]> {
  const hashed: { i: number; h: Uint8Array }[] = []
  const frames: (Frame | undefined)[] = new Array(16)
  for (let i = 0; i < 16; i++) {
    const c = node.children[i]
    if (Array.isArray(c)) frames[i] = { node: decodeNodeItem(c), path: path.concat(i) }
    else if (c.length === 32) hashed.push({ i, h: c })
    else if (c.length !== 0) forged('bad child reference')
  }
  if (hashed.length > 0) {
    const got = await read(hashed.map((x) => x.h))
    for (let j = 0; j < hashed.length; j++) {
      const n = got[j]
      if (!n) missing(hashed[j].h)
      frames[hashed[j].i] = { node: decodeNodeItem(rlpDecode(n)), path: path.concat(hashed[j].i) }
    }
  }
  return frames.filter((f): f is Frame => f !== undefined)
}

async function resolveExt(read: NodeReader, f: Frame): Promise<Frame> {
  if (f.node.t !== 'ext') return f
  const p = f.path.concat(f.node.path)
  const c = f.node.child
  if (Array.isArray(c)) return { node: decodeNodeItem(c), path: p }
  return { node: decodeNodeItem(rlpDecode(await readNode(read, c))), path: p }
}

/** All leaves under one frame, in key order (sequential depth-first walk). */
async function collect(read: NodeReader, top: Frame): Promise<TrieLeaf[]> {
  const out: TrieLeaf[] = []
  const stack: Frame[] = [top]
  while (stack.length > 0) {
    const f = await resolveExt(read, stack.pop() as Frame)
    if (f.node.t === 'leaf') {
      const full = f.path.concat(f.node.path)
      if (full.length !== 64) forged('leaf path is not 64 nibbles')
      out.push({ key: keyFromNibbles(full), value: f.node.value })
      continue
    }
    if (f.node.t === 'ext') continue
    const kids = await expand(read, f.node, f.path)
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i])
  }
  return out
}

/** Options of {@link walkLeaves}. */
export interface WalkOptions {
  /** Subtries walked at once ahead of the consumer (default 16). */
  window?: number
  /** Split the trie into about this many subtries (default 4096). */
  frontier?: number
}

/**
 * Leaves of the committed trie `root` in key order. The trie is cut into subtries (a frontier a
 * few levels down); `window` of them are read concurrently ahead of the consumer, so reads
 * overlap while memory stays bounded (the window's subtries plus the frontier).
 * @example
 * for await (const leaf of walkLeaves(reader, root)) console.log(leaf.key, leaf.value)
 */
export async function* walkLeaves(
  read: NodeReader,
  root: Uint8Array,
  opts: WalkOptions = {},
): AsyncGenerator<TrieLeaf> {
  if (compareBytes(root, EMPTY_TRIE_ROOT) === 0) return
  const window = Math.max(1, opts.window ?? 16)
  const target = Math.max(1, opts.frontier ?? 4096)
  let frontier: Frame[] = [
    { node: decodeNodeItem(rlpDecode(await readNode(read, root))), path: [] },
  ]
  for (;;) {
    if (frontier.length >= target / 16) break
    const resolved = await Promise.all(frontier.map((f) => resolveExt(read, f)))
    if (!resolved.some((f) => f.node.t === 'branch')) {
      frontier = resolved
      break
    }
    const next: Frame[][] = await Promise.all(
      resolved.map((f) =>
        f.node.t === 'branch' ? expand(read, f.node, f.path) : Promise.resolve([f]),
      ),
    )
    frontier = next.flat()
  }
  const pending: Promise<TrieLeaf[]>[] = []
  let i = 0
  const fill = () => {
    while (pending.length < window && i < frontier.length) {
      const p = collect(read, frontier[i++])
      p.catch(() => {}) // surfaced when awaited
      pending.push(p)
    }
  }
  fill()
  while (pending.length > 0) {
    const leaves = await (pending.shift() as Promise<TrieLeaf[]>)
    fill()
    yield* leaves
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
