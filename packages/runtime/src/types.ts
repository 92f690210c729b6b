import type { ModuleCache } from './cache.js'
import type { GasSchedule } from './params.js'

/** Something `RuntimeState.load` can make readable synchronously. */
export type StateRequest =
  | { kind: 'account'; address: Uint8Array }
  | { kind: 'storage'; contract: Uint8Array; key: Uint8Array }

/**
 * The only way a contract touches the world. Reads and writes inside a call are synchronous
 * (WebAssembly host functions cannot await); a read of something not yet loaded throws
 * `StateNotLoadedError`, and the runtime then awaits `load`, discards the attempt and runs the call
 * again from the start (same gas, same result: calls are deterministic).
 *
 * | implementation | backed by | use when |
 * | --- | --- | --- |
 * | `MockRuntimeState` | plain maps | tests, tools, simulations without a chain |
 * | `LedgerRuntimeState` | a ledger `WorldState` checkpoint | executing transactions of a chain |
 */
export interface RuntimeState {
  /** Makes an account or storage slot readable synchronously. */
  load(req: StateRequest): Promise<void>
  /** The balance of `address` (0 for an absent account). Throws StateNotLoadedError if not loaded. */
  getBalance(address: Uint8Array): bigint
  setBalance(address: Uint8Array, balance: bigint): void
  /** A contract's storage value (undefined if absent). Throws StateNotLoadedError if not loaded. */
  getStorage(contract: Uint8Array, key: Uint8Array): Uint8Array | undefined
  /** Writes a storage value; an empty value removes the key. */
  setStorage(contract: Uint8Array, key: Uint8Array, value: Uint8Array): void
  /** The code hash of a contract account, or undefined when `address` holds no code. */
  getCodeHash(address: Uint8Array): Promise<Uint8Array | undefined>
  /** Code by its hash. */
  getCode(codeHash: Uint8Array): Promise<Uint8Array | undefined>
  /** Stores code once by hash and points `address` at it; returns the code hash. */
  putContract(address: Uint8Array, code: Uint8Array): Promise<Uint8Array>
  /** Opens a journal level. */
  checkpoint(): void
  /** Keeps the changes of the innermost level (the outermost commit writes them through). */
  commit(): Promise<void>
  /** Drops the changes of the innermost level. */
  revert(): Promise<void>
  /** Balances changed since the outermost checkpoint, sorted by address. */
  balanceChanges(): BalanceChange[]
}

export interface BalanceChange {
  address: Uint8Array
  balance: bigint
}

/** An event emitted by `emit_log`. */
export interface ContractLog {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
}

export type ExecutionStatus = 'Success' | 'Failed' | 'OutOfGas' | 'Reverted'

/** What a deploy or call produced (the execution part of a receipt). */
export interface RuntimeResult {
  status: ExecutionStatus
  gasUsed: bigint
  output: Uint8Array
  logs: ContractLog[]
  debugLogs: string[]
  error?: { code: string; message: string }
  contractAddress?: Uint8Array
  balanceChanges: BalanceChange[]
}

/** The block and transaction a contract runs in. */
export interface CallContext {
  sender: Uint8Array
  /** The sender's nonce of the transaction (deploy: derives the contract address). */
  senderNonce: bigint
  blockHeight: bigint
  blockTimestamp: bigint
  /** Gas available to execution (after the intrinsic cost). */
  gasLimit: bigint
  txHash?: Uint8Array
}

export interface DeployRequest {
  code: Uint8Array
  args: Uint8Array
  value: bigint
  /** The contract's address; derived from (sender, senderNonce) when omitted. */
  address?: Uint8Array
}

export interface CallRequest {
  contract: Uint8Array
  function: string
  args: Uint8Array
  value: bigint
}

export interface ContractRuntimeOptions {
  /** Gas schedule (default DEFAULT_GAS_SCHEDULE). Consensus-critical. */
  schedule?: GasSchedule
  /** Compiled-module cache; one is created (32 MiB) when omitted. */
  cache?: ModuleCache
  /**
   * Move the call's `value` from the sender to the contract before running it (default true).
   * Turn off when the caller (e.g. a state processor) already moved it.
   */
  transferValue?: boolean
  /** Stack limit in units (default STACK_LIMIT). Consensus-critical. */
  stackLimit?: number
}
