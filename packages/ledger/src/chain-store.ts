/**
 * ChainStore: blocks by height and hash, receipts, the tx index and the head, over a KVStore.
 * Layout (a chain namespace under the root store, `chain` by default; state trie nodes and code
 * under a state namespace, `state` by default):
 *
 *   'H' || u64be(height) -> block hash        'B' || hash -> encodeBlock(block)
 *   'R' || hash -> RLP([receipt, ...])        'T' || txHash -> RLP([height, index, blockHash])
 *   'head' -> block hash                      'base' -> u64be(height) (anchored stores only)
 *
 * Which namespaces are live is chosen by ONE pointer key, `chain-meta` / 'live' ->
 * RLP([stateNamespace, chainNamespace, generation]) (absent: `state`, `chain`, 0). A node started
 * from a snapshot imports the state into a fresh namespace, then `anchor()` writes the snapshot's
 * block (and genesis) into a fresh chain namespace AND moves the pointer in one atomic batch: a
 * crash or a bad snapshot before that leaves the previous chain live and untouched.
 *
 * `commitBlock` writes all of that AND the state's trie nodes in ONE atomic batch: after a crash
 * the store holds the previous block or the new one, never a mix.
 */
import { type BatchOp, clearStore, type KVStore } from '@aureon/storage'
import { blockHash, decodeBlock, decodeReceipt, encodeBlock, encodeReceipt } from './block.js'
import {
  bigintToBytes,
  decodeSmall,
  decodeUint,
  expectAnyList,
  expectBytes,
  expectList,
  rlpDecodeStrict,
  rlpEncode,
} from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { EMPTY_TRIE_ROOT } from './hash.js'
import { MAX_BLOCK_SIZE } from './params.js'
import { transactionHash } from './tx.js'
import type {
  Block,
  BlockHeader,
  ChainStoreInterface,
  ChainStoreOptions,
  CommitBlockInput,
  Receipt,
  Transaction,
  TxLocation,
} from './types.js'

export const CHAIN_NAMESPACE = 'chain'
export const STATE_NAMESPACE = 'state'
/** Namespace (under the root store) of the pointer to the live state and chain namespaces. */
export const CHAIN_META_NAMESPACE = 'chain-meta'
const HEAD_KEY = new TextEncoder().encode('head')
const BASE_KEY = new TextEncoder().encode('base')
const LIVE_KEY = new TextEncoder().encode('live')
const td = new TextDecoder()
const te = new TextEncoder()

/** The namespaces a chain store reads and writes (selected by the `live` pointer). */
export interface ChainNamespaces {
  state: string
  chain: string
  /** Bumped by every `anchor()`; fresh namespaces are named after it. */
  generation: number
}

/** Options of {@link ChainStore.anchor}. */
export interface AnchorOptions {
  /**
   * Namespace (under the root store) that already holds the complete state at `block`'s state
   * root (e.g. a verified snapshot import). It becomes the live state namespace.
   */
  stateNamespace: string
  /** The block the chain continues from (its header must carry the imported state root). */
  block: Block
  /** The genesis block, kept at height 0 (consensus engines and genesis checks read it). */
  genesis?: Block
  /** Extra ops for the same atomic batch (relative to the root store). */
  extraOps?: BatchOp[]
}

/** Receipts and tx index entries dropped by {@link ChainStore.rollbackTo}. */
export interface RollbackResult {
  /** The blocks taken off the chain, highest first. */
  removed: Block[]
}

function prefixed(p: string, b: Uint8Array): Uint8Array {
  const k = new Uint8Array(1 + b.length)
  k[0] = p.charCodeAt(0)
  k.set(b, 1)
  return k
}

function heightKey(h: bigint): Uint8Array {
  return prefixed('H', u64be(h))
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * Opens a chain store over a root KVStore.
 * @example
 * const chain = await openChainStore({ db: createMemoryStore() })
 * const state = await createWorldState({ db: chain.stateDb, root: chain.head()?.stateRoot })
 */
export async function openChainStore(opts: ChainStoreOptions): Promise<ChainStore> {
  const s = new ChainStore(opts.db)
  await s.load()
  return s
}

function encodeLive(n: ChainNamespaces): Uint8Array {
  return rlpEncode([te.encode(n.state), te.encode(n.chain), bigintToBytes(BigInt(n.generation))])
}

function decodeLive(v: Uint8Array): ChainNamespaces {
  const f = expectList(rlpDecodeStrict(v, 1024, 'live pointer'), 3, 'live pointer')
  return {
    state: td.decode(expectBytes(f[0], 'state namespace')),
    chain: td.decode(expectBytes(f[1], 'chain namespace')),
    generation: decodeSmall(f[2], 'generation'),
  }
}

/** 8 bytes, big-endian: the height part of the store's keys (sorts in height order). */
export function u64be(h: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, h)
  return b
}

export class ChainStore implements ChainStoreInterface {
  private live: ChainNamespaces = { state: STATE_NAMESPACE, chain: CHAIN_NAMESPACE, generation: 0 }
  private stateStore: KVStore
  private chainDb: KVStore
  private headHeader?: BlockHeader
  private headBlockHash?: Uint8Array
  private base = 0n
  /** Lowest block of the hash-linked run ending at the base (found once, kept by backfill). */
  private lowest: bigint | undefined

  constructor(readonly db: KVStore) {
    this.stateStore = db.namespace(STATE_NAMESPACE)
    this.chainDb = db.namespace(CHAIN_NAMESPACE)
  }

  /** The live state store (trie nodes; code in its `code` namespace). */
  get stateDb(): KVStore {
    return this.stateStore
  }

  /** The live namespaces (as the pointer names them). */
  namespaces(): ChainNamespaces {
    return { ...this.live }
  }

  /**
   * Fresh namespaces for the next `anchor()` (never the live ones): import a snapshot's state into
   * `state`, then anchor with `stateNamespace: state`.
   */
  nextNamespaces(): ChainNamespaces {
    const generation = this.live.generation + 1
    return { state: `state-${generation}`, chain: `chain-${generation}`, generation }
  }

  /**
   * The lowest height of the continuous history that ends at the head: 0 for a chain run from
   * genesis, H for a chain anchored at a snapshot of height H (blocks 1..H-1 are not here).
   */
  baseHeight(): bigint {
    return this.base
  }

  /** True if `height` is below this store's history (it started from a snapshot above it). */
  isBelowBase(height: bigint): boolean {
    return height > 0n && height < this.base
  }

  /** Reads the live pointer, the head and the base from the store. */
  async load(): Promise<void> {
    const p = await this.db.namespace(CHAIN_META_NAMESPACE).get(LIVE_KEY)
    if (p) {
      this.live = decodeLive(p)
      this.stateStore = this.db.namespace(this.live.state)
      this.chainDb = this.db.namespace(this.live.chain)
    }
    const base = await this.chainDb.get(BASE_KEY)
    this.base = base ? new DataView(base.buffer, base.byteOffset, 8).getBigUint64(0) : 0n
    this.lowest = undefined
    const h = await this.chainDb.get(HEAD_KEY)
    if (!h) return
    const b = await this.getBlockByHash(h)
    if (!b) throw new LedgerError(LedgerErrorCode.STORE, 'head block missing from the store')
    this.headHeader = b.header
    this.headBlockHash = h
  }

  /**
   * Makes the chain continue from `block` over a state already imported into `stateNamespace`:
   * writes the block (and `genesis` at height 0) into a fresh chain namespace and moves the live
   * pointer there, in ONE atomic batch. Until that batch the previous chain stays live and
   * untouched. Returns the namespaces that were live before (the caller may clear them).
   * @example
   * const next = chain.nextNamespaces()
   * await importSnapshot({ source, db, namespace: next.state, expect })
   * await chain.anchor({ stateNamespace: next.state, block, genesis })
   */
  async anchor(opts: AnchorOptions): Promise<ChainNamespaces> {
    const { block, genesis } = opts
    const next = this.nextNamespaces()
    if (opts.stateNamespace === this.live.state || opts.stateNamespace === this.live.chain) {
      throw new LedgerError(
        LedgerErrorCode.STORE,
        `cannot anchor over the live namespace '${opts.stateNamespace}'`,
      )
    }
    if (opts.stateNamespace === next.chain || opts.stateNamespace === CHAIN_META_NAMESPACE) {
      throw new LedgerError(
        LedgerErrorCode.STORE,
        `'${opts.stateNamespace}' cannot be a state namespace`,
      )
    }
    if (genesis) {
      if (genesis.header.height !== 0n)
        throw new LedgerError(LedgerErrorCode.BAD_BLOCK, 'the genesis block must be at height 0')
      if (genesis.header.chainId !== block.header.chainId)
        throw new LedgerError(
          LedgerErrorCode.BAD_BLOCK,
          `genesis is of chain ${genesis.header.chainId}, the anchor block of ${block.header.chainId}`,
        )
    }
    const root = block.header.stateRoot
    const state = this.db.namespace(opts.stateNamespace)
    if (!equalBytes(root, EMPTY_TRIE_ROOT) && !(await state.get(root))) {
      throw new LedgerError(
        LedgerErrorCode.STORE,
        `namespace '${opts.stateNamespace}' does not hold the state root of block ${block.header.height}`,
      )
    }
    // leftovers of an anchor that crashed before its pointer moved: not live, ours to clear
    await clearStore(this.db.namespace(next.chain))
    const ns = [next.chain]
    const ops: BatchOp[] = []
    const put = (key: Uint8Array, value: Uint8Array) =>
      ops.push({ type: 'put', namespace: ns, key, value })
    for (const b of genesis && block.header.height !== 0n ? [genesis, block] : [block]) {
      const hash = blockHash(b.header)
      put(prefixed('B', hash), encodeBlock(b))
      put(heightKey(b.header.height), hash)
    }
    const hash = blockHash(block.header)
    put(HEAD_KEY, hash)
    put(BASE_KEY, u64be(block.header.height))
    const live: ChainNamespaces = {
      state: opts.stateNamespace,
      chain: next.chain,
      generation: next.generation,
    }
    ops.push(...(opts.extraOps ?? []))
    ops.push({
      type: 'put',
      namespace: [CHAIN_META_NAMESPACE],
      key: LIVE_KEY,
      value: encodeLive(live),
    })
    await this.db.batch(ops)
    const previous = this.live
    this.live = live
    this.stateStore = state
    this.chainDb = this.db.namespace(next.chain)
    this.base = block.header.height
    this.lowest = undefined
    this.headHeader = block.header
    this.headBlockHash = hash
    return previous
  }

  /**
   * Writes the genesis block at height 0 of an anchored store that lacks it (a snapshot imported
   * before the node knew its genesis).
   */
  async putGenesis(genesis: Block): Promise<void> {
    if (genesis.header.height !== 0n)
      throw new LedgerError(LedgerErrorCode.BAD_BLOCK, 'the genesis block must be at height 0')
    const existing = await this.getBlockHash(0n)
    if (existing) {
      if (!equalBytes(existing, blockHash(genesis.header)))
        throw new LedgerError(LedgerErrorCode.BAD_PARENT, 'the store holds another genesis block')
      return
    }
    const hash = blockHash(genesis.header)
    await this.chainDb.batch([
      { type: 'put', key: prefixed('B', hash), value: encodeBlock(genesis) },
      { type: 'put', key: heightKey(0n), value: hash },
    ])
  }

  /**
   * Adds blocks BELOW the lowest stored block of an anchored store (recent history a consensus
   * engine needs, e.g. PoW's retarget window), checking that each one is the parent the block
   * above it names (so they are as trusted as the anchor block). Blocks already present are
   * skipped; the first one that does not link is refused with `ERR_BAD_PARENT`. The state stays
   * at the base: `baseHeight()` does not move. Returns the number of blocks added.
   * @example
   * await chain.backfill(await fetchBlocks(base - 10n, 10))
   */
  async backfill(blocks: Block[]): Promise<number> {
    if (!this.headHeader) throw new LedgerError(LedgerErrorCode.STORE, 'the chain store is empty')
    const low = await this.lowestStoredHeight()
    let child = await this.getHeader(low)
    if (!child) throw new LedgerError(LedgerErrorCode.STORE, `block ${low} missing from the store`)
    const ops: BatchOp[] = []
    const sorted = [...blocks].sort((a, b) =>
      a.header.height > b.header.height ? -1 : a.header.height < b.header.height ? 1 : 0,
    )
    let added = 0
    for (const b of sorted) {
      const h = b.header.height
      if (h >= low || h === 0n) continue
      const hash = blockHash(b.header)
      if (h !== child.height - 1n || !equalBytes(hash, child.parentHash)) {
        throw new LedgerError(
          LedgerErrorCode.BAD_PARENT,
          `block ${h} (${Buffer.from(hash).toString('hex').slice(0, 16)}) is not the parent of block ${child.height}`,
        )
      }
      ops.push({ type: 'put', key: prefixed('B', hash), value: encodeBlock(b) })
      ops.push({ type: 'put', key: heightKey(h), value: hash })
      b.transactions.forEach((tx, i) => {
        ops.push({
          type: 'put',
          key: prefixed('T', transactionHash(tx)),
          value: rlpEncode([bigintToBytes(h), bigintToBytes(BigInt(i)), hash]),
        })
      })
      child = b.header
      added++
    }
    if (ops.length) await this.chainDb.batch(ops)
    this.lowest = low - BigInt(added)
    return added
  }

  /**
   * The lowest block of the unbroken run of stored blocks that ends at the base (the base itself
   * when nothing below it was backfilled; genesis at 0 is not part of the run unless it links).
   * Walks down once, then follows backfill.
   */
  async lowestStoredHeight(): Promise<bigint> {
    if (this.lowest === undefined) {
      let low = this.base
      while (low > 1n && (await this.getBlockHash(low - 1n))) low--
      this.lowest = low
    }
    return this.lowest
  }

  /**
   * Moves the head back to `height` (a reorg): the blocks above it, their receipts and their tx
   * index entries are deleted in ONE atomic batch. State is content-addressed, so the state at
   * `height`'s root is still in the store. Refuses to go below the base of an anchored store.
   * @example
   * const { removed } = await chain.rollbackTo(head.height - 2n)
   */
  async rollbackTo(height: bigint): Promise<RollbackResult> {
    const head = this.headHeader
    if (!head) throw new LedgerError(LedgerErrorCode.STORE, 'the chain store is empty')
    if (height > head.height)
      throw new LedgerError(
        LedgerErrorCode.BAD_PARENT,
        `cannot roll back to ${height}: the head is ${head.height}`,
      )
    if (height < this.base || height < 0n)
      throw new LedgerError(
        LedgerErrorCode.BELOW_BASE,
        `cannot roll back to ${height}: this store's history starts at ${this.base}`,
      )
    const target = await this.getBlockByHeight(height)
    if (!target)
      throw new LedgerError(LedgerErrorCode.STORE, `block ${height} missing from the store`)
    const removed: Block[] = []
    const ops: BatchOp[] = []
    for (let h = head.height; h > height; h--) {
      const hash = await this.getBlockHash(h)
      if (!hash) throw new LedgerError(LedgerErrorCode.STORE, `block ${h} missing from the store`)
      const b = await this.getBlockByHash(hash)
      if (!b) throw new LedgerError(LedgerErrorCode.STORE, `block ${h} missing from the store`)
      removed.push(b)
      for (const tx of b.transactions) {
        const k = prefixed('T', transactionHash(tx))
        const loc = await this.chainDb.get(k)
        // only this block's entry: a tx included again later on another branch keeps its own
        if (loc) {
          const f = expectList(rlpDecodeStrict(loc, 1024, 'tx location'), 3, 'tx location')
          if (equalBytes(expectBytes(f[2], 'blockHash', { length: 32 }), hash))
            ops.push({ type: 'del', key: k })
        }
      }
      ops.push({ type: 'del', key: prefixed('B', hash) })
      ops.push({ type: 'del', key: prefixed('R', hash) })
      ops.push({ type: 'del', key: heightKey(h) })
    }
    const targetHash = blockHash(target.header)
    ops.push({ type: 'put', key: HEAD_KEY, value: targetHash })
    await this.chainDb.batch(ops)
    this.headHeader = target.header
    this.headBlockHash = targetHash
    return { removed }
  }

  head(): BlockHeader | undefined {
    return this.headHeader
  }

  headHash(): Uint8Array | undefined {
    return this.headBlockHash
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    const b = await this.chainDb.get(prefixed('B', hash))
    return b ? decodeBlock(b) : undefined
  }

  async getBlockHash(height: bigint): Promise<Uint8Array | undefined> {
    return this.chainDb.get(heightKey(height))
  }

  async getBlockByHeight(height: bigint): Promise<Block | undefined> {
    const h = await this.getBlockHash(height)
    return h ? this.getBlockByHash(h) : undefined
  }

  async getHeader(height: bigint): Promise<BlockHeader | undefined> {
    return (await this.getBlockByHeight(height))?.header
  }

  async getReceipts(height: bigint): Promise<Receipt[] | undefined> {
    const h = await this.getBlockHash(height)
    if (!h) return undefined
    const r = await this.chainDb.get(prefixed('R', h))
    if (!r) return undefined
    return expectAnyList(rlpDecodeStrict(r, MAX_BLOCK_SIZE * 4, 'receipts'), 'receipts').map((x) =>
      decodeReceipt(expectBytes(x, 'receipt')),
    )
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const v = await this.chainDb.get(prefixed('T', txHash))
    if (!v) return undefined
    const f = expectList(rlpDecodeStrict(v, 1024, 'tx location'), 3, 'tx location')
    return {
      blockHeight: decodeUint(f[0], 'height'),
      index: decodeSmall(f[1], 'index'),
      blockHash: expectBytes(f[2], 'blockHash', { length: 32 }),
    }
  }

  async getReceipt(txHash: Uint8Array): Promise<Receipt | undefined> {
    const loc = await this.getTxLocation(txHash)
    if (!loc) return undefined
    return (await this.getReceipts(loc.blockHeight))?.[loc.index]
  }

  async getTransaction(txHash: Uint8Array): Promise<Transaction | undefined> {
    const loc = await this.getTxLocation(txHash)
    if (!loc) return undefined
    return (await this.getBlockByHash(loc.blockHash))?.transactions[loc.index]
  }

  /**
   * The ops `commitBlock` writes (exposed for tests and for callers that add their own ops to
   * the same atomic batch).
   */
  commitOps(input: CommitBlockInput): BatchOp[] {
    const { block, receipts, stateOps } = input
    const h = block.header
    if (receipts.length !== block.transactions.length) {
      throw new LedgerError(
        LedgerErrorCode.BAD_BLOCK,
        `${receipts.length} receipts for ${block.transactions.length} transactions`,
      )
    }
    if (this.headHeader) {
      if (h.height !== this.headHeader.height + 1n) {
        throw new LedgerError(
          LedgerErrorCode.BAD_PARENT,
          `block ${h.height} does not follow the head ${this.headHeader.height}`,
        )
      }
    }
    const hash = blockHash(h)
    const ns = [this.live.chain]
    const ops: BatchOp[] = stateOps.map((op) => ({
      ...op,
      namespace: [this.live.state, ...(op.namespace ?? [])],
    }))
    ops.push({ type: 'put', namespace: ns, key: prefixed('B', hash), value: encodeBlock(block) })
    ops.push({
      type: 'put',
      namespace: ns,
      key: prefixed('R', hash),
      value: rlpEncode(receipts.map(encodeReceipt)),
    })
    block.transactions.forEach((tx, i) => {
      ops.push({
        type: 'put',
        namespace: ns,
        key: prefixed('T', transactionHash(tx)),
        value: rlpEncode([bigintToBytes(h.height), bigintToBytes(BigInt(i)), hash]),
      })
    })
    ops.push({ type: 'put', namespace: ns, key: heightKey(h.height), value: hash })
    ops.push({ type: 'put', namespace: ns, key: HEAD_KEY, value: hash })
    return ops
  }

  /**
   * Writes block, receipts, tx index, state ops and head in ONE atomic batch.
   * @example
   * await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
   */
  async commitBlock(input: CommitBlockInput): Promise<void> {
    const ops = this.commitOps(input)
    await this.db.batch(ops)
    this.headHeader = input.block.header
    this.headBlockHash = blockHash(input.block.header)
  }

  async close(): Promise<void> {
    await this.db.close()
  }
}
