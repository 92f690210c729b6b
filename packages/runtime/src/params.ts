/**
 * Limits of the contract ABI (../shared/HOST_ABI.md, version 1) and the gas schedule. The schedule
 * is calibrated by `bench/calibrate.ts`: every instruction class and host function costs gas in
 * proportion to the time it takes (see docs/gas.md, "WASM gas").
 */

/** Version of the contract ABI this runtime implements. */
export const ABI_VERSION = 1

/**
 * Version of the instrumentation. It is written into every instrumented module (custom section
 * `aureon.instrument`), so stored code keeps the metering it was deployed with.
 */
export const INSTRUMENT_VERSION = 2

/** Name of the custom section the instrumenter appends. */
export const INSTRUMENT_SECTION = 'aureon.instrument'

/** Names of the injected exports (reserved: a contract may not export names starting `__aureon`). */
export const GAS_GLOBAL_EXPORT = '__aureon_gas'
export const STACK_GLOBAL_EXPORT = '__aureon_stack'

/**
 * An export of this name (the WASI reactor convention; AssemblyScript emits it with
 * `--exportStart _initialize`) runs before the called function in every fresh instance, metered
 * like the call. A start section stays refused.
 */
export const INITIALIZE_EXPORT = '_initialize'

export const MAX_CODE_SIZE = 512 * 1024
export const MAX_MEMORY_PAGES = 256
export const MAX_FUNCTIONS = 10_000
export const MAX_LOCALS = 10_000
export const MAX_TABLE_ENTRIES = 10_000
export const MAX_GLOBALS = 1_000
export const MAX_STORAGE_KEY = 128
export const MAX_STORAGE_VALUE = 64 * 1024
export const MAX_LOG_TOPICS = 4
export const LOG_TOPIC_SIZE = 32
export const MAX_LOG_DATA = 16 * 1024
export const MAX_DEBUG_LOG = 16 * 1024
export const ADDRESS_SIZE = 20
export const AMOUNT_SIZE = 16
export const MAX_U128 = (1n << 128n) - 1n

/**
 * Stack limiter: each function call subtracts its frame cost
 * (`STACK_FRAME_OVERHEAD + params + locals + max operand stack height`) from the stack units left
 * (an extra last i32 parameter of every defined function since INSTRUMENT_VERSION 2); a call that
 * would use more than `STACK_LIMIT` units traps with ERR_STACK_LIMIT. The limit
 * keeps V8's own stack (about 1 MB) far away on every Node.js version.
 */
export const STACK_LIMIT = 32_768
export const STACK_FRAME_OVERHEAD = 8

/** Gas cost of each instruction class. */
export interface InstructionCosts {
  /** i32/i64.const, local.*, global.*, nop, drop, block, end, else, br */
  simple: number
  /** select, br_if, if, loop */
  branch: number
  /** br_table */
  brTable: number
  /** add, sub, and, or, xor, shifts, rotates, comparisons, eqz, wrap/extend, sign-extension */
  arith: number
  /** clz, ctz, popcnt */
  bitcount: number
  /** i32.mul, i64.mul */
  mul: number
  /** div_s, div_u, rem_s, rem_u */
  div: number
  /** loads */
  load: number
  /** stores */
  store: number
  /** call (a direct call of a contract function or of a host function, before the host's own cost) */
  call: number
  /** call_indirect */
  callIndirect: number
  /** memory.size */
  memorySize: number
  /** memory.grow, before the per-page cost */
  memoryGrow: number
  /** memory.grow per requested page */
  memoryGrowPerPage: number
  /** memory.copy / memory.fill / memory.init, before the per-byte cost */
  bulk: number
  /** memory.copy / memory.fill / memory.init / table.copy / table.init per 8 bytes (or element) */
  bulkPer8Bytes: number
  /** data.drop, elem.drop */
  drop: number
}

/** Gas cost of a host function: `base + perByte8 * ceil(bytes / 8)`. */
export interface HostCost {
  base: number
  per8Bytes: number
}

export interface HostCosts {
  input_size: HostCost
  input_read: HostCost
  return_data: HostCost
  revert: HostCost
  abort: HostCost
  log: HostCost
  emit_log: HostCost
  get_balance: HostCost
  transfer: HostCost
  storage_read: HostCost
  storage_write: HostCost
  storage_remove: HostCost
  block_height: HostCost
  block_timestamp: HostCost
  caller: HostCost
  self_address: HostCost
  call_value: HostCost
  sha256: HostCost
  gas_left: HostCost
}

/** The whole schedule. */
export interface GasSchedule {
  instructions: InstructionCosts
  host: HostCosts
  /** Deploy: per 8 bytes of submitted code (validation, instrumentation, compilation). */
  deployPer8Bytes: number
  /** Deploy: fixed part. */
  deployBase: number
}

/**
 * The calibrated gas schedule (target: 1 gas is about 0.25 ns of work on the calibration machine;
 * the measurement is `bench/calibrate.ts`, the table is in docs/gas.md, "WASM gas").
 * Consensus-critical: changing it changes gas.
 */
export const DEFAULT_GAS_SCHEDULE: GasSchedule = {
  instructions: {
    simple: 1,
    branch: 2,
    brTable: 4,
    arith: 1,
    bitcount: 1,
    mul: 2,
    div: 8,
    load: 2,
    store: 2,
    call: 6,
    callIndirect: 20,
    memorySize: 2,
    memoryGrow: 300,
    memoryGrowPerPage: 17_600,
    bulk: 20,
    bulkPer8Bytes: 6,
    drop: 20,
  },
  host: {
    input_size: { base: 1_300, per8Bytes: 0 },
    input_read: { base: 1_300, per8Bytes: 13 },
    return_data: { base: 6_000, per8Bytes: 107 },
    revert: { base: 2_900, per8Bytes: 107 },
    abort: { base: 2_900, per8Bytes: 0 },
    log: { base: 7_000, per8Bytes: 59 },
    emit_log: { base: 10_500, per8Bytes: 105 },
    get_balance: { base: 57_000, per8Bytes: 0 },
    transfer: { base: 29_000, per8Bytes: 0 },
    storage_read: { base: 25_000, per8Bytes: 4 },
    storage_write: { base: 68_000, per8Bytes: 330 },
    storage_remove: { base: 20_000, per8Bytes: 4 },
    block_height: { base: 750, per8Bytes: 0 },
    block_timestamp: { base: 750, per8Bytes: 0 },
    caller: { base: 1_800, per8Bytes: 0 },
    self_address: { base: 1_800, per8Bytes: 0 },
    call_value: { base: 22_000, per8Bytes: 0 },
    sha256: { base: 68_000, per8Bytes: 650 },
    gas_left: { base: 1_100, per8Bytes: 0 },
  },
  deployBase: 50_000,
  deployPer8Bytes: 40,
}

/** Cost of a host call with `bytes` bytes of payload. */
export function hostCost(c: HostCost, bytes: number): number {
  return c.base + c.per8Bytes * Math.ceil(bytes / 8)
}
