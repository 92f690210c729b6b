/**
 * The node's RPCBackend: the REST/WebSocket API answered from the real ledger (ChainStore,
 * TxPool, WorldState), the runtime (read-only calls, estimates) and the network (peers).
 */
import { equalBytes } from '@aureon/crypto'
import {
  type Block,
  bigintToBytes,
  blockHash,
  bytesToBigint,
  type ChainStoreInterface,
  contractAddress,
  createWorldState,
  decodeTransaction,
  EMPTY_CODE_HASH,
  intrinsicGas,
  type LedgerWorldState,
  type Receipt,
  rlpDecodeStrict,
  rlpEncode,
  type Transaction,
  TxKind,
  type TxPool,
  transactionHash,
  transactionSender,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { createStateTree } from '@aureon/merkle'
import type {
  RPCAccountProof,
  RPCBackend,
  RPCBlockData,
  RPCCallRequest,
  RPCCallResult,
  RPCContractInfo,
  RPCEstimateRequest,
  RPCEstimateResult,
  RPCEventSource,
  RPCHealth,
  RPCNewBlockEvent,
  RPCPeer,
  RPCSubmitResult,
  RPCTxData,
  RPCTxLookup,
  RPCTxStatusEvent,
} from '@aureon/rpc'
import { RPCError, RPCErrorCode } from '@aureon/rpc'
import type { WasmExecutor } from '@aureon/runtime'
import type { KVStore } from '@aureon/storage'

export interface NodeBackendOptions {
  chainId: bigint
  chain: ChainStoreInterface
  pool: TxPool
  executor: WasmExecutor
  /** The node's own namespace for API indexes (contract deployers). */
  indexDb: KVStore
  blockGasLimit: bigint
  peers: () => Promise<RPCPeer[]>
  health: () => Promise<Omit<RPCHealth, 'peers'>>
  /** Called after a transaction enters the pool (the engine may seal a block). */
  onSubmitted?: (tx: Transaction) => void
}

type Listener<T> = (ev: T) => void

/** An RPCBackend over the node's ledger components. */
export class NodeBackend implements RPCBackend {
  readonly chainId: bigint
  readonly events: RPCEventSource
  private readonly blockListeners = new Set<Listener<RPCNewBlockEvent>>()
  private readonly txListeners = new Set<Listener<RPCTxStatusEvent>>()

  constructor(private readonly o: NodeBackendOptions) {
    this.chainId = o.chainId
    this.events = {
      onBlock: (l) => {
        this.blockListeners.add(l)
        return () => this.blockListeners.delete(l)
      },
      onTxStatus: (l) => {
        this.txListeners.add(l)
        return () => this.txListeners.delete(l)
      },
    }
  }

  /** Announces a committed block (and indexes its contract deployments). */
  async blockCommitted(block: Block, receipts: Receipt[]): Promise<void> {
    const ops = []
    for (const [i, r] of receipts.entries()) {
      if (r.contractAddress && r.status === 'Success') {
        const tx = block.transactions[i]
        ops.push({
          type: 'put' as const,
          key: r.contractAddress,
          value: rlpEncode([transactionSender(tx), bigintToBytes(block.header.height), r.txHash]),
        })
      }
    }
    if (ops.length) await this.o.indexDb.batch(ops)
    const ev: RPCNewBlockEvent = { block: this.blockData(block), receipts }
    for (const l of this.blockListeners) l(ev)
  }

  private txData(tx: Transaction): RPCTxData {
    return { hash: transactionHash(tx), sender: transactionSender(tx), tx }
  }

  private blockData(block: Block): RPCBlockData {
    return {
      hash: blockHash(block.header),
      header: block.header,
      transactions: block.transactions.map((t) => this.txData(t)),
    }
  }

  private headOrThrow() {
    const header = this.o.chain.head()
    const hash = this.o.chain.headHash()
    if (!header || !hash)
      throw Object.assign(new Error('the chain has no genesis yet'), { code: 'ERR_NOT_READY' })
    return { header, hash }
  }

  private async headState(): Promise<LedgerWorldState> {
    return createWorldState({ db: this.o.chain.stateDb, root: this.headOrThrow().header.stateRoot })
  }

  async getHead() {
    return this.headOrThrow()
  }

  async getBlockByHeight(height: bigint) {
    const b = await this.o.chain.getBlockByHeight(height)
    if (b) return this.blockData(b)
    if (this.o.chain.isBelowBase(height)) {
      throw new RPCError(
        RPCErrorCode.NOT_FOUND,
        `block ${height} is not on this node: it started from a snapshot at height ${this.o.chain.baseHeight()} and keeps no earlier blocks (ask an archive node)`,
        {
          status: 404,
          details: { height: height.toString(), base: this.o.chain.baseHeight().toString() },
        },
      )
    }
    return undefined
  }

  async getBlockByHash(hash: Uint8Array) {
    const b = await this.o.chain.getBlockByHash(hash)
    return b ? this.blockData(b) : undefined
  }

  async getTransaction(hash: Uint8Array): Promise<RPCTxLookup | undefined> {
    const pooled = this.o.pool.get(hash)
    if (pooled) return { tx: this.txData(pooled) }
    const tx = await this.o.chain.getTransaction(hash)
    if (!tx) return undefined
    const [location, receipt] = await Promise.all([
      this.o.chain.getTxLocation(hash),
      this.o.chain.getReceipt(hash),
    ])
    return { tx: this.txData(tx), location, receipt }
  }

  decodeTransaction(bytes: Uint8Array): RPCTxData {
    return this.txData(decodeTransaction(bytes))
  }

  async submitTransaction(tx: RPCTxData): Promise<RPCSubmitResult> {
    const r = await this.o.pool.add(tx.tx)
    for (const l of this.txListeners)
      l({ hash: r.hash, status: r.status === 'queued' ? 'queued' : 'pending' })
    for (const ev of r.evicted ?? [])
      for (const l of this.txListeners) l({ hash: ev, status: 'dropped', reason: 'evicted' })
    this.o.onSubmitted?.(tx.tx)
    return { hash: r.hash, status: r.status }
  }

  contractAddress(deployer: Uint8Array, nonce: bigint): Uint8Array {
    return contractAddress(deployer, nonce)
  }

  async getAccount(address: Uint8Array) {
    const state = await this.headState()
    const account = await state.getAccount(address)
    return { account, isContract: !equalBytes(account.codeHash, EMPTY_CODE_HASH) }
  }

  async getAccountProof(address: Uint8Array): Promise<RPCAccountProof> {
    const { header } = this.headOrThrow()
    const state = await this.headState()
    const tree = await createStateTree({ db: this.o.chain.stateDb, root: header.stateRoot })
    const [account, exists, proof] = await Promise.all([
      state.getAccount(address),
      state.accountExists(address),
      tree.createProof(address),
    ])
    return { stateRoot: header.stateRoot, height: header.height, account, exists, proof }
  }

  private execContext(state: LedgerWorldState, from: Uint8Array, gasLimit: bigint, nonce = 0n) {
    const { header } = this.headOrThrow()
    return {
      state,
      sender: from,
      senderNonce: nonce,
      blockHeight: header.height + 1n,
      blockTimestamp: header.timestamp,
      gasLimit,
      txHash: new Uint8Array(32),
      chainId: this.chainId,
      gasPrice: 0n,
      proposer: header.proposer,
    }
  }

  async callContract(req: RPCCallRequest): Promise<RPCCallResult> {
    const state = await this.headState()
    const gasLimit = req.gasLimit ?? this.o.blockGasLimit
    const ctx = this.execContext(state, req.from ?? new Uint8Array(20), gasLimit)
    const r = await this.o.executor.simulate(ctx, {
      contract: req.contract,
      function: req.function,
      args: req.args,
      value: req.value,
    })
    const out: RPCCallResult = {
      status: r.status,
      gasUsed: r.gasUsed,
      output: r.output,
      logs: r.logs,
      debugLogs: r.debugLogs,
    }
    if (r.error) out.error = r.error
    return out
  }

  async getContract(address: Uint8Array): Promise<RPCContractInfo | undefined> {
    const state = await this.headState()
    const account = await state.getAccount(address)
    if (equalBytes(account.codeHash, EMPTY_CODE_HASH)) return undefined
    const code = await state.getCode(account.codeHash)
    if (!code) return undefined
    let exports: string[] = []
    try {
      const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
      exports = wasm.Module.exports(new wasm.Module(code))
        .filter((e) => e.kind === 'function')
        .map((e) => e.name)
        .sort()
    } catch {
      exports = []
    }
    const info: RPCContractInfo = {
      codeHash: account.codeHash,
      codeSize: code.length,
      exports,
      balance: account.balance,
    }
    const idx = await this.o.indexDb.get(address)
    if (idx) {
      const [deployer, height, tx] = rlpDecodeStrict(idx, 1024, 'contract index') as Uint8Array[]
      info.deployer = deployer
      info.deployHeight = bytesToBigint(height)
      info.deployTx = tx
    }
    return info
  }

  async getContractStorage(address: Uint8Array, key: Uint8Array) {
    return (await this.headState()).getStorage(address, key)
  }

  async estimateGas(req: RPCEstimateRequest): Promise<RPCEstimateResult> {
    const common = {
      chainId: this.chainId,
      nonce: req.nonce ?? 0n,
      gasPrice: req.gasPrice ?? 0n,
      gasLimit: 0n,
    }
    const unsigned = unsignedFromEstimate(req, common)
    const intrinsic = intrinsicGas(unsigned)
    if (unsigned.kind !== TxKind.ContractDeploy && unsigned.kind !== TxKind.ContractCall) {
      return { gas: intrinsic, status: 'Success' }
    }
    const state = await this.headState()
    const gasLimit = this.o.blockGasLimit - intrinsic
    const nonce = req.nonce ?? (await state.getAccount(req.from)).nonce
    const ctx = this.execContext(state, req.from, gasLimit, nonce)
    state.checkpoint()
    try {
      const r =
        unsigned.kind === TxKind.ContractDeploy
          ? await this.o.executor.deploy(ctx, {
              code: unsigned.code,
              args: unsigned.args,
              value: 0n,
              address: contractAddress(req.from, nonce),
            })
          : await this.o.executor.simulate(ctx, {
              contract: unsigned.contract,
              function: unsigned.function,
              args: unsigned.args,
              value: 0n,
            })
      const out: RPCEstimateResult = { gas: intrinsic + r.gasUsed, status: r.status }
      if (r.error) out.error = r.error
      return out
    } finally {
      await state.revert()
    }
  }

  async getValidators() {
    return (await this.headState()).getValidatorSet()
  }

  async getPeers() {
    return this.o.peers()
  }

  async getHealth(): Promise<RPCHealth> {
    const [h, peers] = await Promise.all([this.o.health(), this.o.peers()])
    return { ...h, peers: peers.length }
  }
}

function unsignedFromEstimate(
  req: RPCEstimateRequest,
  common: { chainId: bigint; nonce: bigint; gasPrice: bigint; gasLimit: bigint },
): UnsignedTransaction {
  const need = <T>(v: T | undefined, name: string): T => {
    if (v === undefined)
      throw Object.assign(new Error(`estimate: field ${name} is required for kind ${req.kind}`), {
        code: 'ERR_INVALID_PARAMS',
      })
    return v
  }
  switch (req.kind) {
    case TxKind.Transfer:
      return { ...common, kind: TxKind.Transfer, to: need(req.to, 'to'), amount: req.amount ?? 0n }
    case TxKind.ContractDeploy:
      return {
        ...common,
        kind: TxKind.ContractDeploy,
        code: need(req.code, 'code'),
        args: req.args ?? new Uint8Array(),
        value: req.value ?? 0n,
      }
    case TxKind.ContractCall:
      return {
        ...common,
        kind: TxKind.ContractCall,
        contract: need(req.contract, 'contract'),
        function: need(req.function, 'function'),
        args: req.args ?? new Uint8Array(),
        value: req.value ?? 0n,
      }
    case TxKind.Stake:
      return { ...common, kind: TxKind.Stake, amount: req.amount ?? 0n }
    case TxKind.Unstake:
      return { ...common, kind: TxKind.Unstake, amount: req.amount ?? 0n }
    default:
      throw Object.assign(new Error(`estimate: unknown transaction kind ${req.kind}`), {
        code: 'ERR_UNKNOWN_KIND',
      })
  }
}

interface WasmApi {
  Module: { new (code: Uint8Array): object; exports(m: object): { name: string; kind: string }[] }
}
