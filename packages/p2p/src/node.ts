/**
 * The libp2p host: TCP + noise + yamux + identify + gossipsub, a status handshake that drops
 * peers of another chain or genesis, request/response protocols with length-prefixed framing,
 * per-peer rate limits, scores and temporary bans. Implements @aureon/consensus's `Transport`.
 */

import { createHash } from 'node:crypto'
import type {
  BlockSyncHandler,
  BlockSyncRequest,
  BlockSyncResponse,
  ConsensusMessage,
  MessageHandler,
} from '@aureon/consensus'
import { decodeBlock, decodeTransaction } from '@aureon/ledger'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { type GossipSub, gossipsub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Connection, Libp2p, PeerId as Libp2pPeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { isP2PError, P2PError, P2PErrorCode } from './errors.js'
import { liftGossipsubFrameLimit, readFrame, withTimeout, writeFrame } from './framing.js'
import {
  BLOCKS_REQUEST,
  CONSENSUS_DIRECT,
  defaultP2PLimits,
  defaultScoringOptions,
  GOSSIP_KINDS,
  gossipTopic,
  REQUEST_NAME_PATTERN,
  RESPONSE_ERROR,
  RESPONSE_OK,
  requestProtocol,
  STATUS_LENGTH,
  STATUS_PROTOCOL,
} from './params.js'
import { installPromiseWithResolvers } from './polyfill.js'
import { PeerScores, RateLimiter } from './scoring.js'
import { decodeStatus, encodeStatus, statusMismatch } from './status.js'
import type {
  BanInfo,
  ChainStatus,
  GossipHandler,
  GossipKind,
  GossipValidator,
  P2PLimits,
  P2PLogger,
  P2PNode,
  P2PNodeEvents,
  P2POptions,
  P2PStats,
  PeerId,
  PeerInfo,
  RequestHandler,
  ScoringOptions,
} from './types.js'
import { wire } from './wire.js'

type Host = Libp2p<{ identify: unknown; pubsub: GossipSub }>

interface PeerState {
  ready: boolean
  status?: ChainStatus
  waiters: { resolve: () => void; reject: (e: Error) => void }[]
  handshaking: boolean
}

/** gossipsub's frame limit on send (it-length-prefixed's default, 4 MiB). */
const GOSSIPSUB_FRAME_LIMIT = 4 * 1024 * 1024
const te = new TextEncoder()
const td = new TextDecoder()

/** Default listen address of a node. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/30333']

/**
 * The libp2p peer id (string) of an ed25519 secret key, as `P2POptions.secretKey` gives it.
 * @example
 * const id = await peerIdFromSecretKey(seed) // '12D3KooW...'
 */
export async function peerIdFromSecretKey(secretKey: Uint8Array): Promise<PeerId> {
  installPromiseWithResolvers()
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  return peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', secretKey)).toString()
}

/**
 * Creates (and by default starts) a p2p node. It is a consensus `Transport`.
 * @example
 * const node = await createP2PNode({ chainId: 1n, genesisHash, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * node.subscribe('transactions', (tx, from) => pool.add(tx))
 * await node.publish('transactions', encodedTx)
 * await node.stop()
 */
export async function createP2PNode(opts: P2POptions & { start?: boolean }): Promise<P2PNode> {
  installPromiseWithResolvers()
  const node = await P2PHost.create(opts)
  if (opts.start !== false) await node.start()
  return node
}

class P2PHost implements P2PNode {
  readonly chainId: bigint
  readonly peerId: PeerId
  private readonly limits: P2PLimits
  private readonly scoring: ScoringOptions
  private readonly log: P2PLogger | null
  private readonly scores: PeerScores
  private readonly gossipLimiter: RateLimiter
  private readonly requestLimiter: RateLimiter
  private readonly state = new Map<PeerId, PeerState>()
  private readonly gossipHandlers = new Map<GossipKind, Set<GossipHandler>>()
  private readonly validators = new Map<GossipKind, GossipValidator>()
  private readonly messageHandlers = new Set<MessageHandler>()
  private blockHandler: BlockSyncHandler | undefined
  private readonly listeners = new Map<string, Set<(...a: any[]) => void>>()
  private readonly counters: P2PStats = {
    gossipReceived: 0,
    gossipRejected: 0,
    gossipIgnored: 0,
    gossipPublished: 0,
    requestsServed: 0,
    requestsFailed: 0,
    bans: 0,
    wrongChainDisconnects: 0,
  }
  private readonly topicKind = new Map<string, GossipKind>()
  private bootstrapTimer: NodeJS.Timeout | undefined
  private running = false
  private stoppedOnce = false

  private constructor(
    private readonly host: Host,
    private readonly opts: P2POptions,
    limits: P2PLimits,
    scoring: ScoringOptions,
    scores: PeerScores,
  ) {
    this.chainId = opts.chainId
    this.peerId = host.peerId.toString()
    this.limits = limits
    this.scoring = scoring
    this.scores = scores
    this.log = opts.logger ?? null
    this.gossipLimiter = new RateLimiter(limits.gossipRate)
    this.requestLimiter = new RateLimiter(limits.requestRate)
    for (const kind of GOSSIP_KINDS) this.topicKind.set(gossipTopic(this.chainId, kind), kind)
  }

  static async create(opts: P2POptions): Promise<P2PHost> {
    if (typeof opts.chainId !== 'bigint' || opts.chainId < 0n) {
      throw new P2PError(P2PErrorCode.INVALID_OPTIONS, 'chainId must be a non-negative bigint')
    }
    if (!(opts.genesisHash instanceof Uint8Array) || opts.genesisHash.length !== 32) {
      throw new P2PError(P2PErrorCode.INVALID_OPTIONS, 'genesisHash must be 32 bytes')
    }
    if (opts.secretKey !== undefined && opts.secretKey.length !== 32) {
      throw new P2PError(P2PErrorCode.INVALID_OPTIONS, 'secretKey must be a 32-byte ed25519 seed')
    }
    const limits: P2PLimits = {
      ...defaultP2PLimits,
      ...opts.limits,
      maxMessageBytes: { ...defaultP2PLimits.maxMessageBytes, ...opts.limits?.maxMessageBytes },
    }
    const scoring = { ...defaultScoringOptions, ...opts.scoring }
    const scores = new PeerScores(scoring)
    const privateKey = opts.secretKey
      ? await generateKeyPairFromSeed('Ed25519', opts.secretKey)
      : await generateKeyPair('Ed25519')
    const maxGossip = Math.max(...Object.values(limits.maxMessageBytes))
    const chainTopics = GOSSIP_KINDS.map((k) => gossipTopic(opts.chainId, k))
    const host = (await createLibp2p({
      start: false,
      privateKey,
      addresses: {
        listen: opts.listen ?? DEFAULT_LISTEN,
        ...(opts.announce ? { announce: opts.announce } : {}),
      },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: limits.maxConnections },
      // under a gossip burst on a busy machine, pings queue behind traffic and libp2p's monitor
      // would abort healthy connections; keep measuring RTT but never abort on a slow ping
      connectionMonitor: { abortConnectionOnPingFailure: false },
      connectionGater: {
        denyDialPeer: (p) => scores.isBanned(p.toString()),
        denyInboundEncryptedConnection: (p) => scores.isBanned(p.toString()),
        denyOutboundEncryptedConnection: (p) => scores.isBanned(p.toString()),
        // local addresses are fine: devnets and tests run on 127.0.0.1
        denyDialMultiaddr: () => false,
      },
      services: {
        identify: identify(),
        pubsub: gossipsub({
          emitSelf: false,
          allowPublishToZeroTopicPeers: true,
          globalSignaturePolicy: 'StrictSign',
          allowedTopics: chainTopics,
          maxInboundDataLength: maxGossip + 64 * 1024,
          msgIdFn: messageId,
          fallbackToFloodsub: false,
          ignoreDuplicatePublishError: true,
        }),
      },
    } as Parameters<typeof createLibp2p>[0])) as unknown as Host
    // gossip messages over 4 MiB (blocks, consensus: 8 MiB) would otherwise be dropped on send
    const lifted =
      maxGossip <= GOSSIPSUB_FRAME_LIMIT - 64 * 1024 ||
      liftGossipsubFrameLimit(host.services.pubsub)
    const p2p = new P2PHost(host, opts, limits, scoring, scores)
    if (!lifted) {
      p2p.log?.warn(
        { maxGossip },
        'p2p: gossipsub internals changed, gossip messages over 4 MiB will be dropped on send',
      )
    }
    return p2p
  }

  get libp2p(): Libp2p {
    return this.host
  }

  get started(): boolean {
    return this.running
  }

  // -------------------------------------------------------------------------------------------
  // lifecycle
  // -------------------------------------------------------------------------------------------

  async start(): Promise<void> {
    if (this.running) return
    if (this.stoppedOnce) {
      throw new P2PError(
        P2PErrorCode.STOPPED,
        'a stopped p2p node cannot restart; create a new one',
      )
    }
    const h = this.host
    await h.handle(STATUS_PROTOCOL, (s, c) => this.serveStatus(s, c), { maxInboundStreams: 8 })
    await h.handle(
      requestProtocol(this.chainId, BLOCKS_REQUEST),
      this.server(this.limits.maxRequestBytes, (req, from) => this.serveBlocks(req, from)),
      { maxInboundStreams: 16 },
    )
    await h.handle(
      requestProtocol(this.chainId, CONSENSUS_DIRECT),
      this.server(this.limits.maxMessageBytes.consensus, (req, from) =>
        this.serveDirect(req, from),
      ),
      { maxInboundStreams: 64 },
    )
    h.addEventListener('peer:connect', (e) => this.onConnect(e.detail.toString()))
    h.addEventListener('peer:disconnect', (e) => this.onDisconnect(e.detail.toString()))
    const ps = h.services.pubsub
    for (const [topic, kind] of this.topicKind) {
      ps.topicValidators.set(topic, (peer, msg) => this.validateGossip(kind, peer, msg))
    }
    ps.addEventListener('message', (e) => this.onGossip(e.detail))
    await h.start()
    for (const topic of this.topicKind.keys()) ps.subscribe(topic)
    this.running = true
    this.log?.info({ peerId: this.peerId, addresses: this.addresses() }, 'p2p: listening')
    const boot = this.opts.bootstrap ?? []
    if (boot.length) {
      this.dialBootstrap(boot)
      const every = this.opts.bootstrapIntervalMs ?? 10_000
      if (every > 0) {
        this.bootstrapTimer = setInterval(() => this.dialBootstrap(boot), every)
        this.bootstrapTimer.unref()
      }
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.stoppedOnce = true
    if (this.bootstrapTimer) clearInterval(this.bootstrapTimer)
    for (const [peer, st] of this.state) this.failWaiters(peer, st, stopped())
    this.state.clear()
    await this.host.stop()
    this.log?.info({ peerId: this.peerId }, 'p2p: stopped')
  }

  private dialBootstrap(addrs: string[]): void {
    for (const a of addrs) {
      const id = peerIdOf(a)
      if (id === this.peerId) continue
      if (id && this.host.getConnections(peerIdFromString(id)).length > 0) continue
      if (id && this.scores.isBanned(id)) continue
      this.dial(a).catch((e) =>
        this.log?.debug?.({ addr: a, err: msg(e) }, 'p2p: bootstrap dial failed'),
      )
    }
  }

  // -------------------------------------------------------------------------------------------
  // peers
  // -------------------------------------------------------------------------------------------

  addresses(): string[] {
    return this.host.getMultiaddrs().map((m) => m.toString())
  }

  async dial(addr: string): Promise<PeerId> {
    this.assertRunning()
    let conn: Connection
    try {
      conn = await this.host.dial(multiaddr(addr), {
        signal: AbortSignal.timeout(this.limits.handshakeTimeoutMs),
      })
    } catch (e) {
      throw new P2PError(P2PErrorCode.DIAL_FAILED, `could not dial ${addr}: ${msg(e)}`, {
        cause: e,
      })
    }
    const peer = conn.remotePeer.toString()
    await this.awaitReady(peer, this.limits.handshakeTimeoutMs)
    return peer
  }

  async hangUp(peer: PeerId): Promise<void> {
    const id = toLibp2pPeerId(peer)
    if (id) await this.host.hangUp(id).catch(() => {})
  }

  peers(): PeerId[] {
    return [...this.state]
      .filter(([, s]) => s.ready)
      .map(([p]) => p)
      .sort()
  }

  listPeers(): PeerInfo[] {
    const byPeer = new Map<PeerId, Connection[]>()
    for (const c of this.host.getConnections()) {
      const p = c.remotePeer.toString()
      byPeer.set(p, [...(byPeer.get(p) ?? []), c])
    }
    const ps = this.host.services.pubsub as GossipSub & { getScore?(p: string): number }
    return [...byPeer.keys()].sort().map((id) => {
      const conns = byPeer.get(id) as Connection[]
      const st = this.state.get(id)
      return {
        id,
        addresses: conns.map((c) => c.remoteAddr.toString()),
        direction: conns[0].direction,
        ready: st?.ready ?? false,
        ...(st?.status ? { status: st.status } : {}),
        score: this.scores.score(id),
        gossipScore: ps.getScore?.(id) ?? 0,
      }
    })
  }

  bans(): BanInfo[] {
    return this.scores.bans()
  }

  async waitForPeers(
    count: number,
    opts: { timeoutMs?: number; topic?: GossipKind } = {},
  ): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 10_000
    const deadline = Date.now() + timeoutMs
    const topic = opts.topic ? gossipTopic(this.chainId, opts.topic) : undefined
    const enough = () => {
      const ready = this.peers()
      if (!topic) return ready.length >= count
      const subs = this.gossipPeers(topic)
      return ready.filter((p) => subs.has(p)).length >= count
    }
    while (!enough()) {
      this.assertRunning()
      if (Date.now() > deadline) {
        throw new P2PError(
          P2PErrorCode.TIMEOUT,
          `fewer than ${count} ready peers${topic ? ` on ${topic}` : ''} after ${timeoutMs} ms`,
        )
      }
      await sleep(20)
    }
  }

  /**
   * Peers a publish on `topic` reaches now: subscribed, and with gossipsub's outbound stream open
   * (right after a connection the subscription can arrive before that stream exists, and
   * gossipsub silently skips such a peer).
   */
  private gossipPeers(topic: string): Set<PeerId> {
    const ps = this.host.services.pubsub as GossipSub & { streamsOutbound?: Map<string, unknown> }
    const out = ps.streamsOutbound
    return new Set(
      ps
        .getSubscribers(topic)
        .map(String)
        .filter((p) => out?.has(p) ?? true),
    )
  }

  penalize(peer: PeerId, penalty: number, reason: string): void {
    const ban = this.scores.penalize(peer, penalty, reason)
    this.log?.debug?.({ peer, penalty, reason, score: this.scores.score(peer) }, 'p2p: penalty')
    if (ban) this.applyBan(ban)
  }

  ban(peer: PeerId, reason: string, ms?: number): void {
    this.applyBan(this.scores.ban(peer, reason, ms))
  }

  private applyBan(ban: BanInfo): void {
    this.counters.bans++
    this.log?.warn(
      { peer: ban.id, reason: ban.reason, until: new Date(ban.until).toISOString() },
      'p2p: peer banned',
    )
    this.emit('peer:ban', ban)
    void this.hangUp(ban.id)
  }

  // -------------------------------------------------------------------------------------------
  // status handshake
  // -------------------------------------------------------------------------------------------

  private ourStatus(): ChainStatus {
    const head = this.opts.head?.() ?? { height: 0n, hash: this.opts.genesisHash }
    return {
      chainId: this.chainId,
      genesisHash: this.opts.genesisHash,
      headHeight: head.height,
      headHash: head.hash,
    }
  }

  private peerState(peer: PeerId): PeerState {
    let st = this.state.get(peer)
    if (!st) {
      st = { ready: false, waiters: [], handshaking: false }
      this.state.set(peer, st)
    }
    return st
  }

  private onConnect(peer: PeerId): void {
    if (!this.running) return
    if (this.scores.isBanned(peer)) {
      void this.hangUp(peer)
      return
    }
    const st = this.peerState(peer)
    if (st.handshaking || st.ready) return
    const id = toLibp2pPeerId(peer) as Libp2pPeerId
    const outbound = this.host.getConnections(id).some((c) => c.direction === 'outbound')
    if (!outbound) {
      // the dialer starts the handshake; a listener only answers, and drops the silent
      const timer = setTimeout(() => {
        if (!this.running || this.state.get(peer)?.ready) return
        if (this.host.getConnections(id).length === 0) return
        this.log?.warn({ peer }, 'p2p: no status handshake from inbound peer; disconnecting')
        void this.hangUp(peer)
      }, this.limits.handshakeTimeoutMs)
      timer.unref()
      return
    }
    st.handshaking = true
    this.requestStatus(peer)
      .catch((e) => {
        if (isP2PError(e) && e.code === P2PErrorCode.WRONG_CHAIN) return
        this.log?.warn({ peer, reason: msg(e) }, 'p2p: status handshake failed; disconnecting')
        this.failWaiters(peer, st, e as Error)
        void this.hangUp(peer)
      })
      .finally(() => {
        st.handshaking = false
      })
  }

  private onDisconnect(peer: PeerId): void {
    const st = this.state.get(peer)
    if (st) this.failWaiters(peer, st, notConnected(peer))
    this.state.delete(peer)
    this.gossipLimiter.forget(peer)
    this.requestLimiter.forget(peer)
    this.emit('peer:disconnect', peer)
  }

  private failWaiters(_peer: PeerId, st: PeerState, e: Error): void {
    const ws = st.waiters.splice(0)
    for (const w of ws) w.reject(e)
  }

  private markReady(peer: PeerId, status: ChainStatus): void {
    if (!this.running) return
    const st = this.peerState(peer)
    st.status = status
    if (st.ready) return
    st.ready = true
    this.log?.info({ peer, head: status.headHeight.toString() }, 'p2p: peer ready')
    for (const w of st.waiters.splice(0)) w.resolve()
    this.emit('peer:ready', peer, status)
  }

  /** Drops a peer whose status does not match ours: logs why, refuses it for a while. */
  private rejectPeer(peer: PeerId, reason: string, hangUpAfterMs = 0): P2PError {
    this.counters.wrongChainDisconnects++
    this.log?.warn({ peer, reason }, 'p2p: disconnecting peer on another chain')
    const err = new P2PError(P2PErrorCode.WRONG_CHAIN, `peer ${peer}: ${reason}`, {
      details: { peer, reason },
    })
    const st = this.state.get(peer)
    if (st) this.failWaiters(peer, st, err)
    this.scores.ban(peer, reason, this.scoring.wrongChainBanMs)
    if (hangUpAfterMs > 0) {
      // give the dialer time to read our status and log the reason on its side too
      setTimeout(() => void this.hangUp(peer), hangUpAfterMs).unref()
    } else void this.hangUp(peer)
    return err
  }

  private awaitReady(peer: PeerId, timeoutMs: number): Promise<void> {
    const st = this.peerState(peer)
    if (st.ready) return Promise.resolve()
    let waiter: PeerState['waiters'][number] | undefined
    const p = new Promise<void>((resolve, reject) => {
      waiter = { resolve, reject }
      st.waiters.push(waiter)
    })
    return withTimeout(p, timeoutMs, `status handshake with ${peer}`, () => {
      const i = st.waiters.indexOf(waiter as PeerState['waiters'][number])
      if (i >= 0) st.waiters.splice(i, 1)
    })
  }

  async requestStatus(peer: PeerId): Promise<ChainStatus> {
    const id = this.mustPeerId(peer)
    const ours = this.ourStatus()
    const res = await this.rawRequest(
      id,
      STATUS_PROTOCOL,
      encodeStatus(ours),
      this.limits.handshakeTimeoutMs,
      STATUS_LENGTH + 1024,
    )
    let theirs: ChainStatus
    try {
      theirs = decodeStatus(res)
    } catch (e) {
      this.penalize(peer, this.scoring.badResponsePenalty, 'invalid status')
      throw e
    }
    const why = statusMismatch(ours, theirs)
    if (why) throw this.rejectPeer(peer, why)
    this.markReady(peer, theirs)
    return theirs
  }

  private async serveStatus(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString()
    try {
      const req = await withTimeout(
        readFrame(stream, STATUS_LENGTH + 1024),
        this.limits.handshakeTimeoutMs,
        'status request',
      )
      const theirs = decodeStatus(req)
      const why = statusMismatch(this.ourStatus(), theirs)
      if (!why) this.markReady(peer, theirs)
      await writeFrame(stream, okFrame(encodeStatus(this.ourStatus())))
      await stream.close()
      if (why) this.rejectPeer(peer, why, 500)
    } catch (e) {
      this.log?.debug?.({ peer, err: msg(e) }, 'p2p: bad status request')
      stream.abort(e as Error)
    }
  }

  // -------------------------------------------------------------------------------------------
  // gossip
  // -------------------------------------------------------------------------------------------

  async publish(kind: GossipKind, data: Uint8Array): Promise<number> {
    this.assertRunning()
    const limit = this.limits.maxMessageBytes[kind]
    if (limit === undefined) {
      throw new P2PError(P2PErrorCode.INVALID_OPTIONS, `unknown gossip kind ${kind}`)
    }
    if (data.length > limit) {
      throw new P2PError(
        P2PErrorCode.MESSAGE_TOO_LARGE,
        `${kind} message of ${data.length} bytes is above the limit of ${limit}`,
      )
    }
    const res = await this.host.services.pubsub.publish(gossipTopic(this.chainId, kind), data)
    this.counters.gossipPublished++
    return res.recipients.length
  }

  subscribe(kind: GossipKind, handler: GossipHandler): () => void {
    if (!GOSSIP_KINDS.includes(kind)) {
      throw new P2PError(P2PErrorCode.INVALID_OPTIONS, `unknown gossip kind ${kind}`)
    }
    const set = this.gossipHandlers.get(kind) ?? new Set()
    set.add(handler)
    this.gossipHandlers.set(kind, set)
    return () => {
      set.delete(handler)
    }
  }

  setValidator(kind: GossipKind, validator: GossipValidator | undefined): void {
    if (validator) this.validators.set(kind, validator)
    else this.validators.delete(kind)
  }

  private async validateGossip(
    kind: GossipKind,
    source: Libp2pPeerId,
    m: Message,
  ): Promise<TopicValidatorResult> {
    const peer = source.toString()
    const verdict = await this.judgeGossip(kind, peer, m)
    if (verdict === TopicValidatorResult.Reject) this.counters.gossipRejected++
    if (verdict === TopicValidatorResult.Ignore) this.counters.gossipIgnored++
    return verdict
  }

  private async judgeGossip(
    kind: GossipKind,
    peer: PeerId,
    m: Message,
  ): Promise<TopicValidatorResult> {
    if (this.scores.isBanned(peer)) return TopicValidatorResult.Ignore
    if (!this.state.get(peer)?.ready) {
      // the handshake normally ends within a few ms of the connection; wait briefly
      try {
        await this.awaitReady(peer, Math.min(1000, this.limits.handshakeTimeoutMs))
      } catch {
        return TopicValidatorResult.Ignore
      }
    }
    if (!this.gossipLimiter.take(peer)) {
      this.penalize(peer, this.scoring.rateLimitPenalty, `${kind} gossip rate limit`)
      return TopicValidatorResult.Ignore
    }
    const limit = this.limits.maxMessageBytes[kind]
    if (m.data.length > limit) {
      this.penalize(
        peer,
        this.scoring.oversizedMessagePenalty,
        `${kind} message of ${m.data.length} bytes (limit ${limit})`,
      )
      return TopicValidatorResult.Reject
    }
    const origin = m.type === 'signed' ? m.from.toString() : peer
    try {
      if (kind === 'consensus') wire.decodeConsensusMessage(m.data)
      else if (this.opts.validateEncodings !== false) {
        if (kind === 'transactions') decodeTransaction(plain(m.data))
        else decodeBlock(plain(m.data))
      }
      const v = this.validators.get(kind)
      const verdict = v ? await v(plain(m.data), origin) : 'accept'
      if (verdict === 'accept') return TopicValidatorResult.Accept
      if (verdict === 'ignore') return TopicValidatorResult.Ignore
      this.penalize(peer, this.scoring.invalidMessagePenalty, `invalid ${kind} message`)
      return TopicValidatorResult.Reject
    } catch (e) {
      this.penalize(peer, this.scoring.invalidMessagePenalty, `invalid ${kind} message: ${msg(e)}`)
      return TopicValidatorResult.Reject
    }
  }

  private onGossip(m: Message): void {
    const kind = this.topicKind.get(m.topic)
    if (!kind) return
    this.counters.gossipReceived++
    const from = m.type === 'signed' ? m.from.toString() : ''
    const data = plain(m.data)
    for (const h of [...(this.gossipHandlers.get(kind) ?? [])]) {
      try {
        h(data, from)
      } catch (e) {
        this.log?.error({ err: msg(e), kind }, 'p2p: gossip handler threw')
      }
    }
    if (kind === 'consensus') {
      try {
        this.deliver(from, wire.decodeConsensusMessage(data))
      } catch {
        // validated before delivery; unreachable unless the codec changed underneath
      }
    }
  }

  private deliver(from: PeerId, message: ConsensusMessage): void {
    for (const h of [...this.messageHandlers]) {
      try {
        h(from, message)
      } catch (e) {
        this.log?.error({ err: msg(e), from }, 'p2p: consensus message handler threw')
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Transport (consensus)
  // -------------------------------------------------------------------------------------------

  broadcast(message: ConsensusMessage): void {
    if (!this.running) return
    const data = wire.encodeConsensusMessage(message)
    const topic = gossipTopic(this.chainId, 'consensus')
    const subs = this.gossipPeers(topic)
    if (subs.size > 0) {
      this.host.services.pubsub.publish(topic, data).then(
        () => {
          this.counters.gossipPublished++
        },
        (e) => this.log?.debug?.({ err: msg(e) }, 'p2p: consensus publish failed'),
      )
    }
    // peers whose subscription has not arrived yet get it directly
    for (const p of this.peers()) if (!subs.has(p)) this.sendBytes(p, data)
  }

  sendTo(peer: PeerId, message: ConsensusMessage): void {
    if (!this.running || peer === this.peerId) return
    this.sendBytes(peer, wire.encodeConsensusMessage(message))
  }

  private sendBytes(peer: PeerId, data: Uint8Array): void {
    const id = toLibp2pPeerId(peer)
    if (!id || this.host.getConnections(id).length === 0) return
    this.rawRequest(
      id,
      requestProtocol(this.chainId, CONSENSUS_DIRECT),
      data,
      this.limits.requestTimeoutMs,
      1024,
    ).catch((e) => this.log?.debug?.({ peer, err: msg(e) }, 'p2p: direct send failed'))
  }

  private async serveDirect(req: Uint8Array, from: PeerId): Promise<Uint8Array> {
    if (!this.gossipLimiter.take(from)) {
      this.penalize(from, this.scoring.rateLimitPenalty, 'consensus direct rate limit')
      throw new P2PError(P2PErrorCode.RATE_LIMITED, 'rate limited')
    }
    let message: ConsensusMessage
    try {
      message = wire.decodeConsensusMessage(req)
    } catch (e) {
      throw new P2PError(P2PErrorCode.INVALID_REQUEST, `invalid consensus message: ${msg(e)}`)
    }
    this.deliver(from, message)
    return new Uint8Array(0)
  }

  onMessage(handler: MessageHandler): () => void {
    this.messageHandlers.add(handler)
    return () => {
      this.messageHandlers.delete(handler)
    }
  }

  async requestBlocks(peer: PeerId, req: BlockSyncRequest): Promise<BlockSyncResponse> {
    const count = Math.max(0, Math.min(req.count, this.limits.maxBlocksPerRequest))
    const res = await this.request(
      peer,
      BLOCKS_REQUEST,
      wire.encodeBlockSyncRequest({ fromHeight: req.fromHeight, count }),
    )
    try {
      const out = wire.decodeBlockSyncResponse(res)
      if (out.blocks.length > count) {
        throw new Error(`${out.blocks.length} blocks for a request of ${count}`)
      }
      return out
    } catch (e) {
      this.penalize(peer, this.scoring.badResponsePenalty, 'invalid block range response')
      throw new P2PError(P2PErrorCode.INVALID_MESSAGE, `invalid block range response: ${msg(e)}`, {
        cause: e,
      })
    }
  }

  onBlockRequest(handler: BlockSyncHandler): () => void {
    this.blockHandler = handler
    return () => {
      if (this.blockHandler === handler) this.blockHandler = undefined
    }
  }

  private async serveBlocks(req: Uint8Array, from: PeerId): Promise<Uint8Array> {
    let r: BlockSyncRequest
    try {
      r = wire.decodeBlockSyncRequest(req)
    } catch (e) {
      throw new P2PError(P2PErrorCode.INVALID_REQUEST, `invalid block range request: ${msg(e)}`)
    }
    const handler = this.blockHandler
    if (!handler) throw new P2PError(P2PErrorCode.UNKNOWN_PROTOCOL, 'this node serves no blocks')
    const count = Math.min(r.count, this.limits.maxBlocksPerRequest)
    const res = await handler(from, { fromHeight: r.fromHeight, count })
    // cut the range to what fits in one response frame
    const budget = this.limits.maxResponseBytes - 64
    const blocks: Uint8Array[] = []
    let size = 0
    for (const b of res.blocks.slice(0, count)) {
      size += b.length + 9
      if (size > budget) break
      blocks.push(b)
    }
    return wire.encodeBlockSyncResponse({ blocks })
  }

  // -------------------------------------------------------------------------------------------
  // generic request/response
  // -------------------------------------------------------------------------------------------

  async handle(
    name: string,
    handler: RequestHandler,
    opts: { maxRequestBytes?: number } = {},
  ): Promise<() => Promise<void>> {
    checkName(name)
    const protocol = requestProtocol(this.chainId, name)
    await this.host.handle(
      protocol,
      this.server(opts.maxRequestBytes ?? this.limits.maxRequestBytes, async (req, from) =>
        handler(req, from),
      ),
      { maxInboundStreams: 16, force: true },
    )
    return async () => {
      await this.host.unhandle(protocol)
    }
  }

  async request(
    peer: PeerId,
    name: string,
    data: Uint8Array,
    opts: { timeoutMs?: number; maxResponseBytes?: number } = {},
  ): Promise<Uint8Array> {
    checkName(name)
    const id = this.mustPeerId(peer)
    return this.rawRequest(
      id,
      requestProtocol(this.chainId, name),
      data,
      opts.timeoutMs ?? this.limits.requestTimeoutMs,
      opts.maxResponseBytes ?? this.limits.maxResponseBytes,
    )
  }

  private mustPeerId(peer: PeerId): Libp2pPeerId {
    if (!this.running) throw stopped()
    const id = toLibp2pPeerId(peer)
    if (!id || this.host.getConnections(id).length === 0) throw notConnected(peer)
    return id
  }

  /** One request frame out, one response frame (status byte + body) back. */
  private async rawRequest(
    id: Libp2pPeerId,
    protocol: string,
    data: Uint8Array,
    timeoutMs: number,
    maxResponseBytes: number,
  ): Promise<Uint8Array> {
    const peer = id.toString()
    const signal = AbortSignal.timeout(timeoutMs)
    let stream: Stream
    try {
      stream = await this.host.dialProtocol(id, protocol, { signal })
    } catch (e) {
      if (signal.aborted) throw timeout(`${protocol} to ${peer}`, timeoutMs)
      if ((e as Error).name === 'UnsupportedProtocolError') {
        throw new P2PError(P2PErrorCode.UNKNOWN_PROTOCOL, `${peer} does not serve ${protocol}`, {
          cause: e,
        })
      }
      if (!this.running) throw stopped()
      throw new P2PError(
        P2PErrorCode.NOT_CONNECTED,
        `cannot open ${protocol} to ${peer}: ${msg(e)}`,
        {
          cause: e,
        },
      )
    }
    try {
      await writeFrame(stream, data)
      const frame = await withTimeout(
        readFrame(stream, maxResponseBytes + 1),
        Math.max(1, timeoutMs - 0),
        `${protocol} to ${peer}`,
        () => stream.abort(new Error('request timed out')),
      )
      void stream.close().catch(() => {})
      if (frame.length === 0) {
        throw new P2PError(P2PErrorCode.INVALID_MESSAGE, `empty response from ${peer}`)
      }
      if (frame[0] === RESPONSE_OK) return frame.subarray(1)
      throw new P2PError(
        P2PErrorCode.REMOTE_ERROR,
        `${peer} answered ${protocol} with an error: ${td.decode(frame.subarray(1))}`,
      )
    } catch (e) {
      stream.abort(e as Error)
      if (isP2PError(e)) {
        if (e.code === P2PErrorCode.MESSAGE_TOO_LARGE) {
          this.penalize(
            peer,
            this.scoring.oversizedMessagePenalty,
            `oversized ${protocol} response`,
          )
          throw new P2PError(
            P2PErrorCode.MESSAGE_TOO_LARGE,
            `${peer} answered ${protocol} with more than maxResponseBytes (${maxResponseBytes})`,
            { details: { maxResponseBytes }, cause: e },
          )
        }
        throw e
      }
      if (!this.running) throw stopped()
      throw new P2PError(P2PErrorCode.NOT_CONNECTED, `${protocol} to ${peer} failed: ${msg(e)}`, {
        cause: e,
      })
    }
  }

  /** Wraps a request handler: readiness, rate limit, size limit, error frames, penalties. */
  private server(
    maxRequestBytes: number,
    fn: (req: Uint8Array, from: PeerId) => Promise<Uint8Array>,
  ): (stream: Stream, conn: Connection) => Promise<void> {
    return async (stream, conn) => {
      const from = conn.remotePeer.toString()
      try {
        if (this.scores.isBanned(from)) throw new P2PError(P2PErrorCode.PEER_BANNED, 'banned')
        await this.awaitReady(from, this.limits.handshakeTimeoutMs)
        const req = await withTimeout(
          readFrame(stream, maxRequestBytes),
          this.limits.requestTimeoutMs,
          'request',
        )
        let frame: Uint8Array
        if (!this.requestLimiter.take(from)) {
          this.penalize(from, this.scoring.rateLimitPenalty, 'request rate limit')
          frame = errorFrame('rate limited')
        } else {
          try {
            const body = await fn(req, from)
            if (body.length > this.limits.maxResponseBytes) {
              // a client with the same limit would refuse it: say why instead of sending it
              throw new P2PError(
                P2PErrorCode.MESSAGE_TOO_LARGE,
                `response of ${body.length} bytes exceeds the server's maxResponseBytes (${this.limits.maxResponseBytes})`,
              )
            }
            frame = okFrame(body)
            this.counters.requestsServed++
          } catch (e) {
            this.counters.requestsFailed++
            if (isP2PError(e) && e.code === P2PErrorCode.INVALID_REQUEST) {
              this.penalize(from, this.scoring.invalidMessagePenalty, e.message)
            }
            frame = errorFrame(msg(e))
          }
        }
        await writeFrame(stream, frame)
        await stream.close()
      } catch (e) {
        this.counters.requestsFailed++
        if (isP2PError(e) && e.code === P2PErrorCode.MESSAGE_TOO_LARGE) {
          this.penalize(
            from,
            this.scoring.oversizedMessagePenalty,
            `oversized request: ${e.message}`,
          )
        }
        stream.abort(e as Error)
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // events and stats
  // -------------------------------------------------------------------------------------------

  on<E extends keyof P2PNodeEvents>(event: E, listener: P2PNodeEvents[E]): () => void {
    const set = this.listeners.get(event) ?? new Set()
    set.add(listener)
    this.listeners.set(event, set)
    return () => {
      set.delete(listener)
    }
  }

  private emit(event: keyof P2PNodeEvents, ...args: unknown[]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        l(...args)
      } catch (e) {
        this.log?.error({ err: msg(e), event }, 'p2p: event listener threw')
      }
    }
  }

  stats(): P2PStats {
    return { ...this.counters }
  }

  private assertRunning(): void {
    if (!this.running) throw stopped()
  }
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------

/**
 * Gossip message ids: transactions and blocks by content (sha256 of topic and data, so the same
 * payload from two publishers is one message); consensus messages by publisher and sequence
 * number, so an engine may resend identical bytes.
 */
function messageId(m: Message): Uint8Array {
  const h = createHash('sha256').update(m.topic)
  if (m.type === 'signed' && m.topic.endsWith('/consensus/1')) {
    h.update(m.from.toMultihash().bytes)
    const seq = Buffer.alloc(8)
    seq.writeBigUInt64BE(BigInt.asUintN(64, m.sequenceNumber))
    h.update(seq)
  }
  return h.update(m.data).digest()
}

function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

function okFrame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1)
  out[0] = RESPONSE_OK
  out.set(body, 1)
  return out
}

function errorFrame(message: string): Uint8Array {
  const b = te.encode(message.slice(0, 512))
  const out = new Uint8Array(b.length + 1)
  out[0] = RESPONSE_ERROR
  out.set(b, 1)
  return out
}

function checkName(name: string): void {
  if (!REQUEST_NAME_PATTERN.test(name)) {
    throw new P2PError(
      P2PErrorCode.INVALID_OPTIONS,
      `request protocol name ${JSON.stringify(name)} must match ${REQUEST_NAME_PATTERN}`,
    )
  }
}

function toLibp2pPeerId(peer: PeerId): Libp2pPeerId | undefined {
  try {
    return peerIdFromString(peer)
  } catch {
    return undefined
  }
}

/** The `/p2p/<id>` part of a multiaddr, if any. */
function peerIdOf(addr: string): string | undefined {
  try {
    return multiaddr(addr)
      .getComponents()
      .find((c) => c.name === 'p2p')?.value
  } catch {
    return undefined
  }
}

function msg(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function stopped(): P2PError {
  return new P2PError(P2PErrorCode.STOPPED, 'the p2p node is not running (call start())')
}

function notConnected(peer: PeerId): P2PError {
  return new P2PError(P2PErrorCode.NOT_CONNECTED, `not connected to ${peer}`, {
    details: { peer },
  })
}

function timeout(what: string, ms: number): P2PError {
  return new P2PError(P2PErrorCode.TIMEOUT, `${what}: no answer in ${ms} ms`, { details: { ms } })
}
