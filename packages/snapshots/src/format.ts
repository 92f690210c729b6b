/**
 * Byte layouts of manifests and chunk bodies (docs/snapshots.md specifies them), and the zstd
 * step. All integers big-endian.
 */
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { ByteReader, ByteWriter, equal, toHex } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { sha256 } from './hash.js'
import {
  CHUNK_MAGIC,
  DEFAULT_ZSTD_LEVEL,
  MANIFEST_MAGIC,
  MAX_CHUNK_SIZE,
  SNAPSHOT_FORMAT_VERSION,
} from './params.js'
import type { TrieLeaf } from './trie.js'
import type { ChunkInfo, SnapshotManifest } from './types.js'

// --------------------------------------------------------------------------------------------
// Manifest
// --------------------------------------------------------------------------------------------

const corrupt = (msg: string, details?: Record<string, unknown>): never => {
  throw new SnapshotError(SnapshotErrorCode.CORRUPT, msg, { details })
}

/**
 * Encodes a manifest (layout in docs/snapshots.md); the last 32 bytes are sha256 of the rest.
 * @example
 * const bytes = encodeManifest(manifest)
 */
export function encodeManifest(m: SnapshotManifest): Uint8Array {
  const w = new ByteWriter(128 + m.chunks.length * 120)
  w.bytes(MANIFEST_MAGIC).u16(m.version).u64(m.chainId).u64(m.height)
  w.bytes(m.blockHash).bytes(m.stateRoot)
  w.u64(BigInt(m.accountCount)).u64(BigInt(m.storageCount)).u32(m.codeCount)
  w.u32(m.chunks.length)
  for (const c of m.chunks) {
    w.bytes(c.hash).u32(c.rawSize).u32(c.compressedSize).u32(c.leafCount)
    if (c.accountRange) w.u8(1).bytes(c.accountRange.start).bytes(c.accountRange.end)
    else w.u8(0)
  }
  const body = w.finish()
  return new ByteWriter(body.length + 32).bytes(body).bytes(sha256(body)).finish()
}

/**
 * Decodes and checks a manifest: magic, version, checksum, sizes, and that the chunks' account
 * ranges tile the whole key space in order.
 * @example
 * const manifest = decodeManifest(bytes)
 */
export function decodeManifest(bytes: Uint8Array): SnapshotManifest {
  if (bytes.length < 4 || !equal(bytes.subarray(0, 4), MANIFEST_MAGIC)) {
    corrupt('not a snapshot manifest: bad magic (expected "AUSM")')
  }
  if (bytes.length < 38) {
    throw new SnapshotError(
      SnapshotErrorCode.TRUNCATED,
      `manifest of ${bytes.length} bytes is truncated`,
    )
  }
  const r = new ByteReader(bytes, 'manifest')
  r.bytes(4)
  const version = r.u16()
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(
      SnapshotErrorCode.UNSUPPORTED_VERSION,
      `snapshot format version ${version} is not supported (this library reads version ${SNAPSHOT_FORMAT_VERSION})`,
      { details: { version } },
    )
  }
  const body = bytes.subarray(0, bytes.length - 32)
  if (!equal(sha256(body), bytes.subarray(bytes.length - 32))) {
    corrupt('manifest checksum mismatch: the manifest is damaged or truncated')
  }
  const chainId = r.u64()
  const height = r.u64()
  const blockHash = r.bytes(32).slice()
  const stateRoot = r.bytes(32).slice()
  const accountCount = Number(r.u64())
  const storageCount = Number(r.u64())
  const codeCount = r.u32()
  const n = r.u32()
  const chunks: ChunkInfo[] = []
  let totalRawSize = 0
  let totalCompressedSize = 0
  for (let i = 0; i < n; i++) {
    const hash = r.bytes(32).slice()
    const rawSize = r.u32()
    const compressedSize = r.u32()
    const leafCount = r.u32()
    const flags = r.u8()
    if (flags > 1) corrupt(`chunk ${i}: unknown flags ${flags}`)
    if (rawSize > MAX_CHUNK_SIZE) {
      corrupt(`chunk ${i}: rawSize ${rawSize} exceeds the 4 MiB limit`, { chunk: i })
    }
    const c: ChunkInfo = { hash, rawSize, compressedSize, leafCount }
    if (flags & 1) c.accountRange = { start: r.bytes(32).slice(), end: r.bytes(32).slice() }
    chunks.push(c)
    totalRawSize += rawSize
    totalCompressedSize += compressedSize
  }
  if (r.pos !== body.length) corrupt('manifest has trailing bytes')
  checkTiling(chunks)
  return {
    version,
    chainId,
    height,
    blockHash,
    stateRoot,
    chunks,
    totalRawSize,
    totalCompressedSize,
    accountCount,
    storageCount,
    codeCount,
  }
}

/** The account ranges of the chunks, in order, must cover 0x00..00 to 0xff..ff without gaps. */
function checkTiling(chunks: ChunkInfo[]): void {
  let next: bigint | undefined = 0n
  const max = (1n << 256n) - 1n
  for (let i = 0; i < chunks.length; i++) {
    const r = chunks[i].accountRange
    if (!r) continue
    const s = BigInt(toHex(r.start))
    const e = BigInt(toHex(r.end))
    if (next === undefined || s !== next || e < s) {
      throw new SnapshotError(
        SnapshotErrorCode.FORGED,
        `chunk ${i}: account range ${toHex(r.start)}..${toHex(r.end)} does not continue the previous range`,
        { details: { chunk: i } },
      )
    }
    next = e === max ? undefined : e + 1n
  }
  if (next !== undefined) {
    throw new SnapshotError(
      SnapshotErrorCode.TRUNCATED,
      'the chunks do not cover the whole account key space (the snapshot is truncated)',
    )
  }
}

// --------------------------------------------------------------------------------------------
// Chunk bodies
// --------------------------------------------------------------------------------------------

/** Segment kinds inside a chunk. */
export const SegmentType = { Accounts: 1, Storage: 2, Code: 3 } as const

/** Account-trie leaves of a key range, with the edge proof against the state root. */
export interface AccountSegment {
  type: typeof SegmentType.Accounts
  start: Uint8Array
  end: Uint8Array
  proof: Uint8Array[]
  leaves: TrieLeaf[]
}

/** Leaves of a key range of one contract's storage trie. */
export interface StorageSegment {
  type: typeof SegmentType.Storage
  /** Hashed key of the account in the state trie. */
  account: Uint8Array
  storageRoot: Uint8Array
  /** Proof of the account leaf against the state root (it carries `storageRoot`). */
  accountProof: Uint8Array[]
  start: Uint8Array
  end: Uint8Array
  proof: Uint8Array[]
  leaves: TrieLeaf[]
}

/** A contract code blob, keyed by its sha256. */
export interface CodeSegment {
  type: typeof SegmentType.Code
  hash: Uint8Array
  code: Uint8Array
}

export type Segment = AccountSegment | StorageSegment | CodeSegment

/** A decoded chunk. */
export interface ChunkBody {
  index: number
  segments: Segment[]
}

const PROOF_FIXED = 2
const LEAVES_FIXED = 4

/** Encoded size of a proof list. */
export function proofSize(proof: Uint8Array[]): number {
  let n = PROOF_FIXED
  for (const p of proof) n += 4 + p.length
  return n
}

/** Encoded size of one leaf. */
export function leafSize(l: TrieLeaf): number {
  return 32 + 4 + l.value.length
}

/** Bytes of the chunk header (magic, version, index, segment count). */
export const CHUNK_HEADER_SIZE = 4 + 2 + 4 + 4
/** Fixed bytes of segments (without proofs and leaves). */
export const ACCOUNT_SEGMENT_FIXED = 1 + 64 + LEAVES_FIXED
export const STORAGE_SEGMENT_FIXED = 1 + 64 + 64 + LEAVES_FIXED
export const CODE_SEGMENT_FIXED = 1 + 32 + 4

/** Writes a proof list (u16 count, then per node u32 length and bytes). */
export function writeProof(w: ByteWriter, proof: Uint8Array[]): void {
  w.u16(proof.length)
  for (const p of proof) w.varBytes(p)
}

function writeLeaves(w: ByteWriter, leaves: TrieLeaf[]): void {
  w.u32(leaves.length)
  for (const l of leaves) w.bytes(l.key).varBytes(l.value)
}

/**
 * Encodes a chunk body (before compression).
 * @example
 * const raw = encodeChunk({ index: 0, segments })
 */
export function encodeChunk(c: ChunkBody, sizeHint = 64 * 1024): Uint8Array {
  const w = new ByteWriter(sizeHint)
  w.bytes(CHUNK_MAGIC).u16(SNAPSHOT_FORMAT_VERSION).u32(c.index).u32(c.segments.length)
  for (const s of c.segments) {
    w.u8(s.type)
    if (s.type === SegmentType.Accounts) {
      w.bytes(s.start).bytes(s.end)
      writeProof(w, s.proof)
      writeLeaves(w, s.leaves)
    } else if (s.type === SegmentType.Storage) {
      w.bytes(s.account).bytes(s.storageRoot)
      writeProof(w, s.accountProof)
      w.bytes(s.start).bytes(s.end)
      writeProof(w, s.proof)
      writeLeaves(w, s.leaves)
    } else {
      w.bytes(s.hash).varBytes(s.code)
    }
  }
  return w.finish()
}

function readProof(r: ByteReader): Uint8Array[] {
  const n = r.u16()
  const out: Uint8Array[] = []
  for (let i = 0; i < n; i++) out.push(r.varBytes())
  return out
}

function readLeaves(r: ByteReader): TrieLeaf[] {
  const n = r.u32()
  if (n * 36 > r.buf.length - r.pos) corrupt(`${r.what}: leaf count ${n} exceeds the chunk size`)
  const out: TrieLeaf[] = new Array(n)
  for (let i = 0; i < n; i++) out[i] = { key: r.bytes(32), value: r.varBytes() }
  return out
}

/**
 * Decodes a chunk body; `expectedIndex` guards against a chunk served under another index.
 * @example
 * const body = decodeChunk(raw, 0)
 */
export function decodeChunk(raw: Uint8Array, expectedIndex: number): ChunkBody {
  const what = `chunk ${expectedIndex}`
  if (raw.length < CHUNK_HEADER_SIZE || !equal(raw.subarray(0, 4), CHUNK_MAGIC)) {
    corrupt(`${what}: bad magic (expected "AUSC")`, { chunk: expectedIndex })
  }
  const r = new ByteReader(raw, what)
  r.bytes(4)
  const version = r.u16()
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(
      SnapshotErrorCode.UNSUPPORTED_VERSION,
      `${what}: format version ${version} is not supported (expected ${SNAPSHOT_FORMAT_VERSION})`,
    )
  }
  const index = r.u32()
  if (index !== expectedIndex) {
    throw new SnapshotError(
      SnapshotErrorCode.FORGED,
      `${what}: the chunk says it is chunk ${index}`,
      { details: { chunk: expectedIndex, index } },
    )
  }
  const n = r.u32()
  const segments: Segment[] = []
  for (let i = 0; i < n; i++) {
    const type = r.u8()
    if (type === SegmentType.Accounts) {
      const start = r.bytes(32)
      const end = r.bytes(32)
      segments.push({ type, start, end, proof: readProof(r), leaves: readLeaves(r) })
    } else if (type === SegmentType.Storage) {
      const account = r.bytes(32)
      const storageRoot = r.bytes(32)
      const accountProof = readProof(r)
      const start = r.bytes(32)
      const end = r.bytes(32)
      segments.push({
        type,
        account,
        storageRoot,
        accountProof,
        start,
        end,
        proof: readProof(r),
        leaves: readLeaves(r),
      })
    } else if (type === SegmentType.Code) {
      segments.push({ type, hash: r.bytes(32), code: r.varBytes() })
    } else corrupt(`${what}: unknown segment type ${type}`, { chunk: expectedIndex })
  }
  if (!r.done) corrupt(`${what}: trailing bytes after the last segment`, { chunk: expectedIndex })
  return { index, segments }
}

// --------------------------------------------------------------------------------------------
// zstd (node:zlib, Node >= 22.15)
// --------------------------------------------------------------------------------------------

type ZstdFn = (buf: Uint8Array, opts: object, cb: (e: Error | null, r: Buffer) => void) => void
const z = zlib as unknown as {
  zstdCompress?: ZstdFn
  zstdDecompress?: ZstdFn
  constants: Record<string, number>
}

function needZstd(): void {
  if (!z.zstdCompress || !z.zstdDecompress) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      `zstd is not available in node:zlib on Node ${process.version}: @aureon/snapshots needs Node >= 22.15`,
    )
  }
}

/**
 * zstd-compresses a chunk body (on libuv's thread pool).
 * @example
 * const compressed = await compressChunk(raw)
 */
export async function compressChunk(
  raw: Uint8Array,
  level = DEFAULT_ZSTD_LEVEL,
): Promise<Uint8Array> {
  needZstd()
  const fn = promisify(z.zstdCompress as ZstdFn)
  const out = (await fn(raw, {
    params: { [z.constants.ZSTD_c_compressionLevel]: level },
  })) as Buffer
  return new Uint8Array(out.buffer, out.byteOffset, out.length)
}

/**
 * Decompresses a chunk, refusing output larger than `maxSize` (a zstd bomb is corrupt data).
 * @example
 * const raw = await decompressChunk(compressed, info.rawSize)
 */
export async function decompressChunk(
  compressed: Uint8Array,
  maxSize: number,
): Promise<Uint8Array> {
  needZstd()
  const fn = promisify(z.zstdDecompress as ZstdFn)
  try {
    const out = (await fn(compressed, { maxOutputLength: Math.max(1, maxSize) })) as Buffer
    return new Uint8Array(out.buffer, out.byteOffset, out.length)
  } catch (e) {
    throw new SnapshotError(
      SnapshotErrorCode.CORRUPT,
      `chunk does not decompress as zstd within ${maxSize} bytes: ${(e as Error).message}`,
      { cause: e },
    )
  }
}
