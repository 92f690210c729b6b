/**
 * Public interfaces of @aureon/consensus. @aureon/p2p implements `Transport` over libp2p and
 * apps/node wires engines to the ledger: extend these, never rename.
 *
 * Wire format (see docs/consensus.md): every consensus message is RLP,
 * `encodeConsensusMessage(msg)` / `decodeConsensusMessage(bytes)` in `messages.ts`:
 *   [typeByte, ...fields]   typeByte = ConsensusMessageType.*
 *   Proposal  (0): [0, epoch, round, encodedBlock, vrfProof, tc | [], signature]
 *   Vote      (1): [1, epoch, round, height, blockHash, voterIndex, blsSignature]
 *   Timeout   (2): [2, epoch, round, highQC, voterIndex, blsSignature, lastTC | []]
 *   Block     (3): [3, encodedBlock]                (dev / poa / pow gossip)
 *   QC:  [epoch, round, height, blockHash, signerBitmap, aggregateSignature]
 *   TC:  [epoch, round, [[highQCRound, signerBitmap, aggregateSignature]...]]
 * Block sync travels as `BlockSyncRequest` / `BlockSyncResponse` (request/response, not gossip):
 *   request [fromHeight, count], response [[encodedBlock...]].
 * Blocks inside messages are the engine's `ConsensusChain.encodeBlock` bytes (the ledger's
 * `encodeBlock` once wired), so a Transport never needs to understand a block.
 */
import type { Block, BlockHeader } from '@aureon/ledger'

export type { Block, BlockHeader }

// ---------------------------------------------------------------------------------------------
// Peers and transport
// ---------------------------------------------------------------------------------------------

/** A peer's identity as the transport knows it (libp2p peer id string, or a SimNetwork name). */
export type PeerId = string

/** Message type bytes (first RLP item of every consensus message). */
export const ConsensusMessageType = {
  Proposal: 0,
  Vote: 1,
  Timeout: 2,
  Block: 3,
  CommitVote: 4,
} as const
export type ConsensusMessageType = (typeof ConsensusMessageType)[keyof typeof ConsensusMessageType]

/** A BFT quorum certificate: 2f+1 (by stake) BLS votes on (blockHash, round, epoch). */
export interface QuorumCertificate {
  epoch: bigint
  round: bigint
  height: bigint
  blockHash: Uint8Array
  /** Bit i (byte i>>3, bit i&7) set if validator i (in the epoch's sorted set) signed. */
  signers: Uint8Array
  /** BLS aggregate signature (96 bytes); empty for the genesis QC. */
  signature: Uint8Array
}

/** One group of a timeout certificate: signers that reported the same highQC round. */
export interface TimeoutCertificateGroup {
  highQCRound: bigint
  /** Signer bitmap (same layout as a QC's). */
  signers: Uint8Array
  /** BLS aggregate over `timeoutSigningBytes(epoch, round, highQCRound)` of the group. */
  signature: Uint8Array
}

/**
 * A BFT timeout certificate: 2f+1 (by stake) timeouts for one round. Timeouts sign their own
 * highQC round, so signers are grouped by it: one aggregate signature per distinct highQC round
 * (usually one to three groups), each checked with one fastAggregateVerify.
 */
export interface TimeoutCertificate {
  epoch: bigint
  round: bigint
  /** Sorted by highQCRound ascending; signer sets are disjoint. */
  groups: TimeoutCertificateGroup[]
}

/** A BFT proposal. The block's `header.consensus` carries the encoded `BftHeaderData`. */
export interface ProposalMessage {
  type: typeof ConsensusMessageType.Proposal
  epoch: bigint
  round: bigint
  /** `ConsensusChain.encodeBlock(block)` bytes. */
  block: Uint8Array
  /** ECVRF proof over the leader-election alpha of (epoch seed, round); empty for round robin. */
  vrfProof: Uint8Array
  /** Present when the previous round ended by timeout. */
  tc?: TimeoutCertificate
  /** ed25519 signature of the proposer over `proposalSigningBytes`. */
  signature: Uint8Array
}

export interface VoteMessage {
  type: typeof ConsensusMessageType.Vote
  epoch: bigint
  round: bigint
  height: bigint
  blockHash: Uint8Array
  /** Index of the voter in the epoch's validator set (sorted by address). */
  voter: number
  /** BLS signature over `voteSigningBytes(epoch, round, height, blockHash)`. */
  signature: Uint8Array
}

/**
 * A BFT commit vote: the signer holds a QC for the block and had signed no timeout for its round
 * or later (see docs/consensus.md). 2f+1 of them commit the block one message delay after the QC.
 */
export interface CommitVoteMessage {
  type: typeof ConsensusMessageType.CommitVote
  epoch: bigint
  round: bigint
  height: bigint
  blockHash: Uint8Array
  voter: number
  /** BLS signature over `commitVoteSigningBytes(epoch, round, height, blockHash)`. */
  signature: Uint8Array
}

export interface TimeoutMessage {
  type: typeof ConsensusMessageType.Timeout
  epoch: bigint
  round: bigint
  highQC: QuorumCertificate
  voter: number
  /** BLS signature over `timeoutSigningBytes(epoch, round, highQC.round)`. */
  signature: Uint8Array
  /** The TC by which the sender entered `round`, if it did so by timeout (lets laggards catch up). */
  lastTC?: TimeoutCertificate
}

/** A sealed block gossiped by the dev, PoA and PoW engines. */
export interface BlockMessage {
  type: typeof ConsensusMessageType.Block
  block: Uint8Array
}

export type ConsensusMessage =
  | ProposalMessage
  | VoteMessage
  | TimeoutMessage
  | BlockMessage
  | CommitVoteMessage

/** Ask a peer for committed blocks `fromHeight .. fromHeight+count-1`. */
export interface BlockSyncRequest {
  fromHeight: bigint
  count: number
}

/** Committed blocks in height order (encoded; with the commit proof in each header). */
export interface BlockSyncResponse {
  blocks: Uint8Array[]
}

export type MessageHandler = (from: PeerId, message: ConsensusMessage) => void
export type BlockSyncHandler = (from: PeerId, req: BlockSyncRequest) => Promise<BlockSyncResponse>

/**
 * How an engine reaches its peers. Delivery is best effort: messages may be lost, duplicated,
 * delayed or reordered; engines cope. Implementations: `SimNetwork` endpoints (in process),
 * @aureon/p2p (libp2p gossip + request/response).
 */
export interface Transport {
  /** This node's identity. */
  readonly peerId: PeerId
  /** Currently connected peers (not including self). */
  peers(): PeerId[]
  /** Sends to every connected peer (not to self). */
  broadcast(message: ConsensusMessage): void
  /** Sends to one peer; silently dropped if not connected. */
  sendTo(peer: PeerId, message: ConsensusMessage): void
  /** Registers the handler of incoming messages; returns an unsubscribe function. */
  onMessage(handler: MessageHandler): () => void
  /** Asks one peer for blocks; rejects on timeout or disconnection. */
  requestBlocks(peer: PeerId, req: BlockSyncRequest): Promise<BlockSyncResponse>
  /** Serves block requests from peers; returns an unsubscribe function. */
  onBlockRequest(handler: BlockSyncHandler): () => void
}

// ---------------------------------------------------------------------------------------------
// The chain as consensus sees it
// ---------------------------------------------------------------------------------------------

/** Result of executing a proposed block on its parent's state (kept pending until commit). */
export interface ExecutedBlock {
  block: Block
  hash: Uint8Array
  stateRoot: Uint8Array
}

/** A validator as an engine sees it (the ledger's `Validator` fits). */
export interface ConsensusValidator {
  address: Uint8Array
  /** ed25519 public key (32 bytes): proposal signatures and the ECVRF key. */
  publicKey: Uint8Array
  /** BLS12-381 G1 public key (48 bytes). */
  blsPublicKey: Uint8Array
  stake: bigint
}

export interface ConsensusValidatorSet {
  epoch: bigint
  /** Sorted by address. */
  validators: ConsensusValidator[]
  totalStake: bigint
}

/**
 * What an engine needs from the ledger: build, execute, commit, read. apps/node's
 * `LedgerChain` implements it over @aureon/ledger (StateProcessor + ChainStore + TxPool);
 * `MemoryChain` is a small deterministic stand-in for tests and simulations.
 */
export interface ConsensusChain {
  readonly chainId: bigint
  /** Blocks per epoch (validator set changes after heights that are multiples of it). */
  readonly epochLength: bigint
  /** The committed head. */
  head(): BlockHeader
  blockHash(header: BlockHeader): Uint8Array
  encodeBlock(block: Block): Uint8Array
  decodeBlock(bytes: Uint8Array): Block
  getBlockByHeight(height: bigint): Promise<Block | undefined>
  /** Builds a block on `parent` (executed or committed) with pool transactions. */
  buildBlock(opts: {
    parent: BlockHeader
    timestamp: bigint
    proposer: Uint8Array
    consensus: Uint8Array
  }): Promise<ExecutedBlock>
  /** Re-executes a block on its parent's (pending or committed) state; throws if invalid. */
  executeBlock(block: Block): Promise<ExecutedBlock>
  /** Commits a block executed before (or executes it first); its parent must be the head. */
  commitBlock(block: Block): Promise<void>
  /** Rolls the committed head back to `height` (PoW reorgs). */
  rollbackTo?(height: bigint): Promise<void>
  /**
   * Where the committed history starts: 0 for a chain from genesis, H for a chain started from a
   * snapshot of block H (blocks 1..H-1 are absent, apart from recent ones backfilled for
   * consensus; genesis may be kept at 0). The fork-choice engines start their block tree there
   * and refuse forks at or below it (`ERR_BELOW_BASE`). Optional: without it an engine takes the
   * lowest block of the hash-linked run of stored blocks that ends at the head.
   */
  baseHeight?(): bigint
  /**
   * The validator set recorded in committed state after the boundary block `epoch x
   * epochLength` (genesis for 0). The BFT engine runs epoch e with `validatorSet(e - 1)`
   * (one epoch of activation lag, so the set is always final when it is used).
   */
  validatorSet(epoch: bigint): Promise<ConsensusValidatorSet>
}

// ---------------------------------------------------------------------------------------------
// Engines
// ---------------------------------------------------------------------------------------------

export type EngineName = 'dev' | 'poa' | 'bft' | 'pow'

/** A committed block event. */
export interface CommitEvent {
  block: Block
  hash: Uint8Array
  height: bigint
}

export interface ConsensusEvents {
  commit: (ev: CommitEvent) => void
  /** Evidence of misbehaviour (e.g. equivocation) detected. */
  evidence: (ev: EquivocationEvidence) => void
  error: (err: Error) => void
}

/** Two conflicting signed messages for one (epoch, round) by one validator. */
export interface EquivocationEvidence {
  kind: 'proposal' | 'vote'
  epoch: bigint
  round: bigint
  validator: Uint8Array
  first: ConsensusMessage
  second: ConsensusMessage
}

/** Every engine implements this. */
export interface ConsensusEngine {
  readonly name: EngineName
  start(): Promise<void>
  stop(): Promise<void>
  /** Handles one message from a peer (the engine also subscribes to its Transport itself). */
  onMessage(from: PeerId, message: ConsensusMessage): void
  /** Builds and sends a proposal/sealed block now if this node may (returns it, or undefined). */
  propose(): Promise<Block | undefined>
  /** Checks a block's consensus rules (signature, turn, work, QC) and its execution. */
  validateBlock(block: Block): Promise<void>
  /** Commits a decided block through the chain and emits `commit`. */
  commit(block: Block): Promise<void>
  on<E extends keyof ConsensusEvents>(event: E, listener: ConsensusEvents[E]): () => void
}

/** A virtual or real clock: engines never read Date.now directly. */
export interface Clock {
  now(): number
  setTimeout(fn: () => void, ms: number): { cancel(): void }
}
