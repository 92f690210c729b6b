/** Stable error codes of @aureon/storage. Callers test `.code`. */
export const StorageErrorCode = {
  /** Another process (or another handle in this process) holds the LevelDB lock. */
  STORE_LOCKED: 'ERR_STORE_LOCKED',
  /** The database could not be opened for another reason (permissions, corruption, ...). */
  STORE_OPEN_FAILED: 'ERR_STORE_OPEN_FAILED',
  /** The store was closed. */
  STORE_CLOSED: 'ERR_STORE_CLOSED',
  /** A key or value is not a Uint8Array. */
  INVALID_KEY: 'ERR_INVALID_KEY',
  INVALID_VALUE: 'ERR_INVALID_VALUE',
  /** A namespace name is empty, not a string, or contains NUL. */
  INVALID_NAMESPACE: 'ERR_INVALID_NAMESPACE',
  /** A batch op has an unknown type. */
  INVALID_BATCH_OP: 'ERR_INVALID_BATCH_OP',
} as const

export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode]

/** The error class of @aureon/storage: `code`, optional `details` and `cause`. */
export class StorageError extends Error {
  override readonly name = 'StorageError'
  readonly code: StorageErrorCode
  readonly details?: Record<string, unknown>

  constructor(
    code: StorageErrorCode,
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
 * True when `e` is a {@link StorageError} (optionally with the given code).
 *
 * @example
 * try { await openLevelStore({ path }) } catch (e) { if (isStorageError(e, 'ERR_STORE_LOCKED')) ... }
 */
export function isStorageError(e: unknown, code?: StorageErrorCode): e is StorageError {
  return (
    e instanceof Error &&
    (e as StorageError).name === 'StorageError' &&
    typeof (e as StorageError).code === 'string' &&
    (code === undefined || (e as StorageError).code === code)
  )
}
