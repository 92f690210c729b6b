/** Stable error codes of @aureon/ledger. Callers test `.code`, never the message. */
export const LedgerErrorCode = {
  // codec
  DECODE: 'ERR_DECODE',
  NON_CANONICAL: 'ERR_NON_CANONICAL',
  TRAILING_BYTES: 'ERR_TRAILING_BYTES',
  FIELD_COUNT: 'ERR_FIELD_COUNT',
  OVERSIZE: 'ERR_OVERSIZE',
  INVALID_FIELD: 'ERR_INVALID_FIELD',
  // transactions
  UNKNOWN_KIND: 'ERR_UNKNOWN_KIND',
  BAD_SIGNATURE: 'ERR_BAD_SIGNATURE',
  WRONG_CHAIN_ID: 'ERR_WRONG_CHAIN_ID',
  NONCE_TOO_LOW: 'ERR_NONCE_TOO_LOW',
  NONCE_GAP: 'ERR_NONCE_GAP',
  INSUFFICIENT_BALANCE: 'ERR_INSUFFICIENT_BALANCE',
  INSUFFICIENT_STAKE: 'ERR_INSUFFICIENT_STAKE',
  INTRINSIC_GAS: 'ERR_INTRINSIC_GAS',
  GAS_LIMIT_EXCEEDS_BLOCK: 'ERR_GAS_LIMIT_EXCEEDS_BLOCK',
  GAS_PRICE_TOO_LOW: 'ERR_GAS_PRICE_TOO_LOW',
  AMOUNT_OUT_OF_RANGE: 'ERR_AMOUNT_OUT_OF_RANGE',
  CODE_TOO_LARGE: 'ERR_CODE_TOO_LARGE',
  TX_TOO_LARGE: 'ERR_TX_TOO_LARGE',
  BAD_ADDRESS: 'ERR_BAD_ADDRESS',
  BAD_BLS_KEY: 'ERR_BAD_BLS_KEY',
  BAD_BLS_POP: 'ERR_BAD_BLS_POP',
  NO_EXECUTOR: 'ERR_NO_EXECUTOR',
  EXECUTOR_FAILED: 'ERR_EXECUTOR_FAILED',
  // blocks
  BAD_BLOCK: 'ERR_BAD_BLOCK',
  BLOCK_GAS_LIMIT: 'ERR_BLOCK_GAS_LIMIT',
  STATE_ROOT_MISMATCH: 'ERR_STATE_ROOT_MISMATCH',
  TX_ROOT_MISMATCH: 'ERR_TX_ROOT_MISMATCH',
  RECEIPTS_ROOT_MISMATCH: 'ERR_RECEIPTS_ROOT_MISMATCH',
  GAS_USED_MISMATCH: 'ERR_GAS_USED_MISMATCH',
  BAD_PARENT: 'ERR_BAD_PARENT',
  /** A height below the first block of a chain anchored at a snapshot (as consensus's code). */
  BELOW_BASE: 'ERR_BELOW_BASE',
  // pool
  ALREADY_KNOWN: 'ERR_ALREADY_KNOWN',
  REPLACEMENT_UNDERPRICED: 'ERR_REPLACEMENT_UNDERPRICED',
  POOL_FULL: 'ERR_POOL_FULL',
  SENDER_LIMIT: 'ERR_SENDER_LIMIT',
  // state / store / genesis
  CHECKPOINT: 'ERR_CHECKPOINT',
  STORE: 'ERR_STORE',
  BAD_GENESIS: 'ERR_BAD_GENESIS',
} as const
export type LedgerErrorCode = (typeof LedgerErrorCode)[keyof typeof LedgerErrorCode]

/** An error a user or peer can cause; `code` is stable. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode
  readonly details?: Record<string, unknown>
  constructor(
    code: LedgerErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'LedgerError'
    this.code = code
    if (opts.details) this.details = opts.details
  }

  toJSON(): { name: string; code: string; message: string; details?: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/**
 * True if `e` is a LedgerError (or any error carrying a LedgerErrorCode).
 * @example
 * try { decodeTransaction(bytes) } catch (e) { if (isLedgerError(e)) console.log(e.code) }
 */
export function isLedgerError(e: unknown): e is LedgerError {
  return (
    e instanceof LedgerError ||
    (typeof e === 'object' &&
      e !== null &&
      typeof (e as { code?: unknown }).code === 'string' &&
      (Object.values(LedgerErrorCode) as string[]).includes((e as { code: string }).code))
  )
}
