import { ed25519, sha256 } from '@aureon/crypto'
import { describe, expect, it } from 'vitest'
import {
  ConsensusMessageType,
  DevEngine,
  decodePoASeal,
  decodePoWSeal,
  isConsensusError,
  MemoryChain,
  PoAEngine,
  PoWEngine,
  rlpEncode,
  SimNetwork,
  VirtualClock,
} from '../src/index.js'

const te = new TextEncoder()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('[DevEngine]: sealing', () => {
  it('automine seals on notify and a follower imports over the transport', async () => {
    const net = new SimNetwork({ seed: 1, delay: { min: 1, max: 5 } })
    const a = new MemoryChain()
    const b = new MemoryChain()
    const sealer = new DevEngine({
      chain: a,
      transport: net.addNode('a'),
      clock: net.clock,
      mode: 'auto',
    })
    const follower = new DevEngine({
      chain: b,
      transport: net.addNode('b'),
      clock: net.clock,
      sealer: false,
    })
    await sealer.start()
    await follower.start()
    const commits: bigint[] = []
    follower.on('commit', (e) => commits.push(e.height))
    await sealer.notifyTransactions()
    await sealer.notifyTransactions()
    await net.clock.advance(20)
    expect(a.head().height).toBe(2n)
    expect(commits).toEqual([1n, 2n])
    expect(hex(b.headHash())).toBe(hex(a.headHash()))
    expect(await follower.propose()).toBeUndefined()
    await sealer.validateBlock((await a.getBlockByHeight(1n)) ?? a.genesis).catch(() => {})
    await sealer.stop()
    await follower.stop()
  })

  it('interval mode seals every N ms', async () => {
    const clock = new VirtualClock()
    const chain = new MemoryChain()
    const dev = new DevEngine({ chain, clock, mode: 100 })
    await dev.start()
    await clock.advance(1000)
    expect(chain.head().height).toBe(10n)
    await dev.stop()
    await clock.advance(1000)
    expect(chain.head().height).toBe(10n)
  })
})

function poaSetup(n: number, seed: number) {
  const sks = Array.from({ length: n }, (_, i) => sha256(te.encode(`poa/${i}`)))
  const authorities = sks.map((sk) => ed25519.getPublicKey(sk))
  const net = new SimNetwork({ seed, delay: { min: 5, max: 120 }, dropRate: 0.02 })
  const nodes = sks.map((sk, i) => {
    const chain = new MemoryChain()
    const engine = new PoAEngine({
      chain,
      transport: net.addNode(`p${i}`),
      clock: net.clock,
      authorities,
      secretKey: sk,
      period: 500,
      outOfTurnDelay: 300,
    })
    return { chain, engine }
  })
  return { sks, authorities, net, nodes }
}

describe('[PoAEngine]: turns and fork choice', () => {
  for (const seed of [1, 2, 3]) {
    it(`3 authorities under delays converge on one chain (seed ${seed})`, async () => {
      const { net, nodes } = poaSetup(3, seed)
      for (const n of nodes) await n.engine.start()
      await net.clock.advance(20_000)
      for (const n of nodes) await n.engine.stop()
      const h = nodes.map((n) => n.chain.head().height)
      const min = [...h].sort((a, b) => (a < b ? -1 : 1))[0]
      expect(min, `seed ${seed}`).toBeGreaterThan(20n)
      for (let i = 1n; i < min - 3n; i++) {
        const ref = hex(nodes[0].chain.hashAt(i) as Uint8Array)
        for (const n of nodes)
          expect(hex(n.chain.hashAt(i) as Uint8Array), `seed ${seed} h ${i}`).toBe(ref)
      }
    })
  }

  it('with one authority down, the others seal out of turn', async () => {
    const { net, nodes } = poaSetup(3, 9)
    net.crash('p1')
    await nodes[0].engine.start()
    await nodes[2].engine.start()
    await net.clock.advance(10_000)
    expect(nodes[0].chain.head().height).toBeGreaterThan(8n)
    const signers = new Set<number>()
    for (let h = 1n; h <= nodes[0].chain.head().height; h++) {
      const b = await nodes[0].chain.getBlockByHeight(h)
      if (b) signers.add(decodePoASeal(b.header).signer)
    }
    expect(signers.has(1)).toBe(false)
    await nodes[0].engine.stop()
    await nodes[2].engine.stop()
  })

  it('rejects blocks sealed before the turn allows, by non-authorities, or with bad seals', async () => {
    const { sks, authorities, net } = poaSetup(3, 4)
    const chain = new MemoryChain()
    const engine = new PoAEngine({ chain, clock: net.clock, authorities, period: 500 })
    await engine.start()
    // authority 2 is out of turn at height 1 (turn = 1 % 3 = 1)
    const ex = await chain.buildBlock({
      parent: chain.head(),
      timestamp: 500n,
      proposer: new Uint8Array(20),
      consensus: rlpEncode([2]),
    })
    const sig = ed25519.sign(PoAEngine.signingHash(chain, ex.block.header, 2), sks[2])
    const early = { ...ex.block, header: { ...ex.block.header, consensus: rlpEncode([2, sig]) } }
    await expect(engine.validateBlock(early)).rejects.toMatchObject({ code: 'ERR_WRONG_PROPOSER' })
    const forged = { ...ex.block, header: { ...ex.block.header, consensus: rlpEncode([1, sig]) } }
    await expect(engine.validateBlock(forged)).rejects.toMatchObject({
      code: 'ERR_INVALID_SIGNATURE',
    })
    const stranger = { ...ex.block, header: { ...ex.block.header, consensus: rlpEncode([7, sig]) } }
    await expect(engine.validateBlock(stranger)).rejects.toMatchObject({
      code: 'ERR_NOT_AUTHORITY',
    })
    expect(() => new PoAEngine({ chain, authorities: [] })).toThrow()
    expect(() => new PoAEngine({ chain, authorities, secretKey: sha256(te.encode('x')) })).toThrow()
    expect(await engine.propose()).toBeUndefined()
    await engine.stop()
  })
})

describe('[PoWEngine]: work, retargeting, reorgs', () => {
  it('a partitioned miner reorgs onto the heavier chain and its state follows', async () => {
    const net = new SimNetwork({ seed: 5, delay: { min: 5, max: 30 } })
    const mk = (id: string, rate: number, nonceStart: bigint) => {
      const chain = new MemoryChain()
      chain.payload = te.encode(id) // forks differ in state
      const engine = new PoWEngine({
        chain,
        transport: net.addNode(id),
        clock: net.clock,
        mine: true,
        initialDifficulty: 64n,
        targetBlockTime: 500,
        retargetInterval: 5n,
        hashesPerTick: rate,
        tickMs: 10,
        nonceStart,
      })
      return { chain, engine }
    }
    const a = mk('a', 4, 0n)
    const b = mk('b', 1, 1n << 40n)
    await a.engine.start()
    await b.engine.start()
    net.partition([['a'], ['b']])
    await net.clock.advance(6_000)
    const ha = a.chain.head().height
    const hb = b.chain.head().height
    expect(ha).toBeGreaterThan(0n)
    expect(hb).toBeGreaterThan(0n)
    net.heal()
    b.engine.onMessage('a', {
      type: ConsensusMessageType.Block,
      block: a.chain.encodeBlock(
        (await a.chain.getBlockByHeight(a.chain.head().height)) ?? a.chain.genesis,
      ),
    })
    await net.clock.advance(4_000)
    await a.engine.stop()
    await b.engine.stop()
    expect(b.engine.reorgs + a.engine.reorgs).toBeGreaterThan(0)
    const h = [a.chain.head().height, b.chain.head().height].sort((x, y) => (x < y ? -1 : 1))[0]
    for (let i = 1n; i <= h - 1n; i++) {
      expect(hex(b.chain.hashAt(i) as Uint8Array)).toBe(hex(a.chain.hashAt(i) as Uint8Array))
      expect(hex(b.chain.committedRoot(i))).toBe(hex(a.chain.committedRoot(i)))
    }
  })

  it('retargets difficulty towards the target block time and rejects bad work', async () => {
    const clock = new VirtualClock()
    const chain = new MemoryChain()
    const engine = new PoWEngine({
      chain,
      clock,
      mine: true,
      initialDifficulty: 8n,
      targetBlockTime: 2000,
      retargetInterval: 4n,
      hashesPerTick: 4,
      tickMs: 10,
    })
    await engine.start()
    await clock.advance(30_000)
    await engine.stop()
    const diffs: bigint[] = []
    for (let h = 1n; h <= chain.head().height; h++) {
      const b = await chain.getBlockByHeight(h)
      if (b) diffs.push(decodePoWSeal(b.header).difficulty)
    }
    expect(diffs[0]).toBe(8n)
    expect(diffs.some((d) => d > 8n)).toBe(true) // blocks came too fast: difficulty went up
    const last = (await chain.getBlockByHeight(chain.head().height)) ?? chain.genesis
    const bad = {
      ...last,
      header: {
        ...last.header,
        height: last.header.height + 1n,
        parentHash: chain.headHash(),
        consensus: rlpEncode([1, 0]),
      },
    }
    await expect(engine.validateBlock(bad)).rejects.toSatisfy(isConsensusError)
    const orphan = { ...bad, header: { ...bad.header, parentHash: new Uint8Array(32) } }
    await expect(engine.validateBlock(orphan)).rejects.toMatchObject({ code: 'ERR_UNKNOWN_PARENT' })
    const one = new PoWEngine({ chain: new MemoryChain(), clock, initialDifficulty: 2n })
    await one.start()
    expect((await one.propose())?.header.height).toBe(1n)
    await one.stop()
  })
})
