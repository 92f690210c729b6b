/**
 * Streaming export: walks the account trie in key order (and each contract's storage trie after
 * its account), cuts chunks of at most `chunkSize` bytes, adds edge proofs, compresses each with
 * zstd while the next one is being read, and writes them to a folder or one packed file.
 * Memory stays bounded: one chunk being filled, at most two being compressed or written.
 */
import type { KVStore } from '@aureon/storage'
import { accountRefs } from './account.js'
import { ByteWriter, equal, MAX_KEY, nextKey, toHex, ZERO_KEY } from './bytes.js'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import {
  ACCOUNT_SEGMENT_FIXED,
  CHUNK_HEADER_SIZE,
  CODE_SEGMENT_FIXED,
  compressChunk,
  encodeManifest,
  leafSize,
  proofSize,
  SegmentType,
  STORAGE_SEGMENT_FIXED,
  writeProof,
} from './format.js'
import { sha256 } from './hash.js'
import { createDirSink, createFileSink, type SnapshotSink } from './io.js'
import {
  CHUNK_MAGIC,
  CHUNK_PROOF_RESERVE,
  DEFAULT_ZSTD_LEVEL,
  MAX_CHUNK_SIZE,
  SNAPSHOT_FORMAT_VERSION,
} from './params.js'
import { readCode, sweepingNodeReader } from './store-layout.js'
import {
  type NodeReader,
  proofPath,
  type TrieLeaf,
  type WalkedLeaf,
  walkLeafBatches,
} from './trie.js'
import type { ChunkInfo, ExportSnapshotOptions, SnapshotManifest, SnapshotResult } from './types.js'

function uniqueProof(a: Uint8Array[], b: Uint8Array[]): Uint8Array[] {
  // the two edge paths share their top nodes; nodes are compared by content
  const out: Uint8Array[] = a.slice()
  for (const p of b) if (!a.some((q) => equal(p, q))) out.push(p)
  return out
}

/** Leaves of a chunk written as their final bytes (key, u32 length, value), in a reused buffer. */
class LeafBuffer {
  buf: Uint8Array
  view: DataView
  length = 0

  constructor(size: number) {
    this.buf = new Uint8Array(size)
    this.view = new DataView(this.buf.buffer)
  }

  add(leaf: TrieLeaf): void {
    const need = this.length + 36 + leaf.value.length
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.max(need, this.buf.length * 2))
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    this.buf.set(leaf.key, this.length)
    this.view.setUint32(this.length + 32, leaf.value.length)
    this.buf.set(leaf.value, this.length + 36)
    this.length = need
  }
}

/** An account or storage range being filled: its leaves are a slice of a LeafBuffer. */
interface OpenRange {
  start: Uint8Array
  end: Uint8Array
  proof: Uint8Array[]
  from: number
  to: number
  count: number
  lastKey: Uint8Array | undefined
}

type CutSegment =
  | ({ type: typeof SegmentType.Accounts } & OpenRange)
  | ({
      type: typeof SegmentType.Storage
      account: Uint8Array
      storageRoot: Uint8Array
      accountProof: Uint8Array[]
    } & OpenRange)
  | { type: typeof SegmentType.Code; hash: Uint8Array; code: Uint8Array }

type StorageCut = CutSegment & { type: typeof SegmentType.Storage }
type AccountCut = CutSegment & { type: typeof SegmentType.Accounts }

interface StorageCtx {
  account: Uint8Array
  storageRoot: Uint8Array
  accountProof: Uint8Array[]
  /** Start of the next storage segment; undefined once the key space is done. */
  next: Uint8Array | undefined
  seg: StorageCut | null
}

class ChunkCutter {
  private segments: CutSegment[] = []
  private size = CHUNK_HEADER_SIZE
  private acct: AccountCut | null = null
  private nextAcct: Uint8Array | undefined = ZERO_KEY
  storage: StorageCtx | null = null
  private leafCount = 0
  private readonly acctLeaves: LeafBuffer
  private readonly storageLeaves: LeafBuffer
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
    this.acctLeaves = new LeafBuffer(this.limit)
    this.storageLeaves = new LeafBuffer(this.limit)
  }

  /** Whether an item of `need` bytes must go to the next chunk (this one already holds items). */
  private full(need: number): boolean {
    return this.size + need > this.limit && this.segments.length > 0
  }

  private async room(need: number): Promise<void> {
    if (this.full(need)) await this.closeChunk(false)
    this.fits(need)
  }

  private fits(need: number): void {
    if (CHUNK_HEADER_SIZE + need > this.limit) {
      throw new SnapshotError(
        SnapshotErrorCode.ITEM_TOO_LARGE,
        `a state item of ${need} bytes does not fit in a chunk of ${this.limit} bytes`,
      )
    }
  }

  private openAccounts(start: Uint8Array): AccountCut {
    const from = this.acctLeaves.length
    const seg: AccountCut = {
      type: SegmentType.Accounts,
      start,
      end: MAX_KEY,
      proof: [],
      from,
      to: from,
      count: 0,
      lastKey: undefined,
    }
    this.acct = seg
    this.segments.push(seg)
    return seg
  }

  /**
   * Adds an account leaf. Returns a promise only when the chunk being filled had to be closed
   * first: the export adds a million leaves, most without waiting for anything.
   */
  addAccount(leaf: TrieLeaf): Promise<void> | undefined {
    const size = leafSize(leaf)
    const need = size + (this.acct ? 0 : ACCOUNT_SEGMENT_FIXED)
    if (this.full(need)) return this.closeChunk(false).then(() => this.putAccount(leaf, size, need))
    this.putAccount(leaf, size, need)
    return undefined
  }

  private putAccount(leaf: TrieLeaf, size: number, need: number): void {
    this.fits(need)
    if (!this.acct) this.size += ACCOUNT_SEGMENT_FIXED
    this.push(
      this.acct ?? this.openAccounts(this.nextAcct as Uint8Array),
      this.acctLeaves,
      leaf,
      size,
    )
  }

  /** Appends `leaf` (of encoded size `size`) to the open range `seg`, whose leaves are in `leaves`. */
  private push(seg: OpenRange, leaves: LeafBuffer, leaf: TrieLeaf, size: number): void {
    leaves.add(leaf)
    seg.to = leaves.length
    seg.count++
    seg.lastKey = leaf.key
    this.size += size
    this.leafCount++
  }

  private openStorage(ctx: StorageCtx): StorageCut {
    const from = this.storageLeaves.length
    const seg: StorageCut = {
      type: SegmentType.Storage,
      account: ctx.account,
      storageRoot: ctx.storageRoot,
      accountProof: ctx.accountProof,
      start: ctx.next as Uint8Array,
      end: MAX_KEY,
      proof: [],
      from,
      to: from,
      count: 0,
      lastKey: undefined,
    }
    ctx.seg = seg
    this.segments.push(seg)
    this.size += STORAGE_SEGMENT_FIXED + proofSize(ctx.accountProof)
    return seg
  }

  /** Adds a storage leaf of the current contract; a promise only when a chunk was closed first. */
  addStorage(leaf: TrieLeaf): Promise<void> | undefined {
    const ctx = this.storage as StorageCtx
    const size = leafSize(leaf)
    const need = size + (ctx.seg ? 0 : STORAGE_SEGMENT_FIXED + proofSize(ctx.accountProof))
    if (this.full(need)) return this.closeChunk(false).then(() => this.putStorage(leaf, size, need))
    this.putStorage(leaf, size, need)
    return undefined
  }

  private putStorage(leaf: TrieLeaf, size: number, need: number): void {
    this.fits(need)
    const ctx = this.storage as StorageCtx
    this.push(ctx.seg ?? this.openStorage(ctx), this.storageLeaves, leaf, size)
  }

  async addCode(hash: Uint8Array, code: Uint8Array): Promise<void> {
    await this.room(CODE_SEGMENT_FIXED + code.length)
    this.segments.push({ type: SegmentType.Code, hash, code })
    this.size += CODE_SEGMENT_FIXED + code.length
  }

  private async closeStorageSeg(ctx: StorageCtx, final: boolean): Promise<void> {
    const seg = ctx.seg as StorageCut
    ctx.seg = null
    if (!final && seg.count === 0) {
      this.segments.splice(this.segments.indexOf(seg), 1)
      return
    }
    seg.end = final ? MAX_KEY : (seg.lastKey as Uint8Array)
    // a range over the whole key space is verified from its leaves alone: no edge proof
    const whole = final && equal(seg.start, ZERO_KEY)
    seg.proof = whole
      ? []
      : uniqueProof(
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

  /** The chunk body (layout in docs/snapshots.md) from the segments and the leaf buffers. */
  private encode(index: number): Uint8Array {
    let size = CHUNK_HEADER_SIZE
    for (const s of this.segments) {
      if (s.type === SegmentType.Code) size += CODE_SEGMENT_FIXED + s.code.length
      else {
        size += 1 + 64 + proofSize(s.proof) + 4 + (s.to - s.from)
        if (s.type === SegmentType.Storage) size += 64 + proofSize(s.accountProof)
      }
    }
    const w = new ByteWriter(size)
    w.bytes(CHUNK_MAGIC).u16(SNAPSHOT_FORMAT_VERSION).u32(index).u32(this.segments.length)
    for (const s of this.segments) {
      w.u8(s.type)
      if (s.type === SegmentType.Code) {
        w.bytes(s.hash).varBytes(s.code)
        continue
      }
      if (s.type === SegmentType.Storage) {
        w.bytes(s.account).bytes(s.storageRoot)
        writeProof(w, s.accountProof)
      }
      w.bytes(s.start).bytes(s.end)
      writeProof(w, s.proof)
      const leaves = s.type === SegmentType.Accounts ? this.acctLeaves : this.storageLeaves
      w.u32(s.count).bytes(leaves.buf.subarray(s.from, s.to))
    }
    return w.finishExact()
  }

  async closeChunk(final: boolean): Promise<void> {
    if (final && !this.acct && this.nextAcct) this.openAccounts(this.nextAcct)
    if (this.acct) {
      const a = this.acct
      a.end = final ? MAX_KEY : (a.lastKey as Uint8Array)
      a.proof = uniqueProof(
        await proofPath(this.read, this.stateRoot, a.start),
        await proofPath(this.read, this.stateRoot, a.end),
      )
      this.nextAcct = final ? undefined : nextKey(a.end)
      this.acct = null
    }
    if (this.storage?.seg) await this.closeStorageSeg(this.storage, false)
    const index = this.chunks.length
    const raw = this.encode(index)
    if (raw.length > MAX_CHUNK_SIZE) {
      throw new SnapshotError(
        SnapshotErrorCode.ITEM_TOO_LARGE,
        `chunk ${index} came out at ${raw.length} bytes, over the 4 MiB limit (proofs too large?)`,
      )
    }
    const accountSeg = this.segments.find((s) => s.type === SegmentType.Accounts) as
      | AccountCut
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
    this.acctLeaves.length = 0
    this.storageLeaves.length = 0
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
 * How far the export's account walk reads ahead: 2 groups of 16 subtries (of the 4096 the walk
 * splits the trie into). Memory grows with the nodes read ahead; the merged reads of the
 * sweeping reader want enough of them to pass over the store's tables once per read. Measured at
 * 1M accounts: half the heap of the walk's default (4 x 32) at about the same MB per CPU second.
 */
const EXPORT_WALK = { window: 16, ahead: 2 } as const

/** Contracts whose storage walk and code read run ahead of the account being written. */
const PREFETCH_LIMIT = 4

interface Prefetched {
  /** The account leaf's value, as the walk yields it (the same instance). */
  value: Uint8Array
  codeHex?: string
  code?: Promise<Uint8Array | undefined>
  storage?: AsyncIterable<WalkedLeaf[]>
}

/** A walk whose first reads start now, so that they overlap the export's work before it. */
function startedWalk(read: NodeReader, root: Uint8Array): AsyncIterable<WalkedLeaf[]> {
  const it = walkLeafBatches(read, root, EXPORT_WALK)
  const first = it.next()
  first.catch(() => {}) // surfaced when the export reaches this contract
  return (async function* () {
    for (let r = await first; !r.done; r = await it.next()) yield r.value
  })()
}

/**
 * Starts the storage walks and code reads of the contracts the account walk has read but the
 * export has not reached, {@link PREFETCH_LIMIT} contracts ahead. A storage trie is read level by
 * level, a store round trip per level; read only once the export reached its contract, those
 * round trips ran one contract at a time (at 1M accounts and 200 contracts of 500 slots the
 * export waited 18 s of 38 s on storage walks; started ahead, 5 s). A code blob already written,
 * or being read for a contract ahead, is not read again.
 */
class ContractPrefetch {
  private todo: Uint8Array[] = []
  private next = 0
  private readonly started: Prefetched[] = []

  constructor(
    private readonly read: NodeReader,
    private readonly stateDb: KVStore,
    private readonly written: ReadonlySet<string>,
  ) {}

  /** Takes the leaf values of the account walk's next group (its `onGroupRead`). */
  readonly onGroupRead = (values: Uint8Array[]): void => {
    for (const v of values) {
      const refs = accountRefs(v)
      if (refs.codeHash || refs.storageRoot) this.todo.push(v)
    }
    this.fill()
  }

  /** Starts reads for the next contracts, up to the limit (the export calls it once it wrote a code). */
  fill(): void {
    while (this.started.length < PREFETCH_LIMIT && this.next < this.todo.length) {
      const value = this.todo[this.next++]
      const { codeHash, storageRoot } = accountRefs(value)
      const p: Prefetched = { value }
      if (codeHash) {
        const hex = toHex(codeHash)
        if (!this.written.has(hex) && !this.started.some((s) => s.codeHex === hex)) {
          p.codeHex = hex
          p.code = readCode(this.stateDb, codeHash)
          p.code.catch(() => {}) // surfaced when the export reaches this contract
        }
      }
      if (storageRoot) p.storage = startedWalk(this.read, storageRoot)
      this.started.push(p)
    }
    if (this.next > 1024) {
      this.todo = this.todo.slice(this.next)
      this.next = 0
    }
  }

  /**
   * What was started for the contract account whose leaf value is `value` (the same instance the
   * walk gave `onGroupRead`), if anything. The export then writes its code and calls `fill`.
   */
  take(value: Uint8Array): Prefetched | undefined {
    if (this.started[0]?.value !== value) return undefined
    return this.started.shift()
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
  const read = sweepingNodeReader(opts.stateDb)
  const sink = opts.dir ? await createDirSink(opts.dir) : await createFileSink(opts.file as string)
  const cut = new ChunkCutter(read, opts.stateRoot, sink, opts, chunkSize)
  let accountCount = 0
  let storageCount = 0
  const codes = new Set<string>()
  try {
    const prefetch = new ContractPrefetch(read, opts.stateDb, codes)
    const walk = walkLeafBatches(read, opts.stateRoot, {
      ...EXPORT_WALK,
      onGroupRead: prefetch.onGroupRead,
    })
    for await (const batch of walk) {
      for (const leaf of batch) {
        const added = cut.addAccount(leaf)
        if (added) await added
        accountCount++
        const refs = accountRefs(leaf.value)
        if (!refs.codeHash && !refs.storageRoot) continue
        const pre = prefetch.take(leaf.value)
        if (refs.codeHash && !codes.has(toHex(refs.codeHash))) {
          const code = await (pre?.code ?? readCode(opts.stateDb, refs.codeHash))
          if (!code) {
            throw new SnapshotError(
              SnapshotErrorCode.MISSING_STATE,
              `the state store lacks code ${toHex(refs.codeHash)} of account key ${toHex(leaf.key)}`,
            )
          }
          codes.add(toHex(refs.codeHash))
          await cut.addCode(refs.codeHash, code)
        }
        prefetch.fill()
        if (refs.storageRoot) {
          cut.storage = {
            account: leaf.key,
            storageRoot: refs.storageRoot,
            accountProof: leaf.proof(), // the nodes the walk just read: proofPath's result
            next: ZERO_KEY,
            seg: null,
          }
          const storage = pre?.storage ?? walkLeafBatches(read, refs.storageRoot, EXPORT_WALK)
          for await (const slots of storage) {
            for (const s of slots) {
              const put = cut.addStorage(s)
              if (put) await put
            }
            storageCount += slots.length
          }
          await cut.endStorage()
        }
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
