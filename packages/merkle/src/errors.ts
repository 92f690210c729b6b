/** Stable error codes of @aureon/merkle. Callers test `.code`. */
export const MerkleErrorCode = {
  /** A proof does not prove anything against the given root (bad nodes, wrong root, tampered). */
  INVALID_PROOF: 'ERR_INVALID_PROOF',
  /** A range proof is malformed or does not match the root. */
  INVALID_RANGE_PROOF: 'ERR_INVALID_RANGE_PROOF',
  /** A trie node the root refers to is not in the store (never flushed or pruned). */
  MISSING_NODE: 'ERR_MISSING_NODE',
  /** A root is not 32 bytes or is not in the store. */
  INVALID_ROOT: 'ERR_INVALID_ROOT',
  /** commit/revert without checkpoint, or an operation not allowed while checkpoints are open. */
  CHECKPOINT: 'ERR_CHECKPOINT',
  /** A key or value is not a Uint8Array, or a batch op is malformed. */
  INVALID_INPUT: 'ERR_INVALID_INPUT',
} as const

export type MerkleErrorCode = (typeof MerkleErrorCode)[keyof typeof MerkleErrorCode]

/** The error class of @aureon/merkle: `code`, optional `details` and `cause`. */
export class MerkleError extends Error {
  override readonly name = 'MerkleError'
  readonly code: MerkleErrorCode
  readonly details?: Record<string, unknown>

  constructor(
    code: MerkleErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    if (opts.details) this.details = opts.details
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/**
 * True when `e` is a {@link MerkleError} (optionally with the given code).
 *
 * @example
 * try { await verifyProof({ root, key, proof }) } catch (e) { if (isMerkleError(e)) ... }
 */
export function isMerkleError(e: unknown, code?: MerkleErrorCode): e is MerkleError {
  return (
    e instanceof Error &&
    (e as MerkleError).name === 'MerkleError' &&
    typeof (e as MerkleError).code === 'string' &&
    (code === undefined || (e as MerkleError).code === code)
  )
}
