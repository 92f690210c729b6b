/** Stable error codes of @aureon/runtime. Callers test `.code`, never the message. */
export const RuntimeErrorCode = {
  // deploy-time validation (each names the HOST_ABI rule it enforces)
  INVALID_WASM: 'ERR_INVALID_WASM',
  CODE_TOO_LARGE: 'ERR_CODE_TOO_LARGE',
  FLOAT: 'ERR_FLOAT',
  UNSUPPORTED_FEATURE: 'ERR_UNSUPPORTED_FEATURE',
  IMPORT_NOT_ALLOWED: 'ERR_IMPORT_NOT_ALLOWED',
  IMPORT_SIGNATURE: 'ERR_IMPORT_SIGNATURE',
  START_FUNCTION: 'ERR_START_FUNCTION',
  MEMORY_LIMIT: 'ERR_MEMORY_LIMIT',
  NO_MEMORY: 'ERR_NO_MEMORY',
  TOO_MANY_FUNCTIONS: 'ERR_TOO_MANY_FUNCTIONS',
  TOO_MANY_LOCALS: 'ERR_TOO_MANY_LOCALS',
  TOO_MANY_TABLE_ENTRIES: 'ERR_TOO_MANY_TABLE_ENTRIES',
  TOO_MANY_GLOBALS: 'ERR_TOO_MANY_GLOBALS',
  RESERVED_NAME: 'ERR_RESERVED_NAME',
  // execution
  OUT_OF_GAS: 'ERR_OUT_OF_GAS',
  STACK_LIMIT: 'ERR_STACK_LIMIT',
  MEMORY_ACCESS: 'ERR_MEMORY_ACCESS',
  STORAGE_LIMIT: 'ERR_STORAGE_LIMIT',
  LOG_LIMIT: 'ERR_LOG_LIMIT',
  REVERTED: 'ERR_REVERTED',
  TRAP: 'ERR_TRAP',
  FUNCTION_NOT_FOUND: 'ERR_FUNCTION_NOT_FOUND',
  CONTRACT_NOT_FOUND: 'ERR_CONTRACT_NOT_FOUND',
  CONTRACT_EXISTS: 'ERR_CONTRACT_EXISTS',
  INSUFFICIENT_BALANCE: 'ERR_INSUFFICIENT_BALANCE',
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  STATE_NOT_LOADED: 'ERR_STATE_NOT_LOADED',
} as const

export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode]

/** Extra facts about a runtime error: the ABI rule, the function index, the opcode, ... */
export interface RuntimeErrorDetails {
  rule?: string
  functionIndex?: number
  opcode?: string
  offset?: number
  [key: string]: unknown
}

/**
 * The error class of @aureon/runtime. `code` is stable; `details.rule` names the HOST_ABI rule a
 * refused module broke, with `functionIndex` and `opcode` where they apply.
 *
 * @example
 * try { instrumentContract(bytes) } catch (e) { if (isRuntimeError(e)) console.log(e.code, e.details) }
 */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError'
  readonly code: RuntimeErrorCode
  readonly details?: RuntimeErrorDetails
  override readonly cause?: unknown

  constructor(
    code: RuntimeErrorCode,
    message: string,
    details?: RuntimeErrorDetails,
    cause?: unknown,
  ) {
    super(message)
    this.code = code
    if (details !== undefined) this.details = details
    if (cause !== undefined) this.cause = cause
  }

  toJSON(): { name: string; code: string; message: string; details?: RuntimeErrorDetails } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    }
  }
}

/**
 * True when `e` is a RuntimeError (checked by shape, so it works across package copies).
 *
 * @example
 * if (isRuntimeError(e) && e.code === RuntimeErrorCode.FLOAT) console.log('floats refused')
 */
export function isRuntimeError(e: unknown): e is RuntimeError {
  return (
    e instanceof RuntimeError ||
    (typeof e === 'object' &&
      e !== null &&
      (e as { name?: unknown }).name === 'RuntimeError' &&
      typeof (e as { code?: unknown }).code === 'string')
  )
}
