/**
 * Load generator: drives a 4-validator BFT devnet (real processes, libp2p) and, as the baseline
 * in the same run, a single-node `aureon dev` chain, with signed transfers from many senders.
 * Reports sustained committed tx/s and submit-to-commit latency (p50/p95).
 *
 * Sizes: AUREON_BENCH_TXS (default 1,500 transfers), AUREON_BENCH_SENDERS (default 10).
 */
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { createClient, type RPCClient } from '@aureon/rpc'
import { BenchReport, percentile } from '../../../bench/harness.js'
import { devAccounts } from '../src/accounts.js'
import {
  type CliProcess,
  freePort,
  freePortRange,
  removeDir,
  runCli,
  startCli,
  tempDir,
  until,
} from '../test/helpers.js'

const TXS = Number(process.env.AUREON_BENCH_TXS ?? 1500)
const SENDERS = Math.min(10, Number(process.env.AUREON_BENCH_SENDERS ?? 10))

interface LoadResult {
  tps: number
  p50: number
  p95: number
  committed: number
}

/** Retries a request that failed on a transport error (a busy node may drop a kept-alive socket). */
async function retry<T>(fn: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn()
    } catch (e) {
      if (i >= attempts || (e as { code?: string }).code?.startsWith('ERR_NONCE')) throw e
      await new Promise((r) => setTimeout(r, 200 * i))
    }
  }
}

/** Sends TXS transfers round-robin over senders and clients; measures commit times by polling blocks. */
async function drive(clients: RPCClient[], chainId: bigint): Promise<LoadResult> {
  const senders = devAccounts(SENDERS)
  const nonces = await Promise.all(
    senders.map(async (s) =>
      BigInt((await clients[0].getAccount({ address: bytesToHex(s.address) })).nonce),
    ),
  )
  const signed = Array.from({ length: TXS }, (_, i) => {
    const k = i % SENDERS
    const tx = signTransaction(
      {
        kind: TxKind.Transfer,
        chainId,
        nonce: nonces[k]++,
        gasPrice: 1n,
        gasLimit: 21_000n,
        to: devAccounts(11)[10].address,
        amount: 1n,
      },
      senders[k].secretKey,
    )
    return bytesToHex(encodeTransaction(tx))
  })
  const startHeight = (await retry(() => clients[0].getHead())).height
  const submitted = new Map<string, number>()
  const committedAt = new Map<string, number>()
  let height = startHeight
  let sending = true
  const t0 = performance.now()
  const progress = setInterval(() => {
    console.error(
      `[bench] ${((performance.now() - t0) / 1000).toFixed(1)} s: submitted ${submitted.size}/${TXS}, committed ${committedAt.size}, polled to block ${height}`,
    )
  }, 5000)
  // The poller runs while transactions are being sent, so a commit is timed when it happens.
  const poll = until(
    async () => {
      const head = (await clients[0].getHead()).height
      while (height < head) {
        const b = await clients[0].getBlock({ id: height + 1 })
        height++
        const now = performance.now()
        for (const h of b.transactions as string[]) if (!committedAt.has(h)) committedAt.set(h, now)
      }
      return !sending && [...submitted.keys()].every((h) => committedAt.has(h))
    },
    600_000,
    'every transfer to commit',
    50,
  )
  // senders submit in order (nonces), one request in flight per sender; a transaction's latency
  // runs from the moment its request is sent to the moment its block is seen
  const lanes = Array.from({ length: SENDERS }, (_, k) =>
    signed.filter((_, i) => i % SENDERS === k),
  )
  await Promise.all(
    lanes.map(async (lane, k) => {
      for (const tx of lane) {
        const c = clients[k % clients.length]
        const sentAt = performance.now()
        const r = await retry(() => c.sendTx({ tx }))
        submitted.set(r.hash, sentAt)
      }
    }),
  )
  sending = false
  await poll
  clearInterval(progress)
  const latencies = [...submitted].map(([h, t]) => committedAt.get(h)! - t)
  const last = Math.max(...committedAt.values())
  return {
    tps: (TXS * 1000) / (last - t0),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    committed: committedAt.size,
  }
}

async function devRun(): Promise<LoadResult> {
  const dir = tempDir('bench-dev')
  const port = await freePort()
  const node = startCli([
    'dev',
    '--data-dir',
    join(dir, 'chain'),
    '--rpc.port',
    String(port),
    '--log.level',
    'warn',
  ])
  try {
    const url = (await node.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]
    return await drive([createClient({ url, timeoutMs: 30_000 })], 1337n)
  } catch (e) {
    console.error(node.output().slice(-3000))
    throw e
  } finally {
    await node.stop()
    removeDir(dir)
  }
}

async function devnetRun(): Promise<LoadResult> {
  const dir = tempDir('bench-devnet')
  const p2p = await freePortRange(4)
  const rpc = await freePortRange(4)
  const nodes: CliProcess[] = []
  try {
    await runCli([
      'init',
      '--out',
      dir,
      '--validators',
      '4',
      '--p2p-port',
      String(p2p),
      '--rpc-port',
      String(rpc),
    ])
    const clients = Array.from({ length: 4 }, (_, i) =>
      createClient({ url: `http://127.0.0.1:${rpc + i}`, timeoutMs: 30_000 }),
    )
    for (let i = 0; i < 4; i++)
      nodes.push(
        startCli(['run', '--config', join(dir, `node-${i}`, 'config.toml'), '--log.level', 'warn']),
      )
    await until(
      async () => (await Promise.all(clients.map((c) => c.getHead()))).every((h) => h.height >= 2),
      180_000,
      'the devnet to commit',
    )
    return await drive(clients, 1000n)
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
    removeDir(dir)
  }
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')
const loadAtStart = load()
const report = new BenchReport('node')
const dev = await devRun()
const devnet = await devnetRun()
report.add({
  name: 'dev.tps',
  value: dev.tps,
  unit: 'tx/s',
  note: `${TXS} transfers from ${SENDERS} senders; p50 ${dev.p50.toFixed(0)} ms; load average ${loadAtStart} at start, ${load()} at end, 2 cores`,
})
report.add({
  name: 'devnet.tps',
  value: devnet.tps,
  unit: 'tx/s',
  baseline: 'dev.tps',
  baselineValue: dev.tps,
  note: `${TXS} transfers from ${SENDERS} senders over 4 BFT validators (4 processes on the same machine); latency from sending a request to seeing its block`,
})
report.add({
  name: 'devnet.latency.p50',
  value: devnet.p50,
  unit: 'ms',
  baseline: 'dev.latency.p50',
  baselineValue: dev.p50,
})
report.add({
  name: 'devnet.latency.p95',
  value: devnet.p95,
  unit: 'ms',
  baseline: 'dev.latency.p95',
  baselineValue: dev.p95,
})
report.write()
process.exit(0)
