/**
 * SimNetwork: an in-process Transport for N nodes on a virtual clock, with seeded per-link
 * delays, drops, duplicates, reordering, partitions that heal, and crash/restart of nodes.
 * Messages go through the real wire codec. The same seed reproduces the same run.
 */
import { VirtualClock } from './clock.js'
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import { decodeConsensusMessage, encodeConsensusMessage } from './messages.js'
import { Prng } from './prng.js'
import type {
  BlockSyncHandler,
  BlockSyncRequest,
  BlockSyncResponse,
  ConsensusMessage,
  MessageHandler,
  PeerId,
  Transport,
} from './types.js'

/** Delay of one message on a link, in virtual ms: uniform in [min, max]. */
export interface LinkDelay {
  min: number
  max: number
}

export interface SimNetworkOptions {
  /** PRNG seed: same seed, same run. */
  seed: number
  /** Shared virtual clock (default: a new one). */
  clock?: VirtualClock
  /** Default one-way delay (default 0..0). */
  delay?: LinkDelay
  /** Probability a message is lost (default 0). */
  dropRate?: number
  /** Probability a message is delivered twice (default 0). */
  duplicateRate?: number
  /** Probability a message gets an extra random delay up to `reorderWindow` (default 0). */
  reorderRate?: number
  /** Extra delay bound for reordered messages, ms (default 50). */
  reorderWindow?: number
  /** Block sync requests fail after this many virtual ms without an answer (default 2000). */
  requestTimeout?: number
}

export interface SimNetworkStats {
  sent: number
  delivered: number
  dropped: number
  duplicated: number
}

interface Node {
  id: PeerId
  up: boolean
  /** Incremented at each crash; messages for an older incarnation are lost. */
  incarnation: number
  handlers: Set<MessageHandler>
  syncHandler?: BlockSyncHandler
}

/**
 * The simulated network.
 * @example
 * const net = new SimNetwork({ seed: 1, delay: { min: 5, max: 20 } })
 * const a = net.addNode('a'); const b = net.addNode('b')
 * b.onMessage((from, m) => console.log(from, m.type))
 * a.broadcast({ type: ConsensusMessageType.Block, block: new Uint8Array([1]) })
 * await net.clock.advance(20)
 */
export class SimNetwork {
  readonly clock: VirtualClock
  readonly prng: Prng
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 }
  private readonly opts: Required<Omit<SimNetworkOptions, 'clock' | 'seed'>>
  private readonly nodes = new Map<PeerId, Node>()
  private readonly order: PeerId[] = []
  private readonly linkDelays = new Map<string, LinkDelay>()
  /** Sees every message a node sends (before drops), for tests and tracing. */
  tap?: (from: PeerId, to: PeerId, message: ConsensusMessage) => void
  /** Partition group of each node; nodes talk only within the same group. */
  private groups: Map<PeerId, number> | undefined

  constructor(opts: SimNetworkOptions) {
    this.clock = opts.clock ?? new VirtualClock()
    this.prng = new Prng(opts.seed)
    this.opts = {
      delay: opts.delay ?? { min: 0, max: 0 },
      dropRate: opts.dropRate ?? 0,
      duplicateRate: opts.duplicateRate ?? 0,
      reorderRate: opts.reorderRate ?? 0,
      reorderWindow: opts.reorderWindow ?? 50,
      requestTimeout: opts.requestTimeout ?? 2000,
    }
  }

  /** Adds a node and returns its Transport endpoint. */
  addNode(id: PeerId): Transport {
    if (this.nodes.has(id)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_CONFIG, `node ${id} already exists`)
    }
    this.nodes.set(id, { id, up: true, incarnation: 0, handlers: new Set() })
    this.order.push(id)
    return this.endpoint(id)
  }

  /** All node ids in the order they were added. */
  nodeIds(): PeerId[] {
    return [...this.order]
  }

  /** Sets the delay of the directed link from -> to. */
  setLinkDelay(from: PeerId, to: PeerId, delay: LinkDelay): void {
    this.linkDelays.set(`${from}\u0000${to}`, delay)
  }

  /** Splits the network: nodes talk only within their group (nodes not listed are isolated). */
  partition(groups: PeerId[][]): void {
    this.groups = new Map()
    groups.forEach((g, i) => {
      for (const id of g) this.groups?.set(id, i)
    })
  }

  /** Ends every partition. */
  heal(): void {
    this.groups = undefined
  }

  /** Crashes a node: it stops receiving, its handlers are dropped, in-flight messages lost. */
  crash(id: PeerId): void {
    const n = this.mustGet(id)
    n.up = false
    n.incarnation++
    n.handlers.clear()
    n.syncHandler = undefined
  }

  /** Brings a crashed node back with a fresh endpoint (the caller restarts its engine). */
  restart(id: PeerId): Transport {
    const n = this.mustGet(id)
    n.up = true
    return this.endpoint(id)
  }

  isUp(id: PeerId): boolean {
    return this.mustGet(id).up
  }

  private mustGet(id: PeerId): Node {
    const n = this.nodes.get(id)
    if (!n) throw new ConsensusError(ConsensusErrorCode.NOT_CONNECTED, `unknown node ${id}`)
    return n
  }

  private connected(a: PeerId, b: PeerId): boolean {
    const na = this.nodes.get(a)
    const nb = this.nodes.get(b)
    if (!na?.up || !nb?.up) return false
    if (!this.groups) return true
    const ga = this.groups.get(a)
    return ga !== undefined && ga === this.groups.get(b)
  }

  private sampleDelay(from: PeerId, to: PeerId): number {
    const d = this.linkDelays.get(`${from}\u0000${to}`) ?? this.opts.delay
    let ms = this.prng.range(d.min, d.max)
    if (this.opts.reorderRate > 0 && this.prng.chance(this.opts.reorderRate)) {
      ms += this.prng.range(0, this.opts.reorderWindow)
    }
    return ms
  }

  private send(from: PeerId, to: PeerId, message: ConsensusMessage): void {
    this.stats.sent++
    this.tap?.(from, to, message)
    if (!this.connected(from, to) || this.prng.chance(this.opts.dropRate)) {
      this.stats.dropped++
      return
    }
    const bytes = encodeConsensusMessage(message)
    const copies = this.prng.chance(this.opts.duplicateRate) ? 2 : 1
    if (copies === 2) this.stats.duplicated++
    const target = this.mustGet(to)
    const inc = target.incarnation
    for (let i = 0; i < copies; i++) {
      this.clock.setTimeout(
        () => {
          // a partition or crash that starts while the message is in flight loses it
          if (target.incarnation !== inc || !this.connected(from, to)) {
            this.stats.dropped++
            return
          }
          this.stats.delivered++
          const decoded = decodeConsensusMessage(bytes)
          for (const h of [...target.handlers]) h(from, decoded)
        },
        this.sampleDelay(from, to),
      )
    }
  }

  private request(from: PeerId, to: PeerId, req: BlockSyncRequest): Promise<BlockSyncResponse> {
    return new Promise((resolve, reject) => {
      let done = false
      const timer = this.clock.setTimeout(() => {
        if (done) return
        done = true
        reject(
          new ConsensusError(
            ConsensusErrorCode.TIMEOUT,
            `block request to ${to} got no answer in ${this.opts.requestTimeout} ms`,
          ),
        )
      }, this.opts.requestTimeout)
      if (!this.connected(from, to)) return
      const target = this.mustGet(to)
      this.clock.setTimeout(
        () => {
          const handler = target.syncHandler
          if (!handler || !this.connected(from, to)) return
          handler(from, req).then(
            (res) => {
              this.clock.setTimeout(
                () => {
                  if (done || !this.connected(from, to)) return
                  done = true
                  timer.cancel()
                  resolve({ blocks: res.blocks.map((b) => b.slice()) })
                },
                this.sampleDelay(to, from),
              )
            },
            () => {},
          )
        },
        this.sampleDelay(from, to),
      )
    })
  }

  private endpoint(id: PeerId): Transport {
    const node = this.mustGet(id)
    const inc = node.incarnation
    const alive = () => node.up && node.incarnation === inc
    return {
      peerId: id,
      peers: () => this.order.filter((p) => p !== id && this.connected(id, p)),
      broadcast: (message) => {
        if (!alive()) return
        for (const p of this.order) if (p !== id) this.send(id, p, message)
      },
      sendTo: (peer, message) => {
        if (!alive() || peer === id) return
        this.send(id, peer, message)
      },
      onMessage: (handler) => {
        if (alive()) node.handlers.add(handler)
        return () => node.handlers.delete(handler)
      },
      requestBlocks: (peer, req) => {
        if (!alive()) {
          return Promise.reject(new ConsensusError(ConsensusErrorCode.STOPPED, `${id} is down`))
        }
        return this.request(id, peer, req)
      },
      onBlockRequest: (handler) => {
        if (alive()) node.syncHandler = handler
        return () => {
          if (node.syncHandler === handler) node.syncHandler = undefined
        }
      },
    }
  }
}
