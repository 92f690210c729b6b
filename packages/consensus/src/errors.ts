/** Stable error codes of @aureon/consensus. */
export const ConsensusErrorCode = {
  INVALID_ENCODING: 'ERR_INVALID_ENCODING',
  INVALID_MESSAGE: 'ERR_INVALID_MESSAGE',
  INVALID_BLOCK: 'ERR_INVALID_BLOCK',
  INVALID_SIGNATURE: 'ERR_INVALID_SIGNATURE',
  INVALID_QC: 'ERR_INVALID_QC',
  INVALID_TC: 'ERR_INVALID_TC',
  WRONG_PROPOSER: 'ERR_WRONG_PROPOSER',
  INVALID_VRF: 'ERR_INVALID_VRF',
  UNKNOWN_PARENT: 'ERR_UNKNOWN_PARENT',
  /** A message's epoch needs a validator set recorded at a boundary block not committed here. */
  EPOCH_NOT_FINAL: 'ERR_EPOCH_NOT_FINAL',
  /**
   * A block, reorg or rule needs history below the chain's base: the chain started from a
   * snapshot at that height, so forks at or below it cannot be followed.
   */
  BELOW_BASE: 'ERR_BELOW_BASE',
  NOT_AUTHORITY: 'ERR_NOT_AUTHORITY',
  INSUFFICIENT_WORK: 'ERR_INSUFFICIENT_WORK',
  INVALID_CONFIG: 'ERR_INVALID_CONFIG',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  TIMEOUT: 'ERR_TIMEOUT',
  STOPPED: 'ERR_STOPPED',
} as const
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode]

/** An error raised by a consensus engine, codec or transport; test `code`. */
export class ConsensusError extends Error {
  readonly code: ConsensusErrorCode
  readonly details?: Record<string, unknown>
  override readonly cause?: unknown

  constructor(
    code: ConsensusErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message)
    this.name = 'ConsensusError'
    this.code = code
    this.details = opts.details
    this.cause = opts.cause
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/**
 * True if `e` is a ConsensusError.
 * @example
 * try { decodeConsensusMessage(bytes) } catch (e) { if (isConsensusError(e)) console.log(e.code) }
 */
export function isConsensusError(e: unknown): e is ConsensusError {
  return e instanceof ConsensusError
}
