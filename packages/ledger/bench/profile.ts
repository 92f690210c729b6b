/**
 * Profiles ledger.transfers at a small size (run with `node --import tsx --cpu-prof`):
 * ACCOUNTS (default 20,000) accounts on LevelStore, BLOCKS blocks of 1,000 transfers.
 * VERIFIER=main verifies on the main thread (default: crypto's worker pool).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorkerPoolVerifier } from '@aureon/crypto'
import { openLevelStore } from '@aureon/storage'
import { openChainStore } from '../src/chain-store.js'
import { toHexKey } from '../src/codec.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { decodeTransaction, encodeTransaction } from '../src/tx.js'
import type { Block, GenesisConfig } from '../src/types.js'
import { mainThreadVerifier } from '../src/verify.js'
import { key, transfer } from '../test/helpers.js'

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 20_000)
const BLOCKS = Number(process.env.BLOCKS ?? 4)
const PER_BLOCK = 1_000
const hex = (b: Uint8Array) => `0x${toHexKey(b)}`
const recipient = (i: number) => {
  const a = new Uint8Array(20)
  a[0] = 0xee
  new DataView(a.buffer).setUint32(16, i)
  return a
}
const pool =
  process.env.VERIFIER === 'main' ? undefined : createWorkerPoolVerifier({ workers: cpus().length })
const verifier = pool ?? mainThreadVerifier
const dir = mkdtempSync(join(tmpdir(), 'aureon-ledger-profile-'))
const db = await openLevelStore({ path: dir })
const chain = await openChainStore({ db })
const senders = Array.from({ length: PER_BLOCK }, (_, i) => key(10_000 + i))
const balances: Record<string, string> = {}
for (const s of senders) balances[hex(s.address)] = '1000000000000000'
for (let i = 0; i < ACCOUNTS - PER_BLOCK; i++) balances[hex(recipient(i))] = '1'
const config: GenesisConfig = {
  chainId: 1,
  timestamp: 0,
  balances,
  validators: [],
  consensus: { engine: 'dev' },
}
let t = performance.now()
const g = await createGenesis({ config, db: chain.stateDb })
await chain.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
console.log(`genesis ${ACCOUNTS}: ${(performance.now() - t).toFixed(0)} ms`)
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
  const wire = senders.map((s, i) =>
    encodeTransaction(
      transfer(s, recipient((i * 7919 + b * 104_729) % (ACCOUNTS - PER_BLOCK)), BigInt(b), 1n, {
        gasPrice: 10n,
      }),
    ),
  )
  const parent = chain.head()!
  t = performance.now()
  const txs = wire.map(decodeTransaction)
  const header = {
    ...parent,
    height: parent.height + 1n,
    proposer: senders[0].address,
    gasLimit: 30_000_000n,
  }
  const t1 = performance.now()
  const res = await processor.applyBlock(
    g.state,
    { header, transactions: txs },
    { verifyHeader: false },
  )
  const t2 = performance.now()
  const block: Block = {
    header: {
      ...header,
      stateRoot: res.stateRoot,
      txRoot: res.txRoot,
      receiptsRoot: res.receiptsRoot,
      gasUsed: res.gasUsed,
    },
    transactions: txs,
  }
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
await chain.close()
await pool?.close()
rmSync(dir, { recursive: true, force: true })
