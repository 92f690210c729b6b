/** One ed25519 signature to check in a batch. */
export interface Ed25519VerifyItem {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

/** One BLS signature (G2) over a message by a public key (G1) to check in a batch. */
export interface BLSVerifyItem {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

/** The outcome of a batch: `valid` when every item is; `invalid` lists bad items' indices, ascending. */
export interface BatchVerifyResult {
  valid: boolean
  invalid: number[]
}

/**
 * Checks batches of signatures. Implementations: `createMainThreadVerifier()` (in the calling
 * thread) and `createWorkerPoolVerifier()` (splits large batches across worker threads). Both
 * give exactly the same answers as `ed25519.verify` and `bls.verify` item by item.
 */
export interface SignatureVerifier {
  verifyEd25519(items: Ed25519VerifyItem[]): Promise<BatchVerifyResult>
  verifyBLS(items: BLSVerifyItem[]): Promise<BatchVerifyResult>
  /** Stops the workers (if any). Later calls reject with `ERR_VERIFIER_CLOSED`. */
  close(): Promise<void>
}

/** Options of `createWorkerPoolVerifier`. */
export interface WorkerPoolVerifierOptions {
  /** Number of worker threads (default: `os.availableParallelism()`). */
  workers?: number
  /** ed25519 batches smaller than this run on the calling thread (default 64). */
  ed25519MinBatch?: number
  /** BLS batches smaller than this run on the calling thread (default 8). */
  blsMinBatch?: number
}

/** Defaults of `WorkerPoolVerifierOptions` (`workers` is computed from the machine). */
export const defaultWorkerPoolVerifierOptions: Required<
  Omit<WorkerPoolVerifierOptions, 'workers'>
> = {
  ed25519MinBatch: 64,
  blsMinBatch: 8,
}
