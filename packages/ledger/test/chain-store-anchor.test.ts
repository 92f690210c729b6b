import type { BatchOp, KVStore } from '@aureon/storage'
import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import { blockHash } from '../src/block.js'
import { CHAIN_META_NAMESPACE, type ChainStore, openChainStore } from '../src/chain-store.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { CODE_NAMESPACE, createWorldState } from '../src/state.js'
import { transactionHash } from '../src/tx.js'
import type { Block, ChainStoreInterface, GenesisConfig, Receipt } from '../src/types.js'
import { key, transfer } from './helpers.js'

const keys = [1, 2, 3].map(key)
const proposer = key(9).address
const config: GenesisConfig = {
  chainId: 1,
  timestamp: 0,
  balances: Object.fromEntries(
    keys.map((k) => [`0x${Buffer.from(k.address).toString('hex')}`, '1000000000']),
  ),
  validators: [],
  consensus: { engine: 'dev' },
}

interface Built {
  db: KVStore
  chain: ChainStore
  blocks: Block[]
  receipts: Receipt[][]
}

/** Genesis + `n` blocks of transfers (nonces offset by `salt` so branches differ). */
async function build(n: number, db = createMemoryStore()): Promise<Built> {
  const chain = await openChainStore({ db })
  const g = await createGenesis({ config, db: chain.stateDb })
  await chain.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
  const blocks = [g.block]
  const receipts: Receipt[][] = [[]]
  const p = new StateProcessor()
  const state = g.state
  for (let h = 1; h <= n; h++) {
    const txs = keys.map((k, i) =>
      transfer(k, keys[(i + 1) % keys.length].address, BigInt(h - 1), BigInt(h)),
    )
    const built = await p.buildBlock(state, {
      parent: chain.head()!,
      timestamp: BigInt(h),
      proposer,
      transactions: txs,
    })
    await chain.commitBlock({ ...built, stateOps: await state.flush() })
    blocks.push(built.block)
    receipts.push(built.receipts)
  }
  return { db, chain, blocks, receipts }
}

/** Copies a state store (trie nodes and code) into another (what a snapshot import does). */
async function copyState(from: KVStore, to: KVStore): Promise<void> {
  const ops: BatchOp[] = []
  for await (const [k, v] of from.iterate()) ops.push({ type: 'put', key: k, value: v })
  for await (const [k, v] of from.namespace(CODE_NAMESPACE).iterate())
    ops.push({ type: 'put', key: k, value: v, namespace: [CODE_NAMESPACE] })
  await to.batch(ops)
}

describe('[ChainStore]: anchored at a snapshot block', () => {
  it('continues from block H without blocks 1..H-1 and executes H+1 to the same root', async () => {
    const src = await build(4)
    const db = createMemoryStore()
    const chain = await openChainStore({ db })
    expect(chain.head()).toBeUndefined()
    expect(chain.namespaces()).toEqual({ state: 'state', chain: 'chain', generation: 0 })
    const next = chain.nextNamespaces()
    expect(next).toEqual({ state: 'state-1', chain: 'chain-1', generation: 1 })
    await copyState(src.chain.stateDb, db.namespace(next.state))
    const previous = await chain.anchor({
      stateNamespace: next.state,
      block: src.blocks[2],
      genesis: src.blocks[0],
    })
    expect(previous).toEqual({ state: 'state', chain: 'chain', generation: 0 })
    expect(chain.head()?.height).toBe(2n)
    expect(chain.baseHeight()).toBe(2n)
    expect(chain.isBelowBase(1n)).toBe(true)
    expect(chain.isBelowBase(0n)).toBe(false)
    expect(chain.isBelowBase(2n)).toBe(false)
    expect(await chain.getBlockByHeight(1n)).toBeUndefined()
    expect(await chain.getBlockByHeight(0n)).toEqual(src.blocks[0])
    expect(await chain.getBlockByHeight(2n)).toEqual(src.blocks[2])

    // block H+1 executes on the anchored state to the original's root, and commits
    const state = await createWorldState({ db: chain.stateDb, root: chain.head()!.stateRoot })
    const r = await new StateProcessor().applyBlock(state, src.blocks[3])
    expect(r.stateRoot).toEqual(src.blocks[3].header.stateRoot)
    await chain.commitBlock({
      block: src.blocks[3],
      receipts: r.receipts,
      stateOps: await state.flush(),
    })
    const tx = src.blocks[3].transactions[0]
    expect((await chain.getTxLocation(transactionHash(tx)))?.blockHeight).toBe(3n)

    // the pointer, the base and the head survive a reopen
    const again = await openChainStore({ db })
    expect(again.namespaces()).toEqual({ state: 'state-1', chain: 'chain-1', generation: 1 })
    expect(again.head()?.height).toBe(3n)
    expect(again.baseHeight()).toBe(2n)
    const s2 = await createWorldState({ db: again.stateDb, root: again.head()!.stateRoot })
    expect((await s2.getAccount(keys[0].address)).nonce).toBe(3n)
    expect(again.nextNamespaces().state).toBe('state-2')
  })

  it('refuses a state namespace without the root, the live namespace, or a foreign genesis; the live chain stays', async () => {
    const src = await build(2)
    const { chain } = src
    const headBefore = chain.headHash()
    const next = chain.nextNamespaces()
    await expect(
      chain.anchor({ stateNamespace: next.state, block: src.blocks[1] }),
    ).rejects.toThrow(/does not hold the state root/)
    await expect(chain.anchor({ stateNamespace: 'state', block: src.blocks[1] })).rejects.toThrow(
      /live namespace/,
    )
    await expect(
      chain.anchor({ stateNamespace: CHAIN_META_NAMESPACE, block: src.blocks[1] }),
    ).rejects.toThrow(/cannot be a state namespace/)
    const foreign = { ...src.blocks[0], header: { ...src.blocks[0].header, chainId: 99n } }
    await expect(
      chain.anchor({ stateNamespace: next.state, block: src.blocks[1], genesis: foreign }),
    ).rejects.toThrow(/genesis is of chain 99/)
    await expect(
      chain.anchor({ stateNamespace: next.state, block: src.blocks[1], genesis: src.blocks[1] }),
    ).rejects.toThrow(/height 0/)
    const reopened = await openChainStore({ db: src.db })
    expect(reopened.headHash()).toEqual(headBefore)
    expect(reopened.namespaces().generation).toBe(0)
  })

  it('a crash at any write of an anchor leaves the old chain or the new one, never a mix', async () => {
    const src = await build(3)
    for (let failAt = 1; failAt <= 3; failAt++) {
      const inner = (await build(1)).db
      let writes = 0
      const crashing: KVStore = Object.create(inner)
      crashing.namespace = (n) => {
        const ns = inner.namespace(n)
        const w: KVStore = Object.create(ns)
        w.batch = async (ops) => {
          if (++writes === failAt) throw new Error('injected crash')
          return ns.batch(ops)
        }
        return w
      }
      crashing.batch = async (ops) => {
        if (++writes === failAt) throw new Error('injected crash')
        return inner.batch(ops)
      }
      const chain = await openChainStore({ db: crashing })
      const next = chain.nextNamespaces()
      await copyState(src.chain.stateDb, inner.namespace(next.state))
      // leftovers of an earlier crashed anchor are cleared first
      await inner.namespace(next.chain).put(new Uint8Array([7]), new Uint8Array([7]))
      const ok = await chain
        .anchor({ stateNamespace: next.state, block: src.blocks[3], genesis: src.blocks[0] })
        .then(
          () => true,
          () => false,
        )
      const after = await openChainStore({ db: inner })
      if (ok) {
        expect(after.head()?.height).toBe(3n)
        expect(after.namespaces().chain).toBe('chain-1')
        expect(await inner.namespace('chain-1').get(new Uint8Array([7]))).toBeUndefined()
      } else {
        expect(after.head()?.height).toBe(1n)
        expect(after.namespaces().generation).toBe(0)
      }
    }
  })

  it('writes a missing genesis later and refuses another one', async () => {
    const src = await build(2)
    const db = createMemoryStore()
    const chain = await openChainStore({ db })
    const next = chain.nextNamespaces()
    await copyState(src.chain.stateDb, db.namespace(next.state))
    await chain.anchor({ stateNamespace: next.state, block: src.blocks[2] })
    expect(await chain.getBlockByHeight(0n)).toBeUndefined()
    await chain.putGenesis(src.blocks[0])
    await chain.putGenesis(src.blocks[0]) // idempotent
    expect(await chain.getBlockHash(0n)).toEqual(blockHash(src.blocks[0].header))
    const other = { ...src.blocks[0], header: { ...src.blocks[0].header, timestamp: 9n } }
    await expect(chain.putGenesis(other)).rejects.toThrow(/another genesis/)
    await expect(chain.putGenesis(src.blocks[1])).rejects.toThrow(/height 0/)
  })
})

describe('[ChainStore]: backfill below an anchor', () => {
  it('adds hash-linked blocks below the lowest one, skips known ones, refuses others; the base stays', async () => {
    const src = await build(6)
    const db = createMemoryStore()
    const chain = await openChainStore({ db })
    const next = chain.nextNamespaces()
    await copyState(src.chain.stateDb, db.namespace(next.state))
    await chain.anchor({ stateNamespace: next.state, block: src.blocks[5], genesis: src.blocks[0] })
    // a block that is not block 4's parent... (block 3 does not link to 5)
    await expect(chain.backfill([src.blocks[3]])).rejects.toMatchObject({ code: 'ERR_BAD_PARENT' })
    expect(await chain.lowestStoredHeight()).toBe(5n)
    const other = await build(6)
    const forged = { ...other.blocks[4], header: { ...other.blocks[4].header, timestamp: 99n } }
    await expect(chain.backfill([forged])).rejects.toMatchObject({ code: 'ERR_BAD_PARENT' })
    expect(await chain.backfill([src.blocks[3], src.blocks[4], src.blocks[5], src.blocks[0]])).toBe(
      2,
    )
    expect(await chain.lowestStoredHeight()).toBe(3n)
    expect(await chain.backfill([src.blocks[2], src.blocks[3]])).toBe(1)
    expect(await chain.backfill([])).toBe(0)
    expect(await chain.lowestStoredHeight()).toBe(2n)
    // found again by a walk when the store is opened anew
    expect(await (await openChainStore({ db })).lowestStoredHeight()).toBe(2n)
    expect(await chain.getBlockByHeight(2n)).toEqual(src.blocks[2])
    expect(await chain.getBlockByHeight(1n)).toBeUndefined()
    const tx = src.blocks[3].transactions[0]
    expect((await chain.getTxLocation(transactionHash(tx)))?.blockHeight).toBe(3n)
    expect(chain.baseHeight()).toBe(5n)
    await expect(chain.rollbackTo(4n)).rejects.toMatchObject({
      code: 'ERR_BELOW_BASE',
      message: expect.stringMatching(/history starts at 5/),
    })
    await expect(
      (await openChainStore({ db: createMemoryStore() })).backfill([]),
    ).rejects.toMatchObject({ code: 'ERR_STORE' })
  })
})

describe('[ChainStore]: rollbackTo', () => {
  it('moves the head back, unindexes abandoned transactions, keeps the old state, and extends again', async () => {
    const src = await build(4)
    const { chain } = src
    const { removed } = await chain.rollbackTo(2n)
    expect(removed.map((b) => b.header.height)).toEqual([4n, 3n])
    expect(chain.head()?.height).toBe(2n)
    expect(chain.headHash()).toEqual(blockHash(src.blocks[2].header))
    expect(await chain.getBlockByHeight(3n)).toBeUndefined()
    expect(await chain.getBlockByHash(blockHash(src.blocks[4].header))).toBeUndefined()
    expect(await chain.getReceipts(3n)).toBeUndefined()
    for (const tx of src.blocks[3].transactions)
      expect(await chain.getTxLocation(transactionHash(tx))).toBeUndefined()
    expect(await chain.getTxLocation(transactionHash(src.blocks[2].transactions[0]))).toBeDefined()
    // the state at the new head's root is still complete
    const state = await createWorldState({ db: chain.stateDb, root: chain.head()!.stateRoot })
    expect((await state.getAccount(keys[0].address)).nonce).toBe(2n)
    // and the chain extends again (here with the same block 3)
    const r = await new StateProcessor().applyBlock(state, src.blocks[3])
    await chain.commitBlock({
      block: src.blocks[3],
      receipts: r.receipts,
      stateOps: await state.flush(),
    })
    const reopened = await openChainStore({ db: src.db })
    expect(reopened.head()?.height).toBe(3n)
    expect(await reopened.getTxLocation(transactionHash(src.blocks[3].transactions[0]))).toEqual({
      blockHeight: 3n,
      index: 0,
      blockHash: blockHash(src.blocks[3].header),
    })
    // a no-op rollback to the head
    expect((await reopened.rollbackTo(3n)).removed).toEqual([])
  })

  it('refuses heights above the head, below an anchored base, and an empty store', async () => {
    const src = await build(3)
    await expect(src.chain.rollbackTo(4n)).rejects.toMatchObject({ code: 'ERR_BAD_PARENT' })
    const db = createMemoryStore()
    const empty = await openChainStore({ db })
    await expect(empty.rollbackTo(0n)).rejects.toMatchObject({ code: 'ERR_STORE' })
    const next = empty.nextNamespaces()
    await copyState(src.chain.stateDb, db.namespace(next.state))
    await empty.anchor({ stateNamespace: next.state, block: src.blocks[2], genesis: src.blocks[0] })
    await expect(empty.rollbackTo(1n)).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
    expect((await empty.rollbackTo(2n)).removed).toEqual([])
  })
})

/** What code typed on the interface (not the class) learns about where the chain starts. */
function history(chain: ChainStoreInterface, probe: bigint[]) {
  return { base: chain.baseHeight(), below: probe.filter((h) => chain.isBelowBase(h)) }
}

describe('[ChainStoreInterface]: baseHeight and isBelowBase', () => {
  it('a chain from genesis starts at 0 and has no height below its base', async () => {
    const src = await build(2)
    expect(history(src.chain, [0n, 1n, 2n, 3n, 1_000_000n])).toEqual({ base: 0n, below: [] })
    // an empty store too
    expect(history(await openChainStore({ db: createMemoryStore() }), [0n, 1n])).toEqual({
      base: 0n,
      below: [],
    })
  })

  it('a chain anchored at 1,000,000 starts there; genesis and the head are not below it; backfill does not move it', async () => {
    const src = await build(3)
    const db = createMemoryStore()
    const chain = await openChainStore({ db })
    const next = chain.nextNamespaces()
    await copyState(src.chain.stateDb, db.namespace(next.state))
    const H = 1_000_000n
    const at = (b: Block, height: bigint, parentHash: Uint8Array): Block => ({
      ...b,
      header: { ...b.header, height, parentHash },
    })
    const below = at(src.blocks[2], H - 1n, blockHash(src.blocks[1].header))
    const anchorBlock = at(src.blocks[3], H, blockHash(below.header))
    await chain.anchor({ stateNamespace: next.state, block: anchorBlock, genesis: src.blocks[0] })
    const probe = [0n, 1n, H - 1n, H, H + 1n]
    expect(history(chain, probe)).toEqual({ base: H, below: [1n, H - 1n] })
    expect(await chain.backfill([below])).toBe(1)
    expect(await chain.getBlockByHeight(H - 1n)).toEqual(below)
    const reopened = await openChainStore({ db })
    expect(history(reopened, probe)).toEqual({ base: H, below: [1n, H - 1n] })
    await expect(reopened.rollbackTo(H - 1n)).rejects.toMatchObject({ code: 'ERR_BELOW_BASE' })
  })
})
