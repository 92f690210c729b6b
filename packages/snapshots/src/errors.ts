/** Stable error codes of @aureon/snapshots. Callers test `.code`. */
export const SnapshotErrorCode = {
  /** Bytes that do not decode: bad magic, bad checksum, a chunk whose sha256 differs, bad zstd. */
  CORRUPT: 'ERR_SNAPSHOT_CORRUPT',
  /** A file or chunk ends early, or a chunk listed in the manifest is missing. */
  TRUNCATED: 'ERR_SNAPSHOT_TRUNCATED',
  /** Well-formed data that does not prove against the state root (forged or wrong leaves). */
  FORGED: 'ERR_SNAPSHOT_FORGED',
  /** The snapshot is of another chain (or another height / root than expected). */
  WRONG_CHAIN: 'ERR_SNAPSHOT_WRONG_CHAIN',
  /** The snapshot does not match the expected height, block hash or state root. */
  UNEXPECTED_STATE: 'ERR_SNAPSHOT_UNEXPECTED_STATE',
  /** The format version is not one this library reads. */
  UNSUPPORTED_VERSION: 'ERR_SNAPSHOT_UNSUPPORTED_VERSION',
  /** Verified chunks do not add up to the whole state (missing storage ranges or code). */
  INCOMPLETE: 'ERR_SNAPSHOT_INCOMPLETE',
  /** The import target namespace already holds a completed import. */
  TARGET_NOT_EMPTY: 'ERR_SNAPSHOT_TARGET_NOT_EMPTY',
  /** The source state misses a trie node or code blob (export of a pruned or broken store). */
  MISSING_STATE: 'ERR_SNAPSHOT_MISSING_STATE',
  /** A single leaf or code blob is larger than a chunk may be. */
  ITEM_TOO_LARGE: 'ERR_SNAPSHOT_ITEM_TOO_LARGE',
  /** No source could deliver a valid chunk (state sync). */
  FETCH_FAILED: 'ERR_SNAPSHOT_FETCH_FAILED',
  /** The operation was aborted through its AbortSignal. */
  ABORTED: 'ERR_SNAPSHOT_ABORTED',
  /** Invalid options (bad chunk size, missing paths, ...). */
  INVALID_OPTIONS: 'ERR_SNAPSHOT_INVALID_OPTIONS',
  /** The import's staging folder could not be created, written or read (disk full, access). */
  STAGING_FAILED: 'ERR_SNAPSHOT_STAGING_FAILED',
  /** No snapshot at the given path. */
  NOT_FOUND: 'ERR_SNAPSHOT_NOT_FOUND',
} as const

export type SnapshotErrorCode = (typeof SnapshotErrorCode)[keyof typeof SnapshotErrorCode]

/** The error class of @aureon/snapshots: `code`, optional `details` and `cause`. */
export class SnapshotError extends Error {
  override readonly name = 'SnapshotError'
  readonly code: SnapshotErrorCode
  readonly details?: Record<string, unknown>

  constructor(
    code: SnapshotErrorCode,
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
 * True when `e` is a {@link SnapshotError} (optionally with the given code).
 *
 * @example
 * try { await importSnapshot(opts) } catch (e) { if (isSnapshotError(e, 'ERR_SNAPSHOT_FORGED')) ... }
 */
export function isSnapshotError(e: unknown, code?: SnapshotErrorCode): e is SnapshotError {
  return (
    e instanceof Error &&
    (e as SnapshotError).name === 'SnapshotError' &&
    typeof (e as SnapshotError).code === 'string' &&
    (code === undefined || (e as SnapshotError).code === code)
  )
}
