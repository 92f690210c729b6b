/**
 * The BFT engine: chained HotStuff with the 2-chain commit rule (Jolteon / DiemBFT v4 family),
 * BLS quorum certificates, timeout certificates, a pacemaker with exponential backoff, persisted
 * safety rules, ECVRF-keyed stake-weighted leaders with a round-robin fallback, block sync.
 * See docs/consensus.md for the rules and the safety argument.
 */
import { addressFromPublicKey, bls, ed25519, sha256 } from '@aureon/crypto'

import { systemClock } from '../clock.js'
import { ConsensusError, ConsensusErrorCode } from '../errors.js'
import { Emitter } from '../events.js'
import {
  type BftHeaderData,
  commitVoteSigningBytes,
  decodeBftHeaderData,
  encodeBftHeaderData,
  encodeConsensusMessage,
  encodeQC,
  genesisQC,
  proposalSigningBytes,
  timeoutSigningBytes,
  voteSigningBytes,
  vrfAlpha,
} from '../messages.js'
import { BFT_BASE_TIMEOUT_MS, BFT_MAX_BACKOFF_EXPONENT, BFT_SYNC_BATCH } from '../params.js'
import {
  type Block,
  type BlockSyncRequest,
  type BlockSyncResponse,
  type Clock,
  type CommitVoteMessage,
  type ConsensusChain,
  type ConsensusEngine,
  type ConsensusEvents,
  type ConsensusMessage,
  ConsensusMessageType,
  type ConsensusValidatorSet,
  type PeerId,
  type ProposalMessage,
  type QuorumCertificate,
  type TimeoutCertificate,
  type TimeoutMessage,
  type Transport,
  type VoteMessage,
} from '../types.js'
import {
  bitmapIndices,
  makeBitmap,
  quorumStake,
  roundRobinLeader,
  stakeOf,
  stakeWeightedPick,
} from './leader.js'
import { verifyQuorumCertificate } from './qc.js'
import { type ConsensusStore, initialSafetyData, type SafetyData, SafetyStore } from './safety.js'
import {
  cachedEd25519Verify,
  cachedSignersVerify,
  cachedVrfHash,
  cachedVrfProve,
  cachedVrfVerify,
} from './verify-cache.js'

/** A validator's secret keys. */
export interface BftKeys {
  /** ed25519 secret key (32-byte seed): proposal signatures and ECVRF proofs. */
  secretKey: Uint8Array
  /** BLS secret key (32 bytes): votes and timeouts. */
  blsSecretKey: Uint8Array
}

export interface BftEngineOptions {
  chain: ConsensusChain
  transport: Transport
  /** Where safety rules, the head QC and evidence persist (e.g. `root.namespace('consensus')`). */
  store: ConsensusStore
  /** Validator keys; without them the node follows (verifies and commits) but never signs. */
  keys?: BftKeys
  clock?: Clock
  /** Round timeout before backoff, ms (default BFT_BASE_TIMEOUT_MS). */
  baseTimeout?: number
  /** Timeout doubles per consecutive timed-out round, up to 2^this (default 6). */
  maxBackoffExponent?: number
  /** Blocks per sync request (default 64). */
  syncBatch?: number
  /** Test hook: a Byzantine validator that equivocates (two proposals, votes for all). */
  byzantine?: { equivocate?: boolean }
}

/** Counters for metrics and benchmarks. */
export interface BftStats {
  round: bigint
  commits: number
  proposals: number
  votes: number
  timeouts: number
  timeoutCertificates: number
  /** Commit votes this node signed. */
  commitVotes: number
  /** Blocks committed by a quorum of commit votes (the rest by the 2-chain rule). */
  fastCommits: number
  rejected: number
  syncs: number
}

interface EpochInfo {
  epoch: bigint
  set: ConsensusValidatorSet
  quorum: bigint
  index: Map<string, number>
  seed: Uint8Array
}

interface TreeNode {
  block: Block
  hash: Uint8Array
  hex: string
  height: bigint
  round: bigint
  epoch: bigint
  parentHex: string
  /** VRF output of the block (sha256 of the hash for genesis). */
  beta: Uint8Array
  /** The QC certifying this block, once known. */
  qc?: QuorumCertificate
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0
const maxBig = (a: bigint, b: bigint): bigint => (a > b ? a : b)
const sameQC = (a: QuorumCertificate, b: QuorumCertificate): boolean =>
  a.round === b.round &&
  a.epoch === b.epoch &&
  a.height === b.height &&
  eq(a.blockHash, b.blockHash) &&
  eq(a.signers, b.signers) &&
  eq(a.signature, b.signature)

/**
 * The BFT engine.
 * @example
 * const engine = new BftEngine({ chain, transport, store, keys })
 * engine.on('commit', (ev) => console.log('committed', ev.height))
 * await engine.start()
 */
export class BftEngine implements ConsensusEngine {
  readonly name = 'bft' as const
  readonly stats: BftStats = {
    round: 0n,
    commits: 0,
    proposals: 0,
    votes: 0,
    timeouts: 0,
    timeoutCertificates: 0,
    commitVotes: 0,
    fastCommits: 0,
    rejected: 0,
    syncs: 0,
  }
  /** Equivocation evidence seen so far. */
  readonly evidence: import('../types.js').EquivocationEvidence[] = []

  private readonly chain: ConsensusChain
  private readonly transport: Transport
  private readonly safetyStore: SafetyStore
  private readonly clock: Clock
  private readonly opts: BftEngineOptions
  private readonly events = new Emitter<ConsensusEvents>()
  private readonly address?: Uint8Array
  private readonly publicKey?: Uint8Array

  private safety: SafetyData = initialSafetyData()
  private round = 0n
  private highQC!: QuorumCertificate
  private lastTC?: TimeoutCertificate
  private consecutiveTimeouts = 0
  private proposedRound = -1n
  private timer?: { cancel(): void }
  private running = false
  private queue: Promise<void> = Promise.resolve()
  private unsubscribe: (() => void)[] = []
  private syncing = false

  private readonly tree = new Map<string, TreeNode>()
  private root!: TreeNode
  private genesisHash!: Uint8Array
  private readonly epochs = new Map<bigint, EpochInfo>()
  private readonly votes = new Map<string, Map<number, VoteMessage>>()
  private readonly commitVotes = new Map<string, Map<number, CommitVoteMessage>>()
  /** Blocks (hex hash -> height) a quorum of commit votes certified as committable. */
  private readonly commitQuorums = new Map<string, bigint>()
  private readonly timeouts = new Map<string, Map<number, TimeoutMessage>>()
  private readonly seenProposals = new Map<string, ProposalMessage & { hash: Uint8Array }>()
  private readonly seenVotes = new Map<string, VoteMessage>()
  /** QCs verified here (encoded, hex) with their round; pruned as the committed root advances. */
  private readonly verifiedQCs = new Map<string, bigint>()
  /** Certificates already formed, by key, with their round (pruned as rounds advance). */
  private readonly formed = new Map<string, bigint>()

  constructor(opts: BftEngineOptions) {
    this.opts = opts
    this.chain = opts.chain
    this.transport = opts.transport
    this.safetyStore = new SafetyStore(opts.store)
    this.clock = opts.clock ?? systemClock
    if (opts.keys) {
      this.publicKey = ed25519.getPublicKey(opts.keys.secretKey)
      this.address = addressFromPublicKey(this.publicKey)
    }
  }

  on<E extends keyof ConsensusEvents>(event: E, listener: ConsensusEvents[E]): () => void {
    return this.events.on(event, listener)
  }

  /** The current round. */
  currentRound(): bigint {
    return this.round
  }

  /** The highest QC known. */
  highestQC(): QuorumCertificate {
    return this.highQC
  }

  async start(): Promise<void> {
    if (this.running) return
    this.safety = await this.safetyStore.load()
    const genesis = await this.chain.getBlockByHeight(0n)
    /* c8 ignore next 3 */
    if (!genesis) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_CONFIG, 'the chain has no genesis block')
    }
    this.genesisHash = this.chain.blockHash(genesis.header)
    const head = this.chain.head()
    this.root = this.makeNode({ header: head, transactions: [] } as Block, undefined)
    const fullHead = await this.chain.getBlockByHeight(head.height)
    if (fullHead) this.root.block = fullHead
    this.tree.set(this.root.hex, this.root)
    const headQC =
      head.height === 0n ? genesisQC(this.genesisHash) : await this.safetyStore.loadHeadQC()
    this.highQC = headQC ?? genesisQC(this.genesisHash)
    this.root.qc = this.highQC
    // the highest QC it held when it last signed: its timeouts must never report less
    const saved = this.safety.highQC
    if (saved && saved.round > this.highQC.round && (await this.verifyQCSafe(saved))) {
      this.highQC = saved
    }
    this.round = this.highQC.round + 1n
    if (this.safety.lastVotedRound >= this.round) this.round = this.safety.lastVotedRound
    this.running = true
    this.unsubscribe.push(
      this.transport.onMessage((from, m) => this.onMessage(from, m)),
      this.transport.onBlockRequest((from, req) => this.serveBlocks(from, req)),
    )
    this.resetTimer()
    await this.serial(() => this.maybePropose())
  }

  async stop(): Promise<void> {
    this.running = false
    this.timer?.cancel()
    for (const u of this.unsubscribe) u()
    this.unsubscribe = []
    await this.queue
  }

  onMessage(from: PeerId, message: ConsensusMessage): void {
    void this.serial(() => this.handle(from, message))
  }

  async propose(): Promise<Block | undefined> {
    let out: Block | undefined
    await this.serial(async () => {
      out = await this.maybePropose()
    })
    return out
  }

  async validateBlock(block: Block): Promise<void> {
    const data = this.headerData(block)
    if (!(await this.verifyQC(data.parentQC))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_QC, 'the parent QC does not verify')
    }
    if (!eq(data.parentQC.blockHash, block.header.parentHash)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_QC, 'the parent QC is for another block')
    }
    const info = await this.epochInfo(data.epoch)
    const idx = info.index.get(hex(block.header.proposer))
    if (idx === undefined) {
      throw new ConsensusError(ConsensusErrorCode.WRONG_PROPOSER, 'proposer is not a validator')
    }
    const v = info.set.validators[idx]
    if (!cachedVrfVerify(v.publicKey, data.vrfProof, vrfAlpha(info.seed, data.epoch, data.round))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_VRF, 'the VRF proof does not verify')
    }
    await this.chain.executeBlock(block)
  }

  async commit(block: Block): Promise<void> {
    await this.chain.commitBlock(block)
    this.emitCommit(block)
  }

  // -------------------------------------------------------------------------------------------

  private serial(fn: () => Promise<unknown>): Promise<void> {
    const next = this.queue.then(async () => {
      if (!this.running) return
      try {
        await fn()
      } catch (e) {
        this.stats.rejected++
        if (!(e instanceof ConsensusError)) this.events.emit('error', e as Error)
      }
    })
    this.queue = next
    return next
  }

  private async handle(from: PeerId, m: ConsensusMessage): Promise<void> {
    switch (m.type) {
      case ConsensusMessageType.Proposal:
        return this.behindCheck(from, this.handleProposal(from, m))
      case ConsensusMessageType.Vote:
        return this.handleVote(m)
      case ConsensusMessageType.Timeout:
        return this.behindCheck(from, this.handleTimeout(from, m))
      case ConsensusMessageType.CommitVote:
        return this.handleCommitVote(m)
      default:
        this.stats.rejected++
    }
  }

  private epochOf(height: bigint): bigint {
    return height === 0n ? 0n : (height - 1n) / this.chain.epochLength
  }

  private async epochInfo(epoch: bigint): Promise<EpochInfo> {
    let info = this.epochs.get(epoch)
    if (info) return info
    // Epoch e runs with the set recorded at the boundary block (e - 1) x L: one epoch of lag,
    // so the set is read from committed state (identical on every honest node) even though the
    // 2-chain rule commits the boundary block e x L only after blocks of epoch e are certified.
    const source = epoch === 0n ? 0n : epoch - 1n
    if (this.root.height < source * this.chain.epochLength) {
      throw new ConsensusError(
        ConsensusErrorCode.EPOCH_NOT_FINAL,
        `the validator set of epoch ${epoch} is not final yet (needs block ${source * this.chain.epochLength} committed)`,
      )
    }
    const set = { ...(await this.chain.validatorSet(source)), epoch }
    if (set.validators.length === 0 || set.totalStake <= 0n) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_CONFIG, `epoch ${epoch} has no stake`)
    }
    let seed = this.genesisHash
    if (epoch >= 2n) {
      const b = await this.chain.getBlockByHeight((epoch - 1n) * this.chain.epochLength)
      if (!b) {
        throw new ConsensusError(
          ConsensusErrorCode.UNKNOWN_PARENT,
          `the seed block of epoch ${epoch} is not committed yet`,
        )
      }
      seed = sha256(cachedVrfHash(this.headerData(b).vrfProof))
    }
    info = {
      epoch,
      set,
      quorum: quorumStake(set.totalStake),
      index: new Map(set.validators.map((v, i) => [hex(v.address), i])),
      seed,
    }
    this.epochs.set(epoch, info)
    return info
  }

  private headerData(block: Block): BftHeaderData {
    try {
      return decodeBftHeaderData(block.header.consensus)
    } catch (e) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'bad BFT header data', {
        cause: e,
      })
    }
  }

  private makeNode(block: Block, data: BftHeaderData | undefined): TreeNode {
    const hash = this.chain.blockHash(block.header)
    let d = data
    if (!d && block.header.height > 0n) d = this.headerData(block)
    return {
      block,
      hash,
      hex: hex(hash),
      height: block.header.height,
      round: d ? d.round : 0n,
      epoch: d ? d.epoch : 0n,
      parentHex: hex(block.header.parentHash),
      beta: d ? cachedVrfHash(d.vrfProof) : sha256(hash),
    }
  }

  private myIndex(info: EpochInfo): number | undefined {
    return this.address ? info.index.get(hex(this.address)) : undefined
  }

  /** Leader of `round` if entered by the QC `qc` (normal) — undefined if qc.round+1 != round. */
  private async normalLeader(qc: QuorumCertificate, round: bigint): Promise<number | undefined> {
    if (qc.round + 1n !== round) return undefined
    const node = this.tree.get(hex(qc.blockHash))
    if (!node) return undefined
    const info = await this.epochInfo(this.epochOf(node.height + 1n))
    return stakeWeightedPick(info.set, node.beta, round)
  }

  // ---------------------------------------------------------------- certificates

  private async verifyQC(qc: QuorumCertificate): Promise<boolean> {
    if (qc.round === 0n) {
      return qc.height === 0n && eq(qc.blockHash, this.genesisHash) && qc.signature.length === 0
    }
    const k = hex(encodeQC(qc))
    if (this.verifiedQCs.has(k)) return true
    if (qc.epoch !== this.epochOf(qc.height)) return false
    const info = await this.epochInfo(qc.epoch)
    const ok = verifyQuorumCertificate(qc, info.set, { memoise: true })
    if (ok) this.verifiedQCs.set(k, qc.round)
    return ok
  }

  private async verifyQCSafe(qc: QuorumCertificate): Promise<boolean> {
    try {
      return await this.verifyQC(qc)
    } catch {
      return false
    }
  }

  private async verifyTC(tc: TimeoutCertificate): Promise<boolean> {
    const info = await this.epochInfo(tc.epoch)
    const n = info.set.validators.length
    const all = new Set<number>()
    for (const g of tc.groups) {
      const idx = bitmapIndices(g.signers, n)
      if (!idx || idx.length === 0) return false
      for (const i of idx) {
        if (all.has(i)) return false
        all.add(i)
      }
      const ok = cachedSignersVerify(
        g.signature,
        timeoutSigningBytes(tc.epoch, tc.round, g.highQCRound),
        info.set,
        idx,
      )
      if (!ok) return false
    }
    return stakeOf(info.set.validators, all) >= info.quorum
  }

  /**
   * Takes in a QC: raises highQC, applies the 2-chain commit rule, advances the round.
   * Returns false if the certified block is unknown (a sync from `from` is started).
   */
  private async processQC(qc: QuorumCertificate, from?: PeerId): Promise<boolean> {
    const node = this.tree.get(hex(qc.blockHash))
    if (!node) {
      if (qc.height > this.root.height && (await this.verifyQC(qc)) && from !== undefined) {
        this.startSync(from)
      }
      return false
    }
    if (node.qc && qc.round <= this.highQC.round) return true
    if (!(await this.verifyQC(qc))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_QC, `QC of round ${qc.round} is invalid`)
    }
    node.qc = qc
    if (qc.round > this.highQC.round) this.highQC = qc
    await this.maybeCommitVote(node, qc)
    // a quorum of commit votes for this block may have arrived before its QC
    if (this.commitQuorums.has(node.hex) && node.height > this.root.height) {
      this.stats.fastCommits++
      await this.commitUpTo(node)
    }
    const parent = this.tree.get(node.parentHex)
    if (parent && node.round === parent.round + 1n && parent.height > this.root.height) {
      await this.commitUpTo(parent)
    }
    await this.advanceRound(qc.round + 1n, 'qc')
    return true
  }

  private async processTC(tc: TimeoutCertificate): Promise<void> {
    if (tc.round + 1n <= this.round && this.lastTC && this.lastTC.round >= tc.round) return
    if (!(await this.verifyTC(tc))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_TC, `TC of round ${tc.round} is invalid`)
    }
    if (!this.lastTC || tc.round > this.lastTC.round) this.lastTC = tc
    await this.advanceRound(tc.round + 1n, 'tc')
  }

  // ---------------------------------------------------------------- pacemaker

  private timeoutMs(): number {
    const exp = Math.min(
      this.consecutiveTimeouts,
      this.opts.maxBackoffExponent ?? BFT_MAX_BACKOFF_EXPONENT,
    )
    return (this.opts.baseTimeout ?? BFT_BASE_TIMEOUT_MS) * 2 ** exp
  }

  private resetTimer(): void {
    this.timer?.cancel()
    if (!this.running) return
    const round = this.round
    this.timer = this.clock.setTimeout(() => {
      void this.serial(() => this.localTimeout(round))
    }, this.timeoutMs())
  }

  private async advanceRound(round: bigint, via: 'qc' | 'tc'): Promise<void> {
    if (round <= this.round) return
    this.round = round
    this.stats.round = round
    if (via === 'qc') this.consecutiveTimeouts = 0
    else this.consecutiveTimeouts++
    this.resetTimer()
    // forget collections of rounds far behind
    for (const k of this.votes.keys())
      if (BigInt(k.split(':')[0]) + 2n < round) this.votes.delete(k)
    for (const k of this.commitVotes.keys())
      if (BigInt(k.split(':')[0]) + 2n < round) this.commitVotes.delete(k)
    for (const k of this.timeouts.keys()) {
      if (BigInt(k.split(':')[1]) + 2n < round) this.timeouts.delete(k)
    }
    for (const [k, r] of this.formed) if (r + 2n < round) this.formed.delete(k)
    await this.maybePropose()
  }

  private async localTimeout(round: bigint): Promise<void> {
    if (round !== this.round || !this.opts.keys) {
      this.resetTimer()
      return
    }
    this.stats.timeouts++
    // report the highest QC it ever signed with (persisted), even if a restart lost it
    const highQC = this.higherQC(this.safety.highQC)
    const epoch = this.epochOf(highQC.height + 1n)
    const info = await this.epochInfo(epoch)
    const me = this.myIndex(info)
    this.consecutiveTimeouts = Math.max(this.consecutiveTimeouts, 1)
    this.resetTimer()
    if (me === undefined) return
    // after a commit vote for round c it signs no timeout at or below c (holding QC(c) puts it
    // in round c + 1 or later, so this only guards against a bug)
    /* c8 ignore next */
    if (round <= this.safety.commitVotedRound) return
    if (this.safety.lastVotedRound < round || this.safety.lastTimeoutRound < round) {
      this.safety = {
        ...this.safety,
        lastVotedRound: maxBig(this.safety.lastVotedRound, round),
        lastTimeoutRound: round,
        highQC,
      }
      await this.safetyStore.save(this.safety)
    }
    const msg: TimeoutMessage = {
      type: ConsensusMessageType.Timeout,
      epoch,
      round,
      highQC,
      voter: me,
      signature: bls.sign(
        timeoutSigningBytes(epoch, round, highQC.round),
        this.opts.keys.blsSecretKey,
      ),
      ...(this.lastTC && this.lastTC.round + 1n === round ? { lastTC: this.lastTC } : {}),
    }
    this.transport.broadcast(msg)
    await this.handleTimeout(this.transport.peerId, msg)
  }

  /** this.highQC, or `qc` if that is higher. */
  private higherQC(qc: QuorumCertificate | undefined): QuorumCertificate {
    return qc && qc.round > this.highQC.round ? qc : this.highQC
  }

  // ---------------------------------------------------------------- proposing

  private async maybePropose(): Promise<Block | undefined> {
    if (!this.opts.keys || this.proposedRound >= this.round || !this.running) return undefined
    const round = this.round
    const parent = this.tree.get(hex(this.highQC.blockHash))
    if (!parent) return undefined
    const epoch = this.epochOf(parent.height + 1n)
    const info = await this.epochInfo(epoch)
    const me = this.myIndex(info)
    if (me === undefined) return undefined
    let tc: TimeoutCertificate | undefined
    if (this.highQC.round + 1n === round) {
      if ((await this.normalLeader(this.highQC, round)) !== me) return undefined
    } else if (this.lastTC && this.lastTC.round + 1n === round) {
      if (roundRobinLeader(info.set, round) !== me) return undefined
      tc = this.lastTC
    } else {
      return undefined
    }
    this.proposedRound = round
    const keys = this.opts.keys
    const vrfProof = cachedVrfProve(keys.secretKey, vrfAlpha(info.seed, epoch, round))
    const consensus = encodeBftHeaderData({ epoch, round, parentQC: this.highQC, vrfProof })
    const now = BigInt(Math.floor(this.clock.now()))
    const ts = now > parent.block.header.timestamp ? now : parent.block.header.timestamp + 1n
    const make = async (timestamp: bigint): Promise<ProposalMessage & { blk: Block }> => {
      const ex = await this.chain.buildBlock({
        parent: parent.block.header,
        timestamp,
        proposer: this.address as Uint8Array,
        consensus,
      })
      return {
        type: ConsensusMessageType.Proposal,
        epoch,
        round,
        block: this.chain.encodeBlock(ex.block),
        vrfProof,
        ...(tc ? { tc } : {}),
        signature: ed25519.sign(proposalSigningBytes(epoch, round, ex.hash), keys.secretKey),
        blk: ex.block,
      }
    }
    const { blk, ...msg } = await make(ts)
    this.stats.proposals++
    if (this.opts.byzantine?.equivocate) {
      const { blk: _b, ...other } = await make(ts + 1n)
      const peers = this.transport.peers()
      peers.forEach((p, i) => {
        this.transport.sendTo(p, i % 2 === 0 ? msg : other)
        if (i === 0) this.transport.sendTo(p, other)
      })
    } else {
      this.transport.broadcast(msg)
    }
    await this.handleProposal(this.transport.peerId, msg)
    return blk
  }

  // ---------------------------------------------------------------- handlers

  /**
   * A proposal or timeout from an epoch whose validator set this node cannot read yet means the
   * node is more than an epoch behind: it cannot check the message, so it block-syncs from the
   * sender (every synced block's QC is verified as the epochs become final) and drops the message.
   */
  private async behindCheck(from: PeerId, handling: Promise<void>): Promise<void> {
    try {
      await handling
    } catch (e) {
      if (e instanceof ConsensusError && e.code === ConsensusErrorCode.EPOCH_NOT_FINAL) {
        this.startSync(from)
      }
      throw e
    }
  }

  private async handleProposal(from: PeerId, m: ProposalMessage): Promise<void> {
    const block = this.chain.decodeBlock(m.block)
    const data = this.headerData(block)
    const hash = this.chain.blockHash(block.header)
    if (data.round !== m.round || data.epoch !== m.epoch) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, 'proposal round/epoch mismatch')
    }
    if (data.epoch !== this.epochOf(block.header.height)) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_BLOCK,
        'block epoch does not match height',
      )
    }
    if (block.header.height <= this.root.height) return
    const info = await this.epochInfo(data.epoch)
    const idx = info.index.get(hex(block.header.proposer))
    if (idx === undefined) {
      throw new ConsensusError(ConsensusErrorCode.WRONG_PROPOSER, 'proposer is not a validator')
    }
    const v = info.set.validators[idx]
    if (
      !cachedEd25519Verify(m.signature, proposalSigningBytes(m.epoch, m.round, hash), v.publicKey)
    ) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_SIGNATURE, 'bad proposal signature')
    }
    // equivocation: two signed proposals for one (epoch, round) by one proposer
    const pk = `${m.epoch}:${m.round}:${idx}`
    const prev = this.seenProposals.get(pk)
    if (prev && !eq(prev.hash, hash)) {
      await this.recordEvidence('proposal', m.epoch, m.round, v.address, prev, m)
    } else if (!prev) {
      this.seenProposals.set(pk, { ...m, hash })
    }
    if (this.tree.has(hex(hash))) return
    const qc = data.parentQC
    if (!eq(qc.blockHash, block.header.parentHash)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_QC, 'parent QC is for another block')
    }
    if (!(await this.processQC(qc, from))) return
    // processQC skips QCs for blocks already certified here (every validator forms QCs from the
    // broadcast votes), but the block header must carry a valid QC of its own: synced nodes and
    // validateBlock check it. Free when it is the very QC this node formed or verified.
    const known = this.tree.get(hex(qc.blockHash))?.qc
    if (known && !sameQC(known, qc) && !(await this.verifyQC(qc))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_QC, 'the parent QC does not verify')
    }
    if (m.tc) await this.processTC(m.tc)
    const parent = this.tree.get(hex(qc.blockHash))
    if (!parent || block.header.height !== parent.height + 1n || qc.height !== parent.height) {
      throw new ConsensusError(ConsensusErrorCode.UNKNOWN_PARENT, 'proposal does not extend its QC')
    }
    // leader rule
    const allowed: number[] = []
    if (qc.round + 1n === m.round) allowed.push(stakeWeightedPick(info.set, parent.beta, m.round))
    if (m.tc && m.tc.round + 1n === m.round) allowed.push(roundRobinLeader(info.set, m.round))
    if (!allowed.includes(idx)) {
      throw new ConsensusError(
        ConsensusErrorCode.WRONG_PROPOSER,
        `validator ${idx} is not the leader of round ${m.round}`,
      )
    }
    if (!cachedVrfVerify(v.publicKey, data.vrfProof, vrfAlpha(info.seed, m.epoch, m.round))) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_VRF, 'bad VRF proof in proposal')
    }
    await this.chain.executeBlock(block)
    const node = this.makeNode(block, data)
    this.tree.set(node.hex, node)
    await this.maybeVote(node, qc, m.tc)
  }

  private safeToVote(round: bigint, qcRound: bigint, tc?: TimeoutCertificate): boolean {
    if (round <= this.safety.lastVotedRound || round <= qcRound) return false
    if (round === qcRound + 1n) return true
    if (!tc || round !== tc.round + 1n) return false
    let maxHQC = 0n
    for (const g of tc.groups) if (g.highQCRound > maxHQC) maxHQC = g.highQCRound
    return qcRound >= maxHQC
  }

  private async maybeVote(
    node: TreeNode,
    qc: QuorumCertificate,
    tc: TimeoutCertificate | undefined,
  ): Promise<void> {
    const keys = this.opts.keys
    if (!keys || node.round !== this.round) return
    const info = await this.epochInfo(node.epoch)
    const me = this.myIndex(info)
    if (me === undefined) return
    const byz = this.opts.byzantine?.equivocate
    if (!byz) {
      if (!this.safeToVote(node.round, qc.round, tc)) return
      // persist BEFORE the vote leaves
      this.safety = {
        ...this.safety,
        lastVotedRound: node.round,
        highestQCRound: maxBig(qc.round, this.safety.highestQCRound),
        highQC: this.higherQC(this.safety.highQC),
      }
      await this.safetyStore.save(this.safety)
    }
    const vote: VoteMessage = {
      type: ConsensusMessageType.Vote,
      epoch: node.epoch,
      round: node.round,
      height: node.height,
      blockHash: node.hash,
      voter: me,
      signature: bls.sign(
        voteSigningBytes(node.epoch, node.round, node.height, node.hash),
        keys.blsSecretKey,
      ),
    }
    this.stats.votes++
    // every validator collects the votes and forms the QC itself (one delay sooner than
    // sending them to the next leader, which then would have to forward the QC)
    this.transport.broadcast(vote)
    await this.handleVote(vote)
  }

  /**
   * Broadcasts a commit vote for the block `qc` certifies, if this validator signed no timeout
   * for qc.round or later and has not commit-voted at or above qc.round. Persists the commit-vote
   * round and the highest QC first: from then on it signs no timeout at or below qc.round, and
   * every timeout it signs reports a QC of round >= qc.round.
   */
  private async maybeCommitVote(node: TreeNode, qc: QuorumCertificate): Promise<void> {
    const keys = this.opts.keys
    if (!keys || qc.round <= this.safety.commitVotedRound || node.height <= this.root.height) return
    if (!this.opts.byzantine?.equivocate && qc.round <= this.safety.lastTimeoutRound) return
    const info = await this.epochInfo(qc.epoch)
    const me = this.myIndex(info)
    if (me === undefined) return
    this.safety = {
      ...this.safety,
      commitVotedRound: qc.round,
      highQC: this.higherQC(this.safety.highQC),
    }
    await this.safetyStore.save(this.safety)
    const cv: CommitVoteMessage = {
      type: ConsensusMessageType.CommitVote,
      epoch: qc.epoch,
      round: qc.round,
      height: qc.height,
      blockHash: qc.blockHash,
      voter: me,
      signature: bls.sign(
        commitVoteSigningBytes(qc.epoch, qc.round, qc.height, qc.blockHash),
        keys.blsSecretKey,
      ),
    }
    this.stats.commitVotes++
    this.transport.broadcast(cv)
    await this.handleCommitVote(cv)
  }

  /**
   * Adds a signature share to a bucket without checking it (shares are checked in aggregate
   * when a quorum is reached). A second, different share from the same signer is resolved by
   * checking both and keeping the valid one.
   */
  private addShare<T extends { signature: Uint8Array }>(
    bucket: Map<number, T>,
    i: number,
    m: T,
    valid: (x: T) => boolean,
  ): void {
    const cur = bucket.get(i)
    if (!cur) bucket.set(i, m)
    else if (!eq(cur.signature, m.signature) && !valid(cur) && valid(m)) bucket.set(i, m)
  }

  /**
   * Aggregates the shares of `idx` (all over the same message) and checks the aggregate once;
   * if that fails, checks each share, drops the bad ones and returns undefined.
   */
  private aggregateChecked<T extends { signature: Uint8Array }>(
    bucket: Map<number, T>,
    idx: number[],
    message: Uint8Array,
    info: EpochInfo,
  ): Uint8Array | undefined {
    try {
      // shares are not subgroup-checked one by one: the aggregate is, when it is verified
      const sig = bls.aggregateSignatures(
        idx.map((i) => (bucket.get(i) as T).signature),
        { subgroupCheck: false },
      )
      if (cachedSignersVerify(sig, message, info.set, idx)) return sig
    } catch {
      // a share that does not even decode: fall through to the one-by-one check
    }
    for (const i of idx) {
      const share = bucket.get(i) as T
      if (!cachedSignersVerify(share.signature, message, info.set, [i])) {
        bucket.delete(i)
        this.stats.rejected++
      }
    }
    return undefined
  }

  private async handleVote(m: VoteMessage): Promise<void> {
    const info = await this.epochInfo(m.epoch)
    const v = info.set.validators[m.voter]
    if (!v) throw new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, 'unknown voter')
    if (m.round + 1n < this.round) return
    const voteValid = (x: VoteMessage) =>
      cachedSignersVerify(
        x.signature,
        voteSigningBytes(x.epoch, x.round, x.height, x.blockHash),
        info.set,
        [x.voter],
      )
    const sk = `${m.epoch}:${m.round}:${m.voter}`
    const prev = this.seenVotes.get(sk)
    if (prev && !eq(prev.blockHash, m.blockHash)) {
      // only signed conflicting votes are evidence (no framing with forged shares)
      if (voteValid(prev) && voteValid(m)) {
        await this.recordEvidence('vote', m.epoch, m.round, v.address, prev, m)
      }
    } else if (!prev) this.seenVotes.set(sk, m)
    const bk = `${m.round}:${hex(m.blockHash)}`
    let bucket = this.votes.get(bk)
    if (!bucket) {
      bucket = new Map()
      this.votes.set(bk, bucket)
    }
    this.addShare(bucket, m.voter, m, voteValid)
    if (this.formed.has(bk) || stakeOf(info.set.validators, bucket.keys()) < info.quorum) return
    const idx = [...bucket.keys()].sort((a, b) => a - b)
    const msg = voteSigningBytes(m.epoch, m.round, m.height, m.blockHash)
    const signature = this.aggregateChecked(bucket, idx, msg, info)
    if (!signature) return
    this.formed.set(bk, m.round)
    const qc: QuorumCertificate = {
      epoch: m.epoch,
      round: m.round,
      height: m.height,
      blockHash: m.blockHash,
      signers: makeBitmap(idx, info.set.validators.length),
      signature,
    }
    this.verifiedQCs.set(hex(encodeQC(qc)), qc.round)
    await this.processQC(qc)
  }

  /**
   * Collects commit votes; 2f+1 (by stake) for one block, checked in aggregate, commit it (and
   * its ancestors) as soon as this node holds the block and its QC.
   */
  private async handleCommitVote(m: CommitVoteMessage): Promise<void> {
    if (m.height <= this.root.height || m.round + 2n < this.round) return
    if (m.epoch !== this.epochOf(m.height)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, 'commit vote epoch mismatch')
    }
    const info = await this.epochInfo(m.epoch)
    if (!info.set.validators[m.voter]) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, 'unknown commit voter')
    }
    const valid = (x: CommitVoteMessage) =>
      cachedSignersVerify(
        x.signature,
        commitVoteSigningBytes(x.epoch, x.round, x.height, x.blockHash),
        info.set,
        [x.voter],
      )
    const bk = `${m.round}:${hex(m.blockHash)}`
    let bucket = this.commitVotes.get(bk)
    if (!bucket) {
      bucket = new Map()
      this.commitVotes.set(bk, bucket)
    }
    this.addShare(bucket, m.voter, m, valid)
    const fk = `c:${bk}`
    if (this.formed.has(fk) || stakeOf(info.set.validators, bucket.keys()) < info.quorum) return
    const idx = [...bucket.keys()].sort((a, b) => a - b)
    const msg = commitVoteSigningBytes(m.epoch, m.round, m.height, m.blockHash)
    if (!this.aggregateChecked(bucket, idx, msg, info)) return
    this.formed.set(fk, m.round)
    const node = this.tree.get(hex(m.blockHash))
    if (node?.qc && node.height > this.root.height) {
      this.stats.fastCommits++
      await this.commitUpTo(node)
    } else if (!node?.qc) {
      // commit once the block and its QC are here (see processQC)
      this.commitQuorums.set(hex(m.blockHash), m.height)
    }
  }

  private async handleTimeout(from: PeerId, m: TimeoutMessage): Promise<void> {
    if (m.lastTC) await this.processTC(m.lastTC)
    await this.processQC(m.highQC, from)
    if (m.round < this.round) return
    // a timeout is signed in the epoch of the block after its high QC (localTimeout): any other
    // epoch is refused here, before it could send this node block-syncing from the sender
    if (m.epoch !== this.epochOf(m.highQC.height + 1n)) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_MESSAGE,
        'timeout epoch does not follow its high QC',
      )
    }
    const info = await this.epochInfo(m.epoch)
    if (!info.set.validators[m.voter]) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_MESSAGE, 'unknown timeout signer')
    }
    const timeoutValid = (x: TimeoutMessage) =>
      cachedSignersVerify(
        x.signature,
        timeoutSigningBytes(x.epoch, x.round, x.highQC.round),
        info.set,
        [x.voter],
      )
    const k = `${m.epoch}:${m.round}`
    let bucket = this.timeouts.get(k)
    if (!bucket) {
      bucket = new Map()
      this.timeouts.set(k, bucket)
    }
    this.addShare(bucket, m.voter, m, timeoutValid)
    const tk = `tc:${k}`
    if (this.formed.has(tk) || stakeOf(info.set.validators, bucket.keys()) < info.quorum) return
    const groups = new Map<bigint, number[]>()
    for (const [i, t] of bucket) {
      const g = groups.get(t.highQC.round) ?? []
      g.push(i)
      groups.set(t.highQC.round, g)
    }
    const out: TimeoutCertificate['groups'] = []
    let ok = true
    for (const [highQCRound, idx] of [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      idx.sort((a, b) => a - b)
      const msg = timeoutSigningBytes(m.epoch, m.round, highQCRound)
      const signature = this.aggregateChecked(bucket, idx, msg, info)
      if (!signature) ok = false
      else
        out.push({ highQCRound, signers: makeBitmap(idx, info.set.validators.length), signature })
    }
    if (!ok) return
    this.formed.set(tk, m.round)
    const tc: TimeoutCertificate = { epoch: m.epoch, round: m.round, groups: out }
    this.stats.timeoutCertificates++
    await this.processTC(tc)
  }

  private async recordEvidence(
    kind: 'proposal' | 'vote',
    epoch: bigint,
    round: bigint,
    validator: Uint8Array,
    first: ConsensusMessage & { hash?: Uint8Array },
    second: ConsensusMessage,
  ): Promise<void> {
    const { hash: _h, ...firstMsg } = first
    if (
      this.evidence.some(
        (e) =>
          e.kind === kind && e.epoch === epoch && e.round === round && eq(e.validator, validator),
      )
    )
      return
    const ev = { kind, epoch, round, validator, first: firstMsg as ConsensusMessage, second }
    this.evidence.push(ev)
    const key = new TextEncoder().encode(`bft/evidence/${kind}/${epoch}/${round}/${hex(validator)}`)
    const value = new Uint8Array([
      ...encodeConsensusMessage(ev.first),
      ...encodeConsensusMessage(ev.second),
    ])
    await this.safetyStore.saveEvidence(key, value)
    this.events.emit('evidence', ev)
  }

  // ---------------------------------------------------------------- commit

  private async commitUpTo(target: TreeNode): Promise<void> {
    const path: TreeNode[] = []
    let n: TreeNode | undefined = target
    while (n && n.height > this.root.height) {
      path.push(n)
      n = this.tree.get(n.parentHex)
    }
    if (!n || n.hex !== this.root.hex) return
    path.reverse()
    for (const node of path) {
      await this.chain.commitBlock(node.block)
      if (node.qc) await this.safetyStore.saveHeadQC(node.qc)
      this.root = node
      this.stats.commits++
      this.emitCommit(node.block, node.hash)
    }
    // prune everything at or below the committed height, except the new root
    for (const [k, v] of this.tree) {
      if (v.height <= this.root.height && k !== this.root.hex) this.tree.delete(k)
    }
    for (const [k, v] of this.seenProposals) {
      if (v.round + 8n < this.root.round) this.seenProposals.delete(k)
    }
    for (const [k, v] of this.seenVotes)
      if (v.round + 8n < this.root.round) this.seenVotes.delete(k)
    for (const [k, h] of this.commitQuorums) if (h <= this.root.height) this.commitQuorums.delete(k)
    for (const [k, r] of this.verifiedQCs) if (r + 8n < this.root.round) this.verifiedQCs.delete(k)
  }

  private emitCommit(block: Block, hash = this.chain.blockHash(block.header)): void {
    this.events.emit('commit', { block, hash, height: block.header.height })
  }

  // ---------------------------------------------------------------- block sync

  private async serveBlocks(_from: PeerId, req: BlockSyncRequest): Promise<BlockSyncResponse> {
    const blocks: Uint8Array[] = []
    const count = Math.min(req.count, 256)
    let h = req.fromHeight
    while (blocks.length < count && h <= this.root.height) {
      const b = await this.chain.getBlockByHeight(h)
      /* c8 ignore next */
      if (!b) break
      blocks.push(this.chain.encodeBlock(b))
      h++
    }
    // then the certified, not yet committed branch up to highQC
    const branch: TreeNode[] = []
    let n: TreeNode | undefined = this.tree.get(hex(this.highQC.blockHash))
    while (n && n.height > this.root.height) {
      branch.push(n)
      n = this.tree.get(n.parentHex)
    }
    for (const b of branch.reverse()) {
      if (blocks.length >= count) break
      if (b.height >= h) blocks.push(this.chain.encodeBlock(b.block))
    }
    return { blocks }
  }

  private startSync(peer: PeerId): void {
    if (this.syncing || !this.running) return
    this.syncing = true
    this.stats.syncs++
    void (async () => {
      try {
        for (let i = 0; i < 1000 && this.running; i++) {
          const batch = this.opts.syncBatch ?? BFT_SYNC_BATCH
          const res = await this.transport.requestBlocks(peer, {
            fromHeight: this.root.height + 1n,
            count: batch,
          })
          let progressed = false
          await this.serial(async () => {
            progressed = await this.applySynced(res.blocks)
          })
          if (!progressed || res.blocks.length < batch) break
        }
      } catch {
        // peer gone or timed out: a later message triggers another sync
      } finally {
        this.syncing = false
      }
    })()
  }

  private async applySynced(encoded: Uint8Array[]): Promise<boolean> {
    let progressed = false
    for (const bytes of encoded) {
      const block = this.chain.decodeBlock(bytes)
      const data = this.headerData(block)
      const hash = this.chain.blockHash(block.header)
      if (this.tree.has(hex(hash)) || block.header.height <= this.root.height) continue
      const parent = this.tree.get(hex(block.header.parentHash))
      if (!parent || !eq(data.parentQC.blockHash, parent.hash)) return progressed
      if (!(await this.verifyQC(data.parentQC))) return progressed
      await this.chain.executeBlock(block)
      const node = this.makeNode(block, data)
      this.tree.set(node.hex, node)
      progressed = true
      await this.processQC(data.parentQC)
    }
    return progressed
  }
}
