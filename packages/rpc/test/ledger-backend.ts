/**
 * An RPCBackend over the REAL ledger components (ChainStore, TxPool, StateProcessor, WorldState
 * on a MemoryStore), as the node wires them, minus consensus and p2p: `produceBlock()` plays the
 * proposer. Contract execution needs @aureon/runtime, so contract calls answer ERR_NO_EXECUTOR.
 */
import { addressFromPublicKey } from '@aureon/crypto'
import {
  blockHash,
  type CallRequest,
  type ChainStore,
  type ContractExecutor,
  contractAddress,
  createGenesis,
  createTxPool,
  createWorldState,
  decodeTransaction,
  EMPTY_CODE_HASH,
  type ExecutionContext,
  type GenesisConfig,
  intrinsicGas,
  type LedgerWorldState,
  type Log,
  openChainStore,
  type ReceiptStatus,
  StateProcessor,
  type Transaction,
  type TxPool,
  transactionHash,
  transactionSender,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { createStateTree } from '@aureon/merkle'
import { createMemoryStore } from '@aureon/storage'
import type {
  RPCBackend,
  RPCBlockData,
  RPCContractInfo,
  RPCNewBlockEvent,
  RPCTxData,
} from '../src/types.js'

const hexKey = (b: Uint8Array) => Buffer.from(b).toString('hex')
const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0

function txData(tx: Transaction): RPCTxData {
  return { tx, hash: transactionHash(tx), sender: transactionSender(tx) }
}

export interface LedgerBackend extends RPCBackend {
  chain: ChainStore
  pool: TxPool
  /** Builds a block from the pool, commits it, and announces it. */
  produceBlock(timestamp?: bigint): Promise<RPCBlockData>
}

/** A contract executor with a read-only simulation (runtime's WasmExecutor fits). */
export interface SimulatingExecutor extends ContractExecutor {
  simulate(
    ctx: ExecutionContext,
    req: CallRequest,
  ): Promise<{
    status: ReceiptStatus
    gasUsed: bigint
    output: Uint8Array
    logs: Log[]
    debugLogs: string[]
    error?: { code: string; message: string }
  }>
}

export async function createLedgerBackend(
  config: GenesisConfig,
  executor?: SimulatingExecutor,
): Promise<LedgerBackend> {
  const db = createMemoryStore()
  const chain = await openChainStore({ db })
  const genesis = await createGenesis({ config, db: chain.stateDb })
  await chain.commitBlock({ block: genesis.block, receipts: [], stateOps: genesis.stateOps })
  const chainId = genesis.block.header.chainId
  const processor = new StateProcessor({ params: genesis.params, executor })
  let view: LedgerWorldState = await createWorldState({
    db: chain.stateDb,
    root: genesis.stateRoot,
  })
  const headView = async () => {
    const root = chain.head()!.stateRoot
    if (!equal(await view.root(), root)) view = await createWorldState({ db: chain.stateDb, root })
    return view
  }
  const pool = createTxPool({
    chainId,
    params: genesis.params,
    getAccount: async (a) => (await headView()).getAccount(a),
  })
  const listeners = new Set<(e: RPCNewBlockEvent) => void>()
  const deployed = new Map<string, { deployer: Uint8Array; height: bigint; tx: Uint8Array }>()

  const toData = (
    block: NonNullable<Awaited<ReturnType<ChainStore['getBlockByHeight']>>>,
  ): RPCBlockData => ({
    hash: blockHash(block.header),
    header: block.header,
    transactions: block.transactions.map(txData),
  })

  const backend: LedgerBackend = {
    chain,
    pool,
    chainId,
    events: {
      onBlock: (l) => {
        listeners.add(l)
        return () => listeners.delete(l)
      },
    },
    async getHead() {
      return { header: chain.head()!, hash: chain.headHash()! }
    },
    async getBlockByHeight(h) {
      const b = await chain.getBlockByHeight(h)
      return b && toData(b)
    },
    async getBlockByHash(hash) {
      const b = await chain.getBlockByHash(hash)
      return b && toData(b)
    },
    async getTransaction(hash) {
      const pending = pool.get(hash)
      if (pending) return { tx: txData(pending) }
      const location = await chain.getTxLocation(hash)
      if (!location) return undefined
      const tx = (await chain.getTransaction(hash))!
      return { tx: txData(tx), location, receipt: await chain.getReceipt(hash) }
    },
    decodeTransaction: (bytes) => txData(decodeTransaction(bytes)),
    async submitTransaction(t) {
      const r = await pool.add(t.tx)
      return { hash: r.hash, status: r.status }
    },
    contractAddress,
    async getAccount(address) {
      const account = await (await headView()).getAccount(address)
      return { account, isContract: !equal(account.codeHash, EMPTY_CODE_HASH) }
    },
    async getAccountProof(address) {
      const head = chain.head()!
      const state = await headView()
      const account = await state.getAccount(address)
      const tree = await createStateTree({ db: chain.stateDb, root: head.stateRoot })
      return {
        stateRoot: head.stateRoot,
        height: head.height,
        account,
        exists: await state.accountExists(address),
        proof: await tree.createProof(address),
      }
    },
    async callContract(req) {
      if (executor) {
        const head = chain.head()!
        const state = await createWorldState({ db: chain.stateDb, root: head.stateRoot })
        const r = await executor.simulate(
          {
            state,
            sender: req.from ?? new Uint8Array(20),
            senderNonce: 0n,
            blockHeight: head.height + 1n,
            blockTimestamp: head.timestamp,
            gasLimit: req.gasLimit ?? genesis.params.blockGasLimit,
            txHash: new Uint8Array(32),
            chainId,
            gasPrice: 0n,
            proposer: head.proposer,
          },
          { contract: req.contract, function: req.function, args: req.args, value: req.value },
        )
        return {
          status: r.status,
          gasUsed: r.gasUsed,
          output: r.output,
          logs: r.logs,
          debugLogs: r.debugLogs,
          error: r.error,
        }
      }
      return {
        status: 'Failed',
        gasUsed: 0n,
        output: new Uint8Array(),
        logs: [],
        debugLogs: [],
        error: { code: 'ERR_NO_EXECUTOR', message: 'no contract executor in this test backend' },
      }
    },
    async getContract(address): Promise<RPCContractInfo | undefined> {
      const state = await headView()
      const code = await state.getContractCode(address)
      if (!code) return undefined
      const account = await state.getAccount(address)
      let exports: string[] = []
      try {
        const W = (globalThis as any).WebAssembly
        exports = (W.Module.exports(new W.Module(code)) as { name: string; kind: string }[])
          .filter((e) => e.kind === 'function')
          .map((e) => e.name)
          .sort()
      } catch {
        exports = []
      }
      const d = deployed.get(hexKey(address))
      return {
        codeHash: account.codeHash,
        codeSize: code.length,
        exports,
        balance: account.balance,
        deployer: d?.deployer,
        deployHeight: d?.height,
        deployTx: d?.tx,
      }
    },
    async getContractStorage(address, key) {
      return (await headView()).getStorage(address, key)
    },
    async estimateGas(req) {
      const base = { chainId, nonce: req.nonce ?? 0n, gasPrice: req.gasPrice ?? 1n, gasLimit: 0n }
      const u = {
        ...base,
        kind: req.kind,
        to: req.to,
        amount: req.amount ?? 0n,
        code: req.code ?? new Uint8Array(),
        args: req.args ?? new Uint8Array(),
        value: req.value ?? 0n,
        contract: req.contract,
        function: req.function ?? '',
      } as UnsignedTransaction
      return { gas: intrinsicGas(u), status: 'Success' }
    },
    async getValidators() {
      return (await headView()).getValidatorSet()
    },
    async getPeers() {
      return []
    },
    async getHealth() {
      return { ok: true, syncing: false, peers: 0 }
    },
    async produceBlock(timestamp) {
      const parent = chain.head()!
      const state = await createWorldState({ db: chain.stateDb, root: parent.stateRoot })
      const { block, receipts } = await processor.buildBlock(state, {
        parent,
        timestamp: timestamp ?? parent.timestamp + 1000n,
        proposer: new Uint8Array(20).fill(0xee),
        transactions: pool.select(),
      })
      await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
      await pool.onNewHead({ included: block.transactions })
      for (const r of receipts) {
        if (r.contractAddress && r.status === 'Success') {
          const tx = block.transactions[r.index]
          deployed.set(hexKey(r.contractAddress), {
            deployer: transactionSender(tx),
            height: block.header.height,
            tx: r.txHash,
          })
        }
      }
      const data = toData(block)
      for (const l of [...listeners]) l({ block: data, receipts })
      return data
    },
  }
  return backend
}

export { addressFromPublicKey }
