import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startMock } from './helpers.js'

describe('[WebSocket]: idle connections', () => {
  it('outlive the HTTP request timeout', async () => {
    const c = await startMock({ requestTimeoutMs: 300, ws: { heartbeatMs: 0 } })
    const ws = new WebSocket(c.url.replace('http', 'ws') + '/ws')
    await new Promise((r) => ws.once('open', r))
    let closed = false
    ws.once('close', () => {
      closed = true
    })
    await new Promise((r) => setTimeout(r, 1200))
    expect(closed).toBe(false)
    ws.send(JSON.stringify({ op: 'ping' }))
    const m = await new Promise((r) => ws.once('message', (d) => r(JSON.parse(d.toString()))))
    expect(m).toEqual({ op: 'pong' })
    ws.close()
    await c.server.close()
  })
})
