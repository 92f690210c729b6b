import { ed25519, sha256 } from '@aureon/crypto'
import { describe, expect, it } from 'vitest'
import {
  type Block,
  type BlockSyncRequest,
  type ConsensusChain,
  ConsensusMessageType,
  decodePoWSeal,
  type MemoryAnchorOptions,
  MemoryChain,
  PoAEngine,
  PoWEngine,
  rlpEncode,
  type Transport,
  VirtualClock,
} from '../src/index.js'

/** The snapshot height of the anchored fixtures: no block below it is ever created. */
const H = 1_000_000n
const te = new TextEncoder()
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
/** A PoW seal of difficulty 4 (anchor and history blocks are trusted: their nonce is not checked). */
const seal4 = () => rlpEncode([4, 0])

/** A chain anchored at H whose getBlockByHeight calls are counted. */
function anchored(opts: Omit<MemoryAnchorOptions, 'height'> = {}, payload = '') {
  const chain = new MemoryChain()
  chain.anchorAt({ height: H, consensus: seal4, ...opts })
  chain.payload = te.encode(payload)
  const counter = { reads: 0 }
  const read = chain.getBlockByHeight.bind(chain)
  chain.getBlockByHeight = (h: bigint) => {
    counter.reads++
    return read(h)
  }
  return { chain, counter }
}

function pow(chain: ConsensusChain, retargetInterval = 7n, transport?: Transport) {
  return new PoWEngine({
    chain,
    transport,
    clock: new VirtualClock(),
    initialDifficulty: 4n,
    minDifficulty: 1n,
    targetBlockTime: 1000,
    retargetInterval,
  })
}

/** A block like `b` but different (so not in any tree). */
const altered = (b: Block): Block => ({ ...b, header: { ...b.header, timestamp: 7n } })

describe('[ForkChoiceEngine]: a chain anchored at a snapshot height', () => {
  it('PoW starts from the base at 1,000,000 reading only the stored blocks, and mines on top', async () => {
    const { chain, counter } = anchored()
    const engine = pow(chain)
    await engine.start()
    // the head, then the missing block below it: not the 1,000,001 reads of a walk from 0
    expect(counter.reads).toBe(2)
    expect(engine.baseHeight()).toBe(H)
    expect(engine.head().height).toBe(H)
    const b = await engine.propose()
    expect(b?.header.height).toBe(H + 1n)
    expect(decodePoWSeal((b as Block).header).difficulty).toBe(4n)
    expect(chain.head().height).toBe(H + 1n)
    await engine.stop()
  })

  it('a reorg above the base switches branch; forks at or below the base are refused with ERR_BELOW_BASE', async () => {
    const a = anchored({}, 'a')
    const b = anchored({}, 'b')
    const ea = pow(a.chain)
    const eb = pow(b.chain)
    await ea.start()
    await eb.start()
    await ea.propose()
    await eb.propose()
    await eb.propose()
    expect(hex(a.chain.hashAt(H) as Uint8Array)).toBe(hex(b.chain.hashAt(H) as Uint8Array))
    expect(hex(a.chain.hashAt(H + 1n) as Uint8Array)).not.toBe(
      hex(b.chain.hashAt(H + 1n) as Uint8Array),
    )
    for (const h of [H + 1n, H + 2n])
      await ea.importBlock((await b.chain.getBlockByHeight(h)) as Block)
    expect(ea.reorgs).toBe(1)
    expect(a.chain.head().height).toBe(H + 2n)
    expect(hex(a.chain.headHash())).toBe(hex(b.chain.headHash()))
    expect(hex(a.chain.committedRoot(H + 2n))).toBe(hex(b.chain.committedRoot(H + 2n)))

    // another block at the base, or one below it: refused, the chain stays
    const anchor = (await a.chain.getBlockByHeight(H)) as Block
    await expect(ea.importBlock(altered(anchor))).rejects.toMatchObject({
      code: 'ERR_BELOW_BASE',
      details: { height: H.toString(), base: H.toString() },
    })
    const low = { ...anchor, header: { ...anchor.header, height: 5n } }
    await expect(ea.importBlock(low)).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
    await expect(ea.importBlock(altered(low))).rejects.toThrow(/below this chain's base 1000000/)
    expect(hex(a.chain.headHash())).toBe(hex(b.chain.headHash()))
    // the chain itself, like the node's store, refuses to roll back below the base
    await expect(a.chain.rollbackTo(H - 1n)).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
    await ea.stop()
    await eb.stop()
  })

  it("PoW's retarget window below the base needs backfilled history; with it the difficulty is computed", async () => {
    // 1,000,000 % 8 == 0: block H+1 retargets over blocks H-7..H
    const bare = anchored()
    const e1 = pow(bare.chain, 8n)
    await e1.start()
    expect(() => e1.expectedDifficulty(e1.head())).toThrow(
      expect.objectContaining({ code: 'ERR_BELOW_BASE' }),
    )
    expect(await e1.propose()).toBeUndefined() // the miner cannot seal that height
    expect(bare.chain.head().height).toBe(H)
    await e1.stop()

    const full = anchored({ history: 7 })
    const e2 = pow(full.chain, 8n)
    await e2.start()
    expect(full.counter.reads).toBe(9) // H..H-7, then the missing H-8
    expect(e2.baseHeight()).toBe(H)
    // 7 ms for 7 blocks against a 7 s target: the span clamps to target/4, difficulty x4
    expect(e2.expectedDifficulty(e2.head())).toBe(16n)
    const b = await e2.propose()
    expect(decodePoWSeal((b as Block).header).difficulty).toBe(16n)
    // the backfilled blocks are ancestors only: a block forking off them is refused
    const h2 = (await full.chain.getBlockByHeight(H - 2n)) as Block
    const fork = { ...altered(h2), header: { ...altered(h2).header, height: H - 1n } }
    await expect(e2.importBlock(fork)).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
    await e2.stop()
  })

  it('a chain without baseHeight(): the lowest hash-linked stored block is the base', async () => {
    const { chain, counter } = anchored({ history: 3 })
    const noBase = new Proxy(chain, {
      get: (t, k) => (k === 'baseHeight' ? undefined : Reflect.get(t, k, t)),
    })
    const engine = pow(noBase)
    await engine.start()
    expect(counter.reads).toBe(5)
    expect(engine.baseHeight()).toBe(H - 3n)
    await engine.stop()
    // a chain that cannot read its own head block is a configuration error
    const headless = new Proxy(chain, {
      get: (t, k) => (k === 'getBlockByHeight' ? async () => undefined : Reflect.get(t, k, t)),
    })
    await expect(pow(headless).start()).rejects.toMatchObject({ code: 'ERR_INVALID_CONFIG' })
    // and a chain from genesis starts at 0, as before
    const fresh = pow(new MemoryChain())
    await fresh.start()
    expect(fresh.baseHeight()).toBe(0n)
    expect(fresh.head().height).toBe(0n)
    await fresh.stop()
  })

  it('PoA starts from the base and seals on top of it', async () => {
    const sk = sha256(te.encode('poa/anchor'))
    const { chain, counter } = anchored({ consensus: () => new Uint8Array(0) })
    const engine = new PoAEngine({
      chain,
      clock: new VirtualClock(),
      authorities: [ed25519.getPublicKey(sk)],
      secretKey: sk,
      period: 500,
    })
    await engine.start()
    expect(counter.reads).toBe(2)
    expect(engine.baseHeight()).toBe(H)
    const b = await engine.propose()
    expect(b?.header.height).toBe(H + 1n)
    expect(chain.head().height).toBe(H + 1n)
    await expect(
      engine.importBlock(altered((await chain.getBlockByHeight(H)) as Block)),
    ).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
    await engine.stop()
  })

  it('block sync asks a peer for the blocks above the base, not from height 1', async () => {
    const a = anchored({}, 'a')
    const b = anchored({}, 'b')
    const eb = pow(b.chain)
    await eb.start()
    for (let i = 0; i < 3; i++) await eb.propose()
    await eb.stop()
    const requests: BlockSyncRequest[] = []
    let serve: Parameters<Transport['onBlockRequest']>[0] | undefined
    const transport: Transport = {
      peerId: 'a',
      peers: () => ['b'],
      broadcast: () => {},
      sendTo: () => {},
      onMessage: () => () => {},
      onBlockRequest: (handler) => {
        serve = handler
        return () => {}
      },
      requestBlocks: async (_peer, req) => {
        requests.push(req)
        const blocks: Uint8Array[] = []
        for (let h = req.fromHeight; blocks.length < req.count; h++) {
          const blk = await b.chain.getBlockByHeight(h)
          if (!blk) break
          blocks.push(b.chain.encodeBlock(blk))
        }
        return { blocks }
      },
    }
    const ea = pow(a.chain, 7n, transport)
    await ea.start()
    const tip = (await b.chain.getBlockByHeight(H + 3n)) as Block
    ea.onMessage('b', { type: ConsensusMessageType.Block, block: b.chain.encodeBlock(tip) })
    for (let i = 0; i < 200 && a.chain.head().height < H + 3n; i++)
      await new Promise((r) => setImmediate(r))
    expect(requests[0]).toEqual({ fromHeight: H + 1n, count: 64 })
    expect(hex(a.chain.headHash())).toBe(hex(b.chain.headHash()))
    // serving: an anchored node has nothing below its base, its blocks from the base up
    expect((await serve?.('b', { fromHeight: 1n, count: 10 }))?.blocks).toEqual([])
    expect((await serve?.('b', { fromHeight: H, count: 10 }))?.blocks.length).toBe(4)
    await ea.stop()
  })
})

describe('[MemoryChain]: anchorAt', () => {
  it('is deterministic, keeps genesis, and refuses a second anchor or a bad height', async () => {
    const one = new MemoryChain()
    const two = new MemoryChain()
    one.anchorAt({ height: 10n, history: 2 })
    two.anchorAt({ height: 10n, history: 2 })
    expect(hex(one.headHash())).toBe(hex(two.headHash()))
    expect(one.baseHeight()).toBe(10n)
    expect(await one.getBlockByHeight(0n)).toBe(one.genesis)
    expect(hex(one.hashAt(0n) as Uint8Array)).toBe(hex(one.blockHash(one.genesis.header)))
    expect(await one.getBlockByHeight(7n)).toBeUndefined()
    expect(one.hashAt(7n)).toBeUndefined()
    expect((await one.getBlockByHeight(8n))?.header.height).toBe(8n)
    expect(() => one.anchorAt({ height: 20n })).toThrow(/anchorAt needs/)
    expect(() => new MemoryChain().anchorAt({ height: 0n })).toThrow(/anchorAt needs/)
    expect(() => new MemoryChain().anchorAt({ height: 3n, history: 3 })).toThrow(/anchorAt needs/)
    expect(new MemoryChain().baseHeight()).toBe(0n)
  })
})
