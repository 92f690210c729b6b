/**
 * StateTree: Ethereum's (secure) Merkle Patricia trie from @ethereumjs/mpt, stored in a KVStore
 * through a write-buffering node database (see node-db.ts and docs/merkle.md).
 */

import type { BatchOp, KVStore } from '@aureon/storage'
import {
  BranchMPTNode,
  ExtensionMPTNode,
  LeafMPTNode,
  MerklePatriciaTrie,
  type MPTNode,
  type Nibbles,
  type Path,
} from '@ethereumjs/mpt'
import { ValueEncoding } from '@ethereumjs/util'
import { BatchApplier, type PathOp } from './batch.js'
import { MerkleError, MerkleErrorCode } from './errors.js'
import { keccak256 } from './keccak.js'
import { NodeCache, NodeDB } from './node-db.js'
import { DEFAULT_NODE_CACHE_SIZE, EMPTY_TRIE_ROOT } from './params.js'
import { decodeNodeRLP } from './rlp.js'
import type {
  EntriesOptions,
  RangeProof,
  RangeProofOptions,
  StateTree,
  StateTreeOp,
  StateTreeOptions,
  TreeEntry,
} from './types.js'

const MISSING = 'Missing node in DB'
/** Below this many distinct keys, `batch` uses mpt's put path (no gain from the batch walk). */
const BATCH_MIN = 2

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function checkBytes(x: unknown, what: string): asserts x is Uint8Array {
  if (!(x instanceof Uint8Array)) {
    throw new MerkleError(MerkleErrorCode.INVALID_INPUT, `invalid ${what}: expected a Uint8Array`)
  }
}

function wrapMissing(e: unknown, root: Uint8Array): never {
  if ((e as Error)?.message === MISSING) {
    throw new MerkleError(
      MerkleErrorCode.MISSING_NODE,
      `trie node missing under root 0x${Buffer.from(root).toString('hex')}: the store lacks nodes of this root (not flushed, or another store)`,
      { cause: e },
    )
  }
  throw e
}

/** Nibbles (number[], as @ethereumjs/mpt's update code expects) of a byte string. */
function bytesToNibbles(b: Uint8Array): Nibbles {
  const out: Nibbles = new Array(b.length * 2)
  for (let i = 0; i < b.length; i++) {
    out[2 * i] = b[i] >> 4
    out[2 * i + 1] = b[i] & 15
  }
  return out
}

/** Bytes of an even-length nibble path. */
function nibblesToBytes(n: Nibbles): Uint8Array {
  const out = new Uint8Array(n.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = (n[2 * i] << 4) | n[2 * i + 1]
  return out
}

/** Compares nibble path `p` with the same-length prefix of `start`: <0 when every key under p < start. */
function prefixCompare(p: Nibbles, start: Nibbles): number {
  const n = Math.min(p.length, start.length)
  for (let i = 0; i < n; i++) if (p[i] !== start[i]) return p[i] - start[i]
  return 0
}

function nibblesGte(a: Nibbles, b: Nibbles): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] > b[i]
  return a.length >= b.length
}

/**
 * @ethereumjs/mpt with a direct-loop `findPath` (no WalkController: fewer promises and closures
 * per lookup) that always throws on a missing node instead of treating it as an absent key.
 */
class AureonMPT extends MerklePatriciaTrie {
  override async findPath(
    key: Uint8Array,
    throwIfMissing = false,
    partialPath: { stack: MPTNode[] } = { stack: [] },
  ): Promise<Path> {
    if (partialPath.stack.length > 0) return super.findPath(key, throwIfMissing, partialPath)
    const target = bytesToNibbles(key)
    const stack: MPTNode[] = []
    const root = this.root()
    if (equal(root, this.EMPTY_TRIE_ROOT)) return { node: null, remaining: [], stack }
    let ref: Uint8Array | Uint8Array[] = root
    let progress = 0
    for (;;) {
      const node = await this.lookupNode(ref)
      stack.push(node)
      if (node instanceof BranchMPTNode) {
        if (progress === target.length) return { node, remaining: [], stack }
        const child = node.getBranch(target[progress])
        if (!child) return { node: null, remaining: target.slice(progress), stack }
        progress++
        ref = child as Uint8Array | Uint8Array[]
        continue
      }
      const k = node.key()
      const start = progress
      if (node instanceof LeafMPTNode) {
        if (target.length - progress > k.length) {
          return { node: null, remaining: target.slice(start), stack }
        }
        for (const nib of k) {
          if (nib !== target[progress]) return { node: null, remaining: target.slice(start), stack }
          progress++
        }
        return { node, remaining: [], stack }
      }
      for (const nib of k) {
        if (nib !== target[progress]) return { node: null, remaining: target.slice(start), stack }
        progress++
      }
      ref = (node as ExtensionMPTNode).value() as Uint8Array | Uint8Array[]
    }
  }

  /**
   * Fixes @ethereumjs/mpt 10.1.3 deleting the value of a ROOT branch (only the empty key of a
   * plain trie reaches it): upstream empties the whole trie; here the branch keeps its children
   * (collapsing into its single child when only one is left).
   */
  protected override async _deleteNode(keyBytes: Uint8Array, stack: MPTNode[]): Promise<void> {
    const top = stack[0]
    if (stack.length !== 1 || !(top instanceof BranchMPTNode)) {
      return super._deleteNode(keyBytes, stack)
    }
    top.value(null)
    const children = top.getChildren()
    if (children.length >= 2) return this.saveStack([], [top], [])
    const [idx, ref] = children[0] as [number, Uint8Array | Uint8Array[]]
    const child = await this.lookupNode(ref)
    if (child instanceof BranchMPTNode) {
      return this.saveStack([idx], [new ExtensionMPTNode([idx], new Uint8Array()), child], [])
    }
    const key = [idx, ...child.key()]
    child.key(key)
    return this.saveStack(key.slice(), [child], [])
  }

  /** No root persistence: the caller keeps roots (in block headers). */
  override async persistRoot(): Promise<void> {}
}

/**
 * A node from its encoding, as mpt's `decodeMPTNode`: one copy of the encoding (mpt copies too),
 * then views into it instead of a copy per item.
 */
function decodeNode(enc: Uint8Array): MPTNode {
  const raw = decodeNodeRLP(enc.slice())
  if (raw.length === 17) return BranchMPTNode.fromArray(raw as Uint8Array[])
  if (raw.length !== 2 || !(raw[0] instanceof Uint8Array) || raw[0].length === 0) {
    throw new MerkleError(MerkleErrorCode.INVALID_INPUT, 'invalid trie node encoding')
  }
  const path = raw[0]
  const flag = path[0] >> 4
  const nibbles: number[] = []
  if (flag & 1) nibbles.push(path[0] & 15)
  for (let i = 1; i < path.length; i++) nibbles.push(path[i] >> 4, path[i] & 15)
  if (flag & 2) return new LeafMPTNode(nibbles, raw[1] as Uint8Array)
  return new ExtensionMPTNode(nibbles, raw[1] as Uint8Array)
}

export function newMPT(db: NodeDB, root: Uint8Array | undefined): AureonMPT {
  return new AureonMPT({
    db,
    root,
    useKeyHashing: false, // StateTree hashes keys itself (so batches can be sorted by path)
    useKeyHashingFunction: keccak256,
    valueEncoding: ValueEncoding.Bytes,
  })
}

/** The {@link StateTree} implementation (use {@link createStateTree}). */
export class MPTStateTree implements StateTree {
  private depth = 0

  constructor(
    private mpt: AureonMPT,
    private readonly nodes: NodeDB,
    readonly secure: boolean,
  ) {}

  /** The trie path of a key: keccak256(key) in a secure trie, the key itself otherwise. */
  keyPath(key: Uint8Array): Uint8Array {
    checkBytes(key, 'key')
    return this.secure ? keccak256(key) : key
  }

  get checkpoints(): number {
    return this.depth
  }

  /** The underlying @ethereumjs/mpt trie (keys are paths: hash them yourself in a secure tree). */
  get trie(): MerklePatriciaTrie {
    return this.mpt
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const path = this.keyPath(key)
    try {
      const { node, remaining } = await this.mpt.findPath(path, true)
      if (node && remaining.length === 0) return node.value() ?? undefined
      return undefined
    } catch (e) {
      return wrapMissing(e, this.mpt.root())
    }
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    checkBytes(value, 'value')
    await this.apply(this.keyPath(key), value)
  }

  async del(key: Uint8Array): Promise<void> {
    await this.apply(this.keyPath(key), null)
  }

  private async apply(path: Uint8Array, value: Uint8Array | null): Promise<void> {
    try {
      if (value === null || value.length === 0) await this.mpt.del(path, true)
      else await this.mpt.put(path, value, true)
    } catch (e) {
      wrapMissing(e, this.mpt.root())
    }
  }

  /**
   * Applies many updates: the last op per key wins, then updates go in path order (neighbours
   * share trie nodes, so lookups hit memory). Same result as applying them one by one.
   */
  async batch(ops: StateTreeOp[]): Promise<void> {
    const last = new Map<string, { path: Uint8Array; value: Uint8Array | null }>()
    for (const op of ops) {
      const path = this.keyPath(op?.key)
      let value: Uint8Array | null
      if (op.type === 'put') {
        checkBytes(op.value, 'value')
        value = op.value
      } else if (op.type === 'del') value = null
      else {
        throw new MerkleError(
          MerkleErrorCode.INVALID_INPUT,
          `invalid batch op type ${JSON.stringify((op as { type: unknown }).type)}: expected 'put' or 'del'`,
        )
      }
      last.set(Buffer.from(path.buffer, path.byteOffset, path.length).toString('latin1'), {
        path,
        value,
      })
    }
    const keys = [...last.keys()].sort()
    if (keys.length === 0) return
    if (keys.length < BATCH_MIN) {
      for (const k of keys) {
        const { path, value } = last.get(k)!
        await this.apply(path, value)
      }
      return
    }
    const pathOps: PathOp[] = keys.map((k) => {
      const { path, value } = last.get(k)!
      return { path, value: value === null || value.length === 0 ? null : value }
    })
    // no checkpoint open: read and write nodes in the node db directly (mpt's checkpoint layer
    // holds nothing then); otherwise through mpt, which sees its checkpoints
    const direct = !this.mpt.hasCheckpoints()
    const nodes = this.nodes
    const applier = new BatchApplier(
      this.mpt,
      direct
        ? (hash) => {
            const key = Buffer.from(hash.buffer, hash.byteOffset, hash.length).toString('hex')
            const enc = nodes.peek(key)
            if (enc !== undefined) return decodeNode(enc)
            return nodes.get(key).then((v) => {
              if (v === undefined) throw new Error(MISSING)
              return decodeNode(v)
            })
          }
        : undefined,
    )
    const before = this.mpt.root()
    let root: Uint8Array
    try {
      root = await applier.apply(before, this.mpt.EMPTY_TRIE_ROOT, pathOps)
    } catch (e) {
      return wrapMissing(e, before)
    }
    if (direct) {
      for (const [key, value] of applier.writes) {
        nodes.pending.set(
          Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex'),
          value,
        )
      }
    } else {
      const db = (this.mpt as unknown as { _db: { batch(ops: unknown[]): Promise<void> } })._db
      await db.batch(applier.writes.map(([key, value]) => ({ type: 'put', key, value })))
    }
    this.mpt.root(root)
  }

  root(): Uint8Array {
    return this.mpt.root()
  }

  async setRoot(root: Uint8Array): Promise<void> {
    this.noCheckpoints('setRoot')
    this.checkRootBytes(root)
    if (!equal(root, EMPTY_TRIE_ROOT) && !(await this.mpt.checkRoot(root))) {
      throw new MerkleError(
        MerkleErrorCode.INVALID_ROOT,
        `root 0x${Buffer.from(root).toString('hex')} is not in the store: expected a committed (flushed) root`,
      )
    }
    this.mpt.root(root)
  }

  private checkRootBytes(root: unknown): asserts root is Uint8Array {
    if (!(root instanceof Uint8Array) || root.length !== 32) {
      throw new MerkleError(MerkleErrorCode.INVALID_ROOT, 'invalid root: expected 32 bytes')
    }
  }

  private noCheckpoints(what: string): void {
    if (this.depth > 0) {
      throw new MerkleError(
        MerkleErrorCode.CHECKPOINT,
        `${what}() with ${this.depth} open checkpoint(s): commit or revert them first`,
      )
    }
  }

  checkpoint(): void {
    this.mpt.checkpoint()
    this.depth++
  }

  async commit(): Promise<void> {
    if (this.depth === 0) {
      throw new MerkleError(MerkleErrorCode.CHECKPOINT, 'commit() without an open checkpoint')
    }
    await this.mpt.commit()
    this.depth--
  }

  async revert(): Promise<void> {
    if (this.depth === 0) {
      throw new MerkleError(MerkleErrorCode.CHECKPOINT, 'revert() without an open checkpoint')
    }
    await this.mpt.revert()
    this.depth--
  }

  /** Leaves in path order (hashed-key order in a secure tree), from `startKeyHash` on. */
  async *entries(opts: EntriesOptions = {}): AsyncIterable<TreeEntry> {
    const start: Nibbles = opts.startKeyHash ? bytesToNibbles(opts.startKeyHash) : []
    let left = opts.limit ?? Number.POSITIVE_INFINITY
    if (left <= 0) return
    const root = this.mpt.root()
    if (equal(root, EMPTY_TRIE_ROOT)) return
    const mpt = this.mpt
    async function* walk(ref: Uint8Array | Uint8Array[], path: Nibbles): AsyncGenerator<TreeEntry> {
      const node = await mpt.lookupNode(ref)
      if (node instanceof LeafMPTNode) {
        const full = path.concat(node.key())
        if (nibblesGte(full, start)) {
          yield { keyHash: nibblesToBytes(full), value: node.value()! }
        }
        return
      }
      if (node instanceof ExtensionMPTNode) {
        const p = path.concat(node.key())
        if (prefixCompare(p, start) < 0) return
        yield* walk(node.value() as Uint8Array | Uint8Array[], p)
        return
      }
      const v = node.value()
      if (v !== null && v.length > 0 && nibblesGte(path, start)) {
        yield { keyHash: nibblesToBytes(path), value: v }
      }
      for (let i = 0; i < 16; i++) {
        const child = node.getBranch(i)
        if (!child) continue
        const p = path.concat(i)
        if (prefixCompare(p, start) < 0) continue
        yield* walk(child as Uint8Array | Uint8Array[], p)
      }
    }
    try {
      for await (const e of walk(root, [])) {
        yield e
        if (--left <= 0) return
      }
    } catch (e) {
      wrapMissing(e, root)
    }
  }

  /** Nodes on the path to `path` (the proof of inclusion or absence). */
  async proofOfPath(path: Uint8Array): Promise<Uint8Array[]> {
    try {
      const { stack } = await this.mpt.findPath(path, true)
      return stack.map((n) => n.serialize())
    } catch (e) {
      return wrapMissing(e, this.mpt.root())
    }
  }

  /** An inclusion proof (or absence proof, if `key` is absent) against {@link root}. */
  async createProof(key: Uint8Array): Promise<Uint8Array[]> {
    return this.proofOfPath(this.keyPath(key))
  }

  /**
   * A range proof: the leaves from `startKeyHash` (up to `limit`, or to `endKeyHash`) and the
   * nodes proving the first and last boundary. Verify with {@link verifyRangeProof}.
   */
  async createRangeProof(opts: RangeProofOptions): Promise<RangeProof> {
    checkBytes(opts?.startKeyHash, 'startKeyHash')
    const limit = opts.limit ?? 1000
    const keys: Uint8Array[] = []
    const values: Uint8Array[] = []
    const end = opts.endKeyHash ? Buffer.from(opts.endKeyHash) : undefined
    for await (const e of this.entries({ startKeyHash: opts.startKeyHash, limit })) {
      if (end && Buffer.compare(e.keyHash, end) > 0) break
      keys.push(e.keyHash)
      values.push(e.value)
    }
    const proof = await this.proofOfPath(opts.startKeyHash)
    if (keys.length > 0) {
      const seen = new Set(proof.map((n) => Buffer.from(n).toString('hex')))
      for (const n of await this.proofOfPath(keys[keys.length - 1])) {
        const h = Buffer.from(n).toString('hex')
        if (!seen.has(h)) {
          seen.add(h)
          proof.push(n)
        }
      }
    }
    return { startKeyHash: opts.startKeyHash, keys, values, proof }
  }

  /**
   * The node writes since the last flush, as ops for the caller's ONE atomic batch (keys relative
   * to the tree's db; pass `namespace` to prefix them). Nodes of open checkpoints are not included.
   */
  flush(opts: { namespace?: string[] } = {}): BatchOp[] {
    return this.nodes.flush(opts.namespace)
  }

  /** Unflushed node writes (for metrics). */
  get pendingNodes(): number {
    return this.nodes.pending.size
  }

  /** An independent tree at `root` (default: this root), sharing the store and the node cache. */
  copy(root?: Uint8Array): StateTree {
    this.noCheckpoints('copy')
    if (root !== undefined) this.checkRootBytes(root)
    const nodes = new NodeDB(this.nodes.store, this.nodes.cache, this.nodes)
    return new MPTStateTree(newMPT(nodes, root ?? this.mpt.root()), nodes, this.secure)
  }
}

/**
 * Opens a state tree (Ethereum's secure Merkle Patricia trie by default) over a KVStore. Node
 * writes stay in memory until you take them with `flush()` and write them in your own batch.
 *
 * @example
 * const db = createMemoryStore()
 * const tree = await createStateTree({ db })
 * await tree.put(utf8ToBytes('alice'), utf8ToBytes('100'))
 * const root = tree.root()
 * await db.batch(tree.flush())
 */
export async function createStateTree(opts: StateTreeOptions): Promise<MPTStateTree> {
  const nodes = new NodeDB(opts.db, new NodeCache(opts.cacheSize ?? DEFAULT_NODE_CACHE_SIZE))
  const tree = new MPTStateTree(newMPT(nodes, undefined), nodes, opts.secure ?? true)
  if (opts.root !== undefined) await tree.setRoot(opts.root)
  return tree
}

/** @internal for tests */
export function _storeOf(tree: MPTStateTree): KVStore {
  return (tree as unknown as { nodes: NodeDB }).nodes.store
}
