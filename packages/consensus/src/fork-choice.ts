/**
 * Shared machinery of the longest/heaviest-chain engines (PoA and PoW): a tree of imported
 * blocks with a weight each, the canonical head is the tip of the heaviest branch (ties: the
 * branch seen first), and a switch of branch rolls the chain back to the common ancestor and
 * commits the new branch (so state follows the fork choice).
 */
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import { Emitter } from './events.js'
import {
  type Block,
  type BlockHeader,
  type Clock,
  type ConsensusChain,
  type ConsensusEvents,
  type ConsensusMessage,
  ConsensusMessageType,
  type PeerId,
  type Transport,
} from './types.js'

export interface ForkNode {
  block: Block
  hash: string
  parent: string
  height: bigint
  weight: bigint
  total: bigint
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** Base of PoA and PoW engines. */
export abstract class ForkChoiceEngine {
  protected readonly events = new Emitter<ConsensusEvents>()
  protected readonly tree = new Map<string, ForkNode>()
  /** Blocks waiting for their parent, by parent hash. */
  protected readonly orphans = new Map<string, Block[]>()
  protected headHash = ''
  /** See {@link baseHeight}; set by `initTree`. */
  protected base = 0n
  protected running = false
  protected queue: Promise<void> = Promise.resolve()
  private unsub: (() => void)[] = []
  /** Number of reorgs (branch switches) so far. */
  reorgs = 0

  constructor(
    protected readonly chain: ConsensusChain,
    protected readonly transport: Transport | undefined,
    protected readonly clock: Clock,
  ) {}

  on<E extends keyof ConsensusEvents>(event: E, listener: ConsensusEvents[E]): () => void {
    return this.events.on(event, listener)
  }

  /** Checks engine rules of `block` on `parent`; returns the block's weight. */
  protected abstract checkRules(block: Block, parent: ForkNode): Promise<bigint>

  /**
   * Builds the tree from the committed chain: walks DOWN from the head along parent hashes while
   * the blocks are stored, so a chain started from a snapshot of block H (no blocks 1..H-1)
   * reads only its own blocks, not H missing ones. The lowest block read is the tree's root (its
   * ancestors are absent by design); totals count from it, which is enough because every branch
   * the engine follows forks above it.
   */
  protected async initTree(): Promise<void> {
    const head = this.chain.head()
    const top = await this.chain.getBlockByHeight(head.height)
    if (!top) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_CONFIG,
        `the chain's head block ${head.height} is not stored`,
      )
    }
    const path: { block: Block; hash: string }[] = [
      { block: top, hash: hex(this.chain.blockHash(top.header)) },
    ]
    for (let child = top; child.header.height > 0n; ) {
      const b = await this.chain.getBlockByHeight(child.header.height - 1n)
      const hash = b ? hex(this.chain.blockHash(b.header)) : ''
      if (!b || hash !== hex(child.header.parentHash)) break
      path.push({ block: b, hash })
      child = b
    }
    path.reverse()
    const low = path[0].block.header.height
    const declared = this.chain.baseHeight?.() ?? low
    // blocks below a declared base (backfilled history) are in the tree as ancestors only
    this.base = low
    if (declared > low) this.base = declared
    let parent = ''
    let total = 0n
    for (const { block: b, hash } of path) {
      const weight = parent === '' ? 0n : this.weightOf(b)
      total += weight
      this.tree.set(hash, { block: b, hash, parent, height: b.header.height, weight, total })
      parent = hash
    }
    this.headHash = parent
  }

  /**
   * The height the engine's history starts at (0 from genesis; the snapshot height for an
   * anchored chain). Blocks at or below it that are not in the tree are refused.
   */
  baseHeight(): bigint {
    return this.base
  }

  /** The weight of a block already validated (from its header). */
  protected abstract weightOf(block: Block): bigint

  protected startCommon(): void {
    this.running = true
    if (this.transport) {
      this.unsub.push(this.transport.onMessage((from, m) => this.onMessage(from, m)))
      this.unsub.push(
        this.transport.onBlockRequest(async (_from, req) => {
          const blocks: Uint8Array[] = []
          for (let h = req.fromHeight; blocks.length < Math.min(req.count, 256); h++) {
            const b = await this.chain.getBlockByHeight(h)
            if (!b) break
            blocks.push(this.chain.encodeBlock(b))
          }
          return { blocks }
        }),
      )
    }
  }

  async stop(): Promise<void> {
    this.running = false
    for (const u of this.unsub) u()
    this.unsub = []
    await this.queue
  }

  onMessage(from: PeerId, m: ConsensusMessage): void {
    if (m.type !== ConsensusMessageType.Block) return
    this.serial(async () => {
      const block = this.chain.decodeBlock(m.block)
      await this.importBlock(block, from)
    })
  }

  protected serial(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(async () => {
      if (!this.running) return
      try {
        await fn()
      } catch (e) {
        if (!(e instanceof ConsensusError)) this.events.emit('error', e as Error)
      }
    })
    this.queue = next
    return next
  }

  head(): ForkNode {
    return this.tree.get(this.headHash) as ForkNode
  }

  /** Validates and imports a block; switches branch if it makes a heavier chain. */
  async importBlock(block: Block, from?: PeerId): Promise<boolean> {
    const hash = hex(this.chain.blockHash(block.header))
    if (this.tree.has(hash)) return false
    if (this.base > 0n && block.header.height <= this.base) {
      throw new ConsensusError(
        ConsensusErrorCode.BELOW_BASE,
        `block ${block.header.height} is at or below this chain's base ${this.base} (it started from a snapshot there): a fork below the base cannot be followed`,
        { details: { height: block.header.height.toString(), base: this.base.toString() } },
      )
    }
    const parent = this.tree.get(hex(block.header.parentHash))
    if (!parent) {
      const k = hex(block.header.parentHash)
      const list = this.orphans.get(k) ?? []
      if (list.length < 16) list.push(block)
      this.orphans.set(k, list)
      if (from && this.transport && block.header.height > this.head().height) {
        void this.syncFrom(from)
      }
      return false
    }
    if (block.header.height !== parent.height + 1n) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'height is not parent + 1')
    }
    const weight = await this.checkRules(block, parent)
    const node: ForkNode = {
      block,
      hash,
      parent: parent.hash,
      height: block.header.height,
      weight,
      total: parent.total + weight,
    }
    this.tree.set(hash, node)
    if (node.total > this.head().total) await this.switchTo(node)
    for (const child of this.orphans.get(hash) ?? []) await this.importBlock(child)
    this.orphans.delete(hash)
    return true
  }

  private async syncFrom(peer: PeerId): Promise<void> {
    try {
      const res = await (this.transport as Transport).requestBlocks(peer, {
        fromHeight: this.base + 1n,
        count: Number(this.head().height - this.base) + 64,
      })
      await this.serial(async () => {
        for (const b of res.blocks) {
          const block = this.chain.decodeBlock(b)
          if (!this.tree.has(hex(this.chain.blockHash(block.header)))) await this.importBlock(block)
        }
      })
    } catch {
      // retried on the next orphan
    }
  }

  /** Makes `tip` the head: rolls back to the common ancestor and commits the new branch. */
  protected async switchTo(tip: ForkNode): Promise<void> {
    const branch: ForkNode[] = []
    const onCanonical = new Set<string>()
    for (let n = this.tree.get(this.headHash); n; n = this.tree.get(n.parent))
      onCanonical.add(n.hash)
    let n: ForkNode | undefined = tip
    while (n && !onCanonical.has(n.hash)) {
      branch.push(n)
      n = this.tree.get(n.parent)
    }
    /* c8 ignore next */
    if (!n) return
    if (n.hash !== this.headHash) {
      if (!this.chain.rollbackTo) {
        throw new ConsensusError(ConsensusErrorCode.INVALID_CONFIG, 'the chain cannot roll back')
      }
      await this.chain.rollbackTo(n.height)
      this.reorgs++
    }
    for (const b of branch.reverse()) {
      await this.chain.commitBlock(b.block)
      this.headHash = b.hash
      this.events.emit('commit', {
        block: b.block,
        hash: this.chain.blockHash(b.block.header),
        height: b.height,
      })
    }
  }

  protected broadcastBlock(block: Block): void {
    this.transport?.broadcast({
      type: ConsensusMessageType.Block,
      block: this.chain.encodeBlock(block),
    })
  }

  async commit(block: Block): Promise<void> {
    await this.importBlock(block)
  }

  protected parentHeader(): BlockHeader {
    return this.head().block.header
  }
}
