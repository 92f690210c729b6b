/** Stable error codes of @aureon/crypto. Callers test `.code`, never the message. */
export const CryptoErrorCode = {
  INVALID_HEX: 'ERR_INVALID_HEX',
  INVALID_UTF8: 'ERR_INVALID_UTF8',
  INVALID_ADDRESS: 'ERR_INVALID_ADDRESS',
  INVALID_LENGTH: 'ERR_INVALID_LENGTH',
  INVALID_SECRET_KEY: 'ERR_INVALID_SECRET_KEY',
  INVALID_PUBLIC_KEY: 'ERR_INVALID_PUBLIC_KEY',
  INVALID_SIGNATURE: 'ERR_INVALID_SIGNATURE',
  INVALID_PROOF: 'ERR_INVALID_PROOF',
  BLS_UNAVAILABLE: 'ERR_BLS_UNAVAILABLE',
  KEYFILE_FORMAT: 'ERR_KEYFILE_FORMAT',
  KEYFILE_PASSPHRASE: 'ERR_KEYFILE_PASSPHRASE',
  KEYFILE_IO: 'ERR_KEYFILE_IO',
  VERIFIER_CLOSED: 'ERR_VERIFIER_CLOSED',
  WORKER_FAILED: 'ERR_WORKER_FAILED',
} as const
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode]

/**
 * An error from @aureon/crypto; `code` is stable. Messages and details never contain secret keys.
 *
 * @example
 * try { hexToBytes('0xzz') } catch (e) { if (isCryptoError(e)) console.log(e.code) }
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode
  readonly details?: Record<string, unknown>
  constructor(
    code: CryptoErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'CryptoError'
    this.code = code
    if (opts.details !== undefined) this.details = opts.details
  }

  toJSON(): {
    name: string
    code: CryptoErrorCode
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
 * True when `e` is a CryptoError (checked by shape, so it also works across package copies).
 *
 * @example
 * if (isCryptoError(e) && e.code === CryptoErrorCode.INVALID_HEX) { ... }
 */
export function isCryptoError(e: unknown): e is CryptoError {
  return (
    e instanceof CryptoError ||
    (e instanceof Error &&
      e.name === 'CryptoError' &&
      typeof (e as { code?: unknown }).code === 'string')
  )
}
