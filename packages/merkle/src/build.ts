/**
 * One-pass construction of a trie from its entries (for genesis, snapshot restore and benches):
 * sort the paths, build each node once bottom-up, hash each node once. Gives exactly the root
 * (and the node encodings) that inserting the entries one by one gives (tested against
 * @ethereumjs/mpt). Nodes are RLP-encoded straight from the sorted paths (no node objects, no
 * nibble arrays): Ethereum's node encodings, written by hand for speed.
 */
import type { KVStore } from '@aureon/storage'
import { MerkleError, MerkleErrorCode } from './errors.js'
import { keccak256 } from './keccak.js'
import { NodeCache, NodeDB } from './node-db.js'
import { DEFAULT_NODE_CACHE_SIZE, EMPTY_TRIE_ROOT } from './params.js'
import { headerSize, stringSize, writeHeader, writeString } from './rlp.js'
import { MPTStateTree, newMPT } from './state-tree.js'
import type { StateTreeOptions } from './types.js'

function nib(p: Uint8Array, i: number): number {
  const b = p[i >> 1]
  return i & 1 ? b & 15 : b >> 4
}

/** Hex-prefix (compact) encoding of nibbles [from, to) of `p`, as an RLP string. */
function compactPath(p: Uint8Array, from: number, to: number, leaf: boolean): Uint8Array {
  const n = to - from
  const odd = n & 1
  const out = new Uint8Array((n >> 1) + 1)
  const flag = (leaf ? 2 : 0) + odd
  let i = from
  if (odd) out[0] = (flag << 4) | nib(p, i++)
  else out[0] = flag << 4
  for (let o = 1; i < to; o++, i += 2) out[o] = (nib(p, i) << 4) | nib(p, i + 1)
  return out
}

/** Encoding of a child reference: a 32-byte hash as an RLP string, an inline node as it is. */
function refLen(ref: Uint8Array): number {
  return ref.length === 32 ? 33 : ref.length
}

function writeRef(out: Uint8Array, at: number, ref: Uint8Array): number {
  if (ref.length === 32) {
    out[at] = 0xa0
    out.set(ref, at + 1)
    return at + 33
  }
  out.set(ref, at)
  return at + ref.length
}

/** RLP list of two byte strings ([compact path, value]) or [compact path, child ref]. */
function pair(path: Uint8Array, second: Uint8Array, secondIsRef: boolean): Uint8Array {
  const a = stringSize(path)
  const b = secondIsRef ? refLen(second) : stringSize(second)
  const out = new Uint8Array(headerSize(a + b) + a + b)
  let at = writeHeader(out, 0, 0xc0, a + b)
  at = writeString(out, at, path)
  if (secondIsRef) writeRef(out, at, second)
  else writeString(out, at, second)
  return out
}

/**
 * Builds the trie of `paths` (sorted ascending, unique) with `values` (non-empty). `put`
 * receives every hashed node (32-byte hash, encoding), children before parents; returns the root.
 */
export function buildTrie(
  paths: Uint8Array[],
  values: Uint8Array[],
  put: (hash: Uint8Array, encoded: Uint8Array) => void,
): Uint8Array {
  if (paths.length === 0) return EMPTY_TRIE_ROOT
  /** A node's reference: its encoding if under 32 bytes (inline), else its hash (stored). */
  const ref = (enc: Uint8Array, top: boolean): Uint8Array => {
    if (enc.length < 32 && !top) return enc
    const h = keccak256(enc)
    put(h, enc)
    return h
  }
  const children: Uint8Array[] = []
  // [lo, hi) entries share their first `depth` nibbles
  const build = (lo: number, hi: number, depth: number, top: boolean): Uint8Array => {
    const first = paths[lo]
    const firstLen = first.length * 2
    if (hi - lo === 1)
      return ref(pair(compactPath(first, depth, firstLen, true), values[lo], false), top)
    // common prefix of the run = common prefix of its first and last path (sorted)
    const last = paths[hi - 1]
    const max = Math.min(firstLen, last.length * 2)
    let cp = depth
    while (cp < max && nib(first, cp) === nib(last, cp)) cp++
    if (cp > depth) {
      const child = build(lo, hi, cp, false)
      return ref(pair(compactPath(first, depth, cp, false), child, true), top)
    }
    let value: Uint8Array | null = null
    let i = lo
    if (firstLen === depth) {
      value = values[lo] // a path ending here is the branch's value (sorted first)
      i++
    }
    const base = children.length
    for (let k = 0; k < 16; k++) children.push(EMPTY)
    while (i < hi) {
      const n = nib(paths[i], depth)
      let j = i + 1
      while (j < hi && nib(paths[j], depth) === n) j++
      children[base + n] = build(i, j, depth + 1, false)
      i = j
    }
    let len = value === null ? 1 : stringSize(value)
    for (let k = 0; k < 16; k++) {
      const c = children[base + k]
      len += c === EMPTY ? 1 : refLen(c)
    }
    const out = new Uint8Array(headerSize(len) + len)
    let at = writeHeader(out, 0, 0xc0, len)
    for (let k = 0; k < 16; k++) {
      const c = children[base + k]
      if (c === EMPTY) out[at++] = 0x80
      else at = writeRef(out, at, c)
    }
    if (value === null) out[at] = 0x80
    else writeString(out, at, value)
    children.length = base
    return ref(out, top)
  }
  return build(0, paths.length, 0, true)
}

const EMPTY = new Uint8Array(0)

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}

/** First 4 bytes of `p` (zero-padded) as an unsigned integer: a sort key preserving byte order. */
function prefix32(p: Uint8Array): number {
  return (p[0] ?? 0) * 0x1000000 + ((p[1] ?? 0) << 16) + ((p[2] ?? 0) << 8) + (p[3] ?? 0)
}

/**
 * The paths and values of `entries` sorted by path, one per path (the last entry for a path
 * wins; an empty value removes the path). Sorts numbers (path prefix, index) natively, then
 * only the runs sharing a 4-byte prefix by full comparison.
 */
export function sortEntries(
  entries: { key: Uint8Array; value: Uint8Array }[],
  secure: boolean,
  packLimit = 1 << 21,
): { paths: Uint8Array[]; values: Uint8Array[] } {
  const n = entries.length
  const paths: Uint8Array[] = new Array(n)
  // prefix * 2^21 + index fits a double exactly (32 + 21 bits) for up to 2^21 entries;
  // beyond that, sort indices by full comparison (same result, slower)
  const packed = n <= Math.min(packLimit, 1 << 21)
  const order = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const e = entries[i]
    if (!(e?.key instanceof Uint8Array) || !(e.value instanceof Uint8Array)) {
      throw new MerkleError(
        MerkleErrorCode.INVALID_INPUT,
        'invalid entry: expected { key, value } bytes',
      )
    }
    const p = secure ? keccak256(e.key) : e.key
    paths[i] = p
    order[i] = packed ? prefix32(p) * 2 ** 21 + i : i
  }
  let idx: number[]
  if (packed) {
    order.sort()
    idx = new Array(n)
    for (let i = 0; i < n; i++) idx[i] = order[i] % 2 ** 21
    // runs with the same 4-byte prefix: order by full path, then index (stable)
    let i = 0
    while (i < n) {
      let j = i + 1
      const pre = Math.floor(order[i] / 2 ** 21)
      while (j < n && Math.floor(order[j] / 2 ** 21) === pre) j++
      if (j - i > 1) {
        const run = idx.slice(i, j).sort((a, b) => compareBytes(paths[a], paths[b]) || a - b)
        for (let k = 0; k < run.length; k++) idx[i + k] = run[k]
      }
      i = j
    }
  } else {
    idx = Array.from({ length: n }, (_, i) => i)
    idx.sort((a, b) => compareBytes(paths[a], paths[b]) || a - b)
  }
  const outPaths: Uint8Array[] = []
  const outValues: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const a = idx[i]
    // the last of a run of equal paths wins
    if (i + 1 < n && compareBytes(paths[a], paths[idx[i + 1]]) === 0) continue
    const v = entries[a].value
    if (v.length === 0) continue
    outPaths.push(paths[a])
    outValues.push(v)
  }
  return { paths: outPaths, values: outValues }
}

function toHex(h: Uint8Array): string {
  return Buffer.from(h.buffer, h.byteOffset, h.length).toString('hex')
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
  const { paths, values } = sortEntries(opts.entries, secure)
  const nodes = new NodeDB(opts.db, new NodeCache(opts.cacheSize ?? DEFAULT_NODE_CACHE_SIZE))
  const root = buildTrie(paths, values, (h, enc) => nodes.pending.set(toHex(h), enc))
  return new MPTStateTree(newMPT(nodes, root), nodes, secure)
}

/** Options of {@link writeStateTreeFromEntries}. */
export interface WriteEntriesOptions {
  /** Where the nodes go (keys: 32-byte node hashes, as a state tree reads them). */
  db: KVStore
  entries: { key: Uint8Array; value: Uint8Array }[]
  /** Secure trie (default true). */
  secure?: boolean
  /** Nodes per store batch (default 50,000). */
  batchSize?: number
}

/**
 * Builds the trie of `entries` in one pass and writes its nodes straight to `db` in batches of
 * `batchSize` (no pending map, no sort of node keys): for large genesis states, snapshot
 * restores and benchmarks. Returns the root; open it with `createStateTree({ db, root })`.
 * Not atomic: if it fails midway some nodes are stored, which is harmless (nodes are
 * content-addressed; only the returned root makes them reachable).
 *
 * @example
 * const root = await writeStateTreeFromEntries({ db, entries })
 * const tree = await createStateTree({ db, root })
 */
export async function writeStateTreeFromEntries(opts: WriteEntriesOptions): Promise<Uint8Array> {
  const size = opts.batchSize ?? 50_000
  const { paths, values } = sortEntries(opts.entries, opts.secure ?? true)
  let ops: { type: 'put'; key: Uint8Array; value: Uint8Array }[] = []
  // each full batch is handed to the store at once (its write overlaps the rest of the build)
  const writes: Promise<void>[] = []
  const root = buildTrie(paths, values, (key, value) => {
    ops.push({ type: 'put', key, value })
    if (ops.length >= size) {
      writes.push(opts.db.batch(ops))
      ops = []
    }
  })
  if (ops.length > 0) writes.push(opts.db.batch(ops))
  await Promise.all(writes)
  return root
}
