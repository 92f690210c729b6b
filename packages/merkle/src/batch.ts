/**
 * Batched update with one hash per changed node: the sorted updates descend the trie together,
 * each touched node is loaded once, rebuilt in memory, and hashed once when the whole batch is
 * done (bottom-up), instead of @ethereumjs/mpt's put-by-put path rewrite (which hashes and stores
 * every intermediate version of the upper nodes: ~6 nodes per update instead of ~3).
 * Node layout and encodings are mpt's own classes; roots are checked against mpt by tests.
 */
import {
  BranchMPTNode,
  ExtensionMPTNode,
  LeafMPTNode,
  type MerklePatriciaTrie,
  type MPTNode,
} from '@ethereumjs/mpt'
import { keccak256 } from './keccak.js'
import { encodeRLP } from './rlp.js'

type Ref = Uint8Array | Uint8Array[]
/** A child slot while rebuilding: an untouched reference, a rebuilt node, or empty. */
type Slot = Ref | MPTNode | null

export interface PathOp {
  /** Full trie path (bytes). */
  path: Uint8Array
  /** null: delete. */
  value: Uint8Array | null
}

function nib(p: Uint8Array, i: number): number {
  const b = p[i >> 1]
  return i & 1 ? b & 15 : b >> 4
}

function nibs(p: Uint8Array, from: number, to: number): number[] {
  const out = new Array(to - from)
  for (let i = from; i < to; i++) out[i - from] = nib(p, i)
  return out
}

function isNode(s: Slot): s is MPTNode {
  return s instanceof BranchMPTNode || s instanceof LeafMPTNode || s instanceof ExtensionMPTNode
}

/** Packs a full nibble path (even length) into bytes. */
function pack(n: number[]): Uint8Array {
  const out = new Uint8Array(n.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = (n[2 * i] << 4) | n[2 * i + 1]
  return out
}

export class BatchApplier {
  /** Hashed nodes to store: [hash, encoding]. */
  readonly writes: [Uint8Array, Uint8Array][] = []

  constructor(
    private readonly mpt: MerklePatriciaTrie,
    /** Reads a hashed node directly (no checkpoint open), or undefined: through mpt. */
    private readonly read?: (hash: Uint8Array) => MPTNode | Promise<MPTNode>,
  ) {}

  /** Node ref of an in-memory node: inline raw if < 32 bytes, else hash (recorded for storage). */
  private commit(node: MPTNode, top = false): Ref {
    const enc = serialize(node)
    if (enc.length < 32 && !top) return node.raw() as Ref
    const h = keccak256(enc)
    this.writes.push([h, enc])
    return h
  }

  private async load(s: Slot): Promise<MPTNode | null> {
    if (s === null) return null
    if (isNode(s)) return s
    if (this.read !== undefined && s instanceof Uint8Array) return this.read(s)
    return this.mpt.lookupNode(s)
  }

  /** Applies sorted, unique `ops` to `root`; returns the new root (EMPTY when nothing is left). */
  async apply(root: Uint8Array, empty: Uint8Array, ops: PathOp[]): Promise<Uint8Array> {
    const start: Slot = equal(root, empty) ? null : root
    const node = await this.update(start, 0, ops, 0, ops.length)
    if (node === null) return empty
    return this.commit(node, true) as Uint8Array
  }

  /** Subtree at `slot` (its path has `depth` nibbles, shared by ops[lo..hi)) after the ops. */
  private async update(
    slot: Slot,
    depth: number,
    ops: PathOp[],
    lo: number,
    hi: number,
  ): Promise<MPTNode | null> {
    const node = await this.load(slot)
    if (node === null || node instanceof LeafMPTNode) {
      // rebuild from the (at most one) existing leaf and the ops: small
      const paths: Uint8Array[] = []
      const values: Uint8Array[] = []
      let leafPath: Uint8Array | null = null
      if (node) leafPath = pack(nibs(ops[lo].path, 0, depth).concat(node.key()))
      let leafDone = leafPath === null
      for (let i = lo; i < hi; i++) {
        const op = ops[i]
        if (!leafDone) {
          const c = compare(leafPath!, op.path)
          if (c < 0) {
            paths.push(leafPath!)
            values.push(node!.value()!)
            leafDone = true
          } else if (c === 0) leafDone = true // replaced or deleted by the op
        }
        if (op.value !== null) {
          paths.push(op.path)
          values.push(op.value)
        }
      }
      if (!leafDone) {
        paths.push(leafPath!)
        values.push(node!.value()!)
      }
      if (paths.length === 0) return null
      return this.build(paths, values, 0, paths.length, depth)
    }
    if (node instanceof ExtensionMPTNode) {
      const key = node.key()
      const end = depth + key.length
      let inside = true
      for (let i = lo; i < hi && inside; i++) {
        const p = ops[i].path
        if (p.length * 2 < end) inside = false
        else
          for (let j = 0; j < key.length; j++)
            if (nib(p, depth + j) !== key[j]) {
              inside = false
              break
            }
      }
      if (inside) {
        const child = await this.update(node.value() as Ref, end, ops, lo, hi)
        return this.extend(key, child)
      }
      // some ops leave the extension: expand it into a branch over its first nibble
      const slots: Slot[] = new Array(16).fill(null)
      slots[key[0]] =
        key.length === 1
          ? (node.value() as Ref)
          : new ExtensionMPTNode(key.slice(1), node.value() as Uint8Array)
      return this.branch(slots, null, depth, ops, lo, hi)
    }
    const slots: Slot[] = new Array(16)
    for (let i = 0; i < 16; i++) slots[i] = node.getBranch(i) as Ref | null
    return this.branch(slots, node.value(), depth, ops, lo, hi)
  }

  /** An extension `key` over `child`, normalized. */
  private extend(key: number[], child: MPTNode | null): MPTNode | null {
    if (child === null) return null
    if (child instanceof BranchMPTNode) {
      return new ExtensionMPTNode(key, this.commit(child) as Uint8Array)
    }
    // leaf or extension below: merge the paths
    child.key(key.concat(child.key()))
    return child
  }

  private async branch(
    slots: Slot[],
    value: Uint8Array | null,
    depth: number,
    ops: PathOp[],
    lo: number,
    hi: number,
  ): Promise<MPTNode | null> {
    let i = lo
    // an op whose path ends here sets the branch value (shorter paths sort first)
    if (i < hi && ops[i].path.length * 2 === depth) {
      value = ops[i].value
      i++
    }
    const pending: Promise<void>[] = []
    while (i < hi) {
      const n = nib(ops[i].path, depth)
      let j = i + 1
      while (j < hi && nib(ops[j].path, depth) === n) j++
      const a = i
      pending.push(
        this.update(slots[n], depth + 1, ops, a, j).then((c) => {
          slots[n] = c
        }),
      )
      i = j
    }
    await Promise.all(pending)
    let count = 0
    let only = -1
    for (let k = 0; k < 16; k++) {
      if (slots[k] !== null) {
        count++
        only = k
      }
    }
    if (count === 0) {
      return value === null || value.length === 0 ? null : new LeafMPTNode([], value)
    }
    if (count === 1 && (value === null || value.length === 0)) {
      // collapse into the single child
      const child = (await this.load(slots[only])) as MPTNode
      return this.extend([only], child)
    }
    const b = new BranchMPTNode()
    for (let k = 0; k < 16; k++) {
      const s = slots[k]
      if (s !== null) b.setBranch(k, (isNode(s) ? this.commit(s) : s) as Uint8Array)
    }
    if (value !== null && value.length > 0) b.value(value)
    return b
  }

  /** Subtrie node of sorted unique `paths[lo..hi)` sharing `depth` nibbles (children committed). */
  private build(
    paths: Uint8Array[],
    values: Uint8Array[],
    lo: number,
    hi: number,
    depth: number,
  ): MPTNode {
    const first = paths[lo]
    const firstLen = first.length * 2
    if (hi - lo === 1) return new LeafMPTNode(nibs(first, depth, firstLen), values[lo])
    const last = paths[hi - 1]
    const max = Math.min(firstLen, last.length * 2)
    let cp = depth
    while (cp < max && nib(first, cp) === nib(last, cp)) cp++
    if (cp > depth) {
      const child = this.build(paths, values, lo, hi, cp)
      return new ExtensionMPTNode(nibs(first, depth, cp), this.commit(child) as Uint8Array)
    }
    const b = new BranchMPTNode()
    let i = lo
    if (firstLen === depth) {
      b.value(values[lo])
      i++
    }
    while (i < hi) {
      const n = nib(paths[i], depth)
      let j = i + 1
      while (j < hi && nib(paths[j], depth) === n) j++
      b.setBranch(n, this.commit(this.build(paths, values, i, j, depth + 1)) as Uint8Array)
      i = j
    }
    return b
  }
}

/** Hex-prefix (compact) encoding of a nibble path. */
function compact(n: number[], leaf: boolean): Uint8Array {
  const odd = n.length & 1
  const out = new Uint8Array((n.length >> 1) + 1)
  const flag = (leaf ? 2 : 0) + odd
  let i = 0
  if (odd) out[0] = (flag << 4) | n[i++]
  else out[0] = flag << 4
  for (let o = 1; i < n.length; o++, i += 2) out[o] = (n[i] << 4) | n[i + 1]
  return out
}

/** A node's encoding: the bytes of mpt's `serialize()`, without its per-item concatenations. */
export function serialize(node: MPTNode): Uint8Array {
  if (node instanceof BranchMPTNode) return encodeRLP(node.raw() as Uint8Array[])
  const leaf = node instanceof LeafMPTNode
  return encodeRLP([compact(node.key(), leaf), node.value() as Uint8Array])
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
