/**
 * MemoryChain: a small deterministic `ConsensusChain` for tests, simulations and examples. Its
 * "state" is a hash chain (stateRoot = sha256(parent stateRoot || RLP(height, proposer,
 * timestamp, payload))), blocks carry no transactions, and the committed part survives an
 * engine restart (it plays the node's store). Nodes use a chain over @aureon/ledger instead.
 */
import { sha256 } from '@aureon/crypto'
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import { asBigint, asBytes, asList, bigintToBytes, rlpDecode, rlpEncode } from './rlp.js'
import type {
  Block,
  BlockHeader,
  ConsensusChain,
  ConsensusValidator,
  ConsensusValidatorSet,
  ExecutedBlock,
} from './types.js'

export interface MemoryChainOptions {
  chainId?: bigint
  /** Blocks per epoch (default 1,000,000: one epoch). */
  epochLength?: bigint
  /** Genesis validators (sorted by address here). */
  validators?: ConsensusValidator[]
  /** Validator set per epoch; overrides `validators` (e.g. to test set changes). */
  validatorSetAt?: (epoch: bigint) => ConsensusValidatorSet
  /** Genesis timestamp (ms). */
  genesisTimestamp?: bigint
  /** Gas limit in headers (default 30,000,000). */
  gasLimit?: bigint
}

/** Options of {@link MemoryChain.anchorAt}. */
export interface MemoryAnchorOptions {
  /** The snapshot block's height H (> 0): the chain continues from it. */
  height: bigint
  /** Blocks kept below H (backfilled history, hash-linked to it; default 0). */
  history?: number
  /** header.consensus of the anchor and history blocks (default empty). */
  consensus?: (height: bigint) => Uint8Array
  /** Their timestamps (default: the height, in ms). */
  timestamp?: (height: bigint) => bigint
}

const ZERO32 = new Uint8Array(32)

function headerToRLP(h: BlockHeader) {
  return [
    bigintToBytes(h.chainId),
    bigintToBytes(h.height),
    h.parentHash,
    bigintToBytes(h.timestamp),
    h.proposer,
    h.stateRoot,
    h.txRoot,
    h.receiptsRoot,
    bigintToBytes(h.gasUsed),
    bigintToBytes(h.gasLimit),
    h.consensus,
  ]
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/**
 * Sorts validators by address and sums their stake.
 * @example
 * const set = makeValidatorSet(0n, validators)
 */
export function makeValidatorSet(
  epoch: bigint,
  validators: ConsensusValidator[],
): ConsensusValidatorSet {
  const sorted = [...validators].sort((a, b) => compare(a.address, b.address))
  return { epoch, validators: sorted, totalStake: sorted.reduce((s, v) => s + v.stake, 0n) }
}

/**
 * The in-memory chain.
 * @example
 * const chain = new MemoryChain({ validators })
 * const { block } = await chain.buildBlock({ parent: chain.head(), timestamp: 1n,
 *   proposer: validators[0].address, consensus: new Uint8Array() })
 * await chain.commitBlock(block)
 */
export class MemoryChain implements ConsensusChain {
  readonly chainId: bigint
  readonly epochLength: bigint
  readonly genesis: Block
  /** Committed blocks from height `low` up (genesis is `committed[0]` unless anchored). */
  private committed: Block[] = []
  private hashes: Uint8Array[] = []
  private low = 0n
  private base = 0n
  private readonly genesisHash: Uint8Array
  /** Executed, not yet committed blocks by hash (hex): their post-state root. */
  private readonly pending = new Map<string, ExecutedBlock>()
  private readonly opts: MemoryChainOptions
  /** Optional bytes mixed into the next built block (tests use it to make forks differ). */
  payload: Uint8Array = new Uint8Array(0)

  constructor(opts: MemoryChainOptions = {}) {
    this.opts = opts
    this.chainId = opts.chainId ?? 1n
    this.epochLength = opts.epochLength ?? 1_000_000n
    const header: BlockHeader = {
      chainId: this.chainId,
      height: 0n,
      parentHash: ZERO32,
      timestamp: opts.genesisTimestamp ?? 0n,
      proposer: new Uint8Array(20),
      stateRoot: sha256(new TextEncoder().encode('aureon/memory-chain/genesis')),
      txRoot: ZERO32,
      receiptsRoot: ZERO32,
      gasUsed: 0n,
      gasLimit: opts.gasLimit ?? 30_000_000n,
      consensus: new Uint8Array(0),
    }
    this.genesis = { header, transactions: [] }
    this.genesisHash = this.blockHash(header)
    this.committed.push(this.genesis)
    this.hashes.push(this.genesisHash)
  }

  /**
   * Makes this chain one started from a snapshot of block `height` (what a node anchored by a
   * state import holds): genesis, `history` backfilled blocks below `height`, the anchor block,
   * and nothing else below it. Nothing is written per skipped height, so H may be large. The
   * blocks are synthetic but hash-linked, with state roots the chain's execution continues from.
   * Only on a chain still at genesis; two chains anchored alike hold identical blocks.
   * @example
   * const chain = new MemoryChain()
   * chain.anchorAt({ height: 1_000_000n })
   */
  anchorAt(opts: MemoryAnchorOptions): void {
    const history = BigInt(opts.history ?? 0)
    if (
      opts.height <= 0n ||
      history >= opts.height ||
      this.committed.length !== 1 ||
      this.low !== 0n
    ) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_CONFIG,
        'anchorAt needs a chain at genesis, a height above 0 and less history than the height',
      )
    }
    const low = opts.height - history
    let parentHash = sha256(
      rlpEncode([new TextEncoder().encode('aureon/memory-chain/anchor'), bigintToBytes(low)]),
    )
    let root = parentHash
    const blocks: Block[] = []
    const hashes: Uint8Array[] = []
    for (let h = low; h <= opts.height; h++) {
      const header: BlockHeader = {
        ...this.genesis.header,
        height: h,
        parentHash,
        timestamp: opts.timestamp?.(h) ?? h,
        consensus: opts.consensus?.(h) ?? new Uint8Array(0),
      }
      header.stateRoot = this.nextRoot(root, header, header.receiptsRoot)
      root = header.stateRoot
      parentHash = this.blockHash(header)
      blocks.push({ header, transactions: [] })
      hashes.push(parentHash)
    }
    this.committed = blocks
    this.hashes = hashes
    this.low = low
    this.base = opts.height
  }

  /** Where the committed history starts: 0, or the height given to `anchorAt`. */
  baseHeight(): bigint {
    return this.base
  }

  /** Index in `committed` of `height`, if it is there. */
  private indexOf(height: bigint): number | undefined {
    const i = height - this.low
    return i >= 0n && i < BigInt(this.committed.length) ? Number(i) : undefined
  }

  head(): BlockHeader {
    return this.committed[this.committed.length - 1].header
  }

  headHash(): Uint8Array {
    return this.hashes[this.hashes.length - 1]
  }

  blockHash(header: BlockHeader): Uint8Array {
    return sha256(rlpEncode(headerToRLP(header)))
  }

  encodeBlock(block: Block): Uint8Array {
    if (block.transactions.length) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'MemoryChain blocks carry no txs')
    }
    return rlpEncode([headerToRLP(block.header), []])
  }

  decodeBlock(bytes: Uint8Array): Block {
    const l = asList(rlpDecode(bytes), 'block')
    const h = asList(l[0], 'header')
    if (l.length !== 2 || h.length !== 11 || asList(l[1], 'transactions').length) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'malformed MemoryChain block')
    }
    return {
      header: {
        chainId: asBigint(h[0], 'chainId'),
        height: asBigint(h[1], 'height'),
        parentHash: asBytes(h[2], 'parentHash'),
        timestamp: asBigint(h[3], 'timestamp'),
        proposer: asBytes(h[4], 'proposer'),
        stateRoot: asBytes(h[5], 'stateRoot'),
        txRoot: asBytes(h[6], 'txRoot'),
        receiptsRoot: asBytes(h[7], 'receiptsRoot'),
        gasUsed: asBigint(h[8], 'gasUsed'),
        gasLimit: asBigint(h[9], 'gasLimit'),
        consensus: asBytes(h[10], 'consensus'),
      },
      transactions: [],
    }
  }

  async getBlockByHeight(height: bigint): Promise<Block | undefined> {
    return this.blockAt(height)
  }

  private blockAt(height: bigint): Block | undefined {
    if (height === 0n && this.low > 0n) return this.genesis
    const i = this.indexOf(height)
    return i === undefined ? undefined : this.committed[i]
  }

  /** Hash of the committed block at `height`. */
  hashAt(height: bigint): Uint8Array | undefined {
    if (height === 0n && this.low > 0n) return this.genesisHash
    const i = this.indexOf(height)
    return i === undefined ? undefined : this.hashes[i]
  }

  private parentState(parent: BlockHeader): Uint8Array {
    return parent.stateRoot
  }

  private knownParent(parentHash: Uint8Array, height: bigint): BlockHeader | undefined {
    const p = this.pending.get(hex(parentHash))
    if (p) return p.block.header
    const hash = this.hashAt(height - 1n)
    if (hash && compare(hash, parentHash) === 0) return this.blockAt(height - 1n)?.header
    return undefined
  }

  private nextRoot(parentRoot: Uint8Array, h: BlockHeader, payload: Uint8Array): Uint8Array {
    const body = rlpEncode([
      parentRoot,
      bigintToBytes(h.height),
      h.proposer,
      bigintToBytes(h.timestamp),
      payload,
    ])
    return sha256(body)
  }

  async buildBlock(opts: {
    parent: BlockHeader
    timestamp: bigint
    proposer: Uint8Array
    consensus: Uint8Array
  }): Promise<ExecutedBlock> {
    const header: BlockHeader = {
      chainId: this.chainId,
      height: opts.parent.height + 1n,
      parentHash: this.blockHash(opts.parent),
      timestamp: opts.timestamp,
      proposer: opts.proposer,
      stateRoot: ZERO32,
      txRoot: ZERO32,
      receiptsRoot: this.payload.length ? sha256(this.payload) : ZERO32,
      gasUsed: 0n,
      gasLimit: this.opts.gasLimit ?? 30_000_000n,
      consensus: opts.consensus,
    }
    header.stateRoot = this.nextRoot(this.parentState(opts.parent), header, header.receiptsRoot)
    const block = { header, transactions: [] }
    const executed = { block, hash: this.blockHash(header), stateRoot: header.stateRoot }
    this.pending.set(hex(executed.hash), executed)
    return executed
  }

  async executeBlock(block: Block): Promise<ExecutedBlock> {
    const h = block.header
    const parent = this.knownParent(h.parentHash, h.height)
    if (!parent) {
      throw new ConsensusError(
        ConsensusErrorCode.UNKNOWN_PARENT,
        `parent ${hex(h.parentHash)} of block ${h.height} is not known`,
      )
    }
    if (h.chainId !== this.chainId || h.timestamp < parent.timestamp) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, `block ${h.height} has bad fields`)
    }
    const root = this.nextRoot(this.parentState(parent), h, h.receiptsRoot)
    if (compare(root, h.stateRoot) !== 0) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_BLOCK,
        `block ${h.height} state root ${hex(h.stateRoot)} does not match execution ${hex(root)}`,
      )
    }
    const executed = { block, hash: this.blockHash(h), stateRoot: root }
    this.pending.set(hex(executed.hash), executed)
    return executed
  }

  async commitBlock(block: Block): Promise<void> {
    const hash = this.blockHash(block.header)
    if (compare(block.header.parentHash, this.headHash()) !== 0) {
      throw new ConsensusError(
        ConsensusErrorCode.UNKNOWN_PARENT,
        `block ${block.header.height} does not extend the head ${this.head().height}`,
      )
    }
    if (!this.pending.has(hex(hash))) await this.executeBlock(block)
    this.committed.push(block)
    this.hashes.push(hash)
    // executed blocks stay usable as parents of forks (PoA/PoW) for a while
    for (const [k, v] of this.pending) {
      if (v.block.header.height + 1024n < block.header.height) this.pending.delete(k)
    }
  }

  /** Rolls the head back to `height`; like the node's store, never below the base. */
  async rollbackTo(height: bigint): Promise<void> {
    if (height < this.base) {
      throw new ConsensusError(
        ConsensusErrorCode.BELOW_BASE,
        `cannot roll back to ${height}: this chain's history starts at ${this.base}`,
      )
    }
    while (this.low + BigInt(this.committed.length - 1) > height) {
      this.committed.pop()
      this.hashes.pop()
    }
  }

  /** State root after the committed block at `height`. */
  committedRoot(height: bigint): Uint8Array {
    return (this.blockAt(height) as Block).header.stateRoot
  }

  /** Forgets executed-but-uncommitted blocks (what a crash loses). */
  dropPending(): void {
    this.pending.clear()
  }

  async validatorSet(epoch: bigint): Promise<ConsensusValidatorSet> {
    if (this.opts.validatorSetAt) return this.opts.validatorSetAt(epoch)
    return makeValidatorSet(epoch, this.opts.validators ?? [])
  }
}
