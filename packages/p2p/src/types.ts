/**
 * Public interfaces of @aureon/p2p. A `P2PNode` is a libp2p host (TCP, noise, yamux, identify,
 * gossipsub) that implements @aureon/consensus's `Transport`.
 */
import type { PeerId, Transport } from '@aureon/consensus'
import type { Libp2p } from '@libp2p/interface'

export type { PeerId, Transport }

/** The three gossip topics of a chain (`/aureon/<chainId>/<kind>/1`). */
export type GossipKind = 'transactions' | 'blocks' | 'consensus'

/** What a gossip validator decides: deliver and relay, drop silently, or drop and penalize. */
export type GossipVerdict = 'accept' | 'ignore' | 'reject'

/** Checks a gossiped payload before it is delivered or relayed. Keep it fast (< 100 ms). */
export type GossipValidator = (
  data: Uint8Array,
  from: PeerId,
) => GossipVerdict | Promise<GossipVerdict>

/** Receives an accepted gossip payload; `from` is the peer that published it. */
export type GossipHandler = (data: Uint8Array, from: PeerId) => void

/** Serves one request of a request/response protocol; throw to answer with an error. */
export type RequestHandler = (request: Uint8Array, from: PeerId) => Promise<Uint8Array> | Uint8Array

/** The head a node advertises in the status handshake. */
export interface ChainHead {
  height: bigint
  hash: Uint8Array
}

/** The status exchanged on connect: a peer with another chain id or genesis is dropped. */
export interface ChainStatus {
  chainId: bigint
  genesisHash: Uint8Array
  headHeight: bigint
  headHash: Uint8Array
}

/** A connected (or handshaking) peer as `listPeers()` shows it. */
export interface PeerInfo {
  id: PeerId
  /** Remote multiaddrs of the open connections. */
  addresses: string[]
  direction: 'inbound' | 'outbound'
  /** True once the status handshake succeeded (only ready peers are in `peers()`). */
  ready: boolean
  /** The peer's last known status (from the handshake or a later `requestStatus`). */
  status?: ChainStatus
  /** Application score (0 = neutral, banned at `scoring.banThreshold`). */
  score: number
  /** Gossipsub's own score of the peer. */
  gossipScore: number
}

/** A temporarily banned peer. */
export interface BanInfo {
  id: PeerId
  reason: string
  /** Wall-clock ms when the ban ends. */
  until: number
}

/** A token bucket: `burst` at once, refilled at `perSecond`. */
export interface RateLimit {
  perSecond: number
  burst: number
}

export interface P2PLimits {
  /** Largest gossip payload per topic; bigger ones are rejected and penalized. */
  maxMessageBytes: Record<GossipKind, number>
  /** Largest request frame a server reads. */
  maxRequestBytes: number
  /** Largest response frame a client reads (a block range is cut to fit). */
  maxResponseBytes: number
  /** A block range request asks for at most this many blocks (more are cut). */
  maxBlocksPerRequest: number
  /** Gossip messages per peer (all topics). */
  gossipRate: RateLimit
  /** Requests served per peer (all protocols). */
  requestRate: RateLimit
  requestTimeoutMs: number
  handshakeTimeoutMs: number
  /** libp2p connection manager's maximum connections. */
  maxConnections: number
}

export interface ScoringOptions {
  invalidMessagePenalty: number
  oversizedMessagePenalty: number
  rateLimitPenalty: number
  badResponsePenalty: number
  /** A peer whose score falls to this (negative) value is banned. */
  banThreshold: number
  banDurationMs: number
  /** How long a peer on another chain or genesis is refused after the handshake fails. */
  wrongChainBanMs: number
  /** Score regained per second toward 0. */
  recoveryPerSecond: number
}

/** A logger (pino fits). */
export interface P2PLogger {
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  debug?(obj: unknown, msg?: string): void
}

export interface P2POptions {
  chainId: bigint
  /** Hash of the genesis block (32 bytes). */
  genesisHash: Uint8Array
  /** The head to advertise (called at each handshake); default: genesis at height 0. */
  head?: () => ChainHead
  /** ed25519 secret key (32-byte seed) of the node's libp2p identity; default: a fresh one. */
  secretKey?: Uint8Array
  /** Listen multiaddrs; default `['/ip4/0.0.0.0/tcp/30333']`. Tests use `/ip4/127.0.0.1/tcp/0`. */
  listen?: string[]
  /** Multiaddrs to announce instead of the listen addresses. */
  announce?: string[]
  /** Bootstrap peers (multiaddrs ending in `/p2p/<peer id>`), dialed at start and redialed. */
  bootstrap?: string[]
  /** Redial interval for disconnected bootstrap peers, ms (default 10 000; 0 = never). */
  bootstrapIntervalMs?: number
  limits?: Partial<P2PLimits>
  scoring?: Partial<ScoringOptions>
  logger?: P2PLogger | null
  /**
   * Reject (and penalize) gossip that does not decode: transactions with the ledger's
   * `decodeTransaction`, blocks with `decodeBlock` (default true; consensus messages are always
   * decoded). Runs before the topic's validator.
   */
  validateEncodings?: boolean
}

/** Counters for metrics (`aureon_p2p_*`). */
export interface P2PStats {
  gossipReceived: number
  gossipRejected: number
  gossipIgnored: number
  gossipPublished: number
  requestsServed: number
  requestsFailed: number
  bans: number
  wrongChainDisconnects: number
}

export interface P2PNodeEvents {
  /** A peer passed the status handshake. */
  'peer:ready': (peer: PeerId, status: ChainStatus) => void
  'peer:disconnect': (peer: PeerId) => void
  'peer:ban': (ban: BanInfo) => void
}

/** The libp2p host. It is a consensus `Transport`; the rest is for the node and the snapshots sync. */
export interface P2PNode extends Transport {
  readonly chainId: bigint
  readonly started: boolean
  /** The underlying libp2p node (escape hatch: metrics, extra protocols). */
  readonly libp2p: Libp2p
  start(): Promise<void>
  stop(): Promise<void>
  /** Listen addresses with `/p2p/<id>` (give one to another node's `bootstrap` or `dial`). */
  addresses(): string[]
  /** Dials a multiaddr (with `/p2p/<id>`) and waits for the status handshake; returns the peer id. */
  dial(addr: string): Promise<PeerId>
  hangUp(peer: PeerId): Promise<void>
  /** Resolves when at least `count` peers are ready (and subscribed to `kind` if given). */
  waitForPeers(count: number, opts?: { timeoutMs?: number; topic?: GossipKind }): Promise<void>
  /** Connected peers with addresses, status and score (for `GET /peers`, `aureon peers`). */
  listPeers(): PeerInfo[]
  bans(): BanInfo[]
  /** Publishes on a gossip topic; resolves with the number of peers it was sent to. */
  publish(kind: GossipKind, data: Uint8Array): Promise<number>
  /** Receives accepted payloads of a topic; returns an unsubscribe function. */
  subscribe(kind: GossipKind, handler: GossipHandler): () => void
  /** Sets the validator of a topic (one per topic; consensus messages are decoded first). */
  setValidator(kind: GossipKind, validator: GossipValidator | undefined): void
  /** Serves request/response protocol `name` (e.g. `snapshot-chunk`); returns an unregister function. */
  handle(
    name: string,
    handler: RequestHandler,
    opts?: { maxRequestBytes?: number },
  ): Promise<() => Promise<void>>
  /** Sends one request and reads one response. */
  request(
    peer: PeerId,
    name: string,
    data: Uint8Array,
    opts?: { timeoutMs?: number; maxResponseBytes?: number },
  ): Promise<Uint8Array>
  /** Asks a peer for its current status (also refreshes `listPeers()`). */
  requestStatus(peer: PeerId): Promise<ChainStatus>
  /** Lowers a peer's score (e.g. it served a block that failed validation); may ban it. */
  penalize(peer: PeerId, penalty: number, reason: string): void
  ban(peer: PeerId, reason: string, ms?: number): void
  on<E extends keyof P2PNodeEvents>(event: E, listener: P2PNodeEvents[E]): () => void
  stats(): P2PStats
}
