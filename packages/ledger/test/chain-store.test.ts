import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BatchOp, KVStore } from '@aureon/storage'
import { createMemoryStore, openLevelStore } from '@aureon/storage'
import { afterAll, describe, expect, it } from 'vitest'
import { blockHash } from '../src/block.js'
import { openChainStore } from '../src/chain-store.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { createWorldState } from '../src/state.js'
import { transactionHash } from '../src/tx.js'
import type { GenesisConfig } from '../src/types.js'
import { key, transfer } from './helpers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const keys = [1, 2, 3, 4].map(key)
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

/** A store wrapper that fails at the Nth write (put, del or batch) anywhere below it. */
function crashingStore(inner: KVStore, counter: { writes: number; failAt: number }): KVStore {
  const hit = () => {
    counter.writes++
    if (counter.writes === counter.failAt)
      throw new Error(`injected crash at write ${counter.writes}`)
  }
  const wrap = (s: KVStore): KVStore => ({
    get: (k) => s.get(k),
    getMany: (ks) => s.getMany(ks),
    has: (k) => s.has(k),
    iterate: (o) => s.iterate(o),
    path: s.path,
    close: () => s.close(),
    namespace: (n) => wrap(s.namespace(n)),
    put: async (k, v) => {
      hit()
      await s.put(k, v)
    },
    del: async (k) => {
      hit()
      await s.del(k)
    },
    batch: async (ops: BatchOp[]) => {
      hit()
      await s.batch(ops)
    },
  })
  return wrap(inner)
}

/** Runs genesis + `blocks` blocks of transfers on `db`; returns the state root after each block. */
async function runChain(db: KVStore, blocks: number): Promise<Uint8Array[]> {
  const chain = await openChainStore({ db })
  const roots: Uint8Array[] = []
  const g = await createGenesis({ config, db: chain.stateDb })
  await chain.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
  roots.push(g.stateRoot)
  const p = new StateProcessor()
  const state = g.state
  for (let h = 1; h <= blocks; h++) {
    const txs = keys.map((k, i) =>
      transfer(k, keys[(i + 1) % keys.length].address, BigInt(h - 1), BigInt(h)),
    )
    const parent = chain.head()
    if (!parent) throw new Error('no head')
    const { block, receipts } = await p.buildBlock(state, {
      parent,
      timestamp: BigInt(h),
      proposer,
      transactions: txs,
    })
    await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
    roots.push(block.header.stateRoot)
  }
  return roots
}

describe('[ChainStore]: reads', () => {
  it('stores blocks, receipts, the tx index and the head; survives reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-chain-'))
    dirs.push(dir)
    let db = await openLevelStore({ path: dir })
    const roots = await runChain(db, 3)
    await db.close()
    db = await openLevelStore({ path: dir })
    const chain = await openChainStore({ db })
    expect(chain.head()?.height).toBe(3n)
    const b2 = await chain.getBlockByHeight(2n)
    expect(b2?.header.stateRoot).toEqual(roots[2])
    expect(await chain.getBlockByHash(blockHash(b2!.header))).toEqual(b2)
    const tx = b2!.transactions[1]
    const h = transactionHash(tx)
    expect(await chain.getTxLocation(h)).toEqual({
      blockHeight: 2n,
      index: 1,
      blockHash: blockHash(b2!.header),
    })
    expect((await chain.getReceipt(h))?.txHash).toEqual(h)
    expect(await chain.getTransaction(h)).toEqual(tx)
    expect(await chain.getReceipts(2n)).toHaveLength(4)
    expect(await chain.getReceipts(9n)).toBeUndefined()
    expect(await chain.getReceipt(new Uint8Array(32))).toBeUndefined()
    expect(await chain.getTransaction(new Uint8Array(32))).toBeUndefined()
    expect(await chain.getHeader(1n)).toEqual((await chain.getBlockByHeight(1n))?.header)
    expect(chain.headHash()).toEqual(blockHash(chain.head()!))
    const state = await createWorldState({ db: chain.stateDb, root: chain.head()!.stateRoot })
    expect((await state.getAccount(keys[0].address)).nonce).toBe(3n)
    // refuses a block that does not follow the head, and receipts that do not match
    await expect(
      chain.commitBlock({ block: b2!, receipts: [], stateOps: [] }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_BLOCK' })
    const b2r = (await chain.getReceipts(2n))!
    await expect(
      chain.commitBlock({ block: b2!, receipts: b2r, stateOps: [] }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_PARENT' })
    await chain.close()
  })
})

describe('[ChainStore]: crash injection', () => {
  it('a crash at any write leaves the previous or the next block, with its state', async () => {
    const blocks = 4
    const refCounter = { writes: 0, failAt: -1 }
    const reference = await runChain(crashingStore(createMemoryStore(), refCounter), blocks)
    // every write of the chain is one atomic batch per committed block
    expect(refCounter.writes).toBe(blocks + 1)
    for (let failAt = 1; failAt <= refCounter.writes; failAt++) {
      const base = createMemoryStore()
      const counter = { writes: 0, failAt }
      await expect(runChain(crashingStore(base, counter), blocks)).rejects.toThrow(/injected crash/)
      // "restart": reopen on what reached the store
      const chain = await openChainStore({ db: base })
      const head = chain.head()
      const committed = failAt - 1 // writes before the crash: one batch per block
      if (committed === 0) {
        expect(head).toBeUndefined()
        continue
      }
      expect(head?.height).toBe(BigInt(committed - 1))
      expect(head?.stateRoot).toEqual(reference[committed - 1])
      const state = await createWorldState({ db: chain.stateDb, root: head!.stateRoot })
      expect((await state.getAccount(keys[0].address)).nonce).toBe(BigInt(committed - 1))
      expect(await state.root()).toEqual(reference[committed - 1])
      expect(await chain.getBlockByHeight(BigInt(committed))).toBeUndefined()
    }
  })
})
