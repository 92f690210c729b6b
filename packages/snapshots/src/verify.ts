/**
 * Verification of one chunk against the manifest and the state root, with no other context, so
 * chunks can be checked the moment they arrive, in any order, from any source.
 */
import { sha256 } from '@aureon/crypto'
import type { BatchOp } from '@aureon/storage'
import { accountRefs } from './account.js'
import { equal, toHex } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { decodeChunk, decompressChunk, SegmentType } from './format.js'
import { sortPacked } from './sort.js'
import { codeOp, nodeOp } from './store-layout.js'
import { verifyKeyProof, verifyRange } from './trie.js'
import type { SnapshotManifest } from './types.js'

/**
 * Trie nodes in one growable buffer (per node: u32 RLP length, 32-byte hash, RLP), so a verified
 * chunk holds a few large buffers instead of ~100k small objects.
 */
export class PackedNodes {
  private buf: Uint8Array
  private view: DataView
  length = 0
  count = 0

  constructor(initial = 1 << 20) {
    this.buf = new Uint8Array(initial)
    this.view = new DataView(this.buf.buffer)
  }

  add(hash: Uint8Array, rlp: Uint8Array): void {
    const need = this.length + 36 + rlp.length
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2))
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    this.view.setUint32(this.length, rlp.length)
    this.buf.set(hash, this.length + 4)
    this.buf.set(rlp, this.length + 36)
    this.length = need
    this.count++
  }

  /** Packed entries made elsewhere (e.g. another PackedNodes' `bytes`, sorted by hash). */
  static from(bytes: Uint8Array, count: number): PackedNodes {
    const p = new PackedNodes(0)
    p.buf = bytes
    p.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    p.length = bytes.length
    p.count = count
    return p
  }

  /** The packed entries. */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.length)
  }

  /** Batch ops (relative to the state store) of at most `max` nodes each, views into the buffer. */
  *batches(max: number): Generator<BatchOp[]> {
    let ops: BatchOp[] = []
    for (let p = 0; p < this.length; ) {
      const n = this.view.getUint32(p)
      ops.push(nodeOp(this.buf.subarray(p + 4, p + 36), this.buf.subarray(p + 36, p + 36 + n)))
      p += 36 + n
      if (ops.length >= max) {
        yield ops
        ops = []
      }
    }
    if (ops.length > 0) yield ops
  }
}

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
  /** Trie nodes to write. */
  nodes: PackedNodes
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
  /** Return the nodes in key order, each once (as an import with a staging folder writes them). */
  sortNodes?: boolean
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
  const nodes = new PackedNodes(Math.max(1024, raw.length * 2))
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
        verifyRange({
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
        verifyRange({
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
  if (opts.sortNodes) {
    const sorted = sortPacked(nodes.bytes, nodes.length)
    out.nodes = PackedNodes.from(sorted.bytes, sorted.count)
  }
  return out
}
