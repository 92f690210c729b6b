/**
 * Trie nodes packed in buffers (per node: u32 RLP length, 32-byte hash, RLP), and their external
 * sort by hash, so an import writes them into the store in key order.
 *
 * Trie nodes are keyed by their keccak hash, so in the order a snapshot proves them their keys
 * are random. Written that way, LevelDB spends most of an import compacting (each table it
 * flushes overlaps every other); written in key order its tables never overlap and compaction
 * has nothing to merge. The sorter takes runs already sorted ({@link sortPacked}: a verified
 * chunk's nodes, sorted where the chunk was verified), writes each to a file in a staging
 * folder, then merges the runs (one read buffer each, 16 MiB in all) into batches in key order,
 * each node once. Memory stays bounded whatever the state size; the folder holds a copy of the
 * nodes until `close()`.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { mkdir, open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { BatchOp } from '@aureon/storage'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { nodeOp } from './store-layout.js'

/** Most bytes read from a run file at a time while merging. */
const READ_BYTES = 512 * 1024
/** Fewest bytes read from a run file at a time while merging. */
const MIN_READ_BYTES = 32 * 1024
/** Read buffers of all runs merged at once, in bytes (each run gets a share). */
const MERGE_BUFFER = 16 * 1024 * 1024
/** Most runs merged at once (more are merged in passes). */
export const MAX_FAN_IN = 256
/** Entry header: u32 RLP length, then the 32-byte hash. */
const HEAD = 36

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

  /** Bytes it holds without growing. */
  get capacity(): number {
    return this.buf.length
  }

  /** Empties it, keeping its buffer. */
  reset(): this {
    this.length = 0
    this.count = 0
    return this
  }

  private grow(need: number): void {
    const next = new Uint8Array(Math.max(need, this.buf.length * 2))
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  add(hash: Uint8Array, rlp: Uint8Array): void {
    const need = this.length + HEAD + rlp.length
    if (need > this.buf.length) this.grow(need)
    this.view.setUint32(this.length, rlp.length)
    this.buf.set(hash, this.length + 4)
    this.buf.set(rlp, this.length + HEAD)
    this.length = need
    this.count++
  }

  /**
   * Adds the packed entry of `size` bytes at `buf[pos]` (as made by {@link PackedNodes.add});
   * returns where it is in {@link PackedNodes.buffer}.
   */
  addEntry(buf: Uint8Array, pos: number, size: number): number {
    const at = this.length
    const need = at + size
    if (need > this.buf.length) this.grow(need)
    this.buf.set(buf.subarray(pos, pos + size), at)
    this.length = need
    this.count++
    return at
  }

  /** The whole buffer, entries and spare room (valid until the next add that grows it). */
  get buffer(): Uint8Array {
    return this.buf
  }

  /** Packed entries made elsewhere (`count` of them). */
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
      ops.push(
        nodeOp(this.buf.subarray(p + 4, p + HEAD), this.buf.subarray(p + HEAD, p + HEAD + n)),
      )
      p += HEAD + n
      if (ops.length >= max) {
        yield ops
        ops = []
      }
    }
    if (ops.length > 0) yield ops
  }
}

/** Orders two 32-byte hashes at `a[ai]` and `b[bi]`. */
function compareHash(a: Uint8Array, ai: number, b: Uint8Array, bi: number): number {
  for (let i = 0; i < 32; i++) {
    const d = a[ai + i] - b[bi + i]
    if (d !== 0) return d
  }
  return 0
}

const u32At = (b: Uint8Array, p: number) =>
  ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0

/** Entries per 16-bit hash prefix, then where each prefix's entries go (reused). */
let buckets: Int32Array | undefined

/**
 * The packed entries of `buf` (as PackedNodes' `bytes`) sorted by hash, each hash once, in a new
 * buffer; `buf` is left as it is.
 * @example
 * const sorted = sortPacked(nodes.bytes)
 */
export function sortPacked(buf: Uint8Array): PackedNodes {
  let count = 0
  for (let p = 0; p < buf.length; p += HEAD + u32At(buf, p)) count++
  const out = new PackedNodes(buf.length)
  let last = -1
  for (const p of sortedOffsets(buf, buf.length, count)) {
    if (last >= 0 && compareHash(buf, last + 4, buf, p + 4) === 0) continue
    out.addEntry(buf, p, HEAD + u32At(buf, p))
    last = p
  }
  return out
}

/**
 * Offsets of the `count` entries in `buf[0, length)` in hash order: a counting sort on the
 * hash's first 16 bits (hashes are uniform: a chunk's ~50k nodes leave about one per bucket),
 * then an insertion sort of each bucket on the whole hash.
 */
function sortedOffsets(buf: Uint8Array, length: number, count: number): Uint32Array {
  const order = new Uint32Array(count)
  const b = buckets ?? new Int32Array(65537)
  buckets = b
  b.fill(0)
  let n = 0
  for (let p = 0; p < length; p += HEAD + u32At(buf, p)) {
    if (n === count) break
    order[n++] = p
    b[((buf[p + 4] << 8) | buf[p + 5]) + 1]++
  }
  if (n !== count) throw new Error(`packed nodes: ${n} entries, ${count} counted`)
  for (let k = 1; k <= 65536; k++) b[k] += b[k - 1]
  const sorted = new Uint32Array(count)
  for (let i = 0; i < count; i++) {
    const p = order[i]
    sorted[b[(buf[p + 4] << 8) | buf[p + 5]]++] = p
  }
  // within a bucket (same first 16 bits), in full order
  for (let i = 1; i < count; i++) {
    const v = sorted[i]
    const hi = (buf[v + 4] << 8) | buf[v + 5]
    let j = i - 1
    while (
      j >= 0 &&
      ((buf[sorted[j] + 4] << 8) | buf[sorted[j] + 5]) === hi &&
      compareHash(buf, sorted[j] + 4, buf, v + 4) > 0
    ) {
      sorted[j + 1] = sorted[j]
      j--
    }
    sorted[j + 1] = v
  }
  return sorted
}

/** Bytes a run is written in (reused: copied into in key order, then written). */
const RUN_WRITE_BUFFER = 1 << 20
let runBuffer: Uint8Array | undefined

/** A run file written by {@link writeSortedRun}. */
export interface WrittenRun {
  path: string
  /** Bytes of entries in it. */
  bytes: number
  /** Entries in it (each hash once). */
  count: number
}

/**
 * Writes the entries of `nodes`, sorted by hash and each hash once, to a new run file `path`
 * (synchronously: it runs where a chunk is verified, often a worker thread), through one reused
 * 1 MiB buffer: no sorted copy of the nodes is made.
 * @example
 * const run = writeSortedRun(nodes, join(stagingDir, 'run-000003.bin'))
 */
export function writeSortedRun(nodes: PackedNodes, path: string): WrittenRun {
  const buf = nodes.bytes
  const sorted = sortedOffsets(buf, buf.length, nodes.count)
  const out = runBuffer ?? new Uint8Array(RUN_WRITE_BUFFER)
  runBuffer = out
  let fd: number
  try {
    fd = openSync(path, 'w')
  } catch (e) {
    return stagingFailed(e, 'cannot write the staged run', path)
  }
  let bytes = 0
  let count = 0
  try {
    let w = 0
    let last = -1
    const flush = () => {
      let done = 0
      while (done < w) done += writeSync(fd, out, done, w - done)
      w = 0
    }
    for (let i = 0; i < sorted.length; i++) {
      const p = sorted[i]
      if (last >= 0 && compareHash(buf, last + 4, buf, p + 4) === 0) continue
      last = p
      const size = HEAD + u32At(buf, p)
      if (size > out.length) {
        flush()
        let done = 0
        while (done < size) done += writeSync(fd, buf, p + done, size - done)
      } else {
        if (w + size > out.length) flush()
        out.set(buf.subarray(p, p + size), w)
        w += size
      }
      bytes += size
      count++
    }
    flush()
  } catch (e) {
    stagingFailed(e, 'cannot write the staged run', path)
  } finally {
    closeSync(fd)
  }
  return { path, bytes, count }
}

/**
 * A staging-folder I/O failure (disk full, no permission, the folder removed) as the import's
 * coded error; SnapshotErrors pass through.
 */
function stagingFailed(e: unknown, what: string, path: string): never {
  if (e instanceof SnapshotError) throw e
  const code = (e as { code?: unknown })?.code
  throw new SnapshotError(
    SnapshotErrorCode.STAGING_FAILED,
    `${what} ${path}: ${(e as Error)?.message ?? String(e)}`,
    { details: { path, ...(typeof code === 'string' ? { errno: code } : {}) }, cause: e },
  )
}

/**
 * Where this thread's verifications put a chunk's nodes before writing its run: reused from
 * chunk to chunk (from there on a verification runs synchronously, one at a time per thread).
 * Fresh buffers per chunk were ~15-23 MB of garbage each, which V8 frees only at its next GC.
 */
let sortScratch: PackedNodes | undefined

/** This thread's reusable node buffer, empty, with room for `capacity` bytes. */
export function sortRoom(capacity: number): PackedNodes {
  if (!sortScratch || sortScratch.capacity < capacity) sortScratch = new PackedNodes(capacity)
  return sortScratch.reset()
}

/** Frees this thread's node buffer (an import calls it when done verifying). */
export function releaseSortRoom(): void {
  sortScratch = undefined
}

/** Reads the sorted entries of one run file, a buffer at a time. */
class RunReader {
  private buf = new Uint8Array(0)
  private end = 0
  /** Start of the current entry in `buf`. */
  pos = 0
  /** First 4 bytes of the current entry's hash (orders most pairs without a byte loop). */
  hi = 0
  private filePos = 0
  private done = false

  private constructor(
    private readonly fh: Awaited<ReturnType<typeof open>>,
    private readonly readBytes: number,
    private readonly path: string,
  ) {}

  static async open(path: string, readBytes: number): Promise<RunReader> {
    let fh: Awaited<ReturnType<typeof open>>
    try {
      fh = await open(path, 'r')
    } catch (e) {
      return stagingFailed(e, 'cannot open the staged run', path)
    }
    const r = new RunReader(fh, readBytes, path)
    try {
      await r.readOn()
    } catch (e) {
      await r.close()
      throw e
    }
    return r
  }

  /** Whether an entry is at `pos`. */
  get ready(): boolean {
    return this.end - this.pos >= HEAD
  }

  get current(): Uint8Array {
    return this.buf
  }

  /**
   * Reads on until `need` bytes from `pos` are in the buffer (or the file ends), into a fresh
   * buffer: what is left moves to its start. (Reusing one buffer measured no lower RSS: on the
   * importing thread the process's native memory grew instead.)
   */
  private async fill(need: number): Promise<void> {
    while (!this.done && this.end - this.pos < need) {
      const keep = this.end - this.pos
      // a buffer of readBytes, unless one entry needs more: what is kept plus the next read
      const next = new Uint8Array(Math.max(this.readBytes, need))
      next.set(this.buf.subarray(this.pos, this.end))
      this.buf = next
      let bytesRead: number
      try {
        ;({ bytesRead } = await this.fh.read(next, keep, next.length - keep, this.filePos))
      } catch (e) {
        stagingFailed(e, 'cannot read the staged run', this.path)
      }
      this.filePos += bytesRead
      if (bytesRead === 0) this.done = true
      this.pos = 0
      this.end = keep + bytesRead
    }
  }

  /**
   * Moves past the current entry; false at the end of the run. Synchronous while the next entry
   * is in the buffer, a promise when it must be read first.
   */
  advance(): boolean | Promise<boolean> {
    this.pos += HEAD + u32At(this.buf, this.pos)
    const left = this.end - this.pos
    if (left >= HEAD && left >= HEAD + u32At(this.buf, this.pos)) {
      this.hi = u32At(this.buf, this.pos + 4)
      return true
    }
    return this.readOn()
  }

  private async readOn(): Promise<boolean> {
    if (this.end - this.pos < HEAD) await this.fill(HEAD)
    if (!this.ready) return false
    const size = HEAD + u32At(this.buf, this.pos)
    if (this.end - this.pos < size) await this.fill(size)
    if (this.end - this.pos < size) {
      throw new SnapshotError(SnapshotErrorCode.CORRUPT, 'a staged sort run ends inside a node')
    }
    this.hi = u32At(this.buf, this.pos + 4)
    return true
  }

  async close(): Promise<void> {
    await this.fh.close()
  }
}

/**
 * Keeps an import's runs of trie nodes sorted by hash (a verified chunk's nodes, written where it
 * was verified) as files in a staging folder, and yields all their nodes merged in key order as
 * packed batches, each node once.
 * @example
 * const sorter = await NodeSorter.create({ dir: './data/import-staging' })
 * sorter.addWrittenRun(writeSortedRun(nodes, sorter.runPath(0)))
 * for await (const packed of sorter.packedBatches(2048))
 *   for (const ops of packed.batches(2048)) await store.batch(ops)
 * await sorter.close()
 */
export class NodeSorter {
  private runs: string[] = []
  private made = 0
  /** Bytes of nodes added. */
  added = 0

  private constructor(
    private readonly dir: string,
    private readonly fanIn: number,
  ) {}

  /**
   * Creates the staging folder `dir` (removing what an earlier, crashed import left there).
   * `fanIn`: most runs merged at once (default {@link MAX_FAN_IN}, at least 2).
   */
  static async create(opts: { dir: string; fanIn?: number }): Promise<NodeSorter> {
    const fanIn = Math.max(2, Math.floor(opts.fanIn ?? MAX_FAN_IN))
    try {
      await rm(opts.dir, { recursive: true, force: true })
      await mkdir(opts.dir, { recursive: true })
    } catch (e) {
      stagingFailed(e, 'cannot create the staging folder', opts.dir)
    }
    return new NodeSorter(opts.dir, fanIn)
  }

  private nextPath(): string {
    return join(this.dir, `run-${String(this.made++).padStart(6, '0')}.bin`)
  }

  /**
   * Path for the run of chunk `index`, to write with {@link writeSortedRun} (on any thread) and
   * then add with {@link NodeSorter.addWrittenRun}.
   */
  runPath(index: number): string {
    return join(this.dir, `chunk-${String(index).padStart(6, '0')}.bin`)
  }

  /** Adds a run written to one of its {@link NodeSorter.runPath}s. */
  addWrittenRun(run: WrittenRun): void {
    if (run.bytes === 0) return
    this.runs.push(run.path)
    this.added += run.bytes
  }

  /**
   * What a merge on another thread needs ({@link mergeRuns}): the run files added (once
   * written), the fan-in, and the staging folder (for the longer runs a merge may write there).
   */
  mergeInput(): { paths: string[]; fanIn: number; dir: string } {
    return { paths: this.runs.slice(), fanIn: this.fanIn, dir: this.dir }
  }

  /**
   * Every node added, in key order, each once, as packed batches of at most `max` nodes, merged
   * on this thread ({@link mergeRuns}).
   */
  async *packedBatches(max: number): AsyncGenerator<PackedNodes> {
    yield* mergeRuns(this.runs, { max, fanIn: this.fanIn, scratch: () => this.nextPath() })
  }

  /** Removes the staging folder. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * Merges sorted run files into packed batches of at most `max` nodes, in key order, each node
 * once. More than `fanIn` runs (default {@link MAX_FAN_IN}) are first merged, `fanIn` at a time,
 * into longer runs written to `scratch()` paths (the merged runs are removed). Runs on whichever
 * thread calls it (an import's verification worker, or the importing thread).
 * @example
 * for await (const packed of mergeRuns(paths, { max: 2048, scratch: () => tmpPath() })) write(packed)
 */
export async function* mergeRuns(
  paths: string[],
  opts: {
    max: number
    fanIn?: number
    scratch: () => string
  },
): AsyncGenerator<PackedNodes> {
  const fanIn = Math.max(2, Math.floor(opts.fanIn ?? MAX_FAN_IN))
  let runs = paths
  while (runs.length > fanIn) {
    const next: string[] = []
    for (let i = 0; i < runs.length; i += fanIn) {
      const group = runs.slice(i, i + fanIn)
      if (group.length === 1) {
        next.push(group[0])
        continue
      }
      const path = opts.scratch()
      let fh: Awaited<ReturnType<typeof open>> | undefined
      try {
        fh = await open(path, 'w')
        for await (const packed of mergeOnce(group, opts.max)) await fh.write(packed.bytes)
      } catch (e) {
        stagingFailed(e, 'cannot write a merged run', path)
      } finally {
        await fh?.close()
      }
      await Promise.all(group.map((g) => rm(g, { force: true })))
      next.push(path)
    }
    runs = next
  }
  yield* mergeOnce(runs, opts.max)
}

async function* mergeOnce(paths: string[], max: number): AsyncGenerator<PackedNodes> {
  const readBytes = Math.max(
    MIN_READ_BYTES,
    Math.min(READ_BYTES, Math.floor(MERGE_BUFFER / paths.length)),
  )
  const readers: RunReader[] = []
  try {
    for (const path of paths) readers.push(await RunReader.open(path, readBytes))
    yield* mergeReaders(
      readers.filter((r) => r.ready),
      max,
    )
  } finally {
    await Promise.all(readers.map((r) => r.close().catch(() => {})))
  }
}

async function* mergeReaders(heap: RunReader[], max: number): AsyncGenerator<PackedNodes> {
  // a binary min-heap of readers by their current hash
  const less = (a: RunReader, b: RunReader) =>
    a.hi !== b.hi ? a.hi < b.hi : compareHash(a.current, a.pos + 4, b.current, b.pos + 4) < 0
  const down = (i: number) => {
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) return
      const c = l + 1 < n && less(heap[l + 1], heap[l]) ? l + 1 : l
      if (!less(heap[c], heap[i])) return
      const t = heap[c]
      heap[c] = heap[i]
      heap[i] = t
      i = c
    }
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i)
  let out = new PackedNodes(max * 256)
  const lastHash = new Uint8Array(32)
  let lastBuf: Uint8Array | undefined
  let lastHi = -1
  let lastPos = 0
  while (heap.length > 0) {
    const r = heap[0]
    const buf = r.current
    const p = r.pos
    if (r.hi !== lastHi || compareHash(lastBuf as Uint8Array, lastPos + 4, buf, p + 4) !== 0) {
      // (the last entry is compared where it was copied to)
      lastPos = out.addEntry(buf, p, HEAD + u32At(buf, p))
      lastBuf = out.buffer
      lastHi = r.hi
      if (out.count >= max) {
        // (the consumer may transfer the buffer: the last hash is kept apart)
        lastHash.set(out.buffer.subarray(lastPos + 4, lastPos + HEAD))
        lastBuf = lastHash
        lastPos = -4
        yield out
        out = new PackedNodes(max * 256)
      }
    }
    let more = r.advance()
    if (typeof more !== 'boolean') more = await more
    if (more) {
      down(0)
    } else {
      const tail = heap.pop() as RunReader
      if (heap.length > 0) {
        heap[0] = tail
        down(0)
      }
    }
  }
  if (out.count > 0) yield out
}
