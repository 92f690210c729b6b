/**
 * Verification of one chunk against the manifest and the state root, with no other context, so
 * chunks can be checked the moment they arrive, in any order, from any source.
 */
import type { BatchOp } from '@aureon/storage'
import { accountRefs } from './account.js'
import { equal, toHex } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { decodeChunk, decompressChunk, SegmentType } from './format.js'
import { sha256 } from './hash.js'
import { PackedNodes, sortRoom, type WrittenRun, writeSortedRun } from './sort.js'
import { codeOp } from './store-layout.js'
import { verifyKeyProof, verifyRangeCopying } from './trie.js'
import type { SnapshotManifest } from './types.js'

export { PackedNodes }

/** What a verified chunk contributes to the state being rebuilt. */
export interface VerifiedChunk {
  index: number
  /** Trie nodes and code to write (relative to the state store). */
  ops: BatchOp[]
  /** Accounts (hashed keys) of this chunk with contract storage, and their storage roots. */
  storageAccounts: { account: Uint8Array; storageRoot: Uint8Array }[]
  /** Storage key ranges this chunk proves, per account. */
  storageRanges: { account: Uint8Array; start: Uint8Array; end: Uint8Array }[]
  /** Code hashes referenced by this chunk's accounts. */
  codeRefs: Uint8Array[]
  /** Code hashes this chunk carries. */
  codes: Uint8Array[]
  leafCount: number
  rawSize: number
  compressedSize: number
}

/**
 * Checks chunk `index` (compressed bytes as stored or fetched): size and sha256 against the
 * manifest, zstd, layout, and every leaf against the state root with its range proof. Throws a
 * SnapshotError (CORRUPT, TRUNCATED or FORGED) on the first problem.
 * @example
 * const verified = await verifyChunk({ manifest, index: 0, bytes })
 */
export async function verifyChunk(opts: {
  manifest: SnapshotManifest
  index: number
  bytes: Uint8Array
}): Promise<VerifiedChunk> {
  const v = await verifyChunkPacked(opts)
  const ops: BatchOp[] = []
  for (const b of v.nodes.batches(Number.MAX_SAFE_INTEGER)) for (const op of b) ops.push(op)
  for (const op of v.codeOps) ops.push(op)
  const { nodes: _n, codeOps: _c, ...rest } = v
  return { ...rest, ops }
}

/** A verified chunk with its trie nodes packed (what the importer uses). */
export interface PackedVerifiedChunk extends Omit<VerifiedChunk, 'ops'> {
  /** Trie nodes to write (none when they went to `run`). */
  nodes: PackedNodes
  /** With `runPath`: the run file the chunk's nodes were written to, sorted, each once. */
  run?: WrittenRun
  /** Code blobs to write (relative to the state store). */
  codeOps: BatchOp[]
}

/**
 * {@link verifyChunk} with the trie nodes packed in one buffer instead of one op each.
 * @example
 * const v = await verifyChunkPacked({ manifest, index: 0, bytes })
 * for (const ops of v.nodes.batches(8192)) await store.batch(ops)
 */
export async function verifyChunkPacked(opts: {
  manifest: SnapshotManifest
  index: number
  bytes: Uint8Array
  /**
   * Write the nodes, in key order and each once, to this new file instead of returning them
   * (as an import with a staging folder does, from whichever thread verifies the chunk).
   */
  runPath?: string
}): Promise<PackedVerifiedChunk> {
  const { manifest, index, bytes } = opts
  const info = manifest.chunks[index]
  if (!info) {
    throw new SnapshotError(SnapshotErrorCode.CORRUPT, `chunk ${index} is not in the manifest`)
  }
  if (bytes.length < info.compressedSize) {
    throw new SnapshotError(
      SnapshotErrorCode.TRUNCATED,
      `chunk ${index} has ${bytes.length} bytes, the manifest says ${info.compressedSize}`,
      { details: { chunk: index } },
    )
  }
  if (bytes.length > info.compressedSize || !equal(sha256(bytes), info.hash)) {
    throw new SnapshotError(
      SnapshotErrorCode.CORRUPT,
      `chunk ${index}: sha256 does not match the manifest (expected ${toHex(info.hash)})`,
      { details: { chunk: index } },
    )
  }
  const raw = await decompressChunk(bytes, info.rawSize)
  if (raw.length !== info.rawSize) {
    throw new SnapshotError(
      SnapshotErrorCode.CORRUPT,
      `chunk ${index} decompresses to ${raw.length} bytes, the manifest says ${info.rawSize}`,
    )
  }
  const body = decodeChunk(raw, index)
  const forged = (msg: string): never => {
    throw new SnapshotError(SnapshotErrorCode.FORGED, `chunk ${index}: ${msg}`, {
      details: { chunk: index },
    })
  }
  // boundary nodes may come twice (both edges): harmless in one batch, cheaper than a dedupe
  // (a chunk's nodes take about 1.9x its raw size; written to a run, they go through this
  // thread's reused buffer)
  const nodes = opts.runPath
    ? sortRoom(raw.length * 2)
    : new PackedNodes(Math.max(1024, raw.length * 2))
  const sink = (hash: Uint8Array, rlp: Uint8Array) => nodes.add(hash, rlp)
  const out: PackedVerifiedChunk = {
    index,
    nodes,
    codeOps: [],
    storageAccounts: [],
    storageRanges: [],
    codeRefs: [],
    codes: [],
    leafCount: 0,
    rawSize: raw.length,
    compressedSize: bytes.length,
  }
  const codeOps = out.codeOps
  let accountSegments = 0
  try {
    for (const s of body.segments) {
      if (s.type === SegmentType.Accounts) {
        accountSegments++
        const r = info.accountRange
        if (!r || !equal(r.start, s.start) || !equal(r.end, s.end)) {
          forged('its account range differs from the manifest')
        }
        verifyRangeCopying({
          root: manifest.stateRoot,
          start: s.start,
          end: s.end,
          leaves: s.leaves,
          proof: s.proof,
          sink,
        })
        for (const l of s.leaves) {
          const refs = accountRefs(l.value)
          if (refs.storageRoot)
            out.storageAccounts.push({
              account: l.key.slice(),
              storageRoot: refs.storageRoot.slice(),
            })
          if (refs.codeHash) out.codeRefs.push(refs.codeHash.slice())
        }
        out.leafCount += s.leaves.length
      } else if (s.type === SegmentType.Storage) {
        const value = verifyKeyProof(manifest.stateRoot, s.account, s.accountProof)
        if (!value) forged(`storage for account key ${toHex(s.account)}, which is not in the state`)
        const refs = accountRefs(value as Uint8Array)
        if (!refs.storageRoot || !equal(refs.storageRoot, s.storageRoot)) {
          forged(`storage root of account key ${toHex(s.account)} differs from the state`)
        }
        verifyRangeCopying({
          root: s.storageRoot,
          start: s.start,
          end: s.end,
          leaves: s.leaves,
          proof: s.proof,
          sink,
        })
        out.storageRanges.push({
          account: s.account.slice(),
          start: s.start.slice(),
          end: s.end.slice(),
        })
        out.leafCount += s.leaves.length
      } else {
        if (!equal(sha256(s.code), s.hash))
          forged(`code blob ${toHex(s.hash)} does not hash to its key`)
        out.codes.push(s.hash.slice())
        codeOps.push(codeOp(s.hash.slice(), s.code.slice()))
      }
    }
  } catch (e) {
    if (
      e instanceof SnapshotError &&
      e.code === SnapshotErrorCode.FORGED &&
      !e.message.startsWith('chunk')
    ) {
      throw new SnapshotError(SnapshotErrorCode.FORGED, `chunk ${index}: ${e.message}`, {
        details: { chunk: index, ...e.details },
        cause: e,
      })
    }
    throw e
  }
  if (accountSegments !== (info.accountRange ? 1 : 0))
    forged('its account segments differ from the manifest')
  if (out.leafCount !== info.leafCount)
    forged(`it has ${out.leafCount} leaves, the manifest says ${info.leafCount}`)
  if (opts.runPath) {
    out.run = writeSortedRun(nodes, opts.runPath)
    out.nodes = new PackedNodes(0)
  }
  return out
}
