import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRPCError, RPCError } from '../src/errors.js'
import { MockRPCBackend } from '../src/mock.js'
import { openAPIDocument } from '../src/openapi.js'
import { routes } from '../src/routes.js'
import { addr, type Ctx, hex, mockTransfer, startMock } from './helpers.js'

const contract = addr(0xcc)

async function raw(
  c: Ctx,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
) {
  const res = await fetch(c.url + path, {
    method,
    body,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
  })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  return { status: res.status, json, headers: res.headers }
}

describe('[RPC]: every route through server and client', () => {
  let c: Ctx
  let txHash: string
  let failedHash: string
  beforeAll(async () => {
    c = await startMock()
    const b = c.backend
    b.validators = {
      epoch: 3n,
      totalStake: 10n,
      validators: [
        {
          address: addr(9),
          publicKey: new Uint8Array(32).fill(1),
          blsPublicKey: new Uint8Array(48).fill(2),
          stake: 10n,
        },
      ],
    }
    b.peers = [
      {
        id: '12D3KooWpeer',
        addresses: ['/ip4/127.0.0.1/tcp/1'],
        direction: 'outbound',
        latencyMs: 3,
      },
    ]
    b.setContract(
      contract,
      {
        exports: ['get', 'set'],
        deployer: addr(1),
        deployHeight: 1n,
        deployTx: new Uint8Array(32).fill(5),
        balance: 7n,
      },
      [[new Uint8Array([1, 2]), new Uint8Array([9, 9])]],
    )
    const t1 = mockTransfer(1, 0n, addr(2), 5n)
    const t2 = mockTransfer(1, 1n, addr(2), 1n)
    b.setAccount(t1.sender, { balance: 100n, unbonding: [{ amount: 3n, releaseHeight: 50n }] })
    txHash = (await c.client.sendTx({ tx: hex(t1.bytes) })).hash
    failedHash = (await c.client.sendTx({ tx: hex(t2.bytes) })).hash
    await b.mine({
      fail: new Set([failedHash]),
      logs: [
        { address: contract, topics: [new Uint8Array(32).fill(1)], data: new Uint8Array([1]) },
      ],
    })
  })
  afterAll(() => c.server.close())

  it('GET /chain/head', async () => {
    const h = await c.client.getHead()
    expect(h).toMatchObject({ height: 1, chainId: '1', gasUsed: '42000', consensus: '0x' })
    expect(h.hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(h).not.toHaveProperty('transactions')
  })

  it('GET /block/{height|hash} with hashes or full txs', async () => {
    const b = await c.client.getBlock({ id: 1 })
    expect(b.txCount).toBe(2)
    expect(b.transactions).toEqual([txHash, failedHash])
    const byHash = await c.client.getBlock({ id: b.hash, txs: 'full' })
    expect(byHash.height).toBe(1)
    expect((byHash.transactions[0] as any).kind).toBe('transfer')
    expect((byHash.transactions[0] as any).amount).toBe('5')
    const upper = await c.client.getBlock({ id: b.hash.toUpperCase().replace('0X', '0x') })
    expect(upper.hash).toBe(b.hash)
    const g = await c.client.getBlock({ id: '0' })
    expect(g.parentHash).toBe('0x' + '00'.repeat(32))
  })

  it('GET /block errors: unknown height/hash 404, bad id 400, huge height 400', async () => {
    await expect(c.client.getBlock({ id: 99 })).rejects.toMatchObject({
      status: 404,
      code: 'ERR_NOT_FOUND',
    })
    await expect(c.client.getBlock({ id: '0x' + 'ab'.repeat(32) })).rejects.toMatchObject({
      status: 404,
    })
    for (const id of ['-1', '01', '0x12', 'abc', '1.5', '99999999999999999999999']) {
      const r = await raw(c, 'GET', `/block/${id}`)
      expect(r.status, id).toBe(400)
      expect(r.json.error.code).toMatch(/^ERR_BAD_/)
    }
    const huge = await raw(c, 'GET', '/block/99999999999999999999')
    expect(huge.status).toBe(400)
    expect(huge.json.error.code).toBe('ERR_BAD_HEIGHT')
    expect((await raw(c, 'GET', '/block/1?txs=everything')).status).toBe(400)
  })

  it('GET /tx/{hash}: included, failed with receipt, pending, 404', async () => {
    const t = await c.client.getTx({ hash: txHash })
    expect(t).toMatchObject({ status: 'included', blockHeight: 1, index: 0 })
    expect(t.receipt?.status).toBe('Success')
    expect(t.receipt?.logs[0].address).toBe(hex(contract))
    const f = await c.client.getTx({ hash: failedHash })
    expect(f.status).toBe('failed')
    expect(f.receipt?.error).toEqual({ code: 'ERR_REVERTED', message: 'mock failure' })
    const p = mockTransfer(1, 2n, addr(2), 1n)
    const sent = await c.client.sendTx({ tx: hex(p.bytes) })
    expect((await c.client.getTx({ hash: sent.hash })).status).toBe('pending')
    await expect(c.client.getTx({ hash: '0x' + '11'.repeat(32) })).rejects.toMatchObject({
      status: 404,
    })
    expect((await raw(c, 'GET', '/tx/0x1234')).status).toBe(400)
  })

  it("POST /tx/send: hash, or the pool's coded refusal", async () => {
    const stale = mockTransfer(1, 0n, addr(2), 1n)
    const err = await c.client.sendTx({ tx: hex(stale.bytes) }).catch((e) => e)
    expect(isRPCError(err)).toBe(true)
    expect(err).toMatchObject({ status: 400, code: 'ERR_NONCE_TOO_LOW' })
    expect(err.details).toEqual({ expected: '2' })
    await expect(c.client.sendTx({ tx: '0x00ff' })).rejects.toMatchObject({ code: 'ERR_DECODE' })
    const wrong = mockTransfer(1, 5n, addr(2), 1n, 9n)
    await expect(c.client.sendTx({ tx: hex(wrong.bytes) })).rejects.toMatchObject({
      code: 'ERR_WRONG_CHAIN_ID',
    })
    const bad = await raw(c, 'POST', '/tx/send', JSON.stringify({ tx: '0xzz' }))
    expect(bad.status).toBe(400)
    expect(
      (await raw(c, 'POST', '/tx/send', JSON.stringify({ tx: '0x00', extra: 1 }))).status,
    ).toBe(400)
    expect((await raw(c, 'POST', '/tx/send', '{bad json')).json.error.code).toBe('ERR_BAD_JSON')
    expect(
      (await raw(c, 'POST', '/tx/send', '<x/>', { 'content-type': 'application/xml' })).status,
    ).toBe(415)
  })

  it('GET /account/{address} and /proof', async () => {
    const a = await c.client.getAccount({ address: hex(addr(2)) })
    expect(a).toMatchObject({ balance: '5', nonce: '0', stake: '0', isContract: false })
    const sender = mockTransfer(1, 0n, addr(2), 5n).sender
    const s = await c.client.getAccount({ address: hex(sender) })
    expect(s.unbonding).toEqual([{ amount: '3', releaseHeight: 50 }])
    expect((await c.client.getAccount({ address: hex(contract) })).isContract).toBe(true)
    const p = await c.client.getAccountProof({ address: hex(addr(2)) })
    expect(p).toMatchObject({ height: 1, exists: true, address: hex(addr(2)) })
    expect(p.proof.length).toBe(1)
    const none = await c.client.getAccountProof({ address: hex(addr(0x77)) })
    expect(none.exists).toBe(false)
    for (const bad of ['0x12', 'zz', '0x' + 'g'.repeat(40), '0x' + '1'.repeat(42)]) {
      const r = await raw(c, 'GET', `/account/${bad}`)
      expect(r.status, bad).toBe(400)
    }
  })

  it('POST /contract/deploy returns hash and address; other kinds refused', async () => {
    const { tx } = mockTransfer(1, 3n, addr(2), 1n)
    const deploy = {
      ...tx,
      kind: 1,
      code: new Uint8Array([0, 97, 115, 109]),
      args: new Uint8Array(),
      value: 0n,
    } as any
    delete deploy.to
    delete deploy.amount
    const { encodeMockTransaction } = await import('../src/mock.js')
    const r = await c.client.deployContract({ tx: hex(encodeMockTransaction(deploy)) })
    expect(r.status).toBe('pending')
    expect(r.contractAddress).toBe(
      hex(c.backend.contractAddress(mockTransfer(1, 0n, addr(2), 1n).sender, 3n)),
    )
    const t = mockTransfer(1, 4n, addr(2), 1n)
    await expect(c.client.deployContract({ tx: hex(t.bytes) })).rejects.toMatchObject({
      code: 'ERR_WRONG_TX_KIND',
    })
  })

  it('POST /contract/call simulates without state change', async () => {
    const r = await c.client.callContract({
      contract: hex(contract),
      function: 'get',
      args: '0x0102',
      value: '0',
    })
    expect(r).toMatchObject({ status: 'Success', gasUsed: '100', output: '0x0102', logs: [] })
    await expect(
      c.client.callContract({ contract: hex(addr(0x44)), function: 'get' }),
    ).rejects.toMatchObject({ status: 404 })
    const bad = await raw(c, 'POST', '/contract/call', JSON.stringify({ contract: hex(contract) }))
    expect(bad.status).toBe(400)
    const big = await raw(
      c,
      'POST',
      '/contract/call',
      JSON.stringify({ contract: hex(contract), function: 'f', value: '9'.repeat(39) }),
    )
    expect(big.json.error.code).toBe('ERR_BAD_AMOUNT')
  })

  it('GET /contract/{address} and /storage/{key}', async () => {
    const info = await c.client.getContract({ address: hex(contract) })
    expect(info).toMatchObject({
      exports: ['get', 'set'],
      deployer: hex(addr(1)),
      deployHeight: 1,
      balance: '7',
    })
    await expect(c.client.getContract({ address: hex(addr(0x45)) })).rejects.toMatchObject({
      status: 404,
    })
    expect(await c.client.getContractStorage({ address: hex(contract), key: '0x0102' })).toEqual({
      address: hex(contract),
      key: '0x0102',
      value: '0x0909',
    })
    expect(
      (await c.client.getContractStorage({ address: hex(contract), key: '0x03' })).value,
    ).toBeNull()
    await expect(
      c.client.getContractStorage({ address: hex(addr(0x45)), key: '0x03' }),
    ).rejects.toMatchObject({ status: 404 })
    expect(
      (await raw(c, 'GET', `/contract/${hex(contract)}/storage/0x${'00'.repeat(129)}`)).status,
    ).toBe(400)
  })

  it('POST /tx/estimate', async () => {
    expect(
      await c.client.estimateTx({
        from: hex(addr(1)),
        kind: 'transfer',
        to: hex(addr(2)),
        amount: '1',
      }),
    ).toEqual({
      gas: '21000',
      status: 'Success',
    })
    expect(
      (await c.client.estimateTx({ from: hex(addr(1)), kind: 1, code: '0x0061736d' })).gas,
    ).toBe('53064')
    expect(
      (await raw(c, 'POST', '/tx/estimate', JSON.stringify({ from: hex(addr(1)), kind: 'mint' })))
        .status,
    ).toBe(400)
  })

  it('GET /validators, /peers, /health', async () => {
    const v = await c.client.getValidators()
    expect(v).toMatchObject({ epoch: 3, totalStake: '10' })
    expect(v.validators[0].address).toBe(hex(addr(9)))
    expect(await c.client.getPeers()).toEqual({ count: 1, peers: c.backend.peers })
    const h = await c.client.getHealth()
    expect(h).toMatchObject({ ok: true, syncing: false, peers: 1, height: 1, chainId: '1' })
    c.backend.health = { ok: false, syncing: true, peers: 0, details: { reason: 'store closed' } }
    const r = await raw(c, 'GET', '/health')
    expect(r.status).toBe(503)
    expect(r.json.details).toEqual({ reason: 'store closed' })
    expect((await c.client.getHealth()).ok).toBe(false)
    c.backend.health = { ok: true, syncing: false, peers: 0 }
  })

  it('unknown routes and methods get a coded 404; /ws without upgrade 426', async () => {
    const r = await raw(c, 'GET', '/nope')
    expect(r).toMatchObject({ status: 404, json: { error: { code: 'ERR_NOT_FOUND' } } })
    expect((await raw(c, 'DELETE', '/chain/head')).status).toBe(404)
    expect((await raw(c, 'GET', '/ws')).status).toBe(426)
    expect((await raw(c, 'GET', '/block/%zz')).status).toBe(400)
  })

  it('serves the OpenAPI document of every route', async () => {
    const r = await raw(c, 'GET', '/openapi.json')
    expect(r.status).toBe(200)
    expect(r.json).toEqual(JSON.parse(JSON.stringify(openAPIDocument())))
    const ops = Object.values(r.json.paths).flatMap((p: any) =>
      Object.values(p).map((o: any) => o.operationId),
    )
    expect(ops.sort()).toEqual(Object.keys(routes).sort())
    expect(r.json.paths['/block/{id}'].get.parameters[0]).toMatchObject({ name: 'id', in: 'path' })
  })

  it('serves the explorer with CORS headers', async () => {
    const r = await fetch(c.url + '/', { headers: { origin: 'http://example.com' } })
    expect(r.headers.get('content-type')).toContain('text/html')
    expect(r.headers.get('access-control-allow-origin')).toBe('*')
    expect(await r.text()).toContain('Aureon explorer')
  })

  it('client reports network errors and missing args', async () => {
    const { createClient } = await import('../src/client.js')
    const dead = createClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 })
    await expect(dead.getHead()).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    await expect(c.client.getBlock({} as any)).rejects.toBeInstanceOf(RPCError)
    const text = createClient({
      url: c.url,
      fetch: (async () => new Response('not json', { status: 200 })) as any,
    })
    await expect(text.getHead()).rejects.toMatchObject({ code: 'ERR_BAD_RESPONSE' })
  })
})

describe('[RPC]: bounds', () => {
  it('rate limits per IP with 429 and Retry-After', async () => {
    const c = await startMock({ rateLimit: { perSecond: 1, burst: 3 } })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await raw(c, 'GET', '/chain/head')).status)
      expect(statuses).toEqual([200, 200, 200, 429, 429])
      const r = await raw(c, 'GET', '/chain/head')
      expect(r.json.error.code).toBe('ERR_RATE_LIMITED')
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    } finally {
      await c.server.close()
    }
  })

  it('limits the body size with 413', async () => {
    const c = await startMock({ bodyLimit: 1024 })
    try {
      const r = await raw(c, 'POST', '/tx/send', JSON.stringify({ tx: '0x' + '00'.repeat(2000) }))
      expect(r.status).toBe(413)
      expect(r.json.error.code).toBe('ERR_BODY_TOO_LARGE')
    } finally {
      await c.server.close()
    }
  })

  it('times out a slow backend with 503 ERR_TIMEOUT', async () => {
    const backend = new MockRPCBackend()
    const c = await startMock({ handlerTimeoutMs: 50 }, backend)
    try {
      backend.delayMs = 300
      const r = await raw(c, 'GET', '/chain/head')
      expect(r.status).toBe(503)
      expect(r.json.error.code).toBe('ERR_TIMEOUT')
    } finally {
      backend.delayMs = 0
      await c.server.close()
    }
  })

  it('maps internal backend errors to 500 without leaking them, and restricts CORS', async () => {
    const backend = new MockRPCBackend()
    const logged: unknown[] = []
    const c = await startMock(
      {
        cors: ['http://ok.example'],
        logger: { info() {}, warn() {}, error: (o) => logged.push(o) },
      },
      backend,
    )
    try {
      backend.getPeers = async () => {
        throw new Error('disk on fire')
      }
      const r = await raw(c, 'GET', '/peers')
      expect(r.status).toBe(500)
      expect(r.json.error).toEqual({
        code: 'ERR_INTERNAL',
        message: 'internal error; see the node log',
      })
      expect(logged.length).toBe(1)
      // Node's own coded errors and internal ledger codes are bugs, not refusals
      backend.getPeers = async () => {
        throw Object.assign(new TypeError('bad arg'), { code: 'ERR_INVALID_ARG_TYPE' })
      }
      expect((await raw(c, 'GET', '/peers')).status).toBe(500)
      backend.getPeers = async () => {
        throw Object.assign(new Error('locked'), { code: 'ERR_STORE_LOCKED' })
      }
      expect((await raw(c, 'GET', '/peers')).status).toBe(500)
      backend.getPeers = async () => {
        throw Object.assign(new Error('refused'), {
          name: 'LedgerError',
          code: 'ERR_POOL_FULL',
          details: { max: 1 },
        })
      }
      expect((await raw(c, 'GET', '/peers')).json).toEqual({
        error: { code: 'ERR_POOL_FULL', message: 'refused', details: { max: 1 } },
      })
      const good = await fetch(c.url + '/chain/head', { headers: { origin: 'http://ok.example' } })
      expect(good.headers.get('access-control-allow-origin')).toBe('http://ok.example')
      const other = await fetch(c.url + '/chain/head', {
        headers: { origin: 'http://evil.example' },
      })
      expect(other.headers.get('access-control-allow-origin')).toBeNull()
    } finally {
      await c.server.close()
    }
  })

  it('binds 127.0.0.1 by default, reports metrics, and closes in bounded time', async () => {
    const seen: [string, number][] = []
    let conns = -1
    const c = await startMock({
      metrics: { request: (r, s) => seen.push([r, s]), wsConnections: (n) => (conns = n) },
    })
    expect(c.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    await c.client.getHead()
    await raw(c, 'GET', '/nowhere')
    expect(seen).toContainEqual(['getHead', 200])
    expect(seen).toContainEqual(['unknown', 404])
    const { default: WebSocket } = await import('ws')
    const ws = new WebSocket(c.url.replace('http', 'ws') + '/ws')
    await new Promise((r) => ws.once('open', r))
    await new Promise((r) => setTimeout(r, 20))
    expect(conns).toBe(1)
    const t0 = Date.now()
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)))
    await c.server.close()
    expect(await closed).toBe(1001)
    expect(Date.now() - t0).toBeLessThan(3000)
  })
})
