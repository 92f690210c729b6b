import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { WS_CLOSE_HEARTBEAT_TIMEOUT, WS_CLOSE_SLOW_CONSUMER } from '../src/params.js'
import { parseChannel } from '../src/ws.js'
import { addr, type Ctx, hex, mockTransfer, startMock } from './helpers.js'

/** A test WebSocket that records messages and lets tests await the next matching one. */
async function open(c: Ctx) {
  const ws = new WebSocket(c.url.replace('http', 'ws') + '/ws')
  const msgs: any[] = []
  const waiters: { pred: (m: any) => boolean; resolve: (m: any) => void }[] = []
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString())
    msgs.push(m)
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(m)
      }
  })
  await new Promise((r, j) => {
    ws.once('open', r)
    ws.once('error', j)
  })
  const next = (pred: (m: any) => boolean = () => true, ms = 3000) =>
    new Promise<any>((resolve, reject) => {
      const found = msgs.find(pred)
      if (found) {
        msgs.splice(msgs.indexOf(found), 1)
        return resolve(found)
      }
      const t = setTimeout(() => reject(new Error('timeout waiting for message')), ms)
      waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t)
          msgs.splice(msgs.indexOf(m), 1)
          resolve(m)
        },
      })
    })
  const send = (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m))
  return { ws, msgs, next, send }
}

describe('[WebSocket]: subscriptions', () => {
  let c: Ctx
  afterEach(async () => c?.server.close())

  it('validates channels', () => {
    expect(parseChannel('new_blocks')).toBe('new_blocks')
    expect(parseChannel(`tx_status:0x${'AB'.repeat(32)}`)).toBe(`tx_status:0x${'ab'.repeat(32)}`)
    expect(parseChannel('contract_logs:0x12')).toBeUndefined()
    expect(parseChannel(5)).toBeUndefined()
  })

  it('streams new_blocks, tx_status and contract_logs; unsubscribe stops them', async () => {
    c = await startMock()
    const s = await open(c)
    const t = mockTransfer(1, 0n, addr(2), 5n)
    c.backend.setAccount(t.sender, { balance: 10n })
    const sent = await c.client.sendTx({ tx: hex(t.bytes) })
    s.send({ op: 'subscribe', channel: 'new_blocks', id: 1 })
    expect(await s.next()).toEqual({ op: 'subscribed', channel: 'new_blocks', id: 1 })
    s.send({ op: 'subscribe', channel: `tx_status:${sent.hash}` })
    await s.next((m) => m.op === 'subscribed')
    expect((await s.next((m) => m.op === 'event')).data).toEqual({
      hash: sent.hash,
      status: 'pending',
    })
    s.send({ op: 'subscribe', channel: `contract_logs:${hex(addr(0xcc))}` })
    await s.next((m) => m.op === 'subscribed')
    await c.backend.mine({ logs: [{ address: addr(0xcc), topics: [], data: new Uint8Array([7]) }] })
    const nb = await s.next((m) => m.channel === 'new_blocks')
    expect(nb.data).toMatchObject({ height: 1, txCount: 1, transactions: [sent.hash] })
    const ts = await s.next((m) => m.channel?.startsWith('tx_status'))
    expect(ts.data).toMatchObject({ hash: sent.hash, status: 'included', blockHeight: 1 })
    expect(ts.data.receipt.status).toBe('Success')
    const lg = await s.next((m) => m.channel?.startsWith('contract_logs'))
    expect(lg.data).toMatchObject({
      address: hex(addr(0xcc)),
      data: '0x07',
      txHash: sent.hash,
      txIndex: 0,
      logIndex: 0,
    })
    s.send({ op: 'unsubscribe', channel: 'new_blocks', id: 'u' })
    expect(await s.next((m) => m.op === 'unsubscribed')).toEqual({
      op: 'unsubscribed',
      channel: 'new_blocks',
      id: 'u',
    })
    await c.backend.mine()
    s.send({ op: 'ping', id: 2 })
    expect(await s.next((m) => m.op === 'pong')).toEqual({ op: 'pong', id: 2 })
    expect(s.msgs.filter((m) => m.channel === 'new_blocks')).toEqual([])
    // pool events
    const other = `0x${'12'.repeat(32)}`
    s.send({ op: 'subscribe', channel: `tx_status:${other}` })
    expect((await s.next((m) => m.op === 'event' && m.data.hash === other)).data.status).toBe(
      'unknown',
    )
    c.backend.emitTxStatus({
      hash: new Uint8Array(32).fill(0x12),
      status: 'dropped',
      reason: 'evicted',
    })
    expect((await s.next((m) => m.op === 'event' && m.data.hash === other)).data).toEqual({
      hash: other,
      status: 'dropped',
      reason: 'evicted',
    })
    s.ws.close()
  })

  it('tells the subscriber the status of an already included or failed tx', async () => {
    c = await startMock()
    const t = mockTransfer(1, 0n, addr(2), 5n)
    const sent = await c.client.sendTx({ tx: hex(t.bytes) })
    await c.backend.mine({ fail: new Set([sent.hash]) })
    const s = await open(c)
    s.send({ op: 'subscribe', channel: `tx_status:${sent.hash}` })
    expect((await s.next((m) => m.op === 'event')).data).toMatchObject({
      status: 'failed',
      blockHeight: 1,
    })
    s.ws.close()
  })

  it('answers bad messages with coded errors', async () => {
    c = await startMock({ ws: { maxSubscriptions: 2 } })
    const s = await open(c)
    const cases: [unknown, string][] = [
      ['not json', 'ERR_BAD_JSON'],
      ['[1]', 'ERR_BAD_MESSAGE'],
      [{ op: 'dance' }, 'ERR_BAD_MESSAGE'],
      [{ op: 'subscribe', channel: 'everything' }, 'ERR_BAD_CHANNEL'],
      [{ op: 'subscribe', channel: 'new_blocks', fromHeight: -1 }, 'ERR_BAD_MESSAGE'],
      [
        { op: 'subscribe', channel: `contract_logs:${hex(addr(1))}`, fromHeight: 1 },
        'ERR_BAD_MESSAGE',
      ],
    ]
    for (const [m, code] of cases) {
      s.send(m)
      expect((await s.next()).error.code, JSON.stringify(m)).toBe(code)
    }
    s.ws.send(Buffer.from([1, 2, 3]), { binary: true })
    expect((await s.next()).error.code).toBe('ERR_BAD_MESSAGE')
    s.send({ op: 'subscribe', channel: 'new_blocks' })
    s.send({ op: 'subscribe', channel: `contract_logs:${hex(addr(1))}` })
    s.send({ op: 'subscribe', channel: `contract_logs:${hex(addr(2))}`, id: 9 })
    const err = await s.next((m) => m.op === 'error')
    expect(err).toMatchObject({ id: 9, error: { code: 'ERR_TOO_MANY_SUBSCRIPTIONS' } })
    // resubscribing to a channel already held is fine at the limit
    s.send({ op: 'subscribe', channel: 'new_blocks', id: 10 })
    expect(await s.next((m) => m.id === 10)).toMatchObject({ op: 'subscribed' })
    s.ws.close()
  })

  it('backfills new_blocks from fromHeight, then streams live without gaps or duplicates', async () => {
    c = await startMock({ ws: { maxBackfill: 5 } })
    for (let i = 0; i < 4; i++) await c.backend.mine()
    const s = await open(c)
    s.send({ op: 'subscribe', channel: 'new_blocks', fromHeight: 2 })
    // a block arrives while the backfill may still be running
    await c.backend.mine()
    const heights: number[] = []
    for (let i = 0; i < 4; i++) heights.push((await s.next((m) => m.op === 'event')).data.height)
    expect(heights).toEqual([2, 3, 4, 5])
    await c.backend.mine()
    expect((await s.next((m) => m.op === 'event')).data.height).toBe(6)
    s.send({ op: 'subscribe', channel: 'new_blocks', fromHeight: 0, id: 'far' })
    expect((await s.next((m) => m.id === 'far')).error.code).toBe('ERR_BACKFILL_TOO_LARGE')
    s.ws.close()
  })

  it('closes a slow consumer with 4008 instead of buffering', async () => {
    c = await startMock({ ws: { maxBufferedBytes: 2000 } })
    const s = await open(c)
    s.send({ op: 'subscribe', channel: 'new_blocks' })
    await s.next()
    // stop reading: pause the underlying socket so the server's queue grows
    ;(s.ws as any)._socket.pause()
    const closed = new Promise<number>((r) => s.ws.once('close', (code) => r(code)))
    // one real block, then large events until the kernel buffers are full and ws starts queueing
    await c.backend.mine()
    const big = 'x'.repeat(256 * 1024)
    for (let i = 0; i < 400 && c.server.hub.size > 0; i++) {
      c.server.hub.publish('new_blocks', big)
      await new Promise((r) => setTimeout(r, 1))
    }
    expect(c.server.hub.size).toBe(0)
    ;(s.ws as any)._socket.resume()
    expect(await closed).toBe(WS_CLOSE_SLOW_CONSUMER)
  })

  it('closes connections that miss the heartbeat, keeps those that answer', async () => {
    c = await startMock({ ws: { heartbeatMs: 60 } })
    const good = await open(c)
    const bad = await open(c)
    ;(bad.ws as any).pong = () => {}
    // ws answers pings automatically; make "bad" unable to answer
    ;(bad.ws as any)._receiver.removeAllListeners('ping')
    const code = await new Promise<number>((r) => bad.ws.once('close', (c2) => r(c2)))
    expect(code).toBe(WS_CLOSE_HEARTBEAT_TIMEOUT)
    expect(good.ws.readyState).toBe(WebSocket.OPEN)
    good.ws.close()
  })

  it('drops messages of a client that floods the socket', async () => {
    c = await startMock()
    const s = await open(c)
    for (let i = 0; i < 150; i++) s.send({ op: 'ping', id: i })
    await expect.poll(() => s.msgs.length).toBe(150)
    const limited = s.msgs.filter((m) => m.op === 'error' && m.error.code === 'ERR_RATE_LIMITED')
    expect(limited.length).toBeGreaterThanOrEqual(40)
    expect(s.msgs.filter((m) => m.op === 'pong').length).toBeGreaterThanOrEqual(100)
    s.ws.close()
  })

  it('refuses connections above maxConnections with 1013', async () => {
    c = await startMock({ ws: { maxConnections: 1 } })
    const a = await open(c)
    const b = new WebSocket(c.url.replace('http', 'ws') + '/ws')
    const code = await new Promise<number>((r) => b.once('close', (x) => r(x)))
    expect(code).toBe(1013)
    a.ws.close()
  })
})

describe('[Client]: subscribe()', () => {
  it('reconnects after a drop and backfills what it missed', async () => {
    const c = await startMock()
    const port = Number(new URL(c.url).port)
    await c.backend.mine()
    const got: number[] = []
    const errors: string[] = []
    let subscribed = 0
    const sub = c.client.subscribe<{ height: number }>('new_blocks', (b) => got.push(b.height), {
      fromHeight: 1,
      minDelayMs: 20,
      onError: (e) => errors.push(e.code),
      onSubscribed: () => subscribed++,
    })
    await sub.ready
    await c.backend.mine()
    await expect.poll(() => got).toEqual([1, 2])
    // restart the server on the same port with the same chain; blocks made while down are backfilled
    await c.server.close()
    await c.backend.mine()
    await c.backend.mine()
    const { createRPCServer } = await import('../src/server.js')
    const again = await createRPCServer({ backend: c.backend, port, rateLimit: false })
    await again.listen()
    try {
      await expect.poll(() => got, { timeout: 5000 }).toEqual([1, 2, 3, 4])
      await c.backend.mine()
      await expect.poll(() => got).toEqual([1, 2, 3, 4, 5])
      expect(subscribed).toBeGreaterThanOrEqual(2)
      expect(errors).toContain('ERR_NETWORK')
    } finally {
      sub.close()
      await again.close()
    }
  })

  it('reports server errors and can stay down', async () => {
    const c = await startMock()
    const errs: string[] = []
    const sub = c.client.subscribe('bogus', () => {}, {
      reconnect: false,
      onError: (e) => errs.push(e.code),
    })
    await expect.poll(() => errs).toContain('ERR_BAD_CHANNEL')
    sub.close()
    await c.server.close()
  })
})
