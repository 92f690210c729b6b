/**
 * Block sync of the dev, PoA and PoW engines (BFT syncs itself, checking quorum certificates):
 * when a peer is ahead, fetch the blocks after our head over the p2p `blocks` protocol and hand
 * them to the engine (the dev engine commits after execution; PoA/PoW check their rules first).
 * Runs after a state sync (from the snapshot's height to the head), when a peer with a higher
 * head connects, when a gossiped block's parent is unknown, and every few seconds.
 */
import {
  type ConsensusEngine,
  ConsensusMessageType,
  type DevEngine,
  type EngineName,
} from '@aureon/consensus'
import { type ChainStore, decodeBlock } from '@aureon/ledger'
import type { P2PNode, PeerId } from '@aureon/p2p'
import { peersByHead } from './bft-state-sync.js'
import type { LedgerChain } from './ledger-chain.js'
import type { Logger } from './logger.js'

/** Blocks asked per request. */
const BATCH = 64

export interface BlockSyncOptions {
  p2p: P2PNode
  chain: LedgerChain
  engine: ConsensusEngine
  engineName: EngineName
  logger: Logger
  /** Check peers' heads every N ms (0 = only on events). */
  intervalMs?: number
}

export class BlockSync {
  private running?: Promise<void>
  private again = false
  private stopped = false
  private timer?: NodeJS.Timeout
  private unsub: (() => void)[] = []
  /** True while blocks are being fetched. */
  syncing = false

  constructor(private readonly o: BlockSyncOptions) {}

  /** Whether this engine is synced by this class (BFT syncs itself). */
  static supports(engine: EngineName): boolean {
    return engine === 'dev' || engine === 'poa' || engine === 'pow'
  }

  start(): void {
    this.unsub.push(
      this.o.p2p.on('peer:ready', (_peer, status) => {
        if (status.headHeight > this.o.chain.head().height) void this.trigger()
      }),
    )
    if (this.o.intervalMs) {
      this.timer = setInterval(() => void this.trigger(), this.o.intervalMs)
      this.timer.unref()
    }
    void this.trigger()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    for (const u of this.unsub) u()
    await this.running?.catch(() => undefined)
  }

  /** Syncs now (coalesced with a sync already running). Resolves when it is done. */
  trigger(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        try {
          await this.run()
        } catch (e) {
          this.o.logger.debug?.({ err: (e as Error).message }, 'block sync round failed')
        }
      } while (this.again && !this.stopped)
    })().finally(() => {
      this.running = undefined
      this.syncing = false
    })
    return this.running
  }

  /** The ready peer with the highest head above ours (fresh statuses). */
  private async bestPeer(): Promise<{ peer: PeerId; height: bigint } | undefined> {
    const head = this.o.chain.head().height
    const statuses = await Promise.all(
      this.o.p2p.peers().map(async (peer) => {
        try {
          return { peer, height: (await this.o.p2p.requestStatus(peer)).headHeight }
        } catch {
          return undefined
        }
      }),
    )
    let best: { peer: PeerId; height: bigint } | undefined
    for (const s of statuses) {
      if (!s || s.height <= head) continue
      if (!best || s.height > best.height || (s.height === best.height && s.peer < best.peer))
        best = s
    }
    return best
  }

  private async run(): Promise<void> {
    const { chain, p2p, engine, logger } = this.o
    for (let round = 0; round < 10_000 && !this.stopped; round++) {
      const best = await this.bestPeer()
      if (!best) return
      this.syncing = true
      const from = chain.head().height + 1n
      const res = await p2p.requestBlocks(best.peer, { fromHeight: from, count: BATCH })
      let progressed = false
      for (const bytes of res.blocks) {
        const block = chain.decodeBlock(bytes)
        const head = chain.head().height
        if (block.header.height <= head) continue
        if (block.header.height !== head + 1n) break
        if (this.o.engineName === 'dev') {
          await (engine as DevEngine).commit(block)
        } else {
          // PoA / PoW: through the engine's queue, which checks the seal or the work first
          engine.onMessage(best.peer, { type: ConsensusMessageType.Block, block: bytes })
          await waitFor(() => chain.head().height >= block.header.height, 5_000)
          if (chain.head().height < block.header.height) break
        }
        progressed = true
      }
      if (progressed) {
        logger.info(
          { height: Number(chain.head().height), peerHead: Number(best.height) },
          'block sync: caught up to',
        )
      }
      if (!progressed) return
    }
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
}

/**
 * Fetches the `depth` blocks below the base of a chain started from a snapshot (the window a
 * PoW engine needs to check difficulty retargets) from a peer, and stores them hash-linked below
 * the anchor block (`ChainStore.backfill`). Returns the blocks added (0 when already there).
 */
export async function backfillHistory(o: {
  p2p: P2PNode
  chain: ChainStore
  depth: number
  logger: Logger
  timeoutMs: number
}): Promise<number> {
  const base = o.chain.baseHeight()
  if (base === 0n || o.depth <= 0) return 0
  const from = base > BigInt(o.depth) ? base - BigInt(o.depth) : 1n
  if (await o.chain.getBlockHash(from)) return 0
  await o.p2p.waitForPeers(1, { timeoutMs: o.timeoutMs }).catch(() => undefined)
  let added = 0
  // highest head first: a peer that is itself syncing has nothing below our base to serve
  for (const peer of await peersByHead(o.p2p)) {
    try {
      const res = await o.p2p.requestBlocks(peer, {
        fromHeight: from,
        count: Number(base - from),
      })
      added += await o.chain.backfill(res.blocks.map((b) => decodeBlock(b)))
      if (await o.chain.getBlockHash(from)) {
        o.logger.info(
          { from: Number(from), to: Number(base - 1n), added },
          'block sync: history below the snapshot fetched',
        )
        return added
      }
    } catch (e) {
      o.logger.warn({ peer, err: (e as Error).message }, 'block sync: history fetch failed')
    }
  }
  o.logger.warn(
    { from: Number(from), base: Number(base) },
    'block sync: could not fetch the history below the snapshot; blocks that need it may be refused',
  )
  return added
}
