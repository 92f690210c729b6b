/** An in-process ledger chain on a memory store (LedgerChain + ChainStore + pool), for unit tests. */
import { bytesToHex } from '@aureon/crypto'
import {
  type ChainStore,
  createGenesis,
  createTxPool,
  type GenesisConfig,
  genesisParams,
  openChainStore,
  StateProcessor,
  signTransaction,
  TxKind,
} from '@aureon/ledger'
import { type BatchOp, createMemoryStore, type KVStore } from '@aureon/storage'
import { devAccounts } from '../src/accounts.js'
import { LedgerChain } from '../src/ledger-chain.js'

export const [alice, bob] = devAccounts(2)
export const genesis: GenesisConfig = {
  chainId: 77,
  timestamp: 0,
  balances: { [bytesToHex(alice.address)]: (10n ** 24n).toString() },
  validators: [],
  consensus: { engine: 'dev' },
  params: { epochLength: '2' },
}

export async function setup(db: KVStore = createMemoryStore()) {
  const store = await openChainStore({ db })
  const params = genesisParams(genesis)
  if (!store.head()) {
    const g = await createGenesis({ config: genesis, db: store.stateDb })
    await store.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
  }
  let chain: LedgerChain | undefined
  const pool = createTxPool({
    chainId: 77n,
    params,
    getAccount: (a) => chain!.state().getAccount(a),
  })
  chain = await LedgerChain.create({
    store,
    processor: new StateProcessor({ params }),
    pool,
    params,
  })
  return { db, store, pool, chain }
}

export type Fixture = Awaited<ReturnType<typeof setup>>

/** A transfer from alice to bob. */
export function aliceTransfer(nonce: bigint, amount = 5n) {
  return signTransaction(
    {
      kind: TxKind.Transfer,
      chainId: 77n,
      nonce,
      gasPrice: 1n,
      gasLimit: 21_000n,
      to: bob.address,
      amount,
    },
    alice.secretKey,
  )
}

/** Adds transfers with these nonces from alice to the pool, builds a block and commits it. */
export async function sealBlock(c: Fixture, nonces: bigint[]) {
  for (const nonce of nonces) await c.pool.add(aliceTransfer(nonce))
  const parent = c.chain.head()
  const ex = await c.chain.buildBlock({
    parent,
    timestamp: parent.timestamp + 1n,
    proposer: new Uint8Array(20),
    consensus: new Uint8Array(0),
  })
  await c.chain.commitBlock(ex.block)
  return ex.block
}

/**
 * A fresh store anchored at block `height` of `src` (its state copied in, genesis kept), as a
 * node started from a snapshot of that block would hold it.
 */
export async function anchorCopy(src: ChainStore, height: bigint) {
  const db = createMemoryStore()
  const store = await openChainStore({ db })
  const next = store.nextNamespaces()
  const ops: BatchOp[] = []
  for await (const [key, value] of src.stateDb.iterate()) ops.push({ type: 'put', key, value })
  await db.namespace(next.state).batch(ops)
  await store.anchor({
    stateNamespace: next.state,
    block: (await src.getBlockByHeight(height))!,
    genesis: (await src.getBlockByHeight(0n))!,
  })
  return { db, store }
}
