import { transactionHash } from '@aureon/ledger'
import { describe, expect, it } from 'vitest'
import { alice, anchorCopy, sealBlock, setup } from './chain-fixture.js'

describe('[LedgerChain]: rollbackTo (reorgs)', () => {
  it('moves the head back, restores its state, returns abandoned transactions to the pool, and extends again', async () => {
    const c = await setup()
    await sealBlock(c, [0n])
    const b2 = await sealBlock(c, [1n, 2n])
    await sealBlock(c, [3n])
    expect(c.chain.head().height).toBe(3n)
    expect((await c.chain.state().getAccount(alice.address)).nonce).toBe(4n)

    await c.chain.rollbackTo(1n)
    expect(c.chain.head().height).toBe(1n)
    expect(await c.chain.getBlockByHeight(2n)).toBeUndefined()
    expect(await c.store.getTxLocation(transactionHash(b2.transactions[0]))).toBeUndefined()
    expect((await c.chain.state().getAccount(alice.address)).nonce).toBe(1n)
    expect(await c.chain.state().root()).toEqual(c.chain.head().stateRoot)
    // the abandoned transactions are pending again and go into the next block
    expect(c.pool.size).toBe(3)
    const b2bis = await sealBlock(c, [])
    expect(b2bis.transactions).toHaveLength(3)
    expect((await c.chain.state().getAccount(alice.address)).nonce).toBe(4n)

    // the rolled-back head survives a reopen
    const again = await setup(c.db)
    expect(again.chain.head().height).toBe(2n)
    expect(again.chain.head().stateRoot).toEqual(b2bis.header.stateRoot)
  })

  it('refuses validator sets recorded below the history of a chain anchored at a snapshot', async () => {
    const src = await setup()
    for (let n = 0n; n < 5n; n++) await sealBlock(src, [n])
    const { db } = await anchorCopy(src.store, 5n)
    const anchored = await setup(db)
    expect(anchored.chain.head().height).toBe(5n)
    // the fork-choice engines start their block tree at the base the chain reports
    expect(anchored.chain.baseHeight()).toBe(5n)
    expect(src.chain.baseHeight()).toBe(0n)
    // epoch 1's set was recorded at block 2 (epochLength 2), which this node never had
    await expect(anchored.chain.validatorSet(1n)).rejects.toMatchObject({ code: 'ERR_PRUNED' })
    // epoch 2's boundary (block 4) is below too, and so is genesis' set (epoch 0) without a
    // proven record of it
    await expect(anchored.chain.validatorSet(2n)).rejects.toMatchObject({ code: 'ERR_PRUNED' })
    await expect(anchored.chain.validatorSet(0n)).rejects.toMatchObject({ code: 'ERR_PRUNED' })
    // the anchored chain executes the next block on the imported state
    const b6 = await sealBlock(anchored, [5n])
    const b6src = await sealBlock(src, [5n])
    expect(b6.header.stateRoot).toEqual(b6src.header.stateRoot)
  })
})
