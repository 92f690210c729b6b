import http from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addr, type Ctx, hex, mockTransfer, startMock } from './helpers.js'

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const N = Number(process.env.AUREON_FUZZ_N ?? 10_000)
const BODY_LIMIT = 16 * 1024

interface Req {
  method: string
  path: string
  body?: string | Buffer
  contentType?: string
  oversized?: boolean
}

function makeRequests(seed: number, n: number): Req[] {
  const r = rng(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]
  const randHex = (max: number) =>
    '0x' +
    [...Array(Math.floor(r() * max))].map(() => pick([...'0123456789abcdefABCDEFxg '])).join('')
  const randStr = (max: number) =>
    [...Array(Math.floor(r() * max))]
      .map(() => String.fromCharCode(Math.floor(r() * 0x2ff)))
      .join('')
  const randPath = (max: number) =>
    [...Array(Math.floor(r() * max))]
      .map(() => String.fromCharCode(0x21 + Math.floor(r() * 94)))
      .join('')
      .replace(/[#?]/g, '')
  const junkValues = (): unknown[] => [
    null,
    true,
    -1,
    1.5,
    1e308,
    -0,
    '',
    '0x',
    randHex(80),
    randStr(20),
    [],
    {},
    [1, 2],
    { a: 1 },
    '9'.repeat(400),
    2 ** 70,
    '-5',
    '0x' + '00'.repeat(20),
    'NaN',
    { __proto__: { x: 1 } },
  ]
  const paths = [
    '/chain/head',
    '/block/',
    '/tx/',
    '/account/',
    '/contract/',
    '/tx/send',
    '/tx/estimate',
    '/contract/call',
    '/contract/deploy',
    '/validators',
    '/peers',
    '/health',
    '/openapi.json',
    '/ws',
    '/',
  ]
  const out: Req[] = []
  for (let i = 0; i < n; i++) {
    const kind = Math.floor(r() * 10)
    const method = pick(['GET', 'POST', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'])
    if (kind === 0) {
      out.push({ method, path: '/' + randPath(30) })
    } else if (kind === 1) {
      const seg = pick([
        randHex(140),
        String(Math.floor(r() * 1e6)),
        '9'.repeat(Math.floor(r() * 60)),
        '-1',
        '%zz',
        '%00',
        '..',
        encodeURIComponent(randStr(10)),
      ])
      out.push({
        method: 'GET',
        path:
          pick(['/block/', '/tx/', '/account/', '/contract/']) +
          seg +
          pick(['', '/proof', '/storage/' + randHex(300), '?txs=' + randPath(5), '?txs=full&x=1']),
      })
    } else if (kind === 2) {
      out.push({
        method: 'POST',
        path: pick(['/tx/send', '/contract/deploy', '/contract/call', '/tx/estimate']),
        body: randStr(200),
        contentType: 'application/json',
      })
    } else if (kind === 3) {
      const body: Record<string, unknown> = {}
      for (const k of [
        'tx',
        'from',
        'kind',
        'to',
        'amount',
        'contract',
        'function',
        'args',
        'value',
        'gasLimit',
        'code',
        'nonce',
        'zz',
      ]) {
        if (r() < 0.5) body[k] = pick(junkValues())
      }
      out.push({
        method: 'POST',
        path: pick(['/tx/send', '/contract/deploy', '/contract/call', '/tx/estimate']),
        body: JSON.stringify(body),
        contentType: 'application/json',
      })
    } else if (kind === 4) {
      out.push({
        method: 'POST',
        path: pick(['/tx/send', '/contract/deploy']),
        body: JSON.stringify({ tx: randHex(400) }),
        contentType: 'application/json',
      })
    } else if (kind === 5) {
      const good = {
        contract: hex(addr(0xcc)),
        function: 'get',
        args: '0x01',
        value: pick(['0', '1', '9'.repeat(39), '340282366920938463463374607431768211456']),
        from: hex(addr(1)),
        gasLimit: pick(['1', '18446744073709551616', '0']),
      }
      out.push({
        method: 'POST',
        path: '/contract/call',
        body: JSON.stringify(good),
        contentType: 'application/json',
      })
    } else if (kind === 6) {
      out.push({
        method: 'POST',
        path: pick(paths),
        body: JSON.stringify({ tx: '0x' + '00'.repeat(BODY_LIMIT) }),
        contentType: 'application/json',
        oversized: true,
      })
    } else if (kind === 7) {
      out.push({
        method,
        path: pick(paths),
        body: randStr(50),
        contentType: pick([
          'text/plain',
          'application/xml',
          'multipart/form-data',
          'application/json; charset=utf-16',
          '',
          'application/x-www-form-urlencoded',
        ]),
      })
    } else if (kind === 8) {
      out.push({
        method: 'POST',
        path: pick(['/tx/estimate', '/tx/send']),
        body: pick([
          '',
          'null',
          '[]',
          '"x"',
          '1',
          '{"__proto__":{"a":1}}',
          '{"constructor":{"prototype":{}}}',
          '{'.repeat(5000),
        ]),
        contentType: 'application/json',
      })
    } else {
      out.push({
        method: 'GET',
        path: pick(paths) + pick(['', '?' + randPath(50), '?a=1&a=2', '#x']),
      })
    }
  }
  return out
}

function send(agent: http.Agent, base: URL, req: Req): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {}
    if (req.contentType) headers['content-type'] = req.contentType
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body)
    const r = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path.replace(/ /g, '%20'),
        agent,
        headers,
      },
      (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode ?? 0))
        res.on('error', reject)
      },
    )
    r.on('error', reject)
    r.setTimeout(10_000, () => r.destroy(new Error('timeout')))
    if (req.body !== undefined) r.write(req.body)
    r.end()
  })
}

describe('[RPC]: fuzz', () => {
  let c: Ctx
  beforeAll(async () => {
    c = await startMock({ bodyLimit: BODY_LIMIT })
    c.backend.setContract(addr(0xcc), { exports: ['get'] })
  })
  afterAll(() => c.server.close())

  it(`answers ${N} malformed requests without a 5xx, and valid traffic keeps working`, async () => {
    const reqs = makeRequests(0xa17e0, N)
    const base = new URL(c.url)
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 })
    const counts = new Map<number, number>()
    const fivexx: string[] = []
    let resets = 0
    let next = 0
    const worker = async () => {
      while (next < reqs.length) {
        const req = reqs[next++]
        try {
          const status = await send(agent, base, req)
          counts.set(status, (counts.get(status) ?? 0) + 1)
          if (status >= 500)
            fivexx.push(
              `${status} ${req.method} ${req.path.slice(0, 80)} ${String(req.body ?? '').slice(0, 80)}`,
            )
        } catch (e) {
          // the server may close the connection right after answering 413 to an oversized body
          if (!req.oversized) throw new Error(`${req.method} ${req.path}: ${(e as Error).message}`)
          resets++
        }
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
    agent.destroy()
    expect(fivexx).toEqual([])
    expect(resets).toBeLessThan(N / 10)
    const total = [...counts.values()].reduce((a, b) => a + b, 0)
    expect(total + resets).toBe(N)
    // valid traffic still works after the storm
    const t = mockTransfer(1, 0n, addr(2), 1n)
    const sent = await c.client.sendTx({ tx: hex(t.bytes) })
    await c.backend.mine()
    expect((await c.client.getTx({ hash: sent.hash })).status).toBe('included')
    expect((await c.client.getHead()).height).toBe(1)
  }, 120_000)
})
