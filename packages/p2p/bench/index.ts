/**
 * p2p benchmarks on two real libp2p nodes over 127.0.0.1: gossip latency and throughput, request
 * round trip, block range transfer. Baseline for the request round trip: the same bytes over a
 * bare libp2p stream on the same connection (no framing checks, limits or scoring).
 */
import { createHash } from 'node:crypto'
import { loadavg } from 'node:os'
import * as lp from 'it-length-prefixed'
import { BenchReport, median, timeMedian } from '../../../bench/harness.js'
import { createP2PNode, type P2PNode } from '../src/index.js'

const genesisHash = createHash('sha256').update('bench').digest()
const opts = {
  chainId: 1n,
  genesisHash,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  // the payloads are raw bytes, not ledger transactions: measure the transport, not the codec
  validateEncodings: false,
  limits: {
    gossipRate: { perSecond: 1e9, burst: 1e9 },
    requestRate: { perSecond: 1e9, burst: 1e9 },
  },
}
const report = new BenchReport('p2p')
const a: P2PNode = await createP2PNode(opts)
const b: P2PNode = await createP2PNode(opts)
try {
  await a.dial(b.addresses()[0])
  await a.waitForPeers(1, { topic: 'transactions' })
  await b.waitForPeers(1, { topic: 'transactions' })

  // gossip latency: publish on a -> delivered on b
  let waiting: (() => void) | undefined
  let count = 0
  b.subscribe('transactions', () => {
    count++
    waiting?.()
  })
  const lat: number[] = []
  for (let i = 0; i < 50; i++) {
    const data = createHash('sha256').update(`tx${i}`).digest()
    const got = new Promise<void>((r) => {
      waiting = r
    })
    const t0 = performance.now()
    await a.publish('transactions', data)
    await got
    lat.push(performance.now() - t0)
  }
  report.add({
    name: 'p2p.gossip.latency',
    value: median(lat),
    unit: 'ms',
    samples: lat.length,
    note: '32-byte payload, publish on one node -> handler on the other (127.0.0.1, StrictSign)',
  })

  // gossip throughput: 2,000 distinct 200-byte messages, published in batches of 100
  const N = 2000
  const rates: number[] = []
  for (let run = 0; run < 3; run++) {
    const start = count
    const t0 = performance.now()
    for (let i = 0; i < N; i += 100) {
      const batch: Promise<number>[] = []
      for (let j = i; j < i + 100; j++) {
        const data = new Uint8Array(200)
        data.set(createHash('sha256').update(`${run}/${j}`).digest())
        batch.push(a.publish('transactions', data))
      }
      await Promise.all(batch)
    }
    const deadline = performance.now() + 20_000
    while (count - start < N && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2))
    }
    rates.push(((count - start) * 1000) / (performance.now() - t0))
  }
  report.add({
    name: 'p2p.gossip.throughput',
    value: median(rates),
    unit: 'msg/s',
    samples: rates.length,
    note: `${N} x 200-byte messages delivered per second (batches of 100 publishes), median of 3 runs`,
  })

  // request round trip vs a bare libp2p stream
  await b.handle('echo', (req) => req)
  const payload = new Uint8Array(100)
  const rtt = await timeMedian(() => a.request(b.peerId, 'echo', payload), 200, 20)
  await b.libp2p.handle('/bench/raw-echo/1', async (stream) => {
    for await (const m of lp.decode(stream)) {
      stream.send(lp.encode.single(m))
      break
    }
    await stream.close()
  })
  const raw = await timeMedian(
    async () => {
      const s = await a.libp2p.dialProtocol(b.libp2p.peerId, '/bench/raw-echo/1')
      s.send(lp.encode.single(payload))
      for await (const _m of lp.decode(s)) break
      await s.close()
    },
    200,
    20,
  )
  // opening a stream alone: yamux stream + multistream-select round trip + peer store merge
  const open = await timeMedian(
    async () => {
      const s = await a.libp2p.dialProtocol(b.libp2p.peerId, '/bench/raw-echo/1')
      s.abort(new Error('bench: open only'))
    },
    200,
    20,
  )
  report.add({
    name: 'p2p.stream.open',
    value: open,
    unit: 'ms',
    samples: 200,
    note: `dialProtocol on an open connection (new yamux stream, multistream-select round trip), no payload; ${((100 * open) / rtt).toFixed(0)}% of p2p.request.rtt in the same run`,
  })
  report.add({
    name: 'p2p.request.rtt',
    value: rtt,
    unit: 'ms',
    baseline: 'bare libp2p stream echo of the same bytes on the same connection',
    baselineValue: raw,
    samples: 200,
    note: '100-byte request and response over /aureon/1/req/echo/1',
  })

  // block range: 128 blocks of 10 KB
  const blocks = Array.from({ length: 128 }, (_, i) => new Uint8Array(10_000).fill(i))
  b.onBlockRequest(async () => ({ blocks }))
  const range = await timeMedian(
    () => a.requestBlocks(b.peerId, { fromHeight: 1n, count: 128 }),
    20,
    3,
  )
  report.add({
    name: 'p2p.blocks.range',
    value: (128 * 10_000) / 1e6 / (range / 1000),
    unit: 'MB/s',
    samples: 20,
    note: `128 blocks x 10 KB per request; median request ${range.toFixed(2)} ms`,
  })

  // a 9 MiB response (over it-length-prefixed's 4 MiB encoder default, which used to reset)
  const big = new Uint8Array(9 * 1024 * 1024).fill(5)
  await b.handle('big', async () => big)
  const bigMs = await timeMedian(() => a.request(b.peerId, 'big', payload), 10, 2)
  report.add({
    name: 'p2p.request.large',
    value: big.length / 1e6 / (bigMs / 1000),
    unit: 'MB/s',
    samples: 10,
    note: `one 9 MiB response per request; median request ${bigMs.toFixed(2)} ms; load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  })
} finally {
  await a.stop()
  await b.stop()
}
report.write()
