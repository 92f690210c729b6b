import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { afterEach, describe, expect, it } from 'vitest'
import { defaultScoringOptions, P2PErrorCode, PeerScores, RateLimiter } from '../src/index.js'
import { eventually, link, nodeFactory } from './helpers.js'

describe('[RateLimiter]: token bucket', () => {
  it('allows a burst, then refills at the rate', () => {
    let t = 0
    const rl = new RateLimiter({ perSecond: 2, burst: 3 }, () => t)
    expect([rl.take('p'), rl.take('p'), rl.take('p'), rl.take('p')]).toEqual([
      true,
      true,
      true,
      false,
    ])
    t += 500
    expect(rl.take('p')).toBe(true)
    expect(rl.take('p')).toBe(false)
    expect(rl.take('q')).toBe(true)
    rl.forget('p')
    expect(rl.take('p')).toBe(true)
  })
})

describe('[PeerScores]: penalties and bans', () => {
  it('bans at the threshold, recovers over time, and lifts bans when they expire', () => {
    let t = 0
    const s = new PeerScores({ ...defaultScoringOptions, banDurationMs: 1000 }, () => t)
    expect(s.score('p')).toBe(0)
    expect(s.penalize('p', 50, 'bad')).toBeUndefined()
    t += 10_000
    expect(s.score('p')).toBe(-40)
    expect(s.penalize('p', 30, 'bad')).toBeUndefined()
    const ban = s.penalize('p', 30, 'invalid block')
    expect(ban).toMatchObject({ id: 'p', until: 11_000 })
    expect(ban?.reason).toMatch(/score -100 after invalid block/)
    expect(s.isBanned('p')).toBe(true)
    expect(s.bans()).toHaveLength(1)
    t += 1000
    expect(s.isBanned('p')).toBe(false)
    expect(s.bans()).toEqual([])
    expect(s.score('p')).toBe(0)
  })
})

describe('[P2PNode]: limits and scoring', () => {
  const f = nodeFactory()
  afterEach(() => f.stopAll())

  it('penalizes oversized gossip and bans the sender', async () => {
    const a = await f.make()
    const b = await f.make({ limits: { maxMessageBytes: { transactions: 100 } as never } })
    const banned: string[] = []
    b.on('peer:ban', (x) => banned.push(x.id))
    await link(a, b)
    await a.waitForPeers(1, { topic: 'transactions' })
    const got: Uint8Array[] = []
    b.subscribe('transactions', (d) => got.push(d))
    await a.publish('transactions', new Uint8Array(50))
    await eventually(() => got.length === 1)
    for (let i = 1; i <= 5; i++) await a.publish('transactions', new Uint8Array(200).fill(i))
    await eventually(() => banned.includes(a.peerId))
    expect(got).toHaveLength(1)
    expect(b.bans()[0]).toMatchObject({ id: a.peerId })
    expect(b.bans()[0].reason).toMatch(/transactions message of 200 bytes \(limit 100\)/)
    await eventually(() => a.peers().length === 0 && b.peers().length === 0)
    // a banned peer is refused when it dials again
    await expect(a.dial(b.addresses()[0])).rejects.toBeDefined()
    expect(b.stats().bans).toBe(1)
    expect(b.stats().gossipRejected).toBeGreaterThanOrEqual(4)
  })

  it('rejects undecodable consensus gossip and lowers the score', async () => {
    const a = await f.make()
    const b = await f.make()
    await link(a, b)
    await a.waitForPeers(1, { topic: 'consensus' })
    const seen: unknown[] = []
    b.onMessage((from, m) => seen.push([from, m]))
    // resend (distinct junk each time) in case one is lost while the mesh settles under load
    let i = 0
    await eventually(() => {
      if (i++ % 25 === 0) void a.publish('consensus', Uint8Array.of(0xc2, 0x63, i & 0x7f))
      return b.listPeers()[0]?.score < 0
    })
    expect(b.listPeers()[0].score).toBeLessThanOrEqual(
      -defaultScoringOptions.invalidMessagePenalty + 1,
    )
    expect(seen).toEqual([])
  })

  it('rejects gossip that is not a ledger transaction, accepts one that is', async () => {
    const a = await f.make({ validateEncodings: true })
    const b = await f.make({ validateEncodings: true })
    await link(a, b)
    await a.waitForPeers(1, { topic: 'transactions' })
    const got: Uint8Array[] = []
    b.subscribe('transactions', (d) => got.push(d))
    const tx = encodeTransaction(
      signTransaction(
        {
          kind: TxKind.Transfer,
          chainId: 1n,
          nonce: 0n,
          gasPrice: 1n,
          gasLimit: 21_000n,
          to: new Uint8Array(20).fill(2),
          amount: 5n,
        },
        new Uint8Array(32).fill(1),
      ),
    )
    await a.publish('transactions', Uint8Array.of(1, 2, 3))
    await a.publish('transactions', tx)
    await eventually(() => got.length === 1)
    expect(got[0]).toEqual(tx)
    await eventually(() => b.listPeers()[0]?.score < 0)
    await a.publish('blocks', Uint8Array.of(9))
    await eventually(() => b.stats().gossipRejected >= 2)
  })

  it('a validator rejection costs score; a manual penalty can ban', async () => {
    const a = await f.make()
    const b = await f.make()
    await link(a, b)
    await a.waitForPeers(1, { topic: 'blocks' })
    b.setValidator('blocks', () => 'reject')
    await a.publish('blocks', Uint8Array.of(1))
    await eventually(() => b.listPeers()[0]?.score < -20)
    b.penalize(a.peerId, 100, 'served an invalid block')
    await eventually(() => b.bans().length === 1 && a.peers().length === 0)
  })

  it('rate limits gossip per peer', async () => {
    const a = await f.make()
    const b = await f.make({ limits: { gossipRate: { perSecond: 0.001, burst: 2 } } })
    await link(a, b)
    await a.waitForPeers(1, { topic: 'transactions' })
    const got: number[] = []
    b.subscribe('transactions', (d) => got.push(d[0]))
    for (let i = 0; i < 5; i++) await a.publish('transactions', Uint8Array.of(i))
    await eventually(() => b.stats().gossipIgnored >= 3)
    expect(got.length).toBe(2)
    expect(b.listPeers()[0].score).toBeLessThan(0)
  })

  it('penalizes oversized and rate-limited requests', async () => {
    const a = await f.make()
    const b = await f.make({
      limits: { maxRequestBytes: 16, requestRate: { perSecond: 0.001, burst: 1 } },
    })
    await b.handle('echo', (req) => req)
    await link(a, b)
    expect(await a.request(b.peerId, 'echo', Uint8Array.of(1))).toEqual(Uint8Array.of(1))
    await expect(a.request(b.peerId, 'echo', Uint8Array.of(2))).rejects.toMatchObject({
      code: P2PErrorCode.REMOTE_ERROR,
      message: expect.stringMatching(/rate limited/),
    })
    await expect(a.request(b.peerId, 'echo', new Uint8Array(100))).rejects.toBeDefined()
    await eventually(
      () => b.listPeers()[0]?.score <= -(defaultScoringOptions.oversizedMessagePenalty + 5) + 1,
    )
  })
})
