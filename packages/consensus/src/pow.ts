/**
 * Proof of work: header.consensus = RLP([difficulty, nonce]); a block is valid if
 * uint256(sha256(blockHash(header))) < 2^256 / difficulty, where the difficulty is the one the
 * retarget rule gives for its height. Every `retargetInterval` blocks the difficulty is scaled
 * by targetTime x interval / actual time span (clamped to x4 / x1/4, at least the minimum).
 * Fork choice: the chain with the most total difficulty; a switch rolls state back to the
 * common ancestor.
 */
import { sha256 } from '@aureon/crypto'
import { systemClock } from './clock.js'
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import { ForkChoiceEngine, type ForkNode } from './fork-choice.js'
import { POW_MIN_DIFFICULTY, POW_RETARGET_INTERVAL, POW_TARGET_BLOCK_TIME_MS } from './params.js'
import { asBigint, asList, bigintToBytes, rlpDecode, rlpEncode } from './rlp.js'
import type {
  Block,
  BlockHeader,
  Clock,
  ConsensusChain,
  ConsensusEngine,
  Transport,
} from './types.js'

const TWO_256 = 1n << 256n

export interface PoWEngineOptions {
  chain: ConsensusChain
  transport?: Transport
  clock?: Clock
  /** Mine (default false: only validate and follow). */
  mine?: boolean
  coinbase?: Uint8Array
  /** Target block time (ms). */
  targetBlockTime?: number
  retargetInterval?: bigint
  /** Difficulty of the first blocks. */
  initialDifficulty?: bigint
  minDifficulty?: bigint
  /** Nonces tried per mining tick, and ms between ticks (the simulated hash rate). */
  hashesPerTick?: number
  tickMs?: number
  /** First nonce to try (miners start apart so they do not race on the same nonces). */
  nonceStart?: bigint
}

/** Reads difficulty and nonce from a PoW header. */
export function decodePoWSeal(header: BlockHeader): { difficulty: bigint; nonce: bigint } {
  const l = asList(rlpDecode(header.consensus), 'PoW seal')
  if (l.length !== 2) throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'bad PoW seal')
  return { difficulty: asBigint(l[0], 'difficulty'), nonce: asBigint(l[1], 'nonce') }
}

/** True if the header's hash meets its difficulty. */
export function checkWork(chain: ConsensusChain, header: BlockHeader, difficulty: bigint): boolean {
  const h = sha256(chain.blockHash(header))
  let x = 0n
  for (const b of h) x = (x << 8n) | BigInt(b)
  return x < TWO_256 / difficulty
}

/**
 * The PoW engine.
 * @example
 * const engine = new PoWEngine({ chain, transport, mine: true, initialDifficulty: 16n })
 * await engine.start()
 */
export class PoWEngine extends ForkChoiceEngine implements ConsensusEngine {
  readonly name = 'pow' as const
  private readonly opts: PoWEngineOptions
  private timer?: { cancel(): void }
  private work?: { parentHash: string; block: Block; nonce: bigint; difficulty: bigint }

  constructor(opts: PoWEngineOptions) {
    super(opts.chain, opts.transport, opts.clock ?? systemClock)
    this.opts = opts
  }

  protected weightOf(block: Block): bigint {
    return decodePoWSeal(block.header).difficulty
  }

  /** The difficulty a child of `parent` must carry. */
  expectedDifficulty(parent: ForkNode): bigint {
    const min = this.opts.minDifficulty ?? POW_MIN_DIFFICULTY
    const interval = this.opts.retargetInterval ?? POW_RETARGET_INTERVAL
    if (parent.height === 0n) return this.opts.initialDifficulty ?? min
    const prev = decodePoWSeal(parent.block.header).difficulty
    const height = parent.height + 1n
    if ((height - 1n) % interval !== 0n) return prev
    // span of the last `interval` blocks
    let first: ForkNode = parent
    for (let i = 1n; i < interval && first.height > 0n; i++) {
      const prev = this.tree.get(first.parent)
      if (!prev) {
        // a chain started from a snapshot: the window reaches below the blocks it holds
        throw new ConsensusError(
          ConsensusErrorCode.BELOW_BASE,
          `the difficulty of block ${height} needs block ${first.height - 1n} of its retarget window, below this chain's history (it starts at ${first.height}): backfill the ${interval} blocks below the base`,
        )
      }
      first = prev
    }
    const actual = parent.block.header.timestamp - first.block.header.timestamp
    const target =
      BigInt(this.opts.targetBlockTime ?? POW_TARGET_BLOCK_TIME_MS) * (parent.height - first.height)
    let span = actual < 1n ? 1n : actual
    if (span < target / 4n) span = target / 4n
    if (span > target * 4n) span = target * 4n
    const next = target === 0n ? prev : (prev * target) / (span === 0n ? 1n : span)
    return next < min ? min : next
  }

  protected async checkRules(block: Block, parent: ForkNode): Promise<bigint> {
    const { difficulty } = decodePoWSeal(block.header)
    const expected = this.expectedDifficulty(parent)
    if (difficulty !== expected) {
      throw new ConsensusError(
        ConsensusErrorCode.INSUFFICIENT_WORK,
        `block ${block.header.height} has difficulty ${difficulty}, expected ${expected}`,
      )
    }
    if (!checkWork(this.chain, block.header, difficulty)) {
      throw new ConsensusError(
        ConsensusErrorCode.INSUFFICIENT_WORK,
        'hash does not meet difficulty',
      )
    }
    if (block.header.timestamp <= parent.block.header.timestamp) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'timestamp not after the parent')
    }
    await this.chain.executeBlock(block)
    return difficulty
  }

  async validateBlock(block: Block): Promise<void> {
    const parent = this.tree.get(Buffer.from(block.header.parentHash).toString('hex'))
    if (!parent) throw new ConsensusError(ConsensusErrorCode.UNKNOWN_PARENT, 'unknown parent')
    await this.checkRules(block, parent)
  }

  async start(): Promise<void> {
    await this.initTree()
    this.startCommon()
    if (this.opts.mine) this.tick()
  }

  override async stop(): Promise<void> {
    this.timer?.cancel()
    await super.stop()
  }

  private tick(): void {
    if (!this.running) return
    this.timer = this.clock.setTimeout(() => {
      void this.serial(async () => {
        await this.mineStep()
      }).then(() => this.tick())
    }, this.opts.tickMs ?? 10)
  }

  /** Tries one batch of nonces; returns the sealed block if one was found. */
  async mineStep(): Promise<Block | undefined> {
    const head = this.head()
    if (!this.work || this.work.parentHash !== head.hash) {
      const now = BigInt(Math.floor(this.clock.now()))
      const ts = now > head.block.header.timestamp ? now : head.block.header.timestamp + 1n
      const difficulty = this.expectedDifficulty(head)
      const ex = await this.chain.buildBlock({
        parent: head.block.header,
        timestamp: ts,
        proposer: this.opts.coinbase ?? new Uint8Array(20),
        consensus: rlpEncode([bigintToBytes(difficulty), new Uint8Array(0)]),
      })
      this.work = {
        parentHash: head.hash,
        block: ex.block,
        nonce: this.opts.nonceStart ?? 0n,
        difficulty,
      }
    }
    const w = this.work
    for (let i = 0; i < (this.opts.hashesPerTick ?? 16); i++) {
      const header = {
        ...w.block.header,
        consensus: rlpEncode([bigintToBytes(w.difficulty), bigintToBytes(w.nonce)]),
      }
      w.nonce++
      if (checkWork(this.chain, header, w.difficulty)) {
        const block = { ...w.block, header }
        this.work = undefined
        await this.importBlock(block)
        this.broadcastBlock(block)
        return block
      }
    }
    return undefined
  }

  async propose(): Promise<Block | undefined> {
    let out: Block | undefined
    await this.serial(async () => {
      for (let i = 0; i < 100_000 && !out; i++) out = await this.mineStep()
    })
    return out
  }
}
