import { ConsensusMessageType, PoWEngine } from '@aureon/consensus'
import { transactionHash } from '@aureon/ledger'
import { describe, expect, it } from 'vitest'
import { alice, aliceTransfer, setup } from './chain-fixture.js'

describe('[LedgerChain]: a PoW reorg rolls the ledger back and commits the heavier branch', () => {
  it('switches to the heavier branch with the same state root as the node that mined it', async () => {
    const a = await setup()
    const b = await setup()
    const engine = (c: typeof a) =>
      new PoWEngine({ chain: c.chain, mine: false, initialDifficulty: 1n, minDifficulty: 1n })
    const ea = engine(a)
    const eb = engine(b)
    await ea.start()
    await eb.start()
    // A mines two blocks, B three other ones (different transfers with the same nonces)
    const aBlocks = []
    for (let n = 0n; n < 2n; n++) {
      await a.pool.add(aliceTransfer(n, 5n))
      aBlocks.push((await ea.propose())!)
    }
    const bBlocks = []
    for (let n = 0n; n < 3n; n++) {
      await b.pool.add(aliceTransfer(n, 9n))
      bBlocks.push((await eb.propose())!)
    }
    expect(a.chain.head().height).toBe(2n)
    expect(b.chain.head().height).toBe(3n)
    // B's blocks reach A: more work, so A rolls back to genesis and commits B's branch
    for (const blk of bBlocks)
      ea.onMessage('b', { type: ConsensusMessageType.Block, block: b.chain.encodeBlock(blk) })
    const deadline = Date.now() + 10_000
    while (!b.store.headHash()!.every((x, i) => a.store.headHash()![i] === x)) {
      if (Date.now() > deadline) throw new Error('A did not switch to the heavier branch')
      await new Promise((r) => setTimeout(r, 10))
    }
    await ea.stop()
    await eb.stop()
    expect(ea.reorgs).toBe(1)
    expect(a.chain.head().height).toBe(3n)
    expect(a.store.headHash()).toEqual(b.store.headHash())
    expect(await a.chain.state().root()).toEqual(b.chain.head().stateRoot)
    expect((await a.chain.state().getAccount(alice.address)).nonce).toBe(3n)
    // A's abandoned transactions are no longer indexed; B's are
    expect(await a.store.getTxLocation(transactionHash(aBlocks[0].transactions[0]))).toBeUndefined()
    expect(
      (await a.store.getTxLocation(transactionHash(bBlocks[2].transactions[0])))?.blockHeight,
    ).toBe(3n)
  })
})
