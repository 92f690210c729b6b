/**
 * Entry of a chunk-verification worker thread (built as `dist/verify-worker.js`, started by
 * {@link createChunkVerifier}). It loads only what verifying needs (no store, no ledger) and
 * answers each request with the verified chunk, its sorted nodes' buffer transferred, or the
 * SnapshotError that refused it. Requests are handled one at a time, in the order they come.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { isSnapshotError } from './errors.js'
import type { SnapshotManifest } from './types.js'
import { verifyChunkPacked } from './verify.js'
import type { VerifyReply, VerifyRequest } from './verify-pool.js'

const port = parentPort
if (!port) throw new Error('verify-worker.js runs as a worker thread (createChunkVerifier)')
const manifest = (workerData as { manifest: SnapshotManifest }).manifest

async function answer(m: VerifyRequest): Promise<void> {
  try {
    const v = await verifyChunkPacked({
      manifest,
      index: m.index,
      bytes: new Uint8Array(m.bytes),
      sortNodes: m.sortNodes,
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

let queue: Promise<void> = Promise.resolve()
port.on('message', (m: VerifyRequest) => {
  queue = queue.then(() => answer(m))
})
