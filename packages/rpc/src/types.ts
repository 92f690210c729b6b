/**
 * Interfaces of @aureon/rpc: the backend a node implements, the server and client options, and
 * the JSON shapes of the API.
 *
 * The server never touches ledger, runtime, consensus or p2p directly: it asks an `RPCBackend`.
 * The reference node implements it by wiring those packages; tests use `MockRPCBackend` or a
 * backend over the real ledger components.
 */
import type {
  Account,
  BlockHeader,
  Log,
  Receipt,
  ReceiptError,
  ReceiptStatus,
  Transaction,
  TxLocation,
  ValidatorSet,
} from '@aureon/ledger'

// ---------------------------------------------------------------------------------------------
// Backend: what a node must provide
// ---------------------------------------------------------------------------------------------

/** A transaction with what the API shows beside it. */
export interface RPCTxData {
  /** transactionHash(tx). */
  hash: Uint8Array
  /** transactionSender(tx): the address of `senderPublicKey`. */
  sender: Uint8Array
  tx: Transaction
}

/** A block with its hash and its transactions' hashes and senders. */
export interface RPCBlockData {
  /** blockHash(header). */
  hash: Uint8Array
  header: BlockHeader
  transactions: RPCTxData[]
}

/** What the node knows of a transaction. No receipt means it is still in the pool. */
export interface RPCTxLookup {
  tx: RPCTxData
  /** Set once the transaction is in a committed block. */
  location?: TxLocation
  receipt?: Receipt
}

/** Result of handing signed bytes to the pool. */
export interface RPCSubmitResult {
  hash: Uint8Array
  /** The pool's verdict: 'pending' (executable), 'queued' (nonce gap) or 'replaced'. */
  status: 'pending' | 'queued' | 'replaced'
}

/** A Merkle proof of an account against a committed state root. */
export interface RPCAccountProof {
  /** The state root the proof is against (the head block's stateRoot). */
  stateRoot: Uint8Array
  /** The height of that block. */
  height: bigint
  /** The account as stored (the empty account if absent). */
  account: Account
  /** True if the account is in the trie (the proof then proves presence, else absence). */
  exists: boolean
  /** Trie nodes from the root to the account (createProof of the state trie). */
  proof: Uint8Array[]
}

/** A read-only contract call at the head state. */
export interface RPCCallRequest {
  contract: Uint8Array
  function: string
  args: Uint8Array
  value: bigint
  /** The caller the contract sees (default: 20 zero bytes). */
  from?: Uint8Array
  /** Gas available (default: the block gas limit). */
  gasLimit?: bigint
}

/** Result of a simulation: nothing of it stays in state. */
export interface RPCCallResult {
  status: ReceiptStatus
  gasUsed: bigint
  output: Uint8Array
  logs: Log[]
  debugLogs: string[]
  error?: ReceiptError
}

/** An unsigned transaction to estimate, as JSON gives it (kind fields as for the kind). */
export interface RPCEstimateRequest {
  from: Uint8Array
  kind: number
  to?: Uint8Array
  amount?: bigint
  code?: Uint8Array
  args?: Uint8Array
  value?: bigint
  contract?: Uint8Array
  function?: string
  gasPrice?: bigint
  nonce?: bigint
}

/** Result of an estimate: the gas the transaction would use at head (intrinsic included). */
export interface RPCEstimateResult {
  gas: bigint
  status: ReceiptStatus
  error?: ReceiptError
}

/** What the API shows of a deployed contract. */
export interface RPCContractInfo {
  codeHash: Uint8Array
  codeSize: number
  /** Exported function names (from the WASM export section), sorted. */
  exports: string[]
  balance: bigint
  deployer?: Uint8Array
  deployHeight?: bigint
  deployTx?: Uint8Array
}

export interface RPCPeer {
  id: string
  addresses: string[]
  direction?: 'inbound' | 'outbound'
  latencyMs?: number
}

export interface RPCHealth {
  /** False if the node cannot serve (e.g. store closed). */
  ok: boolean
  syncing: boolean
  peers: number
  /** Free-form detail (engine name, last error...). */
  details?: Record<string, unknown>
}

/** A committed block, as the node announces it. */
export interface RPCNewBlockEvent {
  block: RPCBlockData
  /** The block's receipts, in transaction order. */
  receipts: Receipt[]
}

/** A change of a transaction's pool status (committed blocks are announced by `onBlock`). */
export interface RPCTxStatusEvent {
  hash: Uint8Array
  status: 'pending' | 'queued' | 'dropped'
  reason?: string
}

/** Where the server hears about new blocks and pool changes. Each `on*` returns an unsubscribe. */
export interface RPCEventSource {
  onBlock(listener: (event: RPCNewBlockEvent) => void): () => void
  onTxStatus?(listener: (event: RPCTxStatusEvent) => void): () => void
}

/**
 * Everything the API needs from a node. Methods throw errors carrying a string `code` (like
 * `LedgerError`) for refusals the user caused: those become 400 responses with that code. Any
 * other error is a 500 `ERR_INTERNAL` (and is logged).
 */
export interface RPCBackend {
  readonly chainId: bigint
  /** The head block's header and hash (genesis before any block). */
  getHead(): Promise<{ header: BlockHeader; hash: Uint8Array }>
  getBlockByHeight(height: bigint): Promise<RPCBlockData | undefined>
  getBlockByHash(hash: Uint8Array): Promise<RPCBlockData | undefined>
  /** A transaction from the pool or the chain. */
  getTransaction(hash: Uint8Array): Promise<RPCTxLookup | undefined>
  /** Decodes signed transaction bytes (throws a coded error, e.g. ERR_DECODE). */
  decodeTransaction(bytes: Uint8Array): RPCTxData
  /** Hands a decoded transaction to the pool; throws its coded refusal. */
  submitTransaction(tx: RPCTxData): Promise<RPCSubmitResult>
  /** contractAddress(deployer, nonce). */
  contractAddress(deployer: Uint8Array, nonce: bigint): Uint8Array
  /** The account at head (the empty account if absent) and whether it holds code. */
  getAccount(address: Uint8Array): Promise<{ account: Account; isContract: boolean }>
  getAccountProof(address: Uint8Array): Promise<RPCAccountProof>
  callContract(req: RPCCallRequest): Promise<RPCCallResult>
  getContract(address: Uint8Array): Promise<RPCContractInfo | undefined>
  getContractStorage(address: Uint8Array, key: Uint8Array): Promise<Uint8Array | undefined>
  estimateGas(req: RPCEstimateRequest): Promise<RPCEstimateResult>
  getValidators(): Promise<ValidatorSet>
  getPeers(): Promise<RPCPeer[]>
  getHealth(): Promise<RPCHealth>
  readonly events: RPCEventSource
}

// ---------------------------------------------------------------------------------------------
// Server options
// ---------------------------------------------------------------------------------------------

/** A logger (pino fits). */
export interface RPCLogger {
  info(obj: unknown, msg?: string): void
  warn(obj: unknown, msg?: string): void
  error(obj: unknown, msg?: string): void
  debug?(obj: unknown, msg?: string): void
}

/** Metrics hooks (prom-client fits via the node's adapter); may be null. */
export interface RPCMetrics {
  /** One finished request: route id (or 'unknown'), status, duration in seconds. */
  request(route: string, status: number, seconds: number): void
  /** Current number of WebSocket connections. */
  wsConnections(count: number): void
}

export interface RPCRateLimitOptions {
  /** Tokens added per second per IP. */
  perSecond: number
  /** Bucket size (largest burst). */
  burst: number
}

export interface RPCWebSocketOptions {
  maxConnections: number
  maxSubscriptions: number
  /** Queued bytes after which a connection is closed with 4008 (slow consumer). */
  maxBufferedBytes: number
  heartbeatMs: number
  maxBackfill: number
}

export interface RPCServerOptions {
  backend: RPCBackend
  host: string
  /** 0 picks a free port. */
  port: number
  bodyLimit: number
  handlerTimeoutMs: number
  requestTimeoutMs: number
  /** false disables rate limiting (benchmarks, trusted deployments). */
  rateLimit: RPCRateLimitOptions | false
  /** Allowed CORS origins: '*' (default), a list, or false to send no CORS headers. */
  cors: '*' | string[] | false
  /** Serve the explorer page at `/` (default true). */
  explorer: boolean
  ws: RPCWebSocketOptions
  /** Trust X-Forwarded-For for the client IP (only behind your own proxy). */
  trustProxy: boolean
  logger?: RPCLogger | null
  metrics?: RPCMetrics | null
}

// ---------------------------------------------------------------------------------------------
// JSON shapes (bigints as decimal strings, bytes as 0x-hex, heights as numbers)
// ---------------------------------------------------------------------------------------------

export type Hex = string
export type DecimalString = string

export interface HeaderJson {
  hash: Hex
  height: number
  parentHash: Hex
  timestamp: number
  proposer: Hex
  stateRoot: Hex
  txRoot: Hex
  receiptsRoot: Hex
  gasUsed: DecimalString
  gasLimit: DecimalString
  chainId: DecimalString
  consensus: Hex
}

export type TxKindName = 'transfer' | 'contract_deploy' | 'contract_call' | 'stake' | 'unstake'

export interface TxJson {
  hash: Hex
  from: Hex
  kind: TxKindName
  chainId: DecimalString
  nonce: DecimalString
  gasPrice: DecimalString
  gasLimit: DecimalString
  senderPublicKey: Hex
  signature: Hex
  to?: Hex
  amount?: DecimalString
  code?: Hex
  codeSize?: number
  args?: Hex
  value?: DecimalString
  contract?: Hex
  function?: string
  blsPublicKey?: Hex
  blsPop?: Hex
}

export interface BlockJson extends HeaderJson {
  txCount: number
  /** Hashes, or full transactions with `?txs=full`. */
  transactions: Hex[] | TxJson[]
}

export interface LogJson {
  address: Hex
  topics: Hex[]
  data: Hex
}

export interface ReceiptJson {
  txHash: Hex
  blockHeight: number
  index: number
  status: ReceiptStatus
  gasUsed: DecimalString
  gasPrice: DecimalString
  fee: DecimalString
  output: Hex
  logs: LogJson[]
  debugLogs: string[]
  error?: { code: string; message: string }
  contractAddress?: Hex
  balanceChanges: { address: Hex; balance: DecimalString }[]
}

export interface TxLookupJson {
  hash: Hex
  status: 'pending' | 'included' | 'failed'
  tx: TxJson
  blockHeight?: number
  blockHash?: Hex
  index?: number
  receipt?: ReceiptJson
}

export interface SendTxJson {
  hash: Hex
  status: 'pending' | 'queued' | 'replaced'
}

export interface DeployJson extends SendTxJson {
  contractAddress: Hex
}

export interface AccountJson {
  address: Hex
  balance: DecimalString
  nonce: DecimalString
  stake: DecimalString
  isContract: boolean
  codeHash: Hex
  storageRoot: Hex
  unbonding: { amount: DecimalString; releaseHeight: number }[]
}

export interface AccountProofJson {
  address: Hex
  stateRoot: Hex
  height: number
  exists: boolean
  account: AccountJson
  proof: Hex[]
}

export interface CallResultJson {
  status: ReceiptStatus
  gasUsed: DecimalString
  output: Hex
  logs: LogJson[]
  debugLogs: string[]
  error?: { code: string; message: string }
}

export interface ContractJson {
  address: Hex
  codeHash: Hex
  codeSize: number
  exports: string[]
  balance: DecimalString
  deployer?: Hex
  deployHeight?: number
  deployTx?: Hex
}

export interface StorageJson {
  address: Hex
  key: Hex
  /** null if the key is absent. */
  value: Hex | null
}

export interface EstimateJson {
  gas: DecimalString
  status: ReceiptStatus
  error?: { code: string; message: string }
}

export interface ValidatorsJson {
  epoch: number
  totalStake: DecimalString
  validators: { address: Hex; publicKey: Hex; blsPublicKey: Hex; stake: DecimalString }[]
}

export interface PeersJson {
  count: number
  peers: RPCPeer[]
}

export interface HealthJson {
  ok: boolean
  syncing: boolean
  peers: number
  height: number
  chainId: DecimalString
  uptimeSeconds: number
  version: string
  details?: Record<string, unknown>
}

// ---------------------------------------------------------------------------------------------
// WebSocket messages
// ---------------------------------------------------------------------------------------------

/** Client -> server. `id` is echoed in the reply. */
export type WsClientMessage =
  | { op: 'subscribe'; channel: string; fromHeight?: number; id?: string | number }
  | { op: 'unsubscribe'; channel: string; id?: string | number }
  | { op: 'ping'; id?: string | number }

/** Server -> client. */
export type WsServerMessage =
  | { op: 'subscribed' | 'unsubscribed'; channel: string; id?: string | number }
  | { op: 'pong'; id?: string | number }
  | { op: 'error'; error: { code: string; message: string }; id?: string | number }
  | { op: 'event'; channel: string; data: unknown }

/** `new_blocks` event data: the block (hashes of its transactions) as `GET /block` gives it. */
export type NewBlockEventJson = BlockJson

/** `tx_status:<hash>` event data. */
export interface TxStatusEventJson {
  hash: Hex
  status: 'pending' | 'queued' | 'dropped' | 'included' | 'failed' | 'unknown'
  blockHeight?: number
  receipt?: ReceiptJson
  reason?: string
}

/** `contract_logs:<address>` event data. */
export interface ContractLogEventJson extends LogJson {
  txHash: Hex
  blockHeight: number
  blockHash: Hex
  /** Transaction index in the block. */
  txIndex: number
  /** Log index in the receipt. */
  logIndex: number
}
