/** Stable error codes of @aureon/rpc. Clients test `.code`, never the message. */
export const RPCErrorCode = {
  BAD_REQUEST: 'ERR_BAD_REQUEST',
  BAD_JSON: 'ERR_BAD_JSON',
  BAD_HEX: 'ERR_BAD_HEX',
  BAD_ADDRESS: 'ERR_BAD_ADDRESS',
  BAD_HASH: 'ERR_BAD_HASH',
  BAD_HEIGHT: 'ERR_BAD_HEIGHT',
  BAD_AMOUNT: 'ERR_BAD_AMOUNT',
  WRONG_TX_KIND: 'ERR_WRONG_TX_KIND',
  NOT_FOUND: 'ERR_NOT_FOUND',
  METHOD_NOT_ALLOWED: 'ERR_METHOD_NOT_ALLOWED',
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  TIMEOUT: 'ERR_TIMEOUT',
  UNAVAILABLE: 'ERR_UNAVAILABLE',
  INTERNAL: 'ERR_INTERNAL',
  // WebSocket
  BAD_MESSAGE: 'ERR_BAD_MESSAGE',
  BAD_CHANNEL: 'ERR_BAD_CHANNEL',
  TOO_MANY_SUBSCRIPTIONS: 'ERR_TOO_MANY_SUBSCRIPTIONS',
  BACKFILL_TOO_LARGE: 'ERR_BACKFILL_TOO_LARGE',
  // client side
  NETWORK: 'ERR_NETWORK',
  BAD_RESPONSE: 'ERR_BAD_RESPONSE',
} as const
export type RPCErrorCode = (typeof RPCErrorCode)[keyof typeof RPCErrorCode]

/** The JSON body of every error response: `{ error: { code, message, details? } }`. */
export interface RPCErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> }
}

/**
 * An error of the API. On the server it becomes `{ error: { code, message, details? } }` with
 * `status`; on the client it is what a failed call throws (`code` is then the server's code, which
 * may come from another package, e.g. the pool's `ERR_NONCE_TOO_LOW`).
 */
export class RPCError extends Error {
  readonly code: string
  readonly status: number
  readonly details?: Record<string, unknown>
  constructor(
    code: string,
    message: string,
    opts: { status?: number; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'RPCError'
    this.code = code
    this.status = opts.status ?? 400
    if (opts.details) this.details = opts.details
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/**
 * True if `e` is an RPCError.
 * @example
 * try { await client.getTx({ hash }) } catch (e) { if (isRPCError(e) && e.status === 404) ... }
 */
export function isRPCError(e: unknown): e is RPCError {
  return e instanceof RPCError || (e instanceof Error && e.name === 'RPCError' && 'code' in e)
}
