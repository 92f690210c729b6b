import { equalBytes } from '@aureon/crypto'
import {
  type BlockHeader,
  bigintToBytes,
  type ChainStore,
  decodeBlock,
  decodeUint,
  decodeValidatorSet,
  expectAnyList,
  expectBytes,
  expectList,
  rlpDecodeStrict,
  rlpEncode,
  u64be,
  VALIDATOR_SET_KEY,
} from '@aureon/ledger'
import { createStateTree, verifyProof } from '@aureon/merkle'
import type { P2PNode, PeerId } from '@aureon/p2p'
import type { KVStore } from '@aureon/storage'
import type { Logger } from './logger.js'
import { decodePeerRequest, StateSyncError } from './state-sync.js'

export const VALIDATOR_SET_PROOF_PROTOCOL = 'validator-set-proof'
/** Namespace (under the root store) of the proven validator-set records. */
export const PROVEN_SETS_NAMESPACE = 'node-validator-sets'
/** Blocks asked per backfill request (the BFT engine serves at most 256). */
const BATCH = 64
/** How long the history fetch waits for the peers' fresh status before ranking them. */
const STATUS_WAIT_MS = 1000
/** Penalty for a peer that served a validator-set proof that does not verify. */
const BAD_PROOF_PENALTY = 50

/** The BFT epoch of a block height (as the engine numbers them). */
export function bftEpochOf(height: bigint, epochLength: bigint): bigint {
  return height === 0n ? 0n : (height - 1n) / epochLength
}

/**
 * The boundary heights whose validator set (and seed block) the engine reads when it continues
 * from a head at `h`: the sources of the epochs of the head's QC, of block h + 1 and of the next
 * epoch. Genesis (0) is always included (the engine's start and timeouts may read epoch 0).
 * Ascending, only heights below `h` (the state at h itself is there).
 */
export function neededBoundaries(h: bigint, epochLength: bigint): bigint[] {
  const e = bftEpochOf(h + 1n, epochLength)
  const epochs = [bftEpochOf(h, epochLength), e, e + 1n]
  const out = new Set<bigint>([0n])
  for (const ep of epochs) {
    const source = ep === 0n ? 0n : ep - 1n
    const b = source * epochLength
    if (b < h) out.add(b)
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

export interface ProvenRecord {
  height: bigint
  /** The encoded validator set (the raw state record). */
  value: Uint8Array
  /** Its inclusion proof against the state root of block `height`. */
  proof: Uint8Array[]
}

/** Proven validator-set records of boundary blocks below the base, per live chain namespace. */
export class ProvenValidatorSets {
  private readonly db: KVStore
  constructor(
    root: KVStore,
    private readonly chain: ChainStore,
  ) {
    this.db = root.namespace(PROVEN_SETS_NAMESPACE)
  }

  private key(height: bigint): Uint8Array {
    const ns = new TextEncoder().encode(this.chain.namespaces().chain)
    const k = new Uint8Array(ns.length + 9)
    k.set(ns)
    k.set(u64be(height), ns.length + 1)
    return k
  }

  async get(height: bigint): Promise<ProvenRecord | undefined> {
    const v = await this.db.get(this.key(height))
    if (!v) return undefined
    const f = expectList(rlpDecodeStrict(v, 1 << 24, 'proven record'), 2, 'proven record')
    return {
      height,
      value: expectBytes(f[0], 'record'),
      proof: expectAnyList(f[1], 'proof').map((n) => expectBytes(n, 'proof node')),
    }
  }

  /** Stores the records in one atomic batch. */
  async putAll(records: ProvenRecord[]): Promise<void> {
    if (records.length === 0) return
    await this.db.batch(
      records.map((r) => ({
        type: 'put' as const,
        key: this.key(r.height),
        value: rlpEncode([r.value, r.proof]),
      })),
    )
  }
}

/** The record and its proof of block `height`: from the state if held, else a proven record. */
export async function proveValidatorSet(
  chain: ChainStore,
  proven: ProvenValidatorSets,
  height: bigint,
): Promise<ProvenRecord | undefined> {
  const kept = await proven.get(height)
  if (kept) return kept
  if (height < chain.baseHeight()) return undefined
  const header = await chain.getHeader(height)
  if (!header) return undefined
  const tree = await createStateTree({ db: chain.stateDb, root: header.stateRoot })
  const value = await tree.get(VALIDATOR_SET_KEY)
  if (!value) return undefined
  return { height, value, proof: await tree.createProof(VALIDATOR_SET_KEY) }
}

/** Serves validator-set proofs of boundary blocks to state-syncing peers. */
export function serveValidatorSetProofs(
  p2p: P2PNode,
  chain: ChainStore,
  proven: ProvenValidatorSets,
): Promise<() => Promise<void>> {
  return p2p.handle(VALIDATOR_SET_PROOF_PROTOCOL, async (req) => {
    const height = decodePeerRequest('proof request', () =>
      decodeUint(
        expectList(rlpDecodeStrict(req, 64, 'proof request'), 1, 'proof request')[0],
        'height',
      ),
    )
    const r = await proveValidatorSet(chain, proven, height)
    if (!r) {
      throw new StateSyncError(
        'ERR_STATE_SYNC_NOT_SERVED',
        `no validator-set record of block ${height} here`,
      )
    }
    return rlpEncode([r.value, r.proof])
  })
}

/**
 * Checks a `validator-set-proof` answer against the header of its block: the proof must show
 * the record under the validator-set key of the header's state root, and decode as a set.
 * Throws StateSyncError `ERR_STATE_SYNC_BAD_PROOF` otherwise.
 */
export async function verifyValidatorSetProof(
  header: BlockHeader,
  response: Uint8Array,
): Promise<ProvenRecord> {
  const bad = (why: string): never => {
    throw new StateSyncError(
      'ERR_STATE_SYNC_BAD_PROOF',
      `the validator-set proof of block ${header.height} does not verify: ${why}`,
    )
  }
  let value: Uint8Array
  let proof: Uint8Array[]
  try {
    const f = expectList(rlpDecodeStrict(response, 1 << 24, 'proof'), 2, 'proof')
    value = expectBytes(f[0], 'record')
    proof = expectAnyList(f[1], 'proof').map((n) => expectBytes(n, 'proof node'))
  } catch (e) {
    return bad((e as Error).message)
  }
  let proven: Uint8Array | undefined
  try {
    proven = await verifyProof({ root: header.stateRoot, key: VALIDATOR_SET_KEY, proof })
  } catch (e) {
    return bad((e as Error).message)
  }
  if (!proven) return bad('the proof shows no record')
  if (!equalBytes(proven, value)) return bad('the record is not the proven one')
  try {
    decodeValidatorSet(value)
  } catch (e) {
    return bad(`the record is not a validator set: ${(e as Error).message}`)
  }
  return { height: header.height, value, proof }
}

/**
 * How many peers a BFT node with `bootstrap` bootstrap peers waits for before its engine starts:
 * with the node itself they make a quorum (more than 2/3) of the bootstrap peers plus itself, so
 * a network with up to f nodes down (or not started yet) starts without waiting. Counting the
 * quorum in peers alone (as before) made 3 of 4 validators wait for the fourth.
 */
export function bftPeersToAwait(bootstrap: number): number {
  // a quorum of n equal nodes is floor(2n / 3) + 1, this node one of them
  const quorumPeers = Math.floor((2 * (bootstrap + 1)) / 3)
  return Math.max(1, Math.min(bootstrap, quorumPeers))
}

/**
 * The ready peers, those with the highest head first (unknown last, then by id), their status
 * asked again first (in parallel): a peer that is itself state-syncing holds none of the blocks
 * or proofs below the snapshot and would only refuse, one round trip per request, and the heads
 * announced at the handshake are stale (peers that started together all announced 0).
 */
export async function peersByHead(
  p2p: Pick<P2PNode, 'peers' | 'listPeers' | 'requestStatus'>,
  waitMs = STATUS_WAIT_MS,
): Promise<PeerId[]> {
  const ids = [...p2p.peers()]
  const head = new Map<PeerId, bigint>()
  for (const p of p2p.listPeers()) if (p.status) head.set(p.id, p.status.headHeight)
  const fresh = new Map<PeerId, bigint>()
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    Promise.all(
      ids.map(async (id) => {
        try {
          fresh.set(id, (await p2p.requestStatus(id)).headHeight)
        } catch {
          // keep what the handshake said
        }
      }),
    ),
    // a peer slow to answer keeps its handshake head
    new Promise<void>((r) => {
      timer = setTimeout(r, waitMs)
    }),
  ])
  clearTimeout(timer)
  for (const [id, h] of fresh) head.set(id, h)
  return ids.sort((a, b) => {
    const ha = head.get(a) ?? -1n
    const hb = head.get(b) ?? -1n
    if (ha !== hb) return ha > hb ? -1 : 1
    return a < b ? -1 : a > b ? 1 : 0
  })
}

/**
 * After a snapshot at H is anchored on a BFT chain: backfills the blocks down to the lowest
 * boundary the engine reads and fetches, verifies and stores the validator-set records of the
 * boundaries below H. Throws StateSyncError `ERR_STATE_SYNC_HISTORY` if no peer could serve them.
 */
export async function fetchBftHistory(o: {
  p2p: P2PNode
  chain: ChainStore
  proven: ProvenValidatorSets
  epochLength: bigint
  logger: Logger
  timeoutMs: number
}): Promise<void> {
  const { p2p, chain, logger } = o
  const base = chain.baseHeight()
  if (base === 0n) return
  const bounds = neededBoundaries(base, o.epochLength)
  const lowest = bounds.find((b) => b > 0n) ?? base
  // 1. blocks [lowest, base - 1], hash-linked from block H down, newest batch first
  const lowestStored = async () => {
    const l = await chain.lowestStoredHeight()
    return l > lowest ? l : lowest
  }
  let low = await lowestStored()
  let missing = low > lowest
  for (const b of bounds) if (!missing && !(await o.proven.get(b))) missing = true
  // a restart of a node that has it all already needs no peer
  if (!missing) return
  await p2p.waitForPeers(1, { timeoutMs: o.timeoutMs }).catch(() => undefined)
  const peers = await peersByHead(p2p)
  // until done, or a round in which no peer added a block (any epoch length: no batch cap)
  while (low > lowest) {
    const from = low - BigInt(BATCH) > lowest ? low - BigInt(BATCH) : lowest
    let progressed = false
    for (const peer of peers) {
      try {
        const res = await p2p.requestBlocks(peer, { fromHeight: from, count: Number(low - from) })
        const added = await chain.backfill(res.blocks.map((b) => decodeBlock(b)))
        if (added > 0) {
          progressed = true
          break
        }
      } catch (e) {
        logger.warn({ peer, err: (e as Error).message }, 'state sync: history fetch failed')
      }
    }
    if (!progressed) break
    low = await lowestStored()
  }
  if (low > lowest) {
    throw new StateSyncError(
      'ERR_STATE_SYNC_HISTORY',
      `no peer served the blocks ${lowest}..${low - 1n} below the snapshot (the BFT engine reads the validator sets of their epochs)`,
    )
  }
  // 2. validator-set proofs of the boundaries below H
  const records: ProvenRecord[] = []
  for (const b of bounds) {
    if (await o.proven.get(b)) continue
    const header = await chain.getHeader(b)
    if (!header) throw new StateSyncError('ERR_STATE_SYNC_HISTORY', `block ${b} is not stored`)
    let got: ProvenRecord | undefined
    for (const peer of peers) {
      try {
        const res = await p2p.request(
          peer,
          VALIDATOR_SET_PROOF_PROTOCOL,
          rlpEncode([bigintToBytes(b)]),
          { timeoutMs: 10_000 },
        )
        got = await verifyValidatorSetProof(header, res)
        break
      } catch (e) {
        const code = (e as { code?: string }).code
        logger.warn(
          { peer, height: Number(b), code, err: (e as Error).message },
          'state sync: validator-set proof refused',
        )
        if (code === 'ERR_STATE_SYNC_BAD_PROOF')
          p2p.penalize(peer, BAD_PROOF_PENALTY, 'served a validator-set proof that does not verify')
      }
    }
    if (!got) {
      throw new StateSyncError(
        'ERR_STATE_SYNC_HISTORY',
        `no peer served a valid validator-set proof of block ${b}`,
      )
    }
    records.push(got)
  }
  await o.proven.putAll(records)
  logger.info(
    { from: Number(lowest), to: Number(base - 1n), boundaries: bounds.map(Number) },
    'state sync: blocks and validator sets below the snapshot fetched and verified',
  )
}
