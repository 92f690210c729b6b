import { describe, expect, it } from 'vitest'
import {
  type ConsensusMessage,
  ConsensusMessageType,
  Prng,
  SimNetwork,
  systemClock,
  VirtualClock,
} from '../src/index.js'

const msg = (n: number): ConsensusMessage => ({
  type: ConsensusMessageType.Block,
  block: new Uint8Array([n]),
})

function trace(seed: number) {
  const net = new SimNetwork({
    seed,
    delay: { min: 1, max: 50 },
    dropRate: 0.1,
    duplicateRate: 0.1,
    reorderRate: 0.3,
  })
  const a = net.addNode('a')
  const b = net.addNode('b')
  const got: string[] = []
  b.onMessage((from, m) =>
    got.push(`${from}:${(m as { block: Uint8Array }).block[0]}@${net.clock.now()}`),
  )
  for (let i = 0; i < 50; i++) a.sendTo('b', msg(i))
  return { net, got }
}

describe('[SimNetwork]: determinism and faults', () => {
  it('the same seed gives the same run; another seed another', async () => {
    const r1 = trace(7)
    await r1.net.clock.advance(1000)
    const r2 = trace(7)
    await r2.net.clock.advance(1000)
    const r3 = trace(8)
    await r3.net.clock.advance(1000)
    expect(r1.got).toEqual(r2.got)
    expect(r1.got).not.toEqual(r3.got)
    expect(r1.net.stats.dropped).toBeGreaterThan(0)
    expect(r1.net.stats.duplicated).toBeGreaterThan(0)
  })

  it('partitions cut links until healed; crashed nodes get nothing; restart reconnects', async () => {
    const net = new SimNetwork({ seed: 1, delay: { min: 5, max: 5 } })
    const t = ['a', 'b', 'c'].map((id) => net.addNode(id))
    expect(() => net.addNode('a')).toThrow()
    const got: Record<string, number> = { a: 0, b: 0, c: 0 }
    for (const [i, x] of t.entries()) {
      x.onMessage(() => {
        got['abc'[i]]++
      })
    }
    net.partition([['a', 'b'], ['c']])
    expect(t[0].peers()).toEqual(['b'])
    t[0].broadcast(msg(1))
    await net.clock.advance(10)
    expect(got).toEqual({ a: 0, b: 1, c: 0 })
    net.heal()
    t[0].broadcast(msg(2))
    // a partition that starts while a message is in flight loses it
    net.partition([['a'], ['b', 'c']])
    await net.clock.advance(10)
    expect(got).toEqual({ a: 0, b: 1, c: 0 })
    net.heal()
    net.crash('c')
    expect(net.isUp('c')).toBe(false)
    t[0].broadcast(msg(3))
    t[2].broadcast(msg(4)) // the old endpoint is dead
    await net.clock.advance(10)
    expect(got).toEqual({ a: 0, b: 2, c: 0 })
    const c2 = net.restart('c')
    c2.onMessage(() => got.c++)
    t[0].sendTo('c', msg(5))
    t[0].sendTo('a', msg(6)) // to self: ignored
    await net.clock.advance(10)
    expect(got.c).toBe(1)
    expect(net.nodeIds()).toEqual(['a', 'b', 'c'])
    expect(() => net.crash('zz')).toThrow()
  })

  it('serves block requests, times out unanswered ones, honours link delays', async () => {
    const net = new SimNetwork({ seed: 2, delay: { min: 1, max: 1 }, requestTimeout: 100 })
    const a = net.addNode('a')
    const b = net.addNode('b')
    net.addNode('c')
    net.setLinkDelay('a', 'b', { min: 20, max: 20 })
    const off = b.onBlockRequest(async (_f, req) => ({
      blocks: [new Uint8Array([Number(req.fromHeight)])],
    }))
    const p = a.requestBlocks('b', { fromHeight: 3n, count: 1 })
    await net.clock.advance(50)
    expect((await p).blocks[0][0]).toBe(3)
    off()
    const q = a.requestBlocks('b', { fromHeight: 3n, count: 1 }).catch((e) => e)
    const r = a.requestBlocks('c', { fromHeight: 3n, count: 1 }).catch((e) => e)
    await net.clock.advance(200)
    expect(await q).toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(await r).toMatchObject({ code: 'ERR_TIMEOUT' })
    net.crash('a')
    await expect(a.requestBlocks('b', { fromHeight: 1n, count: 1 })).rejects.toMatchObject({
      code: 'ERR_STOPPED',
    })
  })
})

describe('[VirtualClock]: timers', () => {
  it('fires in time order, supports cancel and runUntil', async () => {
    const clock = new VirtualClock()
    const seen: number[] = []
    clock.setTimeout(() => seen.push(2), 20)
    clock.setTimeout(() => seen.push(1), 10)
    clock.setTimeout(() => seen.push(3), 20)
    const t = clock.setTimeout(() => seen.push(99), 15)
    t.cancel()
    expect(clock.pending()).toBe(3)
    await clock.advance(100)
    expect(seen).toEqual([1, 2, 3])
    expect(clock.now()).toBe(100)
    expect(await clock.runUntil(() => false)).toBe(false)
    const h = systemClock.setTimeout(() => {}, 10)
    h.cancel()
    expect(systemClock.now()).toBeGreaterThan(0)
  })
})

describe('[Prng]: sequence', () => {
  it('is deterministic and in range', () => {
    const a = new Prng(5)
    const b = new Prng(5)
    for (let i = 0; i < 100; i++) {
      const x = a.range(3, 9)
      expect(x).toBe(b.range(3, 9))
      expect(x).toBeGreaterThanOrEqual(3)
      expect(x).toBeLessThanOrEqual(9)
    }
    expect(a.int(1)).toBe(0)
    expect(a.chance(0)).toBe(false)
    expect(a.chance(1)).toBe(true)
  })
})
