/**
 * Profiles ledger.transfers at a small size (run with `node --import tsx --cpu-prof`):
 * ACCOUNTS (default 20,000) accounts on LevelStore, BLOCKS blocks of 1,000 transfers.
 * VERIFIER=main verifies on the main thread (default: crypto's worker pool).
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { cpus } from 'node:os'
import { createWorkerPoolVerifier } from '@aureon/crypto'
import { StateProcessor } from '../src/processor.js'
import { decodeTransaction } from '../src/tx.js'
import { mainThreadVerifier } from '../src/verify.js'
import { openTransferChain } from './transfer-chain.js'

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 20_000)
const BLOCKS = Number(process.env.BLOCKS ?? 4)
const PER_BLOCK = 1_000
const pool =
  process.env.VERIFIER === 'main' ? undefined : createWorkerPoolVerifier({ workers: cpus().length })
const verifier = pool ?? mainThreadVerifier
const tc = await openTransferChain({
  accounts: ACCOUNTS,
  perBlock: PER_BLOCK,
  dirPrefix: 'aureon-ledger-profile-',
})
const { chain } = tc
const g = tc.genesis
console.log(`genesis ${ACCOUNTS}: ${tc.genesisMs.toFixed(0)} ms`)
const processor = new StateProcessor({ verifier })
// PROFILE=file.cpuprofile: CPU profile of the blocks only (not the genesis)
const session = process.env.PROFILE ? new Session() : undefined
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    session!.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))),
  )
if (session) {
  session.connect()
  await post('Profiler.enable')
  await post('Profiler.start')
}
for (let b = 0; b < BLOCKS; b++) {
  const wire = tc.wireOf(b)
  const t = performance.now()
  const txs = wire.map(decodeTransaction)
  const header = tc.nextHeader()
  const t1 = performance.now()
  const res = await processor.applyBlock(
    g.state,
    { header, transactions: txs },
    { verifyHeader: false },
  )
  const t2 = performance.now()
  const block = tc.seal(header, txs, res)
  const stateOps = await g.state.flush()
  const t3 = performance.now()
  await chain.commitBlock({ block, receipts: res.receipts, stateOps })
  const t4 = performance.now()
  console.log(
    `block ${b + 1}: ${(t4 - t).toFixed(0)} ms (decode ${(t1 - t).toFixed(0)}, apply ${(t2 - t1).toFixed(0)}, flush ${(t3 - t2).toFixed(0)}, commit ${(t4 - t3).toFixed(0)}), ${stateOps.length} state ops`,
  )
}
if (session) {
  const { profile } = (await post('Profiler.stop')) as { profile: unknown }
  writeFileSync(process.env.PROFILE!, JSON.stringify(profile))
}
await tc.close()
await pool?.close()
