/**
 * One-pass construction of a trie from its entries (for genesis, snapshot restore and benches):
 * sort the paths, build each node once bottom-up, hash each node once. Gives exactly the root
 * that inserting the entries one by one gives (tested against @ethereumjs/mpt).
 */
import { BranchMPTNode, ExtensionMPTNode, LeafMPTNode, type MPTNode } from '@ethereumjs/mpt'
import { MerkleError, MerkleErrorCode } from './errors.js'
import { keccak256 } from './keccak.js'
import { NodeCache, NodeDB } from './node-db.js'
import { DEFAULT_NODE_CACHE_SIZE, EMPTY_TRIE_ROOT } from './params.js'
import { MPTStateTree, newMPT } from './state-tree.js'
import type { StateTreeOptions } from './types.js'

type Ref = Uint8Array | Uint8Array[]

function nib(p: Uint8Array, i: number): number {
  const b = p[i >> 1]
  return i & 1 ? b & 15 : b >> 4
}

function nibs(p: Uint8Array, from: number, to: number): number[] {
  const out = new Array(to - from)
  for (let i = from; i < to; i++) out[i - from] = nib(p, i)
  return out
}

/**
 * Builds the trie of `entries` (paths sorted ascending, unique; values non-empty). `put` receives
 * every hashed node (hash hex, encoding); returns the root.
 */
export function buildTrie(
  paths: Uint8Array[],
  values: Uint8Array[],
  put: (hashHex: string, encoded: Uint8Array) => void,
): Uint8Array {
  if (paths.length === 0) return EMPTY_TRIE_ROOT
  const ref = (node: MPTNode, top: boolean): Ref => {
    const enc = node.serialize()
    if (enc.length < 32 && !top) return node.raw() as Ref
    const h = keccak256(enc)
    put(Buffer.from(h.buffer, h.byteOffset, 32).toString('hex'), enc)
    return h
  }
  // [lo, hi) entries share their first `depth` nibbles
  const build = (lo: number, hi: number, depth: number, top: boolean): Ref => {
    const first = paths[lo]
    const firstLen = first.length * 2
    if (hi - lo === 1) return ref(new LeafMPTNode(nibs(first, depth, firstLen), values[lo]), top)
    // common prefix of the run = common prefix of its first and last path (sorted)
    const last = paths[hi - 1]
    const max = Math.min(firstLen, last.length * 2)
    let cp = depth
    while (cp < max && nib(first, cp) === nib(last, cp)) cp++
    if (cp > depth) {
      const child = build(lo, hi, cp, false)
      return ref(new ExtensionMPTNode(nibs(first, depth, cp), child as Uint8Array), top)
    }
    const branch = new BranchMPTNode()
    let i = lo
    if (firstLen === depth) {
      branch.value(values[lo]) // a path ending here is the branch's value (sorted first)
      i++
    }
    while (i < hi) {
      const n = nib(paths[i], depth)
      let j = i + 1
      while (j < hi && nib(paths[j], depth) === n) j++
      branch.setBranch(n, build(i, j, depth + 1, false) as Uint8Array)
      i = j
    }
    return ref(branch, top)
  }
  return build(0, paths.length, 0, true) as Uint8Array
}

/**
 * A new state tree holding `entries`, built in one pass (each node hashed once): much faster than
 * inserting them one by one. The nodes are pending: take them with `flush()` as usual.
 *
 * @example
 * const tree = await createStateTreeFromEntries({ db, entries: [{ key, value }] })
 * await db.batch(tree.flush())
 */
export async function createStateTreeFromEntries(
  opts: Omit<StateTreeOptions, 'root'> & { entries: { key: Uint8Array; value: Uint8Array }[] },
): Promise<MPTStateTree> {
  const secure = opts.secure ?? true
  const last = new Map<string, { path: Uint8Array; value: Uint8Array }>()
  for (const e of opts.entries) {
    if (!(e?.key instanceof Uint8Array) || !(e.value instanceof Uint8Array)) {
      throw new MerkleError(
        MerkleErrorCode.INVALID_INPUT,
        'invalid entry: expected { key, value } bytes',
      )
    }
    const path = secure ? keccak256(e.key) : e.key
    const id = Buffer.from(path.buffer, path.byteOffset, path.length).toString('latin1')
    if (e.value.length === 0) last.delete(id)
    else last.set(id, { path, value: e.value })
  }
  const ids = [...last.keys()].sort()
  const paths = ids.map((id) => last.get(id)!.path)
  const values = ids.map((id) => last.get(id)!.value)
  const nodes = new NodeDB(opts.db, new NodeCache(opts.cacheSize ?? DEFAULT_NODE_CACHE_SIZE))
  const root = buildTrie(paths, values, (h, enc) => nodes.pending.set(h, enc))
  return new MPTStateTree(newMPT(nodes, root), nodes, secure)
}
