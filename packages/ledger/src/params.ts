import type { LedgerParams } from './types.js'

/** Largest u128 (amounts, balances, stake, gas price). */
export const MAX_U128 = (1n << 128n) - 1n
/** Largest u64 (nonces, heights, gas, timestamps). */
export const MAX_U64 = (1n << 64n) - 1n

/** Domain separator prefixed to every transaction signing payload. */
export const TX_SIGNING_DOMAIN = 'aureon/tx/v1'
/** Domain separator of contract addresses. */
export const CONTRACT_ADDRESS_DOMAIN = 'aureon/contract'

/** Reserved state-trie key of the active validator set (not 20 bytes: never an address). */
export const VALIDATOR_SET_KEY: Uint8Array = new TextEncoder().encode('aureon/validators/active')
/** Reserved state-trie key of the validator candidate list. */
export const VALIDATOR_CANDIDATES_KEY: Uint8Array = new TextEncoder().encode(
  'aureon/validators/candidates',
)

// Intrinsic gas (docs/gas.md, "Intrinsic gas")
/** Base gas of every transaction. */
export const GAS_TX_BASE = 21_000n
/** Extra base gas of a ContractDeploy. */
export const GAS_DEPLOY_BASE = 32_000n
/** Gas per byte of code, args and function name in the transaction. */
export const GAS_PER_DATA_BYTE = 16n
/** Gas per byte of code stored at deploy. */
export const GAS_PER_CODE_BYTE = 200n
/** Extra base gas of a Stake / Unstake (validator bookkeeping). */
export const GAS_STAKING = 29_000n
/** Extra gas when a Stake carries a BLS key + proof of possession (pairing check). */
export const GAS_BLS_POP = 100_000n

// Limits
/** Largest contract code (512 KiB, HOST_ABI.md). */
export const MAX_CODE_SIZE = 512 * 1024
/** Largest encoded transaction. */
export const MAX_TX_SIZE = 640 * 1024
/** Largest contract function name (bytes of UTF-8). */
export const MAX_FUNCTION_NAME = 128
/** Largest header `consensus` field. */
export const MAX_CONSENSUS_BYTES = 64 * 1024
/** Largest encoded block. */
export const MAX_BLOCK_SIZE = 32 * 1024 * 1024

/** Default consensus parameters (overridden by genesis.json `params`). */
export const defaultLedgerParams: LedgerParams = {
  blockGasLimit: 30_000_000n,
  unbondingPeriod: 1_000n,
  epochLength: 100n,
  minValidatorStake: 1n,
  maxValidators: 100,
  minGasPrice: 0n,
}

/** Pool defaults. */
export const defaultTxPoolLimits = {
  maxCount: 100_000,
  maxPerSender: 1_000,
  maxBytes: 256 * 1024 * 1024,
  maxNonceGap: 1_000n,
  /** Replacement must pay at least this percent more. */
  replacementBumpPercent: 10n,
} as const
