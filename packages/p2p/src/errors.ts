/**
 * Stable error codes of @aureon/p2p. Callers test `.code`, never the message. The codes a
 * `Transport` call can fail with (`ERR_TIMEOUT`, `ERR_NOT_CONNECTED`, `ERR_STOPPED`) have the same
 * strings as @aureon/consensus's, so an engine's `.code` checks work on both transports.
 */
export const P2PErrorCode = {
  INVALID_OPTIONS: 'ERR_INVALID_OPTIONS',
  NOT_STARTED: 'ERR_NOT_STARTED',
  STOPPED: 'ERR_STOPPED',
  NOT_CONNECTED: 'ERR_NOT_CONNECTED',
  TIMEOUT: 'ERR_TIMEOUT',
  DIAL_FAILED: 'ERR_DIAL_FAILED',
  PEER_BANNED: 'ERR_PEER_BANNED',
  WRONG_CHAIN: 'ERR_WRONG_CHAIN',
  MESSAGE_TOO_LARGE: 'ERR_MESSAGE_TOO_LARGE',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  INVALID_MESSAGE: 'ERR_INVALID_MESSAGE',
  INVALID_REQUEST: 'ERR_INVALID_REQUEST',
  REMOTE_ERROR: 'ERR_REMOTE_ERROR',
  UNKNOWN_PROTOCOL: 'ERR_UNKNOWN_PROTOCOL',
} as const
export type P2PErrorCode = (typeof P2PErrorCode)[keyof typeof P2PErrorCode]

/**
 * An error from @aureon/p2p; `code` is stable.
 *
 * @example
 * try { await node.request(peer, 'snapshot-manifest', req) }
 * catch (e) { if (isP2PError(e) && e.code === P2PErrorCode.TIMEOUT) retryElsewhere() }
 */
export class P2PError extends Error {
  readonly code: P2PErrorCode
  readonly details?: Record<string, unknown>
  constructor(
    code: P2PErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'P2PError'
    this.code = code
    if (opts.details !== undefined) this.details = opts.details
  }

  toJSON(): {
    name: string
    code: P2PErrorCode
    message: string
    details?: Record<string, unknown>
  } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    }
  }
}

/**
 * True if `e` is a P2PError.
 * @example
 * if (isP2PError(e)) console.log(e.code)
 */
export function isP2PError(e: unknown): e is P2PError {
  return e instanceof P2PError
}
