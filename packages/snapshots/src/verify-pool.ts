/**
 * Chunk verification on worker threads beside the calling thread, so an import verifies on
 * every core while its calling thread also stages and writes.
 */
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { SnapshotError, SnapshotErrorCode } from './errors.js'
import { PackedNodes, releaseSortRoom } from './sort.js'
import { codeOp } from './store-layout.js'
import type { SnapshotManifest } from './types.js'
import { type PackedVerifiedChunk, verifyChunkPacked } from './verify.js'

/** A request to a verification worker (`bytes`: the compressed chunk, transferred). */
export interface VerifyRequest {
  id: number
  index: number
  bytes: ArrayBuffer
  runPath?: string
}

/** What a verification worker is asked. */
export type WorkerRequest =
  | ({ type: 'verify' } & VerifyRequest)
  | { type: 'merge'; id: number; paths: string[]; max: number; fanIn: number; dir: string }
  | { type: 'credit'; id: number }

/** A worker's answers to a merge: packed batches in key order, then `done` (or a failure). */
export interface MergeReply {
  id: number
  packed?: { buffer: ArrayBuffer; offset: number; length: number; count: number }
  done?: true
  error?: { code: SnapshotErrorCode; message: string; details?: Record<string, unknown> }
  fatal?: string
}

/** A worker's answer: the verified chunk, the SnapshotError that refused it, or a failure. */
export interface VerifyReply {
  id: number
  chunk?: Omit<PackedVerifiedChunk, 'nodes' | 'codeOps'> & {
    nodes: { buffer: ArrayBuffer; offset: number; length: number; count: number }
    /** Code blobs: [hash, code]. */
    code: [Uint8Array, Uint8Array][]
  }
  error?: { code: SnapshotErrorCode; message: string; details?: Record<string, unknown> }
  /** Anything but a SnapshotError (a bug, memory): the chunk is verified again on the caller. */
  fatal?: string
}

/** Where and how chunks are verified. */
export interface ChunkVerifierThreads {
  /**
   * Worker threads (at most 16). Default: 1 when the machine has two cores or more and this
   * library runs from its built code (its worker module is `dist/verify-worker.js`), else 0.
   */
  workers?: number
  /** Also verify on the calling thread, as one more lane (default true). */
  alsoHere?: boolean
  /** The worker module (default: `verify-worker.js` beside the built library). */
  workerUrl?: string | URL
  /** Node options of the workers (e.g. a TypeScript loader when `workerUrl` is a source file). */
  execArgv?: string[]
  /** V8 heap limits of each worker (default: old space 256 MB, semi-space 8 MB). */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number }
}

/** How a chunk's nodes come back (as {@link verifyChunkPacked}'s option of the same name). */
export interface VerifyOptions {
  /** Written to this new run file (in key order, each once) by the thread that verifies. */
  runPath?: string
}

/** Verifies the chunks of one manifest, on workers and/or the calling thread. */
export interface ChunkVerifier {
  /** Chunks worth having in flight at once to keep every lane busy. */
  readonly window: number
  /** Worker threads started. */
  readonly workers: number
  /** Verifies chunk `index` (as {@link verifyChunkPacked}); `bytes` is not modified. */
  verify(index: number, bytes: Uint8Array, opts?: VerifyOptions): Promise<PackedVerifiedChunk>
  /**
   * Merges sorted run files (an import's staged runs, {@link NodeSorter.mergeInput}) on a worker
   * into packed batches of at most `max` nodes, in key order, each node once, as
   * {@link mergeRuns} does; undefined when there is no worker (merge on the calling thread then).
   * A worker that fails during the merge fails it.
   */
  merge(
    input: { paths: string[]; fanIn: number; dir: string },
    max: number,
  ): AsyncGenerator<PackedNodes> | undefined
  /** Stops the workers; chunks not verified yet are refused (ERR_SNAPSHOT_ABORTED). */
  close(): Promise<void>
}

interface Job {
  id: number
  index: number
  bytes: Uint8Array
  opts: VerifyOptions
  resolve(v: PackedVerifiedChunk): void
  reject(e: unknown): void
}

interface Lane {
  worker: Worker
  jobs: Map<number, Job>
  /** Merges running on it: their reply handlers. */
  merges: Map<number, (m: MergeReply) => void>
}

/** Jobs sent to one worker ahead of its answers (so it never waits for the calling thread). */
const PER_WORKER = 2

/** The built worker module beside this one, or undefined when running from the sources. */
function defaultWorkerUrl(): URL | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined
  const url = new URL('./verify-worker.js', import.meta.url)
  return url.protocol === 'file:' && existsSync(fileURLToPath(url)) ? url : undefined
}

/**
 * A ChunkVerifier for `manifest`. Chunks go to idle workers first (each holds up to two), then to
 * the calling thread. A worker that cannot start, fails, or dies hands its chunks to the calling
 * thread, which then verifies everything itself: a broken worker costs speed, never a result,
 * and a refused chunk is refused with the same SnapshotError on any lane.
 * @example
 * const verifier = createChunkVerifier({ manifest, workers: 1 })
 * const v = await verifier.verify(0, compressedChunk0, { runPath: '/tmp/staging/chunk-0.bin' })
 * await verifier.close()
 */
export function createChunkVerifier(
  opts: { manifest: SnapshotManifest } & ChunkVerifierThreads,
): ChunkVerifier {
  const { manifest } = opts
  const workerUrl = opts.workerUrl ?? defaultWorkerUrl()
  const wanted = opts.workers ?? (workerUrl !== undefined && availableParallelism() >= 2 ? 1 : 0)
  const count = workerUrl === undefined ? 0 : Math.max(0, Math.min(Math.floor(wanted), 16))
  const alsoHere = count === 0 || opts.alsoHere !== false
  const here = (job: Job) =>
    verifyChunkPacked({ manifest, index: job.index, bytes: job.bytes, ...job.opts })
  const queue: Job[] = []
  const lanes: Lane[] = []
  let hereBusy = false
  let nextId = 0
  let closed = false

  const runHere = (job: Job) => {
    hereBusy = true
    here(job)
      .then(job.resolve, job.reject)
      .finally(() => {
        hereBusy = false
        pump()
      })
  }
  const send = (lane: Lane, job: Job) => {
    lane.jobs.set(job.id, job)
    lane.worker.ref() // busy: keeps the process alive until it answers
    // a copy of its own to transfer: the caller's buffer may be shared (a packed file's pages)
    const copy = job.bytes.slice()
    const req: WorkerRequest = {
      type: 'verify',
      id: job.id,
      index: job.index,
      bytes: copy.buffer,
      runPath: job.opts.runPath,
    }
    lane.worker.postMessage(req, [copy.buffer])
  }
  function pump(): void {
    for (const lane of lanes) {
      while (lane.jobs.size < PER_WORKER && queue.length > 0) send(lane, queue.shift() as Job)
    }
    // the calling thread takes a job when every worker is full (or there are none)
    if ((alsoHere || lanes.length === 0) && !hereBusy && queue.length > 0) {
      runHere(queue.shift() as Job)
    }
  }
  const retire = (lane: Lane) => {
    const i = lanes.indexOf(lane)
    if (i < 0) return
    lanes.splice(i, 1)
    // its chunks go back to the front of the queue, in order, for the lanes left
    queue.unshift(...[...lane.jobs.values()].sort((a, b) => a.id - b.id))
    lane.jobs.clear()
    for (const fail of lane.merges.values()) fail({ id: -1, fatal: 'the worker stopped' })
    lane.merges.clear()
    void lane.worker.terminate().catch(() => {})
    pump()
  }

  for (let w = 0; w < count; w++) {
    const worker = new Worker(workerUrl as string | URL, {
      workerData: { manifest },
      execArgv: opts.execArgv,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.resourceLimits?.maxOldGenerationSizeMb ?? 256,
        maxYoungGenerationSizeMb: opts.resourceLimits?.maxYoungGenerationSizeMb ?? 8,
      },
    })
    const lane: Lane = { worker, jobs: new Map(), merges: new Map() }
    lanes.push(lane)
    worker.unref() // idle: never what keeps a process alive
    worker.on('message', (m: VerifyReply & MergeReply) => {
      const merging = lane.merges.get(m.id)
      if (merging) return merging(m)
      const job = lane.jobs.get(m.id)
      if (!job) return
      if (lane.jobs.size === 1 && lane.merges.size === 0 && (m.chunk || m.error)) worker.unref()
      if (m.chunk) {
        lane.jobs.delete(m.id)
        job.resolve(fromWire(m.chunk))
        pump()
      } else if (m.error) {
        lane.jobs.delete(m.id)
        job.reject(new SnapshotError(m.error.code, m.error.message, { details: m.error.details }))
        pump()
      } else {
        retire(lane) // not a verdict on the chunk: verify it (and the rest) here
      }
    })
    worker.on('error', () => retire(lane))
    worker.on('exit', () => retire(lane))
  }

  return {
    window: count * PER_WORKER + (alsoHere ? 1 : 0),
    workers: count,
    verify(index, bytes, opts = {}) {
      if (closed)
        return Promise.reject(new SnapshotError(SnapshotErrorCode.ABORTED, 'chunk verifier closed'))
      return new Promise<PackedVerifiedChunk>((resolve, reject) => {
        queue.push({ id: nextId++, index, bytes, opts, resolve, reject })
        pump()
      })
    },
    merge(input, max) {
      const lane = lanes[0]
      if (!lane || closed) return undefined
      const id = nextId++
      const got: PackedNodes[] = []
      let ended = false
      let failure: Error | undefined
      let wake: (() => void) | undefined
      lane.merges.set(id, (m) => {
        if (m.packed) {
          const { buffer, offset, length, count } = m.packed
          got.push(PackedNodes.from(new Uint8Array(buffer, offset, length), count))
        } else {
          ended = true
          if (m.error) {
            failure = new SnapshotError(m.error.code, m.error.message, { details: m.error.details })
          } else if (m.fatal) {
            failure = new Error(`the verification worker failed while merging: ${m.fatal}`)
          }
        }
        wake?.()
      })
      lane.worker.ref() // busy: keeps the process alive until it answers
      const req: WorkerRequest = { type: 'merge', id, max, ...input }
      lane.worker.postMessage(req)
      return (async function* () {
        try {
          for (;;) {
            while (got.length === 0 && !ended) await new Promise<void>((r) => (wake = r))
            const next = got.shift()
            if (next) {
              lane.worker.postMessage({ type: 'credit', id } satisfies WorkerRequest)
              yield next
            } else if (failure) throw failure
            else return
          }
        } finally {
          lane.merges.delete(id)
          if (lane.jobs.size === 0 && lane.merges.size === 0) lane.worker.unref()
        }
      })()
    },
    async close() {
      if (closed) return
      closed = true
      releaseSortRoom()
      const all = lanes.splice(0)
      const left = [...queue.splice(0), ...all.flatMap((l) => [...l.jobs.values()])]
      for (const l of all) l.jobs.clear()
      for (const job of left)
        job.reject(new SnapshotError(SnapshotErrorCode.ABORTED, 'chunk verifier closed'))
      await Promise.all(all.map((l) => l.worker.terminate().catch(() => {})))
    },
  }
}

function fromWire(w: NonNullable<VerifyReply['chunk']>): PackedVerifiedChunk {
  const { nodes, code, ...rest } = w
  return {
    ...rest,
    nodes: PackedNodes.from(new Uint8Array(nodes.buffer, nodes.offset, nodes.length), nodes.count),
    codeOps: code.map(([hash, blob]) => codeOp(hash, blob)),
  }
}
