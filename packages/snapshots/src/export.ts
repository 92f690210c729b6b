/**
 * Streaming export: walks the account trie in key order (and each contract's storage trie after
 * its account), cuts chunks of at most `chunkSize` bytes, adds edge proofs, compresses each with
 * zstd while the next one is being read, and writes them to a folder or one packed file.
 * Memory stays bounded: one chunk being filled, at most two being compressed or written.
 */
import { sha256 } from '@aureon/crypto'
import { accountRefs } from './account.js'
import { MAX_KEY, nextKey, toHex, ZERO_KEY } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import {
  ACCOUNT_SEGMENT_FIXED,
  type AccountSegment,
  CHUNK_HEADER_SIZE,
  CODE_SEGMENT_FIXED,
  compressChunk,
  encodeChunk,
  encodeManifest,
  leafSize,
  proofSize,
  type Segment,
  SegmentType,
  STORAGE_SEGMENT_FIXED,
  type StorageSegment,
} from './format.js'
import { createDirSink, createFileSink, type SnapshotSink } from './io.js'
import {
  CHUNK_PROOF_RESERVE,
  DEFAULT_ZSTD_LEVEL,
  MAX_CHUNK_SIZE,
  SNAPSHOT_FORMAT_VERSION,
} from './params.js'
import { readCode, storeNodeReader } from './store-layout.js'
import { type NodeReader, proofPath, type TrieLeaf, walkLeaves } from './trie.js'
import type { ChunkInfo, ExportSnapshotOptions, SnapshotManifest, SnapshotResult } from './types.js'

function uniqueProof(a: Uint8Array[], b: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>()
  const out: Uint8Array[] = []
  for (const p of [...a, ...b]) {
    const k = Buffer.from(p.buffer, p.byteOffset, p.length).toString('base64')
    if (!seen.has(k)) {
      seen.add(k)
      out.push(p)
    }
  }
  return out
}

interface StorageCtx {
  account: Uint8Array
  storageRoot: Uint8Array
  accountProof: Uint8Array[]
  /** Start of the next storage segment; undefined once the key space is done. */
  next: Uint8Array | undefined
  seg: StorageSegment | null
}

class ChunkCutter {
  private segments: Segment[] = []
  private size = CHUNK_HEADER_SIZE
  private acct: AccountSegment | null = null
  private nextAcct: Uint8Array | undefined = ZERO_KEY
  storage: StorageCtx | null = null
  private leafCount = 0
  readonly chunks: ChunkInfo[] = []
  private inflight: Promise<void>[] = []
  private writeChain: Promise<void> = Promise.resolve()
  totalRaw = 0
  totalCompressed = 0
  private readonly limit: number
  private readonly t0 = performance.now()

  constructor(
    private readonly read: NodeReader,
    private readonly stateRoot: Uint8Array,
    private readonly sink: SnapshotSink,
    private readonly opts: ExportSnapshotOptions,
    chunkSize: number,
  ) {
    this.limit = chunkSize - Math.min(CHUNK_PROOF_RESERVE, chunkSize >> 1)
  }

  private async room(need: number): Promise<void> {
    if (this.size + need > this.limit && this.segments.length > 0) await this.closeChunk(false)
    if (CHUNK_HEADER_SIZE + need > this.limit) {
      throw new SnapshotError(
        SnapshotErrorCode.ITEM_TOO_LARGE,
        `a state item of ${need} bytes does not fit in a chunk of ${this.limit} bytes`,
      )
    }
  }

  async addAccount(leaf: TrieLeaf): Promise<void> {
    await this.room(leafSize(leaf) + (this.acct ? 0 : ACCOUNT_SEGMENT_FIXED))
    if (!this.acct) {
      this.acct = {
        type: SegmentType.Accounts,
        start: this.nextAcct as Uint8Array,
        end: MAX_KEY,
        proof: [],
        leaves: [],
      }
      this.segments.push(this.acct)
      this.size += ACCOUNT_SEGMENT_FIXED
    }
    this.acct.leaves.push(leaf)
    this.size += leafSize(leaf)
    this.leafCount++
  }

  private openStorage(ctx: StorageCtx): StorageSegment {
    const seg: StorageSegment = {
      type: SegmentType.Storage,
      account: ctx.account,
      storageRoot: ctx.storageRoot,
      accountProof: ctx.accountProof,
      start: ctx.next as Uint8Array,
      end: MAX_KEY,
      proof: [],
      leaves: [],
    }
    ctx.seg = seg
    this.segments.push(seg)
    this.size += STORAGE_SEGMENT_FIXED + proofSize(ctx.accountProof)
    return seg
  }

  async addStorage(leaf: TrieLeaf): Promise<void> {
    const ctx = this.storage as StorageCtx
    await this.room(
      leafSize(leaf) + (ctx.seg ? 0 : STORAGE_SEGMENT_FIXED + proofSize(ctx.accountProof)),
    )
    const seg = ctx.seg ?? this.openStorage(ctx)
    seg.leaves.push(leaf)
    this.size += leafSize(leaf)
    this.leafCount++
  }

  async addCode(hash: Uint8Array, code: Uint8Array): Promise<void> {
    await this.room(CODE_SEGMENT_FIXED + code.length)
    this.segments.push({ type: SegmentType.Code, hash, code })
    this.size += CODE_SEGMENT_FIXED + code.length
  }

  private async closeStorageSeg(ctx: StorageCtx, final: boolean): Promise<void> {
    const seg = ctx.seg as StorageSegment
    ctx.seg = null
    if (!final && seg.leaves.length === 0) {
      this.segments.splice(this.segments.indexOf(seg), 1)
      return
    }
    seg.end = final ? MAX_KEY : seg.leaves[seg.leaves.length - 1].key
    seg.proof = uniqueProof(
      await proofPath(this.read, ctx.storageRoot, seg.start),
      await proofPath(this.read, ctx.storageRoot, seg.end),
    )
    ctx.next = final ? undefined : nextKey(seg.end)
  }

  /** Ends the storage of the current contract (its last segment reaches 0xff..ff). */
  async endStorage(): Promise<void> {
    const ctx = this.storage as StorageCtx
    if (!ctx.seg && ctx.next) {
      await this.room(STORAGE_SEGMENT_FIXED + proofSize(ctx.accountProof))
      this.openStorage(ctx)
    }
    if (ctx.seg) await this.closeStorageSeg(ctx, true)
    this.storage = null
  }

  async closeChunk(final: boolean): Promise<void> {
    if (final && !this.acct && this.nextAcct) {
      this.acct = {
        type: SegmentType.Accounts,
        start: this.nextAcct,
        end: MAX_KEY,
        proof: [],
        leaves: [],
      }
      this.segments.push(this.acct)
    }
    if (this.acct) {
      const a = this.acct
      a.end = final ? MAX_KEY : a.leaves[a.leaves.length - 1].key
      a.proof = uniqueProof(
        await proofPath(this.read, this.stateRoot, a.start),
        await proofPath(this.read, this.stateRoot, a.end),
      )
      this.nextAcct = final ? undefined : nextKey(a.end)
      this.acct = null
    }
    if (this.storage?.seg) await this.closeStorageSeg(this.storage, false)
    const index = this.chunks.length
    const raw = encodeChunk({ index, segments: this.segments }, this.size + 4096)
    if (raw.length > MAX_CHUNK_SIZE) {
      throw new SnapshotError(
        SnapshotErrorCode.ITEM_TOO_LARGE,
        `chunk ${index} came out at ${raw.length} bytes, over the 4 MiB limit (proofs too large?)`,
      )
    }
    const accountSeg = this.segments.find((s) => s.type === SegmentType.Accounts) as
      | AccountSegment
      | undefined
    const info: ChunkInfo = {
      hash: new Uint8Array(32),
      rawSize: raw.length,
      compressedSize: 0,
      leafCount: this.leafCount,
      accountRange: accountSeg ? { start: accountSeg.start, end: accountSeg.end } : undefined,
    }
    this.chunks.push(info)
    this.segments = []
    this.size = CHUNK_HEADER_SIZE
    this.leafCount = 0
    this.totalRaw += raw.length
    const level = this.opts.level ?? DEFAULT_ZSTD_LEVEL
    const compressed = compressChunk(raw, level)
    compressed.catch(() => {}) // surfaced through the write chain
    // writes are chained in chunk order (a packed file is written sequentially), compression of
    // the next chunks overlaps them
    const job = this.writeChain.then(async () => {
      const c = await compressed
      info.hash = sha256(c)
      info.compressedSize = c.length
      await this.sink.writeChunk(index, c)
      this.totalCompressed += c.length
      this.report()
    })
    this.writeChain = job
    this.inflight.push(job)
    if (this.inflight.length >= 2) await this.inflight.shift()
    if (this.opts.signal?.aborted) {
      throw new SnapshotError(SnapshotErrorCode.ABORTED, 'snapshot export aborted')
    }
  }

  private report(): void {
    const elapsedMs = performance.now() - this.t0
    this.opts.onProgress?.({
      phase: 'export',
      chunks: this.chunks.filter((c) => c.compressedSize > 0).length,
      totalChunks: this.chunks.length,
      bytes: this.totalRaw,
      compressedBytes: this.totalCompressed,
      rate: elapsedMs > 0 ? (this.totalRaw * 1000) / elapsedMs : 0,
      elapsedMs,
    })
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight)
    await this.writeChain
  }
}

/**
 * Exports the committed state `stateRoot` of `stateDb` as a snapshot folder (`dir`) or one
 * packed file (`file`).
 * @example
 * const { manifest } = await exportSnapshot({
 *   stateDb, chainId: 1n, height: 100n, blockHash, stateRoot, dir: '/data/snapshots/100',
 * })
 */
export async function exportSnapshot(opts: ExportSnapshotOptions): Promise<SnapshotResult> {
  const t0 = performance.now()
  if (!opts.dir === !opts.file) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      'exportSnapshot needs exactly one of `dir` or `file`',
    )
  }
  const chunkSize = opts.chunkSize ?? MAX_CHUNK_SIZE
  if (!Number.isInteger(chunkSize) || chunkSize < 4096 || chunkSize > MAX_CHUNK_SIZE) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      `chunkSize ${chunkSize} must be an integer from 4096 to ${MAX_CHUNK_SIZE} (4 MiB)`,
    )
  }
  if (opts.stateRoot.length !== 32 || opts.blockHash.length !== 32) {
    throw new SnapshotError(
      SnapshotErrorCode.INVALID_OPTIONS,
      'stateRoot and blockHash must be 32 bytes',
    )
  }
  const read = storeNodeReader(opts.stateDb)
  const sink = opts.dir ? await createDirSink(opts.dir) : await createFileSink(opts.file as string)
  const cut = new ChunkCutter(read, opts.stateRoot, sink, opts, chunkSize)
  let accountCount = 0
  let storageCount = 0
  const codes = new Set<string>()
  try {
    for await (const leaf of walkLeaves(read, opts.stateRoot)) {
      await cut.addAccount(leaf)
      accountCount++
      const refs = accountRefs(leaf.value)
      if (refs.codeHash && !codes.has(toHex(refs.codeHash))) {
        const code = await readCode(opts.stateDb, refs.codeHash)
        if (!code) {
          throw new SnapshotError(
            SnapshotErrorCode.MISSING_STATE,
            `the state store lacks code ${toHex(refs.codeHash)} of account key ${toHex(leaf.key)}`,
          )
        }
        codes.add(toHex(refs.codeHash))
        await cut.addCode(refs.codeHash, code)
      }
      if (refs.storageRoot) {
        cut.storage = {
          account: leaf.key,
          storageRoot: refs.storageRoot,
          accountProof: await proofPath(read, opts.stateRoot, leaf.key),
          next: ZERO_KEY,
          seg: null,
        }
        for await (const s of walkLeaves(read, refs.storageRoot)) {
          await cut.addStorage(s)
          storageCount++
        }
        await cut.endStorage()
      }
    }
    await cut.closeChunk(true)
    await cut.drain()
    const manifest: SnapshotManifest = {
      version: SNAPSHOT_FORMAT_VERSION,
      chainId: opts.chainId,
      height: opts.height,
      blockHash: opts.blockHash,
      stateRoot: opts.stateRoot,
      chunks: cut.chunks,
      totalRawSize: cut.totalRaw,
      totalCompressedSize: cut.totalCompressed,
      accountCount,
      storageCount,
      codeCount: codes.size,
    }
    await sink.finish(encodeManifest(manifest))
    return { manifest, elapsedMs: performance.now() - t0 }
  } catch (e) {
    await cut.drain().catch(() => {})
    await sink.abort()
    throw e
  }
}
