/**
 * AureonNode: the thin assembly of the toolkit's packages into a running node: LevelDB store,
 * chain store + genesis, state processor with the WASM executor, tx pool, a consensus engine,
 * the libp2p host (when the engine needs peers) and the REST + WebSocket API.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import {
  BftEngine,
  type ConsensusEngine,
  DevEngine,
  POW_RETARGET_INTERVAL,
  PoAEngine,
  PoWEngine,
} from '@aureon/consensus'
import { bytesToHex, equalBytes } from '@aureon/crypto'
import {
  type Block,
  blockHash,
  type ChainStore,
  createGenesis,
  createTxPool,
  decodeTransaction,
  encodeBlock,
  encodeTransaction,
  type GenesisConfig,
  genesisParams,
  type LedgerParams,
  openChainStore,
  type Receipt,
  StateProcessor,
  type TxPool,
} from '@aureon/ledger'
import { createP2PNode, type P2PNode } from '@aureon/p2p'
import { createRPCServer, type RPCServer } from '@aureon/rpc'
import { WasmExecutor } from '@aureon/runtime'
import { createSnapshot, pruneSnapshots } from '@aureon/snapshots'
import { createMemoryStore, type KVStore, openLevelStore } from '@aureon/storage'
import type { NodeKey } from './accounts.js'
import { NodeBackend } from './backend.js'
import {
  bftPeersToAwait,
  fetchBftHistory,
  ProvenValidatorSets,
  serveValidatorSetProofs,
} from './bft-state-sync.js'
import { BlockSync, backfillHistory } from './block-sync.js'
import { DEFAULT_SNAPSHOT_CHUNK_SIZE, type NodeConfig } from './config.js'
import { ChainError, LedgerChain } from './ledger-chain.js'
import type { Logger } from './logger.js'
import type { NodeMetrics } from './metrics.js'
import { clearStaleNamespaces, writeAnchorBlock } from './snapshot-anchor.js'
import { serveSnapshots, stateSync } from './state-sync.js'

export interface AureonNodeOptions {
  config: NodeConfig
  genesis: GenesisConfig
  /** This node's validator / sealer key (ed25519, plus BLS for bft). */
  key?: NodeKey
  logger: Logger
  metrics?: NodeMetrics | null
}

/** A node-level error a user can cause (bad data folder, wrong genesis). */
export class NodeError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'NodeError'
  }
}

export class AureonNode {
  readonly store: KVStore
  readonly chainStore: ChainStore
  readonly chain: LedgerChain
  readonly pool: TxPool
  readonly processor: StateProcessor
  readonly params: LedgerParams
  readonly engine: ConsensusEngine
  readonly p2p?: P2PNode
  readonly rpc?: RPCServer
  readonly backend: NodeBackend
  readonly genesisHash: Uint8Array
  /** Block sync from peers (dev, PoA and PoW engines with p2p). */
  readonly blockSync?: BlockSync
  private stopping?: Promise<void>
  private engineStarted: Promise<void> = Promise.resolve()
  private lastCommitAt = 0

  readonly logger: Logger
  private metrics: NodeMetrics | null
  private config: NodeConfig

  private constructor(parts: {
    store: KVStore
    chainStore: ChainStore
    chain: LedgerChain
    pool: TxPool
    processor: StateProcessor
    params: LedgerParams
    engine: ConsensusEngine
    p2p?: P2PNode
    rpc?: RPCServer
    backend: NodeBackend
    genesisHash: Uint8Array
    blockSync?: BlockSync
    logger: Logger
    metrics: NodeMetrics | null
    config: NodeConfig
  }) {
    this.store = parts.store
    this.chainStore = parts.chainStore
    this.chain = parts.chain
    this.pool = parts.pool
    this.processor = parts.processor
    this.params = parts.params
    this.engine = parts.engine
    this.p2p = parts.p2p
    this.rpc = parts.rpc
    this.backend = parts.backend
    this.genesisHash = parts.genesisHash
    this.blockSync = parts.blockSync
    this.logger = parts.logger
    this.metrics = parts.metrics
    this.config = parts.config
  }

  /** The RPC base URL (when the API is enabled). */
  get rpcUrl(): string | undefined {
    return this.rpc?.url
  }

  /** Opens the data folder, initializes genesis if needed, and starts every subsystem. */
  static async start(opts: AureonNodeOptions): Promise<AureonNode> {
    const { config: cfg, logger } = opts
    mkdirSync(cfg.dataDir, { recursive: true })
    const store = await openLevelStore({ path: join(cfg.dataDir, 'db') })
    try {
      return await AureonNode.assemble(opts, store)
    } catch (e) {
      await store.close().catch(() => undefined)
      logger.debug?.({ err: e }, 'node start failed')
      throw e
    }
  }

  private static async assemble(opts: AureonNodeOptions, store: KVStore): Promise<AureonNode> {
    const { config: cfg, logger } = opts
    const chainStore = await openChainStore({ db: store })
    // The genesis this config describes, computed apart: a data folder of another chain is refused.
    const expected = await createGenesis({ config: opts.genesis, db: createMemoryStore() })
    // state sync into an empty folder: the genesis state would only be deleted again
    const syncIntoEmpty = cfg.sync.mode === 'snapshot' && !chainStore.head()
    if (syncIntoEmpty) {
      logger.info(
        { chainId: String(expected.block.header.chainId) },
        'empty data folder: state sync',
      )
    } else if (!chainStore.head()) {
      const g = await createGenesis({ config: opts.genesis, db: chainStore.stateDb })
      await chainStore.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
      logger.info(
        { hash: bytesToHex(g.hash), chainId: String(g.block.header.chainId) },
        'genesis written',
      )
    } else {
      if (chainStore.baseHeight() > 0n && !(await chainStore.getBlockHash(0n))) {
        // anchored at an imported snapshot that did not know the genesis: keep it at height 0
        if (chainStore.head()!.chainId !== expected.block.header.chainId) {
          throw new NodeError(
            'ERR_GENESIS_MISMATCH',
            `the data folder ${cfg.dataDir} holds chain ${chainStore.head()!.chainId}, the genesis is of chain ${expected.block.header.chainId}`,
          )
        }
        await chainStore.putGenesis(expected.block)
      }
      const stored = await chainStore.getBlockHash(0n)
      if (!stored || !equalBytes(stored, expected.hash)) {
        throw new NodeError(
          'ERR_GENESIS_MISMATCH',
          `the data folder ${cfg.dataDir} holds another chain (genesis ${stored ? bytesToHex(stored) : 'missing'}, expected ${bytesToHex(expected.hash)}); use another --data-dir`,
        )
      }
      logger.info(
        {
          height: String(chainStore.head()!.height),
          ...(chainStore.baseHeight() > 0n ? { from: String(chainStore.baseHeight()) } : {}),
        },
        'chain loaded from the data folder',
      )
    }
    if (chainStore.namespaces().generation > 0) {
      const cleared = await clearStaleNamespaces(store, chainStore)
      if (cleared.length) logger.info({ cleared }, 'old chain namespaces deleted')
    }
    const chainId = expected.block.header.chainId
    const engineName = cfg.consensus.engine
    const stateSyncWanted =
      cfg.sync.mode === 'snapshot' && (syncIntoEmpty || chainStore.head()!.height === 0n)
    // a dev node is a peer when it has peers to dial, state-syncs, or serves its snapshots
    const needsPeers =
      engineName !== 'dev' ||
      cfg.p2p.bootstrap.length > 0 ||
      cfg.sync.mode === 'snapshot' ||
      (cfg.snapshots.serve && cfg.snapshots.every > 0)
    if (cfg.sync.mode === 'snapshot' && !stateSyncWanted) {
      logger.info(
        { height: String(chainStore.head()!.height) },
        'sync.mode = "snapshot" ignored: the data folder already holds a chain',
      )
    }
    if (stateSyncWanted && !cfg.p2p.enabled)
      throw new NodeError('ERR_CONFIG', 'sync.mode = "snapshot" needs p2p enabled')
    let p2p: P2PNode | undefined
    if (cfg.p2p.enabled && needsPeers) {
      p2p = await createP2PNode({
        chainId,
        genesisHash: expected.hash,
        head: () =>
          chainStore.head()
            ? { height: chainStore.head()!.height, hash: chainStore.headHash()! }
            : { height: 0n, hash: expected.hash },
        secretKey: opts.key?.secretKey,
        listen: cfg.p2p.listen,
        bootstrap: cfg.p2p.bootstrap,
        bootstrapIntervalMs: 1000,
        logger: logger.child({ subsystem: 'p2p' }),
      })
    }
    try {
      return await AureonNode.assembleChain(opts, store, chainStore, expected, p2p, stateSyncWanted)
    } catch (e) {
      await p2p?.stop().catch(() => undefined)
      throw e
    }
  }

  private static async assembleChain(
    opts: AureonNodeOptions,
    store: KVStore,
    chainStore: ChainStore,
    expected: Awaited<ReturnType<typeof createGenesis>>,
    p2p: P2PNode | undefined,
    stateSyncWanted: boolean,
  ): Promise<AureonNode> {
    const { config: cfg, logger, metrics } = opts
    const chainId = expected.block.header.chainId
    const params = genesisParams(opts.genesis)
    const engineName = cfg.consensus.engine
    const snapshotsDir = join(cfg.dataDir, 'snapshots')
    if (p2p && cfg.snapshots.serve) await serveSnapshots(p2p, snapshotsDir)
    const proven = new ProvenValidatorSets(store, chainStore)
    if (p2p && engineName === 'bft') await serveValidatorSetProofs(p2p, chainStore, proven)
    if (p2p && stateSyncWanted) {
      await stateSync({
        p2p,
        db: store,
        chain: chainStore,
        chainId,
        genesis: expected.block,
        sync: cfg.sync,
        logger,
        stagingDir: join(cfg.dataDir, 'tmp'),
      })
    }
    if (p2p && engineName === 'pow' && chainStore.baseHeight() > 0n) {
      // the difficulty retarget of the next blocks reads the blocks of the window below the base
      await backfillHistory({
        p2p,
        chain: chainStore,
        depth: Number(POW_RETARGET_INTERVAL),
        logger,
        timeoutMs: cfg.sync.timeout,
      })
    }
    if (p2p && engineName === 'bft' && chainStore.baseHeight() > 0n) {
      // the engine reads validator sets (and seeds) of epoch boundaries below the snapshot
      await fetchBftHistory({
        p2p,
        chain: chainStore,
        proven,
        epochLength: params.epochLength,
        logger,
        timeoutMs: cfg.sync.timeout,
      })
    }
    const executor = new WasmExecutor()
    const processor = new StateProcessor({ executor, params })
    let chainRef: LedgerChain | undefined
    const pool = createTxPool({
      chainId,
      params,
      getAccount: (a) => chainRef!.state().getAccount(a),
    })
    let backendRef: NodeBackend | undefined
    let nodeRef: AureonNode | undefined
    const chain = await LedgerChain.create({
      store: chainStore,
      processor,
      pool,
      params,
      provenValidatorSet: async (h) => (await proven.get(h))?.value,
      onCommit: async (block, receipts) => {
        await backendRef?.blockCommitted(block, receipts)
        nodeRef?.observeCommit(block, receipts)
      },
    })
    chainRef = chain

    const engine = createEngine({
      name: engineName,
      cfg,
      chain,
      p2p,
      key: opts.key,
      store,
      genesis: opts.genesis,
    })
    const blockSync =
      p2p && BlockSync.supports(engineName)
        ? new BlockSync({ p2p, chain, engine, engineName, logger, intervalMs: 2000 })
        : undefined
    engine.on('error', (e) => {
      logger.warn({ err: e.message }, 'consensus error')
      if (e instanceof ChainError && e.code === 'ERR_UNKNOWN_PARENT') void blockSync?.trigger()
    })
    if (p2p && engineName === 'dev') {
      // the dev engine serves no blocks itself: answer block range requests from the store
      p2p.onBlockRequest(async (_from, req) => {
        const blocks: Uint8Array[] = []
        for (let h = req.fromHeight; blocks.length < Math.min(req.count, 128); h++) {
          const b = await chainStore.getBlockByHeight(h)
          if (!b) break
          blocks.push(encodeBlock(b))
        }
        return { blocks }
      })
    }

    const backend = new NodeBackend({
      chainId,
      chain: chainStore,
      pool,
      executor,
      indexDb: store.namespace('node-index'),
      blockGasLimit: params.blockGasLimit,
      peers: async () =>
        (p2p?.listPeers() ?? []).map((p) => ({
          id: p.id,
          addresses: p.addresses,
          direction: p.direction,
        })),
      health: async () => ({
        ok: true,
        syncing: blockSync?.syncing ?? false,
        details: {
          engine: engineName,
          height: Number(chain.head().height),
          // a node started from a snapshot keeps no blocks (or state) below this height
          ...(chainStore.baseHeight() > 0n ? { base: Number(chainStore.baseHeight()) } : {}),
        },
      }),
      onSubmitted: (tx) => {
        if (p2p) void p2p.publish('transactions', encodeTransaction(tx)).catch(() => undefined)
        if (engine instanceof DevEngine && cfg.consensus.blockTime === 0) automine(engine, pool)
      },
    })
    backendRef = backend

    if (p2p) {
      p2p.subscribe('transactions', (data) => {
        try {
          void pool.add(decodeTransaction(data)).catch(() => undefined)
        } catch {
          // undecodable gossip is scored by the p2p layer's validator
        }
      })
    }

    let rpc: RPCServer | undefined
    if (cfg.rpc.enabled) {
      rpc = await createRPCServer({
        backend,
        host: cfg.rpc.host,
        port: cfg.rpc.port,
        cors: cfg.rpc.cors.length ? cfg.rpc.cors : '*',
        logger: logger.child({ subsystem: 'rpc' }),
      })
      if (metrics) {
        rpc.app.get('/metrics', async (_req, reply) => {
          metrics.poolSize.set(pool.size)
          metrics.peers.set(p2p?.peers().length ?? 0)
          reply.header('content-type', metrics.registry.contentType)
          return metrics.registry.metrics()
        })
      }
    }

    const node = new AureonNode({
      store,
      chainStore,
      chain,
      pool,
      processor,
      params,
      engine,
      p2p,
      rpc,
      backend,
      genesisHash: expected.hash,
      blockSync,
      logger,
      metrics: metrics ?? null,
      config: cfg,
    })
    nodeRef = node
    metrics?.headHeight.set(Number(chain.head().height))
    if (p2p) await p2p.start()
    if (rpc) {
      const url = await rpc.listen()
      logger.info({ url }, 'RPC listening')
    }
    if (p2p && engineName === 'bft' && cfg.p2p.bootstrap.length > 0) {
      // Rounds that start before a quorum of peers is connected only time out (and back off):
      // give the bootstrap peers a moment first, then start voting either way.
      const want = bftPeersToAwait(cfg.p2p.bootstrap.length)
      node.engineStarted = p2p
        .waitForPeers(want, { timeoutMs: 30_000 })
        .catch(() => logger.warn({ want }, 'starting consensus before enough peers connected'))
        .then(() => (node.stopping ? undefined : engine.start()))
    } else {
      await engine.start()
    }
    blockSync?.start()
    return node
  }

  private snapshotting: Promise<void> = Promise.resolve()

  /** Takes an automatic snapshot every `snapshots.every` blocks, keeping the last `keep`. */
  private maybeSnapshot(block: Block): void {
    const every = BigInt(this.config.snapshots.every)
    const h = block.header.height
    if (every === 0n || h % every !== 0n) return
    const snapshotsDir = join(this.config.dataDir, 'snapshots')
    this.snapshotting = this.snapshotting.then(async () => {
      if (this.stopping) return
      try {
        const r = await createSnapshot({
          snapshotsDir,
          chainId: block.header.chainId,
          height: h,
          blockHash: blockHash(block.header),
          stateRoot: block.header.stateRoot,
          stateDb: this.chainStore.stateDb,
          chunkSize: this.config.snapshots.chunkSize || DEFAULT_SNAPSHOT_CHUNK_SIZE,
        })
        // the block goes next to the snapshot: a node started from it continues from this block
        await writeAnchorBlock(r.path, block)
        await pruneSnapshots({ snapshotsDir, keep: this.config.snapshots.keep })
        this.logger.info({ height: Number(h), path: r.path }, 'snapshot taken')
      } catch (e) {
        this.logger.warn(
          { height: Number(h), err: (e as Error).message },
          'automatic snapshot failed',
        )
      }
    })
  }

  private observeCommit(block: Block, receipts: Receipt[]): void {
    const now = Date.now()
    const m = this.metrics
    if (m) {
      m.headHeight.set(Number(block.header.height))
      m.gasUsed.inc(Number(block.header.gasUsed))
      m.txCommitted.inc(block.transactions.length)
      if (this.lastCommitAt) {
        const dt = (now - this.lastCommitAt) / 1000
        m.blockTime.observe(dt)
        if (dt > 0) m.txPerSecond.set(block.transactions.length / dt)
      }
    }
    this.lastCommitAt = now
    this.maybeSnapshot(block)
    this.logger.info(
      {
        height: Number(block.header.height),
        hash: bytesToHex(blockHash(block.header)).slice(0, 18),
        txs: block.transactions.length,
        failed: receipts.filter((r) => r.status !== 'Success').length,
      },
      'block committed',
    )
  }

  /** Stops the engine, the API and the network, finishes the current write, closes the store. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.engineStarted.catch(() => undefined)
      await this.blockSync?.stop()
      await this.engine.stop().catch(() => undefined)
      await this.snapshotting
      await this.rpc?.close().catch(() => undefined)
      await this.p2p?.stop().catch(() => undefined)
      await this.store.close()
    })()
    return this.stopping
  }
}

const sealing = new WeakMap<DevEngine, { running: boolean; again: boolean }>()

/**
 * Automine without one seal per transaction: a burst of submissions while a block is being
 * sealed is coalesced into the next block (one seal in flight, at most one more queued).
 */
function automine(engine: DevEngine, pool: TxPool): void {
  let s = sealing.get(engine)
  if (!s) sealing.set(engine, (s = { running: false, again: false }))
  if (s.running) {
    s.again = true
    return
  }
  s.running = true
  const state = s
  void (async () => {
    do {
      state.again = false
      await engine.notifyTransactions().catch(() => undefined)
    } while (state.again && pool.size > 0)
    state.running = false
  })()
}

function createEngine(o: {
  name: NodeConfig['consensus']['engine']
  cfg: NodeConfig
  chain: LedgerChain
  p2p?: P2PNode
  key?: NodeKey
  store: KVStore
  genesis: GenesisConfig
}): ConsensusEngine {
  const { cfg, chain, p2p, key } = o
  switch (o.name) {
    case 'dev':
      return new DevEngine({
        chain,
        transport: p2p,
        sealer: key !== undefined,
        mode: cfg.consensus.blockTime > 0 ? cfg.consensus.blockTime : 'auto',
        coinbase: key?.address,
      })
    case 'poa': {
      const authorities = (o.genesis.validators ?? []).map((v) => hexToBytesStrict(v.publicKey))
      return new PoAEngine({
        chain,
        transport: p2p,
        authorities,
        secretKey: key?.secretKey,
        coinbase: key?.address,
        period: cfg.consensus.blockTime || 1000,
      })
    }
    case 'pow':
      return new PoWEngine({
        chain,
        transport: p2p,
        mine: key !== undefined,
        coinbase: key?.address,
        targetBlockTime: cfg.consensus.blockTime || 2000,
      })
    case 'bft': {
      if (!p2p) throw new NodeError('ERR_CONFIG', 'the bft engine needs p2p enabled')
      return new BftEngine({
        chain,
        transport: p2p,
        store: o.store.namespace('consensus'),
        keys: key?.blsSecretKey
          ? { secretKey: key.secretKey, blsSecretKey: key.blsSecretKey }
          : undefined,
        baseTimeout: cfg.consensus.roundTimeout,
      })
    }
    default:
      throw new NodeError('ERR_CONFIG', `unknown consensus engine ${String(o.name)}`)
  }
}

function hexToBytesStrict(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'))
}
