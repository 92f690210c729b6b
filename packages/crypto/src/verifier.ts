import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { bls } from './bls.js'
import { ed25519, ed25519PreCheck } from './ed25519.js'
import { CryptoError, CryptoErrorCode } from './errors.js'
import { BLS_PUBLIC_KEY_LENGTH, BLS_SIGNATURE_LENGTH } from './params.js'
import {
  type BatchVerifyResult,
  type BLSVerifyItem,
  defaultWorkerPoolVerifierOptions,
  type Ed25519VerifyItem,
  type SignatureVerifier,
  type WorkerPoolVerifierOptions,
} from './types.js'

function result(invalid: number[]): BatchVerifyResult {
  invalid.sort((a, b) => a - b)
  return { valid: invalid.length === 0, invalid }
}

function verifyEd25519Here(items: Ed25519VerifyItem[]): number[] {
  const invalid: number[] = []
  for (let i = 0; i < items.length; i++) {
    const it = items[i]
    if (!it || !ed25519.verify(it.signature, it.message, it.publicKey)) invalid.push(i)
  }
  return invalid
}

/** BLS: one randomised batch check first; only when it fails, each item on its own. */
function verifyBLSHere(items: BLSVerifyItem[]): number[] {
  if (items.length === 0) return []
  if (items.length > 1 && items.every((it) => it) && bls.verifyMultipleSignatures(items)) return []
  const invalid: number[] = []
  for (let i = 0; i < items.length; i++) {
    const it = items[i]
    if (!it || !bls.verify(it.signature, it.message, it.publicKey)) invalid.push(i)
  }
  return invalid
}

function checkArray(items: unknown, what: string): void {
  if (!Array.isArray(items)) {
    throw new CryptoError(CryptoErrorCode.INVALID_LENGTH, `${what} expects an array of items`)
  }
}

/**
 * A SignatureVerifier that checks everything on the calling thread. BLS batches are first
 * checked together (randomised multi-signature check) and one by one only when that fails.
 *
 * @example
 * const v = createMainThreadVerifier()
 * const { valid, invalid } = await v.verifyEd25519([{ publicKey, message, signature }])
 */
export function createMainThreadVerifier(): SignatureVerifier {
  let closed = false
  const guard = () => {
    if (closed) throw new CryptoError(CryptoErrorCode.VERIFIER_CLOSED, 'the verifier is closed')
  }
  return {
    async verifyEd25519(items) {
      guard()
      checkArray(items, 'verifyEd25519')
      return result(verifyEd25519Here(items))
    },
    async verifyBLS(items) {
      guard()
      checkArray(items, 'verifyBLS')
      return result(verifyBLSHere(items))
    },
    async close() {
      closed = true
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Worker pool. The worker is plain JavaScript run with `eval: true`, so the same code works when
// this package runs from its TypeScript sources (vitest) and from the built dist. It only does
// the expensive part: node:crypto's ed25519 verify (the pinned rule's encoding pre-checks run on
// the calling thread before anything is sent) and blst's BLS checks. Items are packed into one
// transferable buffer per chunk: [publicKey | signature | u32 message length | message]*.
// ---------------------------------------------------------------------------------------------

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const crypto = require('node:crypto')
let blst = null
let blstError = null
try { blst = require(workerData.blstPath) } catch (e) { blstError = String(e) }
const SPKI = Buffer.from('302a300506032b6570032100', 'hex')
function* unpack(buf, count, pkLen, sigLen) {
  const bytes = new Uint8Array(buf)
  const dv = new DataView(buf)
  let o = 0
  for (let i = 0; i < count; i++) {
    const pk = bytes.subarray(o, o + pkLen); o += pkLen
    const sig = bytes.subarray(o, o + sigLen); o += sigLen
    const n = dv.getUint32(o, true); o += 4
    const msg = bytes.subarray(o, o + n); o += n
    yield { pk, sig, msg }
  }
}
const keys = new Map()
function edKey(pk) {
  const id = Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString('base64')
  let key = keys.get(id)
  if (key === undefined) {
    key = crypto.createPublicKey({ key: Buffer.concat([SPKI, pk]), format: 'der', type: 'spki' })
    if (keys.size >= 4096) keys.clear()
    keys.set(id, key)
  }
  return key
}
function ed(buf, count) {
  const invalid = []
  let i = 0
  for (const { pk, sig, msg } of unpack(buf, count, 32, 64)) {
    let ok = false
    try {
      ok = crypto.verify(null, msg, edKey(pk), sig)
    } catch { ok = false }
    if (!ok) invalid.push(i)
    i++
  }
  return invalid
}
function blsOne(s) {
  try {
    const pk = blst.PublicKey.fromBytes(s.pk, true)
    const sig = blst.Signature.fromBytes(s.sig, true, true)
    return blst.verify(s.msg, pk, sig)
  } catch { return false }
}
function blsBatch(buf, count) {
  const sets = [...unpack(buf, count, 48, 96)]
  if (sets.length > 1) {
    try {
      const ok = blst.verifyMultipleAggregateSignatures(sets.map((s) => ({
        msg: s.msg,
        pk: blst.PublicKey.fromBytes(s.pk, true),
        sig: blst.Signature.fromBytes(s.sig, true, true),
      })))
      if (ok) return []
    } catch {}
  }
  const invalid = []
  sets.forEach((s, i) => { if (!blsOne(s)) invalid.push(i) })
  return invalid
}
parentPort.on('message', (m) => {
  try {
    if (m.kind === 'ed25519') parentPort.postMessage({ id: m.id, invalid: ed(m.buf, m.count) })
    else if (blst === null) parentPort.postMessage({ id: m.id, error: 'blst unavailable: ' + blstError })
    else parentPort.postMessage({ id: m.id, invalid: blsBatch(m.buf, m.count) })
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: String(e && e.message || e) })
  }
})
parentPort.postMessage({ ready: true, bls: blst !== null })
`

type Kind = 'ed25519' | 'bls'
interface Item {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}
interface Job {
  kind: Kind
  items: Item[]
  resolve: (invalid: number[]) => void
  reject: (e: unknown) => void
}
interface PoolWorker {
  worker: Worker
  pending: Map<number, Job>
  blsAvailable: boolean
}

function pack(items: Item[], pkLen: number, sigLen: number): ArrayBuffer {
  let size = 0
  for (const it of items) size += pkLen + sigLen + 4 + it.message.length
  const buf = new ArrayBuffer(size)
  const bytes = new Uint8Array(buf)
  const dv = new DataView(buf)
  let o = 0
  for (const it of items) {
    bytes.set(it.publicKey, o)
    o += pkLen
    bytes.set(it.signature, o)
    o += sigLen
    dv.setUint32(o, it.message.length, true)
    o += 4
    bytes.set(it.message, o)
    o += it.message.length
  }
  return buf
}

function resolveBlstPath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@chainsafe/blst')
  } catch {
    /* v8 ignore next 2: blst is a dependency of this package */
    return undefined
  }
}

const isItem = (it: unknown): it is Item =>
  typeof it === 'object' &&
  it !== null &&
  (it as Item).publicKey instanceof Uint8Array &&
  (it as Item).signature instanceof Uint8Array &&
  (it as Item).message instanceof Uint8Array

/**
 * A SignatureVerifier that splits large batches across `worker_threads` (one chunk per worker)
 * and answers small ones on the calling thread. ed25519 encoding pre-checks of the pinned rule
 * run on the calling thread; workers run node:crypto's verify and blst. BLS chunks are checked
 * with one randomised batch check and, only when it fails, one by one, so `invalid` names
 * exactly the bad signatures. If a worker dies, its chunks are checked on the calling thread.
 * Call `close()` when done (idle workers do not keep the process alive).
 *
 * @example
 * const v = createWorkerPoolVerifier({ workers: 4 })
 * const r = await v.verifyEd25519(items) // { valid: false, invalid: [17] }
 * await v.close()
 */
export function createWorkerPoolVerifier(opts: WorkerPoolVerifierOptions = {}): SignatureVerifier {
  const size = Math.max(1, Math.floor(opts.workers ?? availableParallelism()))
  const edMin = opts.ed25519MinBatch ?? defaultWorkerPoolVerifierOptions.ed25519MinBatch
  const blsMin = opts.blsMinBatch ?? defaultWorkerPoolVerifierOptions.blsMinBatch
  const blstPath = resolveBlstPath()
  let workers: PoolWorker[] | undefined
  let closed = false
  let nextId = 0
  let active = 0

  const runHere = (job: Job) => {
    try {
      job.resolve(job.kind === 'ed25519' ? verifyEd25519Here(job.items) : verifyBLSHere(job.items))
    } catch (e) {
      /* v8 ignore next 2: the main-thread checks do not throw */
      job.reject(e)
    }
  }

  function spawn(): PoolWorker {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { blstPath } })
    const pw: PoolWorker = { worker, pending: new Map(), blsAvailable: blstPath !== undefined }
    worker.unref()
    worker.on(
      'message',
      (m: { id?: number; invalid?: number[]; error?: string; bls?: boolean }) => {
        if (m.id === undefined) {
          pw.blsAvailable = m.bls === true
          return
        }
        const job = pw.pending.get(m.id)
        /* v8 ignore next */
        if (job === undefined) return
        pw.pending.delete(m.id)
        if (--active === 0) for (const w of workers ?? []) w.worker.unref()
        if (m.invalid !== undefined) job.resolve(m.invalid)
        else runHere(job) // the worker could not do it (e.g. blst missing there): do it here
      },
    )
    // A worker that stops (crash, out of memory, terminated from outside) is replaced, and the
    // chunks it held are checked here. 'error' is always followed by 'exit'.
    worker.on('error', () => {})
    worker.on('exit', () => {
      const jobs = [...pw.pending.values()]
      pw.pending.clear()
      active -= jobs.length
      if (workers !== undefined && !closed) {
        const i = workers.indexOf(pw)
        if (i >= 0) workers[i] = spawn()
      }
      for (const job of jobs) runHere(job)
    })
    return pw
  }

  function send(pw: PoolWorker, job: Job): void {
    const id = nextId++
    const pkLen = job.kind === 'ed25519' ? 32 : BLS_PUBLIC_KEY_LENGTH
    const sigLen = job.kind === 'ed25519' ? 64 : BLS_SIGNATURE_LENGTH
    const buf = pack(job.items, pkLen, sigLen)
    pw.pending.set(id, job)
    if (active++ === 0) for (const w of workers ?? []) w.worker.ref()
    pw.worker.postMessage({ id, kind: job.kind, buf, count: job.items.length }, [buf])
  }

  async function run(kind: Kind, items: Item[]): Promise<BatchVerifyResult> {
    if (closed) throw new CryptoError(CryptoErrorCode.VERIFIER_CLOSED, 'the verifier is closed')
    checkArray(items, kind === 'ed25519' ? 'verifyEd25519' : 'verifyBLS')
    const invalid: number[] = []
    // Cheap checks here: shapes, and for ed25519 the pinned rule's encoding checks.
    const keep: number[] = []
    for (let i = 0; i < items.length; i++) {
      const it = items[i]
      const ok =
        isItem(it) &&
        (kind === 'ed25519'
          ? ed25519PreCheck(it.signature, it.publicKey) === null
          : it.publicKey.length === BLS_PUBLIC_KEY_LENGTH &&
            it.signature.length === BLS_SIGNATURE_LENGTH)
      if (ok) keep.push(i)
      else invalid.push(i)
    }
    if (keep.length < (kind === 'ed25519' ? edMin : blsMin)) {
      const sub = keep.map((i) => items[i])
      const bad = kind === 'ed25519' ? verifyEd25519Here(sub) : verifyBLSHere(sub)
      for (const j of bad) invalid.push(keep[j])
      return result(invalid)
    }
    workers ??= Array.from({ length: size }, spawn)
    const per = Math.ceil(keep.length / workers.length)
    const parts: Promise<void>[] = []
    for (let w = 0; w * per < keep.length; w++) {
      const idx = keep.slice(w * per, (w + 1) * per)
      const pw = workers[w]
      parts.push(
        new Promise<number[]>((resolve, reject) => {
          const job: Job = { kind, items: idx.map((i) => items[i]), resolve, reject }
          if (kind === 'bls' && !pw.blsAvailable) runHere(job)
          else send(pw, job)
        }).then((bad) => {
          for (const j of bad) invalid.push(idx[j])
        }),
      )
    }
    await Promise.all(parts)
    return result(invalid)
  }

  const verifier: SignatureVerifier = {
    verifyEd25519: (items) => run('ed25519', items),
    verifyBLS: (items) => run('bls', items),
    async close() {
      if (closed) return
      closed = true
      const ws = workers ?? []
      workers = undefined
      for (const w of ws) {
        for (const job of w.pending.values()) {
          job.reject(new CryptoError(CryptoErrorCode.VERIFIER_CLOSED, 'the verifier was closed'))
        }
        w.pending.clear()
      }
      await Promise.all(ws.map((w) => w.worker.terminate()))
    },
  }
  // For tests only: the live worker threads (not part of the API).
  Object.defineProperty(verifier, POOL_WORKERS, {
    value: () => (workers ?? []).map((w) => w.worker),
    enumerable: false,
  })
  return verifier
}

/** @internal Test hook: the worker threads of a pool verifier. */
export const POOL_WORKERS: unique symbol = Symbol.for('aureon.crypto.poolWorkers')
