/**
 * Entry of a chunk-verification worker thread (built as `dist/verify-worker.js`, started by
 * {@link createChunkVerifier}). It loads only what verifying needs (no store, no ledger) and
 * answers each request with the verified chunk (its nodes' buffer transferred, or written to a
 * run file), or the SnapshotError that refused it. It also merges an import's run files into
 * packed batches, sent as the importing thread grants credit. Requests are handled one at a
 * time, in the order they come.
 */
import { join } from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'
import { isSnapshotError } from './errors.js'
import { mergeRuns } from './sort.js'
import type { SnapshotManifest } from './types.js'
import { verifyChunkPacked } from './verify.js'
import type { MergeReply, VerifyReply, WorkerRequest } from './verify-pool.js'

const port = parentPort
if (!port) throw new Error('verify-worker.js runs as a worker thread (createChunkVerifier)')
const manifest = (workerData as { manifest: SnapshotManifest }).manifest

async function answer(m: Extract<WorkerRequest, { type: 'verify' }>): Promise<void> {
  try {
    const v = await verifyChunkPacked({
      manifest,
      index: m.index,
      bytes: new Uint8Array(m.bytes),
      runPath: m.runPath,
    })
    const nodes = v.nodes.bytes
    const { nodes: _nodes, codeOps, ...rest } = v
    const reply: VerifyReply = {
      id: m.id,
      chunk: {
        ...rest,
        nodes: {
          buffer: nodes.buffer as ArrayBuffer,
          offset: nodes.byteOffset,
          length: nodes.length,
          count: v.nodes.count,
        },
        code: codeOps.map((op) => [op.key, (op as { value: Uint8Array }).value]),
      },
    }
    port?.postMessage(reply, [nodes.buffer as ArrayBuffer])
  } catch (e) {
    const reply: VerifyReply = isSnapshotError(e)
      ? { id: m.id, error: { code: e.code, message: e.message, details: e.details } }
      : { id: m.id, fatal: String((e as Error)?.stack ?? e) }
    port?.postMessage(reply)
  }
}

/** Batches a merge may send ahead of the importing thread's credit. */
const MERGE_AHEAD = 2
/** Credit granted, per merge. */
const credits = new Map<number, () => void>()

async function merge(m: Extract<WorkerRequest, { type: 'merge' }>): Promise<void> {
  let credit = MERGE_AHEAD
  let wake: (() => void) | undefined
  credits.set(m.id, () => {
    credit++
    wake?.()
  })
  try {
    let k = 0
    const scratch = () => join(m.dir, `merge-${m.id}-${String(k++).padStart(6, '0')}.bin`)
    for await (const packed of mergeRuns(m.paths, { max: m.max, fanIn: m.fanIn, scratch })) {
      while (credit === 0) await new Promise<void>((r) => (wake = r))
      credit--
      const b = packed.bytes
      const reply: MergeReply = {
        id: m.id,
        packed: {
          buffer: b.buffer as ArrayBuffer,
          offset: b.byteOffset,
          length: b.length,
          count: packed.count,
        },
      }
      port?.postMessage(reply, [b.buffer as ArrayBuffer])
    }
    port?.postMessage({ id: m.id, done: true } satisfies MergeReply)
  } catch (e) {
    const reply: MergeReply = isSnapshotError(e)
      ? { id: m.id, error: { code: e.code, message: e.message, details: e.details } }
      : { id: m.id, fatal: String((e as Error)?.stack ?? e) }
    port?.postMessage(reply)
  } finally {
    credits.delete(m.id)
  }
}

let queue: Promise<void> = Promise.resolve()
port.on('message', (m: WorkerRequest) => {
  if (m.type === 'credit') credits.get(m.id)?.()
  else if (m.type === 'merge') queue = queue.then(() => merge(m))
  else queue = queue.then(() => answer(m))
})
