/**
 * Benchmarks of @aureon/rpc (names as in the issue):
 * - rpc.account.rps: GET /account/{address} requests/s through the full server (schema
 *   validation, rate-limit hook off, backend call, JSON conventions, compiled serializer),
 *   against a bare Fastify route returning a constant of the same shape (baseline, same run).
 * - rpc.account.p99: p99 latency (ms) of GET /account/{address} at a moderate load (4 keep-alive
 *   connections), against the bare route's p99 at the same load.
 * - rpc.ws.fanout.1000: ms from a new block until the last of 1,000 WebSocket subscribers has it.
 * The load generator runs in a worker thread (keep-alive HTTP, 32 connections) so the server's
 * event loop has its own core.
 */
import { loadavg } from 'node:os'
import { Worker } from 'node:worker_threads'
import Fastify from 'fastify'
import WebSocket from 'ws'
import { BenchReport, median } from '../../../bench/harness.js'
import { createRPCServer, MockRPCBackend } from '../src/index.js'

const DURATION_MS = Number(process.env.AUREON_BENCH_MS ?? 3000)
const RUNS = 5
const CONCURRENCY = 32
const address = '0x' + '11'.repeat(20)

const LOADGEN = `
const http = require('node:http')
const { parentPort, workerData } = require('node:worker_threads')
const { url, path, ms, concurrency } = workerData
const u = new URL(url)
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
const lat = []
let done = 0, errors = 0
const end = Date.now() + ms
function one() {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const req = http.get({ host: u.hostname, port: u.port, path, agent }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode !== 200) errors++
        lat.push(Number(process.hrtime.bigint() - t0) / 1e6); done++; resolve()
      })
    })
    req.on('error', () => { errors++; resolve() })
  })
}
async function loop() { while (Date.now() < end) await one() }
const t0 = Date.now()
Promise.all(Array.from({ length: concurrency }, loop)).then(() => {
  const secs = (Date.now() - t0) / 1000
  lat.sort((a, b) => a - b)
  parentPort.postMessage({ rps: done / secs, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, errors })
  agent.destroy()
})
`

function load(
  url: string,
  path: string,
  ms = DURATION_MS,
  concurrency = CONCURRENCY,
): Promise<{ rps: number; p99: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOADGEN, {
      eval: true,
      workerData: { url, path, ms, concurrency },
    })
    w.once('message', (m) => {
      void w.terminate()
      resolve(m)
    })
    w.once('error', reject)
  })
}

async function main() {
  const report = new BenchReport('rpc')

  // --- account route vs bare Fastify ---------------------------------------------------------
  const backend = new MockRPCBackend()
  backend.setAccount(new Uint8Array(20).fill(0x11), { balance: 123_456_789n, nonce: 7n })
  const server = await createRPCServer({ backend, port: 0, rateLimit: false })
  const rpcUrl = await server.listen()
  const bare = Fastify({ logger: false })
  const constant = (await (await fetch(`${rpcUrl}/account/${address}`)).json()) as object
  bare.get('/account/:address', async () => constant)
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 })

  await load(rpcUrl, `/account/${address}`, 1000) // warm up both
  await load(bareUrl, `/account/${address}`, 1000)
  const rpc: { rps: number; p99: number; errors: number }[] = []
  const base: { rps: number; p99: number; errors: number }[] = []
  for (let i = 0; i < RUNS; i++) {
    base.push(await load(bareUrl, `/account/${address}`))
    rpc.push(await load(rpcUrl, `/account/${address}`))
  }
  if (rpc.some((r) => r.errors) || base.some((r) => r.errors))
    throw new Error('bench: requests failed')
  const rps = median(rpc.map((r) => r.rps))
  const baseRps = median(base.map((r) => r.rps))
  report.add({
    name: 'rpc.account.rps',
    value: rps,
    unit: 'req/s',
    baseline: 'bare Fastify route returning the same JSON (same run, same load generator)',
    baselineValue: baseRps,
    samples: RUNS,
    note: `${CONCURRENCY} keep-alive connections from a worker thread, ${DURATION_MS} ms per sample; target ratio >= 0.5; machine load average ${loadavg()[0].toFixed(1)}`,
  })
  const P99_CONCURRENCY = 4
  const rpcLat: number[] = []
  const baseLat: number[] = []
  for (let i = 0; i < RUNS; i++) {
    baseLat.push((await load(bareUrl, `/account/${address}`, DURATION_MS, P99_CONCURRENCY)).p99)
    rpcLat.push((await load(rpcUrl, `/account/${address}`, DURATION_MS, P99_CONCURRENCY)).p99)
  }
  report.add({
    name: 'rpc.account.p99',
    value: median(rpcLat),
    unit: 'ms',
    baseline: 'bare Fastify route p99 (same load)',
    baselineValue: median(baseLat),
    samples: RUNS,
    note: `${P99_CONCURRENCY} keep-alive connections, ${DURATION_MS} ms per sample; machine load average ${loadavg()[0].toFixed(1)}`,
  })
  await bare.close()
  await server.close()

  // --- WebSocket fan-out ------------------------------------------------------------------------
  const N = 1000
  const fb = new MockRPCBackend()
  const fs = await createRPCServer({ backend: fb, port: 0, rateLimit: false })
  const wsUrl = (await fs.listen()).replace('http', 'ws') + '/ws'
  let waiting = 0
  let resolveAll: (() => void) | undefined
  const sockets: WebSocket[] = []
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(wsUrl)
    await new Promise<void>((r, j) => {
      ws.once('open', () => r())
      ws.once('error', j)
    })
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString())
      if (m.op === 'event' && --waiting === 0) resolveAll?.()
    })
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'new_blocks' }))
    sockets.push(ws)
  }
  while (fs.hub.subscribers('new_blocks') < N) await new Promise((r) => setTimeout(r, 10))
  const times: number[] = []
  for (let i = 0; i < 11; i++) {
    const done = new Promise<void>((r) => (resolveAll = r))
    waiting = N
    const t0 = performance.now()
    await fb.mine()
    await done
    if (i > 0) times.push(performance.now() - t0) // first is warm-up
  }
  report.add({
    name: 'rpc.ws.fanout.1000',
    value: median(times),
    unit: 'ms',
    samples: times.length,
    note: `1,000 subscribers (ws clients in the same process) to new_blocks; block announced -> last subscriber parsed it; machine load average ${loadavg()[0].toFixed(1)}`,
  })
  for (const s of sockets) s.terminate()
  await fs.close()
  report.write()
}

await main()
