import { afterEach, describe, expect, it } from 'vitest'
import { createP2PNode, P2PErrorCode, type P2PNode, peerIdFromSecretKey } from '../src/index.js'
import { eventually, GENESIS, memoryLogger, nodeFactory, OTHER_GENESIS } from './helpers.js'

const f = nodeFactory()
afterEach(() => f.stopAll())

const bytes = (...xs: number[]) => Uint8Array.from(xs)

async function connect(a: P2PNode, b: P2PNode): Promise<void> {
  const id = await a.dial(b.addresses()[0])
  expect(id).toBe(b.peerId)
  await eventually(() => b.peers().includes(a.peerId))
}

describe('[P2PNode]: gossip', () => {
  it('two nodes gossip transactions both ways', async () => {
    const a = await f.make()
    const b = await f.make()
    await connect(a, b)
    expect(a.peers()).toEqual([b.peerId])
    await a.waitForPeers(1, { topic: 'transactions' })
    await b.waitForPeers(1, { topic: 'transactions' })
    const gotB: [Uint8Array, string][] = []
    const gotA: [Uint8Array, string][] = []
    b.subscribe('transactions', (d, from) => gotB.push([d, from]))
    a.subscribe('transactions', (d, from) => gotA.push([d, from]))
    expect(await a.publish('transactions', bytes(1, 2, 3))).toBe(1)
    await b.publish('transactions', bytes(4))
    await eventually(() => gotB.length === 1 && gotA.length === 1)
    expect(gotB[0]).toEqual([bytes(1, 2, 3), a.peerId])
    expect(gotA[0]).toEqual([bytes(4), b.peerId])
    expect(b.stats().gossipReceived).toBe(1)
  })

  it('three nodes in a line relay blocks to the far end', async () => {
    const [a, b, c] = [await f.make(), await f.make(), await f.make()]
    await connect(a, b)
    await connect(c, b)
    expect(a.peers()).not.toContain(c.peerId)
    await b.waitForPeers(2, { topic: 'blocks' })
    await a.waitForPeers(1, { topic: 'blocks' })
    await c.waitForPeers(1, { topic: 'blocks' })
    const got: string[] = []
    c.subscribe('blocks', (_d, from) => got.push(from))
    b.subscribe('blocks', (_d, from) => got.push(`b:${from}`))
    // the mesh forms at gossipsub's heartbeat; publish until the relay reaches c
    let i = 0
    await eventually(() => {
      void a.publish('blocks', bytes(9, i++ & 0xff)).catch(() => {})
      return got.includes(a.peerId)
    }, 10_000)
    expect(got).toContain(`b:${a.peerId}`)
  })

  it('a topic validator decides delivery', async () => {
    const a = await f.make()
    const b = await f.make()
    await connect(a, b)
    await a.waitForPeers(1, { topic: 'transactions' })
    b.setValidator('transactions', (d) => (d[0] === 0 ? 'ignore' : 'accept'))
    const got: number[] = []
    b.subscribe('transactions', (d) => got.push(d[0]))
    await a.publish('transactions', bytes(0))
    await a.publish('transactions', bytes(7))
    await eventually(() => got.length === 1)
    expect(got).toEqual([7])
    expect(b.stats().gossipIgnored).toBeGreaterThanOrEqual(1)
    b.setValidator('transactions', undefined)
  })

  it('refuses to publish oversized messages and unknown kinds', async () => {
    const a = await f.make({ limits: { maxMessageBytes: { transactions: 4 } as never } })
    await expect(a.publish('transactions', new Uint8Array(5))).rejects.toMatchObject({
      code: P2PErrorCode.MESSAGE_TOO_LARGE,
    })
    await expect(a.publish('nope' as never, new Uint8Array(1))).rejects.toMatchObject({
      code: P2PErrorCode.INVALID_OPTIONS,
    })
    expect(() => a.subscribe('nope' as never, () => {})).toThrow(/unknown gossip kind/)
  })
  it('stays connected through a burst of gossip', async () => {
    const a = await f.make({ limits: { gossipRate: { perSecond: 1e6, burst: 1e6 } } })
    const b = await f.make({ limits: { gossipRate: { perSecond: 1e6, burst: 1e6 } } })
    await connect(a, b)
    await a.waitForPeers(1, { topic: 'transactions' })
    let got = 0
    b.subscribe('transactions', () => got++)
    const sends: Promise<number>[] = []
    for (let i = 0; i < 300; i++)
      sends.push(a.publish('transactions', Uint8Array.of(i >> 8, i & 255, 1)))
    await Promise.all(sends)
    await eventually(() => got >= 290, 20_000)
    expect(a.peers()).toEqual([b.peerId])
  })
})

describe('[P2PNode]: status handshake', () => {
  it('disconnects a peer on another chain id with a logged reason', async () => {
    const logA = memoryLogger()
    const logB = memoryLogger()
    const a = await f.make({ logger: logA })
    const b = await f.make({ chainId: 2n, logger: logB })
    await expect(a.dial(b.addresses()[0])).rejects.toMatchObject({
      code: P2PErrorCode.WRONG_CHAIN,
    })
    await eventually(() => a.listPeers().length === 0 && b.listPeers().length === 0)
    expect(a.peers()).toEqual([])
    expect(b.peers()).toEqual([])
    const line = logA.lines.find((l) => l.level === 'warn' && /another chain/.test(l.msg ?? ''))
    expect(JSON.stringify(line?.obj, (_k, v) => (typeof v === 'bigint' ? `${v}` : v))).toMatch(
      /chain id 2 differs from ours \(1\)/,
    )
    await eventually(() =>
      logB.lines.some((l) => /chain id 1 differs from ours \(2\)/.test(JSON.stringify(l.obj))),
    )
    expect(a.stats().wrongChainDisconnects).toBe(1)
    expect(a.bans().map((x) => x.id)).toEqual([b.peerId])
  })

  it('disconnects a peer with another genesis', async () => {
    const a = await f.make()
    const b = await f.make({ genesisHash: OTHER_GENESIS })
    await expect(a.dial(b.addresses()[0])).rejects.toThrow(/genesis 0x[0-9a-f]{64} differs/)
    await eventually(() => a.listPeers().length === 0)
  })

  it('exchanges heads and lists peers', async () => {
    let height = 5n
    const head = () => ({ height, hash: new Uint8Array(32).fill(Number(height)) })
    const a = await f.make({ head })
    const b = await f.make()
    const readyOnB: bigint[] = []
    b.on('peer:ready', (_p, s) => readyOnB.push(s.headHeight))
    await connect(a, b)
    const info = b.listPeers()
    expect(info).toHaveLength(1)
    expect(info[0]).toMatchObject({ id: a.peerId, ready: true, score: 0 })
    expect(info[0].status?.headHeight).toBe(5n)
    expect(info[0].addresses[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\//)
    expect(readyOnB).toContain(5n)
    height = 9n
    const s = await b.requestStatus(a.peerId)
    expect(s.headHeight).toBe(9n)
    expect(s.headHash).toEqual(new Uint8Array(32).fill(9))
    expect(a.listPeers()[0].status?.headHeight).toBe(0n)
  })

  it('dials bootstrap peers at start and reports disconnects', async () => {
    const a = await f.make()
    const b = await f.make({ bootstrap: [a.addresses()[0]], bootstrapIntervalMs: 200 })
    await eventually(() => b.peers().includes(a.peerId) && a.peers().includes(b.peerId))
    const gone: string[] = []
    a.on('peer:disconnect', (p) => gone.push(p))
    await a.hangUp(b.peerId)
    await eventually(() => gone.includes(b.peerId))
    // the bootstrap loop dials again
    await eventually(() => b.peers().includes(a.peerId), 5000)
  })

  it('fails to dial an address nobody listens on', async () => {
    const a = await f.make()
    await expect(a.dial('/ip4/127.0.0.1/tcp/1')).rejects.toMatchObject({
      code: P2PErrorCode.DIAL_FAILED,
    })
  })
})

describe('[P2PNode]: request/response', () => {
  it('serves a generic protocol (snapshot chunks)', async () => {
    const a = await f.make()
    const b = await f.make()
    const stop = await b.handle('snapshot-chunk', (req, from) => {
      expect(from).toBe(a.peerId)
      if (req[0] === 0xff) throw new Error('no such chunk')
      return new Uint8Array(1000).fill(req[0])
    })
    await connect(a, b)
    expect(await a.request(b.peerId, 'snapshot-chunk', bytes(3))).toEqual(
      new Uint8Array(1000).fill(3),
    )
    await expect(a.request(b.peerId, 'snapshot-chunk', bytes(0xff))).rejects.toMatchObject({
      code: P2PErrorCode.REMOTE_ERROR,
      message: expect.stringMatching(/no such chunk/),
    })
    await expect(
      a.request(b.peerId, 'snapshot-chunk', bytes(1), { maxResponseBytes: 10 }),
    ).rejects.toMatchObject({ code: P2PErrorCode.MESSAGE_TOO_LARGE })
    await stop()
    await expect(a.request(b.peerId, 'snapshot-chunk', bytes(1))).rejects.toMatchObject({
      code: P2PErrorCode.UNKNOWN_PROTOCOL,
    })
    await expect(a.request(b.peerId, 'Bad Name', bytes(1))).rejects.toMatchObject({
      code: P2PErrorCode.INVALID_OPTIONS,
    })
    expect(b.stats().requestsServed).toBeGreaterThanOrEqual(1)
  })

  it('times out a slow handler and rejects unknown peers', async () => {
    const a = await f.make()
    const b = await f.make()
    await b.handle('slow', () => new Promise((r) => setTimeout(() => r(bytes(1)), 2000)))
    await connect(a, b)
    await expect(a.request(b.peerId, 'slow', bytes(1), { timeoutMs: 200 })).rejects.toMatchObject({
      code: P2PErrorCode.TIMEOUT,
    })
    await expect(a.request('not-a-peer', 'slow', bytes(1))).rejects.toMatchObject({
      code: P2PErrorCode.NOT_CONNECTED,
    })
  })
})

describe('[P2PNode]: options', () => {
  it('derives a stable peer id from secretKey and refuses bad options', async () => {
    const seed = new Uint8Array(32).fill(7)
    const a = await f.make({ secretKey: seed })
    expect(a.peerId).toBe(await peerIdFromSecretKey(seed))
    expect(a.started).toBe(true)
    expect(a.libp2p.peerId.toString()).toBe(a.peerId)
    await expect(f.make({ chainId: -1n })).rejects.toMatchObject({
      code: P2PErrorCode.INVALID_OPTIONS,
    })
    await expect(f.make({ genesisHash: new Uint8Array(3) })).rejects.toThrow(/32 bytes/)
    await expect(f.make({ secretKey: new Uint8Array(5) })).rejects.toThrow(/32-byte/)
    const idle = await createP2PNode({
      chainId: 1n,
      genesisHash: GENESIS,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      start: false,
    })
    expect(idle.started).toBe(false)
    await expect(idle.publish('blocks', bytes(1))).rejects.toMatchObject({
      code: P2PErrorCode.STOPPED,
    })
    await idle.stop()
  })
})
