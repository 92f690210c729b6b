import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bls } from '@aureon/crypto'
import { createMemoryStore, type KVStore, openLevelStore } from '@aureon/storage'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { encodeReceipt } from '../src/block.js'
import { openChainStore } from '../src/chain-store.js'
import { toHexKey } from '../src/codec.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { createWorldState } from '../src/state.js'
import type { GenesisConfig, Transaction, UnsignedTransaction } from '../src/types.js'
import { TxKind } from '../src/types.js'
import { fastSign, key } from './helpers.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const ks = [1, 2, 3, 4].map((i) => key(100 + i))
const blsSk = ks.map((_, i) => new Uint8Array(32).fill(i + 1))
const blsPk = blsSk.map((s) => bls.getPublicKey(s))
const blsPop = blsSk.map((s) => bls.popProve(s))
const config: GenesisConfig = {
  chainId: 1,
  timestamp: 0,
  balances: Object.fromEntries(ks.map((k) => [`0x${toHexKey(k.address)}`, '100000000'])),
  validators: [],
  consensus: { engine: 'dev' },
  params: { unbondingPeriod: 2, epochLength: 2, minValidatorStake: 10 },
}

const action = fc.record({
  kind: fc.constantFrom(0, 0, 0, 1, 3, 4),
  from: fc.nat(3),
  to: fc.nat(3),
  amount: fc.bigInt({ min: 0n, max: 200_000_000n }),
  price: fc.bigInt({ min: 0n, max: 3n }),
  nonceSkew: fc.constantFrom(0n, 0n, 0n, 0n, 1n, -1n),
  bls: fc.boolean(),
})
type ActionT = typeof action extends fc.Arbitrary<infer A> ? A : never
const blocksArb = fc.array(fc.array(action, { maxLength: 8 }), { minLength: 2, maxLength: 5 })

function toTxs(blocks: ActionT[][]) {
  const nonces = [0n, 0n, 0n, 0n]
  return blocks.map((actions) =>
    actions.map((a) => {
      const nonce = nonces[a.from] + a.nonceSkew < 0n ? 0n : nonces[a.from] + a.nonceSkew
      if (a.nonceSkew === 0n) nonces[a.from]++
      const common = { chainId: 1n, nonce, gasPrice: a.price }
      let u: UnsignedTransaction
      if (a.kind === 0)
        u = {
          ...common,
          kind: TxKind.Transfer,
          gasLimit: 21_000n,
          to: ks[a.to].address,
          amount: a.amount,
        }
      else if (a.kind === 1)
        u = {
          ...common,
          kind: TxKind.ContractDeploy,
          gasLimit: 100_000n,
          code: Uint8Array.of(1, 2),
          args: new Uint8Array(0),
          value: a.amount % 100n,
        }
      else if (a.kind === 3)
        u = {
          ...common,
          kind: TxKind.Stake,
          gasLimit: 200_000n,
          amount: a.amount % 1_000n,
          ...(a.bls ? { blsPublicKey: blsPk[a.from], blsPop: blsPop[a.from] } : {}),
        }
      else u = { ...common, kind: TxKind.Unstake, gasLimit: 60_000n, amount: a.amount % 500n }
      return fastSign(u, ks[a.from])
    }),
  )
}

async function setup(db: KVStore) {
  const chain = await openChainStore({ db })
  const g = await createGenesis({ config, db: chain.stateDb })
  await chain.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
  return { chain, state: g.state, params: g.params }
}

describe('[Determinism]: MemoryStore vs LevelStore', () => {
  it('random transaction sequences give identical roots and receipts, across close/reopen', async () => {
    await fc.assert(
      fc.asyncProperty(blocksArb, fc.nat(4), async (blocks, reopenAt) => {
        const txBlocks = toTxs(blocks)
        // 1. build on a MemoryStore
        const mem = await setup(createMemoryStore())
        const p = new StateProcessor({ params: mem.params })
        const built = []
        for (const [i, txs] of txBlocks.entries()) {
          const r = await p.buildBlock(mem.state, {
            parent: mem.chain.head()!,
            timestamp: BigInt(i + 1),
            proposer: ks[i % 4].address,
            transactions: txs as Transaction[],
          })
          await mem.chain.commitBlock({
            block: r.block,
            receipts: r.receipts,
            stateOps: await mem.state.flush(),
          })
          built.push(r)
        }
        // 2. apply the same blocks on a LevelStore, closing and reopening midway
        const dir = mkdtempSync(join(tmpdir(), 'ledger-det-'))
        dirs.push(dir)
        let db = await openLevelStore({ path: dir })
        let lvl = await setup(db)
        let state = lvl.state
        for (const [i, r] of built.entries()) {
          if (i === reopenAt % built.length) {
            await lvl.chain.close()
            db = await openLevelStore({ path: dir })
            const chain = await openChainStore({ db })
            state = await createWorldState({ db: chain.stateDb, root: chain.head()!.stateRoot })
            lvl = { ...lvl, chain }
          }
          const res = await p.applyBlock(state, r.block) // checks every root in the header
          expect(res.receipts.map(encodeReceipt)).toEqual(r.receipts.map(encodeReceipt))
          await lvl.chain.commitBlock({
            block: r.block,
            receipts: res.receipts,
            stateOps: await state.flush(),
          })
        }
        expect(lvl.chain.head()?.stateRoot).toEqual(mem.chain.head()?.stateRoot)
        expect(await state.getValidatorSet()).toEqual(await mem.state.getValidatorSet())
        await lvl.chain.close()
        rmSync(dir, { recursive: true, force: true })
      }),
      { numRuns: 6 },
    )
  }, 120_000)
})
