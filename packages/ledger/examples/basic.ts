import { addressFromPublicKey, bytesToHex, ed25519 } from '@aureon/crypto'
import {
  createGenesis,
  createTxPool,
  openChainStore,
  StateProcessor,
  signTransaction,
  TxKind,
} from '@aureon/ledger'
import { createMemoryStore } from '@aureon/storage'

// Two keys: alice is funded at genesis, bob is not.
const aliceKey = new Uint8Array(32).fill(1)
const alice = addressFromPublicKey(ed25519.getPublicKey(aliceKey))
const bob = addressFromPublicKey(ed25519.getPublicKey(new Uint8Array(32).fill(2)))

// A chain store (use openLevelStore({ path }) for disk) and the genesis block from genesis.json.
const chain = await openChainStore({ db: createMemoryStore() })
const genesis = await createGenesis({
  config: {
    chainId: 1,
    timestamp: 0,
    balances: { [bytesToHex(alice)]: '1000000000' },
    validators: [],
    consensus: { engine: 'dev' },
  },
  db: chain.stateDb,
})
await chain.commitBlock({ block: genesis.block, receipts: [], stateOps: genesis.stateOps })

// A signed transfer goes into the pool...
const state = genesis.state
const pool = createTxPool({ chainId: 1n, getAccount: (a) => state.getAccount(a) })
const tx = signTransaction(
  {
    kind: TxKind.Transfer,
    chainId: 1n,
    nonce: 0n,
    gasPrice: 1n,
    gasLimit: 21_000n,
    to: bob,
    amount: 500n,
  },
  aliceKey,
)
await pool.add(tx)

// ...a block is built from the pool, committed in one atomic batch, and the pool moves on.
const processor = new StateProcessor()
const { block, receipts } = await processor.buildBlock(state, {
  parent: genesis.block.header,
  timestamp: 1_000n,
  proposer: alice,
  transactions: pool.select(),
})
await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
await pool.onNewHead({ included: block.transactions })

console.log('height', chain.head()?.height, 'status', receipts[0].status, 'fee', receipts[0].fee)
console.log('bob has', (await state.getAccount(bob)).balance)
