/**
 * The dev engine: one node seals blocks itself, either as soon as transactions arrive
 * (automine: call `notifyTransactions()`) or every `interval` ms. Followers import its blocks
 * from the Transport without checks beyond execution (development only).
 */
import { systemClock } from './clock.js'
import { Emitter } from './events.js'
import {
  type Block,
  type Clock,
  type ConsensusChain,
  type ConsensusEngine,
  type ConsensusEvents,
  type ConsensusMessage,
  ConsensusMessageType,
  type PeerId,
  type Transport,
} from './types.js'

export interface DevEngineOptions {
  chain: ConsensusChain
  transport?: Transport
  clock?: Clock
  /** Seal blocks (false: follow a sealer over the transport). Default true. */
  sealer?: boolean
  /** 'auto': seal when `notifyTransactions()` is called; a number: seal every N ms. */
  mode?: 'auto' | number
  coinbase?: Uint8Array
}

/**
 * The dev engine.
 * @example
 * const dev = new DevEngine({ chain, mode: 'auto' })
 * await dev.start()
 * dev.notifyTransactions() // seals a block
 */
export class DevEngine implements ConsensusEngine {
  readonly name = 'dev' as const
  private readonly events = new Emitter<ConsensusEvents>()
  private readonly opts: DevEngineOptions
  private readonly clock: Clock
  private timer?: { cancel(): void }
  private running = false
  private queue: Promise<void> = Promise.resolve()
  private unsub?: () => void

  constructor(opts: DevEngineOptions) {
    this.opts = opts
    this.clock = opts.clock ?? systemClock
  }

  on<E extends keyof ConsensusEvents>(event: E, listener: ConsensusEvents[E]): () => void {
    return this.events.on(event, listener)
  }

  async start(): Promise<void> {
    this.running = true
    if (this.opts.transport)
      this.unsub = this.opts.transport.onMessage((f, m) => this.onMessage(f, m))
    if (this.opts.sealer !== false && typeof this.opts.mode === 'number') this.schedule()
  }

  async stop(): Promise<void> {
    this.running = false
    this.timer?.cancel()
    this.unsub?.()
    await this.queue
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return
      void this.propose().then(() => this.schedule())
    }, this.opts.mode as number)
  }

  /** Automine: seal a block now (call when transactions arrive). */
  notifyTransactions(): Promise<Block | undefined> {
    return this.propose()
  }

  onMessage(_from: PeerId, m: ConsensusMessage): void {
    if (m.type !== ConsensusMessageType.Block || this.opts.sealer !== false) return
    this.queue = this.queue.then(async () => {
      const block = this.opts.chain.decodeBlock(m.block)
      try {
        await this.commit(block)
      } catch (e) {
        this.events.emit('error', e as Error)
      }
    })
  }

  async propose(): Promise<Block | undefined> {
    if (!this.running || this.opts.sealer === false) return undefined
    let out: Block | undefined
    this.queue = this.queue.then(async () => {
      const parent = this.opts.chain.head()
      const now = BigInt(Math.floor(this.clock.now()))
      const ex = await this.opts.chain.buildBlock({
        parent,
        timestamp: now > parent.timestamp ? now : parent.timestamp + 1n,
        proposer: this.opts.coinbase ?? new Uint8Array(20),
        consensus: new Uint8Array(0),
      })
      await this.commit(ex.block)
      this.opts.transport?.broadcast({
        type: ConsensusMessageType.Block,
        block: this.opts.chain.encodeBlock(ex.block),
      })
      out = ex.block
    })
    await this.queue
    return out
  }

  async validateBlock(block: Block): Promise<void> {
    await this.opts.chain.executeBlock(block)
  }

  async commit(block: Block): Promise<void> {
    await this.opts.chain.commitBlock(block)
    this.events.emit('commit', {
      block,
      hash: this.opts.chain.blockHash(block.header),
      height: block.header.height,
    })
  }
}
