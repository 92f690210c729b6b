/**
 * Ledger benchmarks (issue 3):
 * - ledger.transfers: tx/s of blocks of 1,000 signed transfers through decode -> applyBlock
 *   (batched ed25519 verification on crypto's worker pool, overlapping execution and the state
 *   root) -> state flush -> ChainStore.commitBlock on a LevelStore, over a state of ACCOUNTS
 *   (default 100,000) accounts, pipelined: block b+1 is decoded and its signatures sent to the
 *   pool while block b is stored. Baseline in the same run, blocks interleaved with ours:
 *   @ethereumjs/vm executing equivalent signed legacy value transfers (decoded from RLP, so
 *   sender recovery is measured; runTx checks nonce and balance, pays the fee to the coinbase;
 *   state root per block) — BASE_PER_BLOCK (200) per block over BASE_ACCOUNTS (10,000) accounts
 *   in memory (a smaller, in-memory state: favours the baseline).
 * - ledger.transfers.verifyLimit: pipeline tx/s divided by ed25519 verifications/s of the same
 *   verifier on the same cores.
 * - txpool.insert: tx/s of TxPool.addMany (signature check included) filling 50,000 txs from 500
 *   senders. txpool.build.50k: ms to select a full block from 50,000 pending and build it.
 */
import { cpus, loadavg } from 'node:os'
import { createWorkerPoolVerifier } from '@aureon/crypto'
import { createMemoryStore } from '@aureon/storage'
import { BenchReport, median } from '../../../bench/harness.js'
import { openChainStore } from '../src/chain-store.js'
import { toHexKey } from '../src/codec.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { decodeTransaction, encodeTransaction } from '../src/tx.js'
import { createTxPool } from '../src/txpool.js'
import type { GenesisConfig, Transaction } from '../src/types.js'
import { signatureItems } from '../src/verify.js'
import { key, transfer } from '../test/helpers.js'
import { createEthereumJSBaseline } from './ethereumjs.js'
import { openTransferChain, recipient } from './transfer-chain.js'

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 100_000)
const PER_BLOCK = 1_000
const BLOCKS = Number(process.env.BLOCKS ?? 7)
const BASE_ACCOUNTS = Number(process.env.BASE_ACCOUNTS ?? 10_000)
const BASE_PER_BLOCK = Number(process.env.BASE_PER_BLOCK ?? 200)
const report = new BenchReport('ledger')
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
const loadStart = load()
const hex = (b: Uint8Array) => `0x${toHexKey(b)}`
const log = (...a: unknown[]) => console.error('[bench]', ...a)

// ---------------------------------------------------------------- ledger.transfers
const verifier = createWorkerPoolVerifier({ workers: Math.max(1, cpus().length) })
const tc = await openTransferChain({
  accounts: ACCOUNTS,
  perBlock: PER_BLOCK,
  dirPrefix: 'aureon-ledger-bench-',
})
const { chain, senders } = tc
log(`genesis with ${ACCOUNTS} accounts: ${tc.genesisMs.toFixed(0)} ms`)
const state = tc.genesis.state
const processor = new StateProcessor({ verifier })
const phases: Record<string, number[]> = {
  decode: [],
  apply: [],
  flush: [],
  'commit (+ wait for the next block signatures)': [],
}
const blockMs: number[] = []
// the baseline's blocks run interleaved with ours, so both see the same machine load
const baseline = await createEthereumJSBaseline({
  accounts: BASE_ACCOUNTS,
  perBlock: BASE_PER_BLOCK,
})
const baseMs: number[] = []
const wireOf = tc.wireOf
// Pipelined import: while block b is flushed and stored, block b+1 is decoded and its signatures
// go to the worker pool (processor.verifySignatures); applyBlock(b+1) finds them checked. Block
// b's time runs from its applyBlock to the end of its commit AND of block b+1's signature check
// (+ its own decode and check for block 1), so no verification hides outside the timed part.
// ed25519 verification rate of the same verifier on the same cores, measured before each block
// (interleaved, so it sees the same machine load as the blocks)
const sample = senders.map((s, i) => transfer(s, recipient(i), 999n))
const items = signatureItems(sample)
const verifyMs: number[] = []
const wire0 = wireOf(0)
const d0 = performance.now()
let txs = wire0.map(decodeTransaction) // block 1's signatures: checked inside its applyBlock
const decode0 = performance.now() - d0
phases.decode.push(decode0)
for (let b = 0; b < BLOCKS; b++) {
  const nextWire = b + 1 < BLOCKS ? wireOf(b + 1) : undefined
  const bm = await baseline.runBlock(b)
  baseMs.push(bm)
  log(`baseline block ${b + 1}: ${bm.toFixed(0)} ms for ${BASE_PER_BLOCK} txs`)
  const tv = performance.now()
  await verifier.verifyEd25519(items)
  verifyMs.push(performance.now() - tv)
  const t1 = performance.now()
  const header = tc.nextHeader()
  const res = await processor.applyBlock(
    state,
    { header, transactions: txs },
    { verifyHeader: false },
  )
  const t2 = performance.now()
  const block = tc.seal(header, txs, res)
  // next block: decode and start its signature check before storing this one
  let nextTxs: Transaction[] = []
  let decodeMs = 0
  let ahead: Promise<unknown> = Promise.resolve()
  if (nextWire) {
    const d = performance.now()
    nextTxs = nextWire.map(decodeTransaction)
    ahead = processor.verifySignatures(nextTxs)
    ahead.catch(() => undefined)
    decodeMs = performance.now() - d
  }
  const t2b = performance.now()
  const stateOps = await state.flush()
  const t3 = performance.now()
  await chain.commitBlock({ block, receipts: res.receipts, stateOps })
  // the look-ahead check is counted here, in full (the baseline's next block must not hide it)
  await ahead
  const t4 = performance.now()
  if (b + 1 < BLOCKS) phases.decode.push(decodeMs)
  phases.apply.push(t2 - t1)
  phases.flush.push(t3 - t2b)
  phases['commit (+ wait for the next block signatures)'].push(t4 - t3)
  // block 1 also counts its own decode (later blocks were decoded during the previous one)
  const total = t4 - t1 + (b === 0 ? decode0 : 0)
  blockMs.push(total)
  log(
    `block ${b + 1}: ${total.toFixed(0)} ms (apply ${(t2 - t1).toFixed(0)}, next decode ${decodeMs.toFixed(0)}, flush ${(t3 - t2b).toFixed(0)}, commit ${(t4 - t3).toFixed(0)})`,
  )
  txs = nextTxs
}
const ledgerTps = (PER_BLOCK * 1000) / median(blockMs)
const phaseNote = Object.entries(phases)
  .map(([k, v]) => `${k} ${median(v).toFixed(0)} ms`)
  .join(', ')

const verifyRate = (items.length * 1000) / median(verifyMs)
const base = { txPerSec: (BASE_PER_BLOCK * 1000) / median(baseMs) }
report.add({
  name: 'ledger.transfers',
  value: ledgerTps,
  unit: 'tx/s',
  baseline: `@ethereumjs/vm 10.1.3 runTx of signed legacy value transfers decoded from RLP (secp256k1 sender recovery, nonce and balance checks, fee to the coinbase), ${BASE_PER_BLOCK} per block over ${BASE_ACCOUNTS} accounts in an in-memory state, state root per block; its blocks interleaved with ours`,
  baselineValue: base.txPerSec,
  samples: BLOCKS,
  note: `blocks of ${PER_BLOCK} transfers, ${ACCOUNTS} accounts, LevelStore, worker-pool ed25519 (${cpus().length} cpus), pipelined import (block b+1 decoded and its signatures checked while block b is stored); median per block: ${phaseNote}`,
})
report.add({
  name: 'ledger.transfers.verifyLimit',
  value: ledgerTps / verifyRate,
  unit: 'ratio',
  note: `pipeline ${ledgerTps.toFixed(0)} tx/s / ed25519 worker-pool verify ${verifyRate.toFixed(0)} sig/s on the same cores (median of ${verifyMs.length} checks of ${items.length} signatures, one before each block; goal 0.7)`,
})
await tc.close()

// ---------------------------------------------------------------- txpool
{
  const POOL_SENDERS = 500
  const PER = Number(process.env.POOL_PER_SENDER ?? 100)
  const ks = Array.from({ length: POOL_SENDERS }, (_, i) => key(50_000 + i))
  const cfg: GenesisConfig = {
    chainId: 1,
    timestamp: 0,
    balances: Object.fromEntries(ks.map((k) => [hex(k.address), '1000000000000000'])),
    validators: [],
    consensus: { engine: 'dev' },
  }
  const pc = await openChainStore({ db: createMemoryStore() })
  const pg = await createGenesis({ config: cfg, db: pc.stateDb })
  const txs: Transaction[] = []
  for (let n = 0; n < PER; n++) {
    for (const [si, k] of ks.entries()) {
      txs.push(
        transfer(k, ks[(si + 1) % POOL_SENDERS].address, BigInt(n), 1n, {
          gasPrice: BigInt(1 + ((si + n) % 17)),
        }),
      )
    }
  }
  const wire = txs.map(encodeTransaction)
  const insertMs: number[] = []
  let pool = createTxPool({ chainId: 1n, getAccount: (a) => pg.state.getAccount(a), verifier })
  for (let r = 0; r < 3; r++) {
    pool = createTxPool({ chainId: 1n, getAccount: (a) => pg.state.getAccount(a), verifier })
    const fresh = wire.map(decodeTransaction)
    const t = performance.now()
    for (let i = 0; i < fresh.length; i += 1_000) await pool.addMany(fresh.slice(i, i + 1_000))
    insertMs.push(performance.now() - t)
  }
  report.add({
    name: 'txpool.insert',
    value: (wire.length * 1000) / median(insertMs),
    unit: 'tx/s',
    samples: 3,
    note: `${wire.length} decoded txs from ${POOL_SENDERS} senders via addMany (batches of 1,000, ed25519 on the worker pool)`,
  })
  const buildMs: number[] = []
  const selectMs: number[] = []
  for (let r = 0; r < 3; r++) {
    const s = await pg.state.copy()
    const t = performance.now()
    const selected = pool.select({ maxGas: 30_000_000n })
    const t1 = performance.now()
    await new StateProcessor({ verifier }).buildBlock(s, {
      parent: pg.block.header,
      timestamp: 1n,
      proposer: ks[0].address,
      transactions: selected,
    })
    buildMs.push(performance.now() - t)
    selectMs.push(t1 - t)
  }
  report.add({
    name: 'txpool.build.50k',
    value: median(buildMs),
    unit: 'ms',
    samples: 3,
    note: `select a 30M-gas block (1,428 transfers) from ${pool.size} pending (select ${median(selectMs).toFixed(1)} ms) + StateProcessor.buildBlock (signatures the pool's verifier accepted on insert are not checked again)`,
  })
}
await verifier.close()
const loadNote = `load average (1, 5, 15 min) ${loadStart} at start, ${load()} at end, ${cpus().length} cores`
for (const r of report.results) r.note = r.note ? `${r.note}; ${loadNote}` : loadNote
report.write()
