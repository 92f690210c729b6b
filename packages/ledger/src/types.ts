/**
 * Public interfaces of @aureon/ledger. Other packages (runtime, consensus, rpc, snapshots, node)
 * code against these names: extend, never rename.
 *
 * Conventions: bytes are `Uint8Array`, addresses 20 bytes, amounts `bigint` (u128), heights,
 * nonces, gas and timestamps `bigint` (u64). Positions inside a block (`index`) are `number`.
 */
import type { BatchOp, KVStore } from '@aureon/storage'

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/** The five transaction kinds; the number is the kind byte in the encoding. */
export const TxKind = {
  Transfer: 0,
  ContractDeploy: 1,
  ContractCall: 2,
  Stake: 3,
  Unstake: 4,
} as const
export type TxKind = (typeof TxKind)[keyof typeof TxKind]

/** Fields every transaction has, signed or not. */
export interface TxCommon {
  /** The chain the transaction is valid on (part of the signed payload). */
  chainId: bigint
  /** The sender's account nonce this transaction consumes. */
  nonce: bigint
  /** Price per unit of gas (u128). The fee is gasUsed x gasPrice, paid to the proposer. */
  gasPrice: bigint
  /** Most gas the transaction may use (u64); gasLimit x gasPrice is reserved up front. */
  gasLimit: bigint
}

/** Moves `amount` from the sender to `to`. */
export interface TransferFields {
  kind: typeof TxKind.Transfer
  to: Uint8Array
  amount: bigint
}

/** Deploys a WASM contract at `contractAddress(sender, nonce)`, running `init(args)`. */
export interface ContractDeployFields {
  kind: typeof TxKind.ContractDeploy
  code: Uint8Array
  args: Uint8Array
  value: bigint
}

/** Calls the exported function `function` of `contract` with `args`, sending `value`. */
export interface ContractCallFields {
  kind: typeof TxKind.ContractCall
  contract: Uint8Array
  function: string
  args: Uint8Array
  value: bigint
}

/**
 * Moves `amount` from balance to stake. The first Stake of an account that is not yet a
 * validator candidate must carry `blsPublicKey` (48 bytes) and `blsPop` (96-byte proof of
 * possession); later ones may omit both (they are then empty in the encoding).
 */
export interface StakeFields {
  kind: typeof TxKind.Stake
  amount: bigint
  blsPublicKey?: Uint8Array
  blsPop?: Uint8Array
}

/** Starts unbonding `amount` of stake; it returns to balance after the unbonding period. */
export interface UnstakeFields {
  kind: typeof TxKind.Unstake
  amount: bigint
}

export type TxKindFields =
  | TransferFields
  | ContractDeployFields
  | ContractCallFields
  | StakeFields
  | UnstakeFields

/** The signature part of a transaction. */
export interface TxSignatureFields {
  /** The sender's ed25519 public key (32 bytes); the sender address derives from it. */
  senderPublicKey: Uint8Array
  /** ed25519 signature (64 bytes) over `signingPayload(tx)`. */
  signature: Uint8Array
}

export type UnsignedTransferTx = TxCommon & TransferFields
export type UnsignedContractDeployTx = TxCommon & ContractDeployFields
export type UnsignedContractCallTx = TxCommon & ContractCallFields
export type UnsignedStakeTx = TxCommon & StakeFields
export type UnsignedUnstakeTx = TxCommon & UnstakeFields

/** A transaction before signing (`signTransaction(unsigned, secretKey)` signs it). */
export type UnsignedTransaction =
  | UnsignedTransferTx
  | UnsignedContractDeployTx
  | UnsignedContractCallTx
  | UnsignedStakeTx
  | UnsignedUnstakeTx

export type TransferTx = UnsignedTransferTx & TxSignatureFields
export type ContractDeployTx = UnsignedContractDeployTx & TxSignatureFields
export type ContractCallTx = UnsignedContractCallTx & TxSignatureFields
export type StakeTx = UnsignedStakeTx & TxSignatureFields
export type UnstakeTx = UnsignedUnstakeTx & TxSignatureFields

/** A signed transaction (discriminated by `kind`). */
export type Transaction = TransferTx | ContractDeployTx | ContractCallTx | StakeTx | UnstakeTx

// ---------------------------------------------------------------------------------------------
// Accounts and validators
// ---------------------------------------------------------------------------------------------

/** Stake on its way back to balance: released at the start of block `releaseHeight`. */
export interface UnbondingEntry {
  amount: bigint
  releaseHeight: bigint
}

/**
 * An account as stored in the state trie (key: keccak256(address), value: RLP, see
 * docs/encoding.md). An absent account reads as the empty account; an account that becomes
 * empty again is deleted from the trie.
 */
export interface Account {
  nonce: bigint
  balance: bigint
  /** Bonded stake (u128). */
  stake: bigint
  /** sha256 of the contract code, or EMPTY_CODE_HASH for plain accounts. */
  codeHash: Uint8Array
  /** Root of the contract's own storage trie, or EMPTY_TRIE_ROOT. */
  storageRoot: Uint8Array
  /** Pending unstakes, ordered by releaseHeight. */
  unbonding: UnbondingEntry[]
}

/**
 * A validator as consensus sees it. Recorded in the state trie (see docs/ledger.md): the active
 * set under the reserved key `VALIDATOR_SET_KEY`, candidates under `VALIDATOR_CANDIDATES_KEY`.
 */
export interface Validator {
  address: Uint8Array
  /** ed25519 public key (32 bytes): signs transactions, votes and is the ECVRF key. */
  publicKey: Uint8Array
  /** BLS12-381 public key (48 bytes, G1) for quorum certificates. */
  blsPublicKey: Uint8Array
  /** Stake counted for this epoch (snapshotted at the epoch boundary). */
  stake: bigint
}

/**
 * The active validator set. It changes only at epoch boundaries: after the block whose height
 * is a multiple of `epochLength` is applied, the set for the next epoch is recomputed from the
 * candidates and their stake. Validators are sorted by address.
 */
export interface ValidatorSet {
  /** Epoch number: blocks epoch*epochLength+1 .. (epoch+1)*epochLength use this set. */
  epoch: bigint
  validators: Validator[]
  totalStake: bigint
}

/** A registered candidate: its keys (stake is read from its account). */
export interface ValidatorCandidate {
  address: Uint8Array
  publicKey: Uint8Array
  blsPublicKey: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// Blocks and receipts
// ---------------------------------------------------------------------------------------------

export interface BlockHeader {
  chainId: bigint
  height: bigint
  /** blockHash of the parent; 32 zero bytes for genesis. */
  parentHash: Uint8Array
  /** Milliseconds since 1970 (chosen by the proposer; the ledger never reads a clock). */
  timestamp: bigint
  /** Address that receives the block's fees. */
  proposer: Uint8Array
  stateRoot: Uint8Array
  /** Trie root over RLP(index) -> encodeTransaction(tx). */
  txRoot: Uint8Array
  /** Trie root over RLP(index) -> encodeReceipt(receipt). */
  receiptsRoot: Uint8Array
  gasUsed: bigint
  gasLimit: bigint
  /** Engine-specific bytes (signatures, QC, PoW nonce...). Not interpreted by the ledger. */
  consensus: Uint8Array
}

export interface Block {
  header: BlockHeader
  transactions: Transaction[]
}

export type ReceiptStatus = 'Success' | 'Failed' | 'OutOfGas' | 'Reverted'

/** An event emitted by a contract (`emit_log`). */
export interface Log {
  address: Uint8Array
  /** 0 to 4 topics of 32 bytes. */
  topics: Uint8Array[]
  data: Uint8Array
}

export interface ReceiptError {
  code: string
  message: string
}

export interface BalanceChange {
  address: Uint8Array
  /** The balance after the transaction. */
  balance: bigint
}

/** A transaction's receipt (shape from shared/HOST_ABI.md). */
export interface Receipt {
  txHash: Uint8Array
  blockHeight: bigint
  index: number
  status: ReceiptStatus
  gasUsed: bigint
  gasPrice: bigint
  /** gasUsed x gasPrice, paid to the proposer. */
  fee: bigint
  output: Uint8Array
  logs: Log[]
  debugLogs: string[]
  error?: ReceiptError
  contractAddress?: Uint8Array
  /** Balances after the transaction of every account whose balance changed, sorted by address. */
  balanceChanges: BalanceChange[]
}

/** Where a transaction sits in the chain. */
export interface TxLocation {
  blockHeight: bigint
  blockHash: Uint8Array
  index: number
}

// ---------------------------------------------------------------------------------------------
// World state
// ---------------------------------------------------------------------------------------------

/**
 * The world state over a StateTree: accounts in the secure trie by address, each contract's
 * storage in its own trie (root in `Account.storageRoot`), code by sha256 hash.
 *
 * Reads see pending writes. `checkpoint`/`commit`/`revert` nest. `root()` folds pending writes
 * into the tries and returns the state root; `flush()` returns the node and code writes made
 * since the last flush as ops for ONE atomic batch (relative to the state store), and writes
 * nothing itself.
 */
export interface WorldState {
  getAccount(address: Uint8Array): Promise<Account>
  putAccount(address: Uint8Array, account: Account): Promise<void>
  /** True if the account exists in state (is not empty). */
  accountExists(address: Uint8Array): Promise<boolean>
  getCode(codeHash: Uint8Array): Promise<Uint8Array | undefined>
  /** Stores code once by its sha256 hash; returns the hash. Does not touch any account. */
  putCode(code: Uint8Array): Promise<Uint8Array>
  /** The code of the contract at `address`, if any. */
  getContractCode(address: Uint8Array): Promise<Uint8Array | undefined>
  getStorage(contract: Uint8Array, key: Uint8Array): Promise<Uint8Array | undefined>
  putStorage(contract: Uint8Array, key: Uint8Array, value: Uint8Array): Promise<void>
  delStorage(contract: Uint8Array, key: Uint8Array): Promise<void>
  checkpoint(): void
  commit(): Promise<void>
  revert(): Promise<void>
  /** State root including pending writes (checkpoints must be closed). */
  root(): Promise<Uint8Array>
  /** Node and code writes since the last flush, for the caller's atomic batch. */
  flush(): Promise<BatchOp[]>
  /** Moves to another committed root (drops pending writes). */
  setRoot(root: Uint8Array): Promise<void>
  /** An independent view at `root` (default: this state's root after `root()`), same store. */
  copy(root?: Uint8Array): Promise<WorldState>
  /** The active validator set (changes only at epoch boundaries). */
  getValidatorSet(): Promise<ValidatorSet>
  /** All registered validator candidates, sorted by address. */
  getValidatorCandidates(): Promise<ValidatorCandidate[]>
  /** Writes the active set (used at epoch boundaries and by genesis). */
  putValidatorSet(set: ValidatorSet): Promise<void>
  putValidatorCandidates(candidates: ValidatorCandidate[]): Promise<void>
}

export interface WorldStateOptions {
  /** The store holding trie nodes and code (e.g. `root.namespace('state')`). */
  db: KVStore
  /** Committed state root to open at (default: the empty trie). */
  root?: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// Contract execution (implemented by @aureon/runtime)
// ---------------------------------------------------------------------------------------------

/**
 * What an executor sees. Before calling it, the StateProcessor has, inside a checkpoint:
 * charged gasLimit x gasPrice to the sender, incremented the sender's nonce, and moved `value`
 * from the sender to the contract (for a deploy: to `contractAddress(sender, senderNonce)`).
 * If the result's status is not 'Success', every effect except fee and nonce is reverted.
 */
export interface ExecutionContext {
  state: WorldState
  sender: Uint8Array
  /** The nonce the transaction carries (before the increment). */
  senderNonce: bigint
  blockHeight: bigint
  blockTimestamp: bigint
  /** Gas left for execution: tx gasLimit minus intrinsic gas. */
  gasLimit: bigint
  txHash: Uint8Array
  chainId: bigint
  gasPrice: bigint
  proposer: Uint8Array
}

export interface DeployRequest {
  code: Uint8Array
  args: Uint8Array
  value: bigint
  /** The address the contract gets: contractAddress(sender, senderNonce). */
  address: Uint8Array
}

export interface CallRequest {
  contract: Uint8Array
  function: string
  args: Uint8Array
  value: bigint
}

export interface ExecutionResult {
  status: ReceiptStatus
  /** Execution gas used (excluding intrinsic gas; the processor adds it). */
  gasUsed: bigint
  output: Uint8Array
  logs: Log[]
  debugLogs: string[]
  error?: ReceiptError
  contractAddress?: Uint8Array
}

/** Runs contract transactions. The ledger defines it; @aureon/runtime implements it. */
export interface ContractExecutor {
  deploy(ctx: ExecutionContext, req: DeployRequest): Promise<ExecutionResult>
  call(ctx: ExecutionContext, req: CallRequest): Promise<ExecutionResult>
}

// ---------------------------------------------------------------------------------------------
// Signature verification (structural: @aureon/crypto's SignatureVerifier fits)
// ---------------------------------------------------------------------------------------------

export interface Ed25519VerifyItem {
  publicKey: Uint8Array
  message: Uint8Array
  signature: Uint8Array
}

export interface BatchVerifier {
  verifyEd25519(items: Ed25519VerifyItem[]): Promise<{ valid: boolean; invalid: number[] }>
}

// ---------------------------------------------------------------------------------------------
// State processor
// ---------------------------------------------------------------------------------------------

/** Consensus parameters the ledger uses (from genesis; defaults in params.ts). */
export interface LedgerParams {
  /** Most gas per block. */
  blockGasLimit: bigint
  /** Blocks an Unstake waits before the amount returns to balance. */
  unbondingPeriod: bigint
  /** Blocks per epoch; the validator set changes only at multiples of it. */
  epochLength: bigint
  /** Least stake to be in the active set. */
  minValidatorStake: bigint
  /** Most validators in the active set (highest stake first, ties by address). */
  maxValidators: number
  /** Least gas price a transaction may carry. */
  minGasPrice: bigint
}

/** The block a transaction runs in. */
export interface BlockEnv {
  chainId: bigint
  height: bigint
  timestamp: bigint
  proposer: Uint8Array
  gasLimit: bigint
}

export interface StateProcessorOptions {
  /** Runs contract kinds; without one they fail with ERR_NO_EXECUTOR. */
  executor?: ContractExecutor
  /** Verifies signatures in batches (e.g. crypto's worker-pool verifier); default main thread. */
  verifier?: BatchVerifier
  params?: Partial<LedgerParams>
}

export interface ApplyBlockOptions {
  /** Check every signature (default true). False only for blocks already verified. */
  verifySignatures?: boolean
  /** Compare the header's stateRoot/txRoot/receiptsRoot/gasUsed with the result (default true). */
  verifyHeader?: boolean
}

export interface ApplyBlockResult {
  receipts: Receipt[]
  stateRoot: Uint8Array
  txRoot: Uint8Array
  receiptsRoot: Uint8Array
  gasUsed: bigint
}

export interface BuildBlockOptions {
  parent: BlockHeader
  timestamp: bigint
  proposer: Uint8Array
  /** Candidate transactions in the order to try them (e.g. `txPool.select()`). */
  transactions: Transaction[]
  gasLimit?: bigint
  consensus?: Uint8Array
  /** Most transactions to include. */
  maxTransactions?: number
}

export interface BuildBlockResult {
  block: Block
  receipts: Receipt[]
  /** Transactions left out, with the reason. */
  skipped: { tx: Transaction; hash: Uint8Array; error: ReceiptError }[]
}

// ---------------------------------------------------------------------------------------------
// Chain store
// ---------------------------------------------------------------------------------------------

export interface ChainStoreOptions {
  /** Root store: the chain store uses namespaces 'chain' and 'state' under it. */
  db: KVStore
}

export interface CommitBlockInput {
  block: Block
  receipts: Receipt[]
  /** The state's flush() ops (relative to the 'state' namespace). */
  stateOps: BatchOp[]
}

export interface ChainStoreInterface {
  /** The store the state trie lives in (`db.namespace('state')`). */
  readonly stateDb: KVStore
  head(): BlockHeader | undefined
  headHash(): Uint8Array | undefined
  /**
   * Where this store's history starts: 0 for a chain run from genesis, H for a chain anchored at
   * a snapshot of block H (its state starts there; blocks 1..H-1 are absent by design, apart
   * from any recent ones backfilled for consensus). Reorgs (`rollbackTo`) never go below it.
   */
  baseHeight(): bigint
  /**
   * True if `height` lies in the gap below the base (0 < height < baseHeight()): a block this
   * store does not keep because it started from a snapshot. Genesis (0) is never below the base.
   */
  isBelowBase(height: bigint): boolean
  getBlockByHeight(height: bigint): Promise<Block | undefined>
  getBlockByHash(hash: Uint8Array): Promise<Block | undefined>
  getHeader(height: bigint): Promise<BlockHeader | undefined>
  getReceipt(txHash: Uint8Array): Promise<Receipt | undefined>
  getReceipts(height: bigint): Promise<Receipt[] | undefined>
  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined>
  getTransaction(txHash: Uint8Array): Promise<Transaction | undefined>
  /** Writes block, receipts, tx index, state ops and the new head in ONE atomic batch. */
  commitBlock(input: CommitBlockInput): Promise<void>
  close(): Promise<void>
}

// ---------------------------------------------------------------------------------------------
// Tx pool
// ---------------------------------------------------------------------------------------------

export interface TxPoolOptions {
  chainId: bigint
  /** Reads the head state's view of an account (nonce, balance). */
  getAccount: (address: Uint8Array) => Promise<Account>
  params?: Partial<LedgerParams>
  /** Most transactions held (default 100,000). */
  maxCount?: number
  /** Most transactions per sender (default 1,000). */
  maxPerSender?: number
  /** Most encoded bytes held (default 256 MiB). */
  maxBytes?: number
  /** Most nonces ahead of the account nonce a tx may be (default 1,000). */
  maxNonceGap?: bigint
  /** Checks signatures (default: crypto's ed25519.verify, one by one). */
  verifier?: BatchVerifier
}

export type TxPoolAddStatus = 'pending' | 'queued' | 'replaced'

export interface TxPoolAddResult {
  hash: Uint8Array
  status: TxPoolAddStatus
  /** Hash of the transaction this one replaced or evicted. */
  replaced?: Uint8Array
  evicted?: Uint8Array[]
}

export interface TxPoolSelectOptions {
  maxCount?: number
  maxGas?: bigint
  maxBytes?: number
}

export interface TxPoolInterface {
  /** Adds a transaction or throws a LedgerError with the reason. */
  add(tx: Transaction): Promise<TxPoolAddResult>
  has(hash: Uint8Array): boolean
  get(hash: Uint8Array): Transaction | undefined
  remove(hash: Uint8Array): boolean
  readonly size: number
  readonly bytes: number
  /** Executable transactions by price, in nonce order per sender. */
  select(opts?: TxPoolSelectOptions): Transaction[]
  /** Drops included / stale transactions after a new head and re-checks the rest. */
  onNewHead(opts?: { included?: Transaction[] }): Promise<{ removed: number }>
}

// ---------------------------------------------------------------------------------------------
// Genesis
// ---------------------------------------------------------------------------------------------

/** genesis.json. Numbers may be JSON numbers or decimal strings; bytes are 0x-hex. */
export interface GenesisConfig {
  chainId: number | string
  /** Milliseconds since 1970. */
  timestamp: number | string
  gasLimit?: number | string
  /** Address (0x-hex) -> balance (decimal string). */
  balances: Record<string, string | number>
  validators: GenesisValidator[]
  /** Engine name and engine parameters; the ledger reads its own keys (see LedgerParams). */
  consensus: { engine: string; [key: string]: unknown }
  /** Overrides of LedgerParams (decimal strings or numbers). */
  params?: Partial<Record<keyof LedgerParams, string | number>>
  /** Optional extra bytes for the genesis header's consensus field (0x-hex). */
  extraData?: string
}

export interface GenesisValidator {
  /** ed25519 public key (0x-hex, 32 bytes); the address derives from it. */
  publicKey: string
  blsPublicKey: string
  stake: string | number
  /** Extra liquid balance for the validator. */
  balance?: string | number
}

export interface Genesis {
  block: Block
  hash: Uint8Array
  state: WorldState
  stateRoot: Uint8Array
  /** The state's flush() ops: pass them to ChainStore.commitBlock with the block. */
  stateOps: BatchOp[]
  params: LedgerParams
}
