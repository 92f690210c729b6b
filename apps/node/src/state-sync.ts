/**
 * State sync over p2p. Every node with snapshots serves two request/response protocols:
 *
 *   snapshot-manifests  request: empty         response: RLP([[manifest, block H], ...]) (newest first)
 *   snapshot-chunk      request: RLP([H, i])   response: the compressed bytes of chunk i of the
 *                                              snapshot at height H (as stored: the client verifies)
 *
 * A new node asks its peers for their manifests, keeps the offers whose block H matches the
 * manifest (hash, height, state root, chain id) and the trusted height / root / hash if configured,
 * picks the one offered by the most peers (then the highest), fetches its chunks from all the
 * peers offering it in parallel (a chunk that does not match the manifest drops that peer and is
 * fetched from another), verifies every chunk against the state root, and anchors the chain at H.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { bytesToHex, equalBytes, hexToBytes, sha256 } from '@aureon/crypto'
import {
  type Block,
  bigintToBytes,
  blockHash as blockHashOf,
  type ChainStore,
  decodeBlock,
  decodeSmall,
  decodeUint,
  expectAnyList,
  expectBytes,
  expectList,
  rlpDecodeStrict,
  rlpEncode,
} from '@aureon/ledger'
import { P2PError, P2PErrorCode, type P2PNode, type PeerId } from '@aureon/p2p'
import {
  chunkFileName,
  createMultiSourceChunkSource,
  decodeManifest,
  isSnapshotError,
  listSnapshots,
  MANIFEST_FILE,
  type SnapshotManifest,
  snapshotFolderName,
} from '@aureon/snapshots'
import type { KVStore } from '@aureon/storage'
import type { SyncConfig } from './config.js'
import type { Logger } from './logger.js'
import {
  ANCHOR_BLOCK_FILE,
  type ImportAndAnchorResult,
  importAndAnchor,
} from './snapshot-anchor.js'

export const MANIFESTS_PROTOCOL = 'snapshot-manifests'
export const CHUNK_PROTOCOL = 'snapshot-chunk'
/** Snapshots offered per answer (the newest). */
const MAX_OFFERS = 4
/** Penalty for a peer that served a chunk not matching its own manifest. */
const BAD_CHUNK_PENALTY = 50

/** A state-sync error a user can meet (no peers, no usable snapshot). */
export class StateSyncError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'StateSyncError'
  }
}

/**
 * Decodes a request a peer sent to one of the node's handlers: a malformed one is refused with
 * P2PError `ERR_INVALID_REQUEST` (the p2p layer answers with an error frame and penalizes the peer).
 */
export function decodePeerRequest<T>(what: string, decode: () => T): T {
  try {
    return decode()
  } catch (e) {
    throw new P2PError(P2PErrorCode.INVALID_REQUEST, `invalid ${what}: ${(e as Error).message}`, {
      cause: e,
    })
  }
}

/**
 * Serves this node's snapshot folders (those with their block H) to state-syncing peers.
 * Returns the unregister function.
 */
export async function serveSnapshots(
  p2p: P2PNode,
  snapshotsDir: string,
): Promise<() => Promise<void>> {
  const offHandlers = await Promise.all([
    p2p.handle(MANIFESTS_PROTOCOL, async () => {
      const list = (await listSnapshots(snapshotsDir)).reverse()
      const offers: Uint8Array[][] = []
      for (const s of list) {
        if (offers.length >= MAX_OFFERS) break
        try {
          const [manifest, block] = await Promise.all([
            readFile(join(s.path, MANIFEST_FILE)),
            readFile(join(s.path, ANCHOR_BLOCK_FILE)),
          ])
          offers.push([new Uint8Array(manifest), new Uint8Array(block)])
        } catch {
          // a packed file, or a folder without its block (taken before the node kept it)
        }
      }
      return rlpEncode(offers)
    }),
    p2p.handle(CHUNK_PROTOCOL, async (req) => {
      const { height, index } = decodePeerRequest('chunk request', () => {
        const f = expectList(rlpDecodeStrict(req, 64, 'chunk request'), 2, 'chunk request')
        return { height: decodeUint(f[0], 'height'), index: decodeSmall(f[1], 'index') }
      })
      const dir = join(snapshotsDir, snapshotFolderName(height))
      try {
        return new Uint8Array(await readFile(join(dir, chunkFileName(index))))
      } catch {
        throw new StateSyncError(
          'ERR_STATE_SYNC_NOT_SERVED',
          `no chunk ${index} of a snapshot at height ${height} here`,
        )
      }
    }),
  ])
  return async () => {
    for (const off of offHandlers) await off()
  }
}

/** One snapshot as offered by one or more peers. */
export interface SnapshotOffer {
  manifest: SnapshotManifest
  block: Block
  /** sha256 of the manifest bytes (offers are grouped by it). */
  id: string
  peers: PeerId[]
}

/** Decodes a manifests answer; offers that do not hold together are dropped. */
export function decodeOffers(
  bytes: Uint8Array,
): { manifest: SnapshotManifest; block: Block; id: string }[] {
  const out: { manifest: SnapshotManifest; block: Block; id: string }[] = []
  const list = expectAnyList(rlpDecodeStrict(bytes, 64 * 1024 * 1024, 'offers'), 'offers')
  for (const item of list.slice(0, MAX_OFFERS)) {
    try {
      const f = expectList(item, 2, 'offer')
      const mBytes = expectBytes(f[0], 'manifest')
      const manifest = decodeManifest(mBytes)
      const block = decodeBlock(expectBytes(f[1], 'block'))
      out.push({ manifest, block, id: bytesToHex(sha256(mBytes)) })
    } catch {
      // skip a malformed offer
    }
  }
  return out
}

/** Picks the offers a node may use, best first (most peers, then highest, then by id). */
export function rankOffers(
  offers: SnapshotOffer[],
  want: { chainId: bigint; sync: SyncConfig },
): SnapshotOffer[] {
  const { sync } = want
  const root = sync.trustedStateRoot ? hexToBytes(sync.trustedStateRoot) : undefined
  const hash = sync.trustedBlockHash ? hexToBytes(sync.trustedBlockHash) : undefined
  return offers
    .filter((o) => {
      const m = o.manifest
      const h = o.block.header
      if (m.chainId !== want.chainId || h.chainId !== want.chainId) return false
      if (h.height !== m.height || !equalBytes(h.stateRoot, m.stateRoot)) return false
      if (!equalBytes(blockHashOf(o.block.header), m.blockHash)) return false
      if (sync.trustedHeight > 0 && m.height !== BigInt(sync.trustedHeight)) return false
      if (root && !equalBytes(root, m.stateRoot)) return false
      if (hash && !equalBytes(hash, m.blockHash)) return false
      return true
    })
    .sort((a, b) =>
      b.peers.length !== a.peers.length
        ? b.peers.length - a.peers.length
        : a.manifest.height !== b.manifest.height
          ? a.manifest.height < b.manifest.height
            ? 1
            : -1
          : a.id < b.id
            ? -1
            : a.id > b.id
              ? 1
              : 0,
    )
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export interface StateSyncOptions {
  p2p: P2PNode
  db: KVStore
  chain: ChainStore
  chainId: bigint
  genesis: Block
  sync: SyncConfig
  logger: Logger
  /** Scratch folder of the import (see importSnapshot's `stagingDir`). */
  stagingDir?: string
  /** Stop waiting (node shutdown). */
  signal?: AbortSignal
}

/** Asks every ready peer for its snapshots; groups identical manifests. */
export async function collectOffers(p2p: P2PNode, logger: Logger): Promise<SnapshotOffer[]> {
  const byId = new Map<string, SnapshotOffer>()
  const peers = [...p2p.peers()].sort()
  await Promise.all(
    peers.map(async (peer) => {
      try {
        const res = await p2p.request(peer, MANIFESTS_PROTOCOL, new Uint8Array(0))
        for (const o of decodeOffers(res)) {
          const known = byId.get(o.id)
          if (known) known.peers.push(peer)
          else byId.set(o.id, { ...o, peers: [peer] })
        }
      } catch (e) {
        logger.debug?.({ peer, err: (e as Error).message }, 'state sync: no snapshots from peer')
      }
    }),
  )
  for (const o of byId.values()) o.peers.sort()
  return [...byId.values()]
}

/**
 * State sync: waits for peers, picks a snapshot, fetches and verifies it from several peers in
 * parallel and anchors the chain store at its block. Throws a StateSyncError (no usable snapshot)
 * or the snapshot library's coded error of the last attempt.
 */
export async function stateSync(o: StateSyncOptions): Promise<ImportAndAnchorResult> {
  const { p2p, logger, sync } = o
  const t0 = Date.now()
  const deadline = t0 + sync.timeout
  const want = Math.max(1, sync.minPeers)
  logger.info({ minPeers: want }, 'state sync: waiting for peers')
  await p2p
    .waitForPeers(want, { timeoutMs: Math.max(1, deadline - Date.now()) })
    .catch(() => undefined)
  let ranked: SnapshotOffer[] = []
  for (;;) {
    if (o.signal?.aborted) throw new StateSyncError('ERR_STATE_SYNC_ABORTED', 'state sync aborted')
    ranked = rankOffers(await collectOffers(p2p, logger), { chainId: o.chainId, sync })
    if (ranked.length > 0 || Date.now() > deadline) break
    await sleep(500)
  }
  if (ranked.length === 0) {
    throw new StateSyncError(
      'ERR_STATE_SYNC_NO_SNAPSHOT',
      `no peer offered a usable snapshot within ${sync.timeout} ms (${p2p.peers().length} peers; trusted height ${sync.trustedHeight || 'any'}, root ${sync.trustedStateRoot || 'any'})`,
    )
  }
  let last: unknown
  for (const offer of ranked.slice(0, 3)) {
    const m = offer.manifest
    logger.info(
      {
        height: Number(m.height),
        stateRoot: bytesToHex(m.stateRoot),
        chunks: m.chunks.length,
        peers: offer.peers,
      },
      'state sync: snapshot chosen',
    )
    const source = createMultiSourceChunkSource<PeerId>({
      manifest: m,
      sources: offer.peers,
      fetchChunk: (peer, index) =>
        p2p.request(
          peer,
          CHUNK_PROTOCOL,
          rlpEncode([bigintToBytes(m.height), bigintToBytes(BigInt(index))]),
          { timeoutMs: 30_000 },
        ),
      onSourceError: (peer, index, e) => {
        const code = isSnapshotError(e) ? e.code : (e as { code?: string }).code
        logger.warn(
          { peer, chunk: index, code, err: (e as Error).message },
          'state sync: chunk refused',
        )
        if (isSnapshotError(e, 'ERR_SNAPSHOT_CORRUPT'))
          p2p.penalize(peer, BAD_CHUNK_PENALTY, 'served a snapshot chunk not matching its manifest')
      },
    })
    try {
      const r = await importAndAnchor({
        db: o.db,
        chain: o.chain,
        source,
        block: offer.block,
        genesis: o.genesis,
        expect: { chainId: o.chainId },
        concurrency: sync.concurrency,
        stagingDir: o.stagingDir,
      })
      logger.info(
        {
          height: Number(r.height),
          stateRoot: bytesToHex(r.stateRoot),
          ms: Math.round(Date.now() - t0),
          importMs: Math.round(r.elapsedMs),
          peers: source.activeSources,
        },
        'state sync: state imported and verified',
      )
      return r
    } catch (e) {
      last = e
      logger.warn(
        {
          height: Number(m.height),
          code: (e as { code?: string }).code,
          err: (e as Error).message,
        },
        'state sync: snapshot failed, trying the next one',
      )
    }
  }
  throw last
}
