/**
 * LedgerChain: consensus's `ConsensusChain` over the real ledger: blocks are built and executed
 * by the StateProcessor on copies of their parent's state, kept pending (in memory) until the
 * engine commits them, then written with the ChainStore in one atomic batch.
 */
import type { ConsensusChain, ConsensusValidatorSet, ExecutedBlock } from '@aureon/consensus'
import { bytesToHex, equalBytes } from '@aureon/crypto'
import {
  type Block,
  type BlockHeader,
  blockHash,
  type ChainStore,
  createWorldState,
  decodeBlock,
  decodeValidatorSet,
  encodeBlock,
  type LedgerParams,
  type LedgerWorldState,
  type Receipt,
  type StateProcessor,
  type TxPool,
} from '@aureon/ledger'

interface Pending {
  block: Block
  hash: Uint8Array
  receipts: Receipt[]
  state: LedgerWorldState
}

export interface LedgerChainOptions {
  store: ChainStore
  processor: StateProcessor
  pool: TxPool
  params: LedgerParams
  /** Most transactions per built block. */
  maxBlockTransactions?: number
  /** Called after each commit, with the block's receipts. */
  onCommit?: (block: Block, receipts: Receipt[]) => void | Promise<void>
  /**
   * The proven validator-set record (encoded) of a boundary block below the base of a chain
   * started from a snapshot (BFT state sync fetches and verifies them).
   */
  provenValidatorSet?: (height: bigint) => Promise<Uint8Array | undefined>
}

/** Thrown when a block does not follow a known parent or fails execution. */
export class ChainError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'ChainError'
  }
}

export class LedgerChain implements ConsensusChain {
  readonly chainId: bigint
  readonly epochLength: bigint
  private readonly pending = new Map<string, Pending>()
  private headState!: LedgerWorldState
  private lock: Promise<unknown> = Promise.resolve()

  private constructor(private readonly o: LedgerChainOptions) {
    const head = o.store.head()
    if (!head) throw new ChainError('ERR_NO_GENESIS', 'the chain store holds no genesis block')
    this.chainId = head.chainId
    this.epochLength = o.params.epochLength
  }

  static async create(o: LedgerChainOptions): Promise<LedgerChain> {
    const c = new LedgerChain(o)
    c.headState = await createWorldState({ db: o.store.stateDb, root: c.head().stateRoot })
    return c
  }

  /** The committed head's state (read-only use: copy it before changing anything). */
  state(): LedgerWorldState {
    return this.headState
  }

  head(): BlockHeader {
    return this.o.store.head()!
  }

  blockHash(header: BlockHeader): Uint8Array {
    return blockHash(header)
  }

  encodeBlock(block: Block): Uint8Array {
    return encodeBlock(block)
  }

  decodeBlock(bytes: Uint8Array): Block {
    return decodeBlock(bytes)
  }

  getBlockByHeight(height: bigint): Promise<Block | undefined> {
    return this.o.store.getBlockByHeight(height)
  }

  /** Where the store's history starts: the snapshot height the chain was anchored at, or 0. */
  baseHeight(): bigint {
    return this.o.store.baseHeight()
  }

  /** Runs `fn` after every earlier chain operation (execution and commits never interleave). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => undefined)
    return run
  }

  private async parentState(parent: BlockHeader): Promise<LedgerWorldState> {
    const hash = blockHash(parent)
    const p = this.pending.get(bytesToHex(hash))
    if (p) return p.state.copy(p.block.header.stateRoot)
    const head = this.head()
    if (equalBytes(hash, this.o.store.headHash()!)) return this.headState.copy(head.stateRoot)
    const committed = await this.o.store.getBlockHash(parent.height)
    if (committed && equalBytes(committed, hash)) {
      return createWorldState({ db: this.o.store.stateDb, root: parent.stateRoot })
    }
    throw new ChainError(
      'ERR_UNKNOWN_PARENT',
      `parent block ${bytesToHex(hash)} at height ${parent.height} is unknown`,
    )
  }

  private async parentHeader(block: Block): Promise<BlockHeader> {
    const p = this.pending.get(bytesToHex(block.header.parentHash))
    if (p) return p.block.header
    const h = block.header.height - 1n
    const committed = await this.o.store.getBlockHash(h)
    if (committed && equalBytes(committed, block.header.parentHash)) {
      return (await this.o.store.getHeader(h))!
    }
    throw new ChainError(
      'ERR_UNKNOWN_PARENT',
      `block ${block.header.height} names an unknown parent ${bytesToHex(block.header.parentHash)}`,
    )
  }

  buildBlock(opts: {
    parent: BlockHeader
    timestamp: bigint
    proposer: Uint8Array
    consensus: Uint8Array
  }): Promise<ExecutedBlock> {
    return this.serial(async () => {
      const state = await this.parentState(opts.parent)
      const transactions = this.o.pool.select({ maxGas: this.o.params.blockGasLimit })
      const built = await this.o.processor.buildBlock(state, {
        parent: opts.parent,
        timestamp: opts.timestamp,
        proposer: opts.proposer,
        consensus: opts.consensus,
        transactions,
        maxTransactions: this.o.maxBlockTransactions,
      })
      const hash = blockHash(built.block.header)
      this.pending.set(bytesToHex(hash), {
        block: built.block,
        hash,
        receipts: built.receipts,
        state,
      })
      return { block: built.block, hash, stateRoot: built.block.header.stateRoot }
    })
  }

  executeBlock(block: Block): Promise<ExecutedBlock> {
    return this.serial(() => this.execute(block))
  }

  private async execute(block: Block): Promise<ExecutedBlock> {
    const hash = blockHash(block.header)
    const known = this.pending.get(bytesToHex(hash))
    if (known) return { block: known.block, hash, stateRoot: known.block.header.stateRoot }
    if (block.header.chainId !== this.chainId) {
      throw new ChainError(
        'ERR_WRONG_CHAIN',
        `block is for chain ${block.header.chainId}, this is ${this.chainId}`,
      )
    }
    const parent = await this.parentHeader(block)
    if (block.header.timestamp < parent.timestamp) {
      throw new ChainError('ERR_BAD_TIMESTAMP', 'block timestamp is before its parent')
    }
    const state = await this.parentState(parent)
    const r = await this.o.processor.applyBlock(state, block)
    this.pending.set(bytesToHex(hash), { block, hash, receipts: r.receipts, state })
    return { block, hash, stateRoot: r.stateRoot }
  }

  commitBlock(block: Block): Promise<void> {
    return this.serial(async () => {
      const hash = blockHash(block.header)
      if (!this.pending.has(bytesToHex(hash))) await this.execute(block)
      const p = this.pending.get(bytesToHex(hash))!
      const head = this.o.store.headHash()!
      if (!equalBytes(block.header.parentHash, head)) {
        throw new ChainError(
          'ERR_NOT_HEAD_CHILD',
          `block ${block.header.height} does not extend the head`,
        )
      }
      const stateOps = await p.state.flush()
      await this.o.store.commitBlock({ block, receipts: p.receipts, stateOps })
      this.headState = p.state
      for (const [k, v] of this.pending) {
        if (v.block.header.height <= block.header.height) this.pending.delete(k)
      }
      await this.o.pool.onNewHead({ included: block.transactions })
      await this.o.onCommit?.(block, p.receipts)
    })
  }

  /**
   * Rolls the committed head back to `height` (a PoW/PoA reorg to a heavier branch): the blocks
   * above it leave the chain store in one atomic batch (their transactions are unindexed and go
   * back to the pool), and the head state is the one at `height`'s root again (state is
   * content-addressed, so it is still in the store).
   */
  rollbackTo(height: bigint): Promise<void> {
    return this.serial(async () => {
      const { removed } = await this.o.store.rollbackTo(height)
      this.pending.clear()
      this.headState = await createWorldState({
        db: this.o.store.stateDb,
        root: this.head().stateRoot,
      })
      for (const b of removed.reverse()) {
        for (const tx of b.transactions) await this.o.pool.add(tx).catch(() => undefined)
      }
    })
  }

  async validatorSet(epoch: bigint): Promise<ConsensusValidatorSet> {
    // The set for `epoch` is the one recorded after the boundary block epoch * epochLength.
    const boundary = epoch * this.epochLength
    const base = this.o.store.baseHeight()
    if (boundary < base) {
      // below a snapshot's base the state is not here: only a proven record of it
      const record = await this.o.provenValidatorSet?.(boundary)
      if (!record) {
        throw new ChainError(
          'ERR_PRUNED',
          `the validator set of epoch ${epoch} was recorded at block ${boundary}, below this node's history (it starts at ${base})`,
        )
      }
      const set = decodeValidatorSet(record)
      return { epoch, validators: set.validators, totalStake: set.totalStake }
    }
    const header = await this.o.store.getHeader(boundary)
    const state = header
      ? await createWorldState({ db: this.o.store.stateDb, root: header.stateRoot })
      : this.headState
    const set = await state.getValidatorSet()
    return { epoch, validators: set.validators, totalStake: set.totalStake }
  }
}
