/** Constants of @aureon/p2p: protocol ids, topic names, default limits and scoring. */
import type { P2PLimits, ScoringOptions } from './types.js'

/** The status handshake protocol; chain-agnostic so a peer on another chain learns why it is dropped. */
export const STATUS_PROTOCOL = '/aureon/status/1'
/** Version byte of the status encoding. */
export const STATUS_VERSION = 1
/** Encoded status length: version(1) chainId(8) genesisHash(32) headHeight(8) headHash(32). */
export const STATUS_LENGTH = 81

/** Gossip kinds: one topic each per chain id. */
export const GOSSIP_KINDS = ['transactions', 'blocks', 'consensus'] as const

/** Response frame first byte. */
export const RESPONSE_OK = 0
export const RESPONSE_ERROR = 1

/** Names a request/response protocol may use (`handle`/`request`): lowercase, digits, dashes. */
export const REQUEST_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/
/** Names used by the package itself. */
export const BLOCKS_REQUEST = 'blocks'
export const CONSENSUS_DIRECT = 'consensus-direct'

/**
 * The gossip topic of `kind` on `chainId`.
 * @example
 * gossipTopic(1n, 'transactions') // '/aureon/1/transactions/1'
 */
export function gossipTopic(chainId: bigint, kind: string): string {
  return `/aureon/${chainId}/${kind}/1`
}

/**
 * The libp2p protocol id of request/response protocol `name` on `chainId`.
 * @example
 * requestProtocol(1n, 'blocks') // '/aureon/1/req/blocks/1'
 */
export function requestProtocol(chainId: bigint, name: string): string {
  return `/aureon/${chainId}/req/${name}/1`
}

/** Default limits (override any field through `P2POptions.limits`). */
export const defaultP2PLimits: P2PLimits = {
  maxMessageBytes: {
    transactions: 1024 * 1024,
    blocks: 8 * 1024 * 1024,
    consensus: 8 * 1024 * 1024,
  },
  maxRequestBytes: 64 * 1024,
  maxResponseBytes: 64 * 1024 * 1024,
  maxBlocksPerRequest: 128,
  gossipRate: { perSecond: 500, burst: 1000 },
  requestRate: { perSecond: 50, burst: 100 },
  requestTimeoutMs: 10_000,
  handshakeTimeoutMs: 5_000,
  maxConnections: 64,
}

/** Default peer scoring (override any field through `P2POptions.scoring`). */
export const defaultScoringOptions: ScoringOptions = {
  invalidMessagePenalty: 25,
  oversizedMessagePenalty: 25,
  rateLimitPenalty: 5,
  badResponsePenalty: 10,
  banThreshold: -100,
  banDurationMs: 10 * 60_000,
  wrongChainBanMs: 60_000,
  recoveryPerSecond: 1,
}
