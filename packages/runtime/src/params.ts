/**
 * Limits of the contract ABI (../shared/HOST_ABI.md, version 1) and the gas schedule. The schedule
 * is calibrated by `bench/calibrate.ts`: every instruction class and host function costs gas in
 * proportion to the time it takes (see docs/gas.md, "WASM gas").
 */

/** Version of the contract ABI this runtime implements. */
export const ABI_VERSION = 1

/**
 * Version of the instrumentation. It is written into every instrumented module (custom section
 * `aureon.instrument`), so stored code keeps the metering it was deployed with: version 3 meters
 * in units (`GasSchedule.unitsPerGas` per gas) with DEFAULT_GAS_SCHEDULE; code instrumented by
 * versions 1 and 2 keeps GAS_SCHEDULE_V2 (1 unit per gas).
 */
export const INSTRUMENT_VERSION = 3

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

/** Cost of each instruction class, in metering units. */
export interface InstructionCosts {
  /** i32/i64.const, local.*, nop, drop, br, return, unreachable (block, loop, else, end: free) */
  simple: number
  /** global.get, global.set */
  global: number
  /** select, if */
  branch: number
  /** br_if (it ends a basic block: the cost includes the next block's gas charge) */
  brIf: number
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

/** Cost of a host function in metering units: `base + per8Bytes * ceil(bytes / 8)`. */
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

/** The whole schedule. Every cost is in metering units; `unitsPerGas` units make one gas. */
export interface GasSchedule {
  instructions: InstructionCosts
  host: HostCosts
  /** Deploy: per 8 bytes of submitted code (validation, instrumentation, compilation). */
  deployPer8Bytes: number
  /** Deploy: fixed part. */
  deployBase: number
  /**
   * Metering units per gas. A call with a gas limit of G runs with G * unitsPerGas units; it uses
   * ceil(units used / unitsPerGas) gas (so exactly enough gas succeeds and one gas less runs out).
   */
  unitsPerGas: number
  /**
   * Re-run surcharge: the first access of a storage key or account in a run (storage_read,
   * storage_remove, get_balance, transfer) also costs the units the run has used so far outside
   * the state functions — the work a node repeats when that access had to be loaded first (the
   * call stops, loads, and runs again from the start). Deterministic: it depends only on the run.
   */
  rerunSurcharge?: boolean
}

/**
 * The calibrated gas schedule of INSTRUMENT_VERSION 3. Unit: 1 metering unit is about 0.1 ns of
 * work on the calibration machine, 100 units make 1 gas (about 10 ns, the scale of the ledger's
 * intrinsic gas: a Transfer's 21,000 gas is about 0.2 ms of work). The measurement is
 * `bench/calibrate.ts`, the table is in docs/gas.md, "WASM gas". Consensus-critical: changing
 * it changes gas (bump INSTRUMENT_VERSION and keep the old schedule for old code).
 */
export const DEFAULT_GAS_SCHEDULE: GasSchedule = {
  instructions: {
    simple: 1,
    global: 4,
    branch: 5,
    brIf: 20,
    brTable: 15,
    arith: 1,
    bitcount: 6,
    mul: 7,
    div: 130,
    load: 10,
    store: 2,
    call: 4,
    callIndirect: 80,
    memorySize: 2,
    memoryGrow: 3_000,
    memoryGrowPerPage: 800_000,
    bulk: 200,
    bulkPer8Bytes: 12,
    drop: 200,
  },
  host: {
    input_size: { base: 2_700, per8Bytes: 0 },
    input_read: { base: 6_200, per8Bytes: 1 },
    return_data: { base: 6_500, per8Bytes: 50 },
    revert: { base: 6_500, per8Bytes: 50 },
    abort: { base: 6_500, per8Bytes: 0 },
    log: { base: 9_000, per8Bytes: 22 },
    emit_log: { base: 7_300, per8Bytes: 56 },
    get_balance: { base: 5_000_000, per8Bytes: 0 },
    transfer: { base: 7_000_000, per8Bytes: 0 },
    storage_read: { base: 8_000_000, per8Bytes: 4 },
    storage_write: { base: 5_500_000, per8Bytes: 1_600 },
    storage_remove: { base: 14_000_000, per8Bytes: 4 },
    block_height: { base: 2_400, per8Bytes: 0 },
    block_timestamp: { base: 2_400, per8Bytes: 0 },
    caller: { base: 5_000, per8Bytes: 0 },
    self_address: { base: 5_000, per8Bytes: 0 },
    call_value: { base: 13_500, per8Bytes: 0 },
    sha256: { base: 60_000, per8Bytes: 250 },
    gas_left: { base: 3_700, per8Bytes: 0 },
  },
  deployBase: 25_000_000,
  deployPer8Bytes: 48_000,
  unitsPerGas: 100,
  rerunSurcharge: true,
}

/**
 * The schedule of INSTRUMENT_VERSION 1 and 2 (1 unit per gas), frozen: code deployed under those
 * versions carries these instruction costs in its instrumentation and keeps these host costs.
 */
export const GAS_SCHEDULE_V2: GasSchedule = {
  instructions: {
    simple: 1,
    global: 1,
    branch: 2,
    brIf: 2,
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
  unitsPerGas: 1,
}

/**
 * The schedule code instrumented under `version` runs with: `current` (the runtime's schedule)
 * for version 3 and later, GAS_SCHEDULE_V2 before.
 */
export function scheduleForVersion(version: number, current: GasSchedule): GasSchedule {
  return version >= 3 ? current : GAS_SCHEDULE_V2
}

/** Cost of a host call with `bytes` bytes of payload. */
export function hostCost(c: HostCost, bytes: number): number {
  return c.base + c.per8Bytes * Math.ceil(bytes / 8)
}
