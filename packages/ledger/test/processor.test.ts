import { bls } from '@aureon/crypto'
import { createMemoryStore } from '@aureon/storage'
import { beforeEach, describe, expect, it } from 'vitest'
import { contractAddress, emptyAccount } from '../src/account.js'
import { blockHash } from '../src/block.js'
import { toHexKey } from '../src/codec.js'
import { isLedgerError } from '../src/errors.js'
import { StateProcessor } from '../src/processor.js'
import { createWorldState, type LedgerWorldState } from '../src/state.js'
import { signTransaction } from '../src/tx.js'
import { createTxPool } from '../src/txpool.js'
import type {
  BlockEnv,
  BlockHeader,
  ContractExecutor,
  ExecutionResult,
  Transaction,
} from '../src/types.js'
import { TxKind } from '../src/types.js'
import { mainThreadVerifier } from '../src/verify.js'
import { key, transfer } from './helpers.js'

const alice = key(1)
const bob = key(2)
const carol = key(3)
const proposer = key(9).address
const env = (height = 1n): BlockEnv => ({
  chainId: 1n,
  height,
  timestamp: 1_000n,
  proposer,
  gasLimit: 30_000_000n,
})

async function freshState(): Promise<LedgerWorldState> {
  const state = await createWorldState({ db: createMemoryStore() })
  await state.putAccount(alice.address, { ...emptyAccount(), balance: 1_000_000_000n })
  await state.putAccount(bob.address, { ...emptyAccount(), balance: 1_000_000_000n })
  await state.root()
  return state
}

function genesisHeader(stateRoot: Uint8Array): BlockHeader {
  return {
    chainId: 1n,
    height: 0n,
    parentHash: new Uint8Array(32),
    timestamp: 0n,
    proposer: new Uint8Array(20),
    stateRoot,
    txRoot: new Uint8Array(32),
    receiptsRoot: new Uint8Array(32),
    gasUsed: 0n,
    gasLimit: 30_000_000n,
    consensus: new Uint8Array(0),
  }
}

const ok = (gasUsed = 100n, extra: Partial<ExecutionResult> = {}): ExecutionResult => ({
  status: 'Success',
  gasUsed,
  output: Uint8Array.of(1),
  logs: [],
  debugLogs: ['hi'],
  ...extra,
})

describe('[StateProcessor]: transfers', () => {
  let state: LedgerWorldState
  const p = new StateProcessor()
  beforeEach(async () => {
    state = await freshState()
  })

  it('moves the amount, charges the fee to the proposer, bumps the nonce', async () => {
    const tx = transfer(alice, carol.address, 0n, 500n, { gasPrice: 3n, gasLimit: 30_000n })
    const r = await p.applyTransaction(state, tx, env(), 0)
    expect(r.status).toBe('Success')
    expect(r.gasUsed).toBe(21_000n)
    expect(r.fee).toBe(63_000n)
    expect((await state.getAccount(alice.address)).balance).toBe(1_000_000_000n - 500n - 63_000n)
    expect((await state.getAccount(alice.address)).nonce).toBe(1n)
    expect((await state.getAccount(carol.address)).balance).toBe(500n)
    expect((await state.getAccount(proposer)).balance).toBe(63_000n)
    expect(r.balanceChanges.map((c) => toHexKey(c.address)).sort()).toEqual(
      [alice.address, carol.address, proposer].map(toHexKey).sort(),
    )
  })

  it('refuses nonce too low, nonce gap, insufficient balance, leaving state unchanged', async () => {
    const root = await state.root()
    const codeOf = async (tx: Transaction) => {
      try {
        await p.applyTransaction(state, tx, env(), 0)
        return 'ok'
      } catch (e) {
        return isLedgerError(e) ? e.code : String(e)
      }
    }
    expect(await codeOf(transfer(alice, bob.address, 1n))).toBe('ERR_NONCE_GAP')
    expect(await codeOf(transfer(carol, bob.address, 0n))).toBe('ERR_INSUFFICIENT_BALANCE')
    expect(await codeOf(transfer(alice, bob.address, 0n, 1n, { chainId: 5n }))).toBe(
      'ERR_WRONG_CHAIN_ID',
    )
    expect(await state.root()).toEqual(root)
    await p.applyTransaction(state, transfer(alice, bob.address, 0n), env(), 0)
    expect(await codeOf(transfer(alice, bob.address, 0n, 2n))).toBe('ERR_NONCE_TOO_LOW')
    await expect(
      p.validateTransaction(state, transfer(alice, bob.address, 5n), { chainId: 1n }),
    ).rejects.toMatchObject({ code: 'ERR_NONCE_GAP' })
  })
})

describe('[StateProcessor]: contracts', () => {
  let state: LedgerWorldState
  beforeEach(async () => {
    state = await freshState()
  })
  const deploy = (nonce: bigint, value = 0n) =>
    signTransaction(
      {
        kind: TxKind.ContractDeploy,
        chainId: 1n,
        nonce,
        gasPrice: 2n,
        gasLimit: 200_000n,
        code: Uint8Array.of(0, 97, 115, 109),
        args: new Uint8Array(0),
        value,
      },
      alice.sk,
    )
  const call = (nonce: bigint, contract: Uint8Array, fn = 'go', value = 0n) =>
    signTransaction(
      {
        kind: TxKind.ContractCall,
        chainId: 1n,
        nonce,
        gasPrice: 2n,
        gasLimit: 100_000n,
        contract,
        function: fn,
        args: new Uint8Array(0),
        value,
      },
      alice.sk,
    )

  it('without an executor: Failed with ERR_NO_EXECUTOR, fee and nonce kept, value not moved', async () => {
    const p = new StateProcessor()
    const tx = deploy(0n, 50n)
    const r = await p.applyTransaction(state, tx, env(), 0)
    expect(r.status).toBe('Failed')
    expect(r.error?.code).toBe('ERR_NO_EXECUTOR')
    const a = await state.getAccount(alice.address)
    expect(a.nonce).toBe(1n)
    expect(a.balance).toBe(1_000_000_000n - r.fee)
    expect(r.fee).toBe(r.gasUsed * 2n)
    expect(await state.accountExists(contractAddress(alice.address, 0n))).toBe(false)
  })

  it('runs an executor: deploy, storage, logs; failures revert all but fee and nonce', async () => {
    const executor: ContractExecutor = {
      async deploy(ctx, req) {
        const codeHash = await ctx.state.putCode(req.code)
        const acc = await ctx.state.getAccount(req.address)
        await ctx.state.putAccount(req.address, { ...acc, codeHash })
        await ctx.state.putStorage(req.address, Uint8Array.of(1), Uint8Array.of(42))
        expect(ctx.gasLimit).toBeGreaterThan(0n)
        return ok(1_000n, { contractAddress: req.address })
      },
      async call(ctx, req) {
        await ctx.state.putStorage(req.contract, Uint8Array.of(2), Uint8Array.of(7))
        if (req.function === 'revert')
          return { ...ok(500n), status: 'Reverted', error: { code: 'ERR_REVERTED', message: 'no' } }
        if (req.function === 'oog')
          return {
            ...ok(0n),
            status: 'OutOfGas',
            error: { code: 'ERR_OUT_OF_GAS', message: 'oog' },
          }
        if (req.function === 'throw') throw new Error('boom')
        return ok(300n, {
          logs: [{ address: req.contract, topics: [new Uint8Array(32)], data: Uint8Array.of(5) }],
        })
      },
    }
    const p = new StateProcessor({ executor })
    const r0 = await p.applyTransaction(state, deploy(0n, 10n), env(), 0)
    const addr = contractAddress(alice.address, 0n)
    expect(r0.status).toBe('Success')
    expect(r0.contractAddress).toEqual(addr)
    expect(r0.gasUsed).toBeGreaterThan(1_000n)
    expect((await state.getAccount(addr)).balance).toBe(10n)
    expect(await state.getContractCode(addr)).toEqual(Uint8Array.of(0, 97, 115, 109))
    expect(await state.getStorage(addr, Uint8Array.of(1))).toEqual(Uint8Array.of(42))

    const r1 = await p.applyTransaction(state, call(1n, addr, 'go', 5n), env(), 1)
    expect(r1.status).toBe('Success')
    expect(r1.logs).toHaveLength(1)
    expect(await state.getStorage(addr, Uint8Array.of(2))).toEqual(Uint8Array.of(7))
    await state.delStorage(addr, Uint8Array.of(2))
    const before = await state.getAccount(alice.address)

    const r2 = await p.applyTransaction(state, call(2n, addr, 'revert', 5n), env(), 2)
    expect(r2.status).toBe('Reverted')
    expect(r2.logs).toEqual([])
    expect(await state.getStorage(addr, Uint8Array.of(2))).toBeUndefined()
    const after = await state.getAccount(alice.address)
    expect(after.balance).toBe(before.balance - r2.fee)
    expect(after.nonce).toBe(before.nonce + 1n)

    const r3 = await p.applyTransaction(state, call(3n, addr, 'oog'), env(), 3)
    expect(r3.status).toBe('OutOfGas')
    expect(r3.gasUsed).toBe(100_000n)
    expect(r3.fee).toBe(200_000n)

    const r4 = await p.applyTransaction(state, call(4n, addr, 'throw'), env(), 4)
    expect(r4.status).toBe('Failed')
    expect(r4.error?.code).toBe('ERR_EXECUTOR_FAILED')
    // deploying twice to an address that has code fails
    const r5 = await p.applyTransaction(state, deploy(5n), env(), 5)
    expect(r5.status).toBe('Success')
    const root1 = await state.root()
    await state.flush()
    expect(root1).toEqual(await state.root())
  })
})

describe('[StateProcessor]: staking', () => {
  it('stake needs a BLS key + PoP first; unstake unbonds and returns after the period; validator set moves at epochs', async () => {
    const state = await freshState()
    const p = new StateProcessor({
      params: { unbondingPeriod: 3n, epochLength: 2n, minValidatorStake: 100n },
    })
    const stake = (nonce: bigint, amount: bigint, withBls: boolean, sk = alice.sk) => {
      const blsSk = bls.randomSecretKey()
      return signTransaction(
        {
          kind: TxKind.Stake,
          chainId: 1n,
          nonce,
          gasPrice: 1n,
          gasLimit: 200_000n,
          amount,
          ...(withBls
            ? { blsPublicKey: bls.getPublicKey(blsSk), blsPop: bls.popProve(blsSk) }
            : {}),
        },
        sk,
      )
    }
    const r0 = await p.applyTransaction(state, stake(0n, 1_000n, false), env(1n), 0)
    expect(r0.error?.code).toBe('ERR_BAD_BLS_KEY')
    const badPop = { ...stake(1n, 1n, true) }
    const other = stake(1n, 1n, true)
    const forged = signTransaction(
      {
        kind: TxKind.Stake,
        chainId: 1n,
        nonce: 1n,
        gasPrice: 1n,
        gasLimit: 200_000n,
        amount: 1n,
        blsPublicKey: (badPop as { blsPublicKey: Uint8Array }).blsPublicKey,
        blsPop: (other as { blsPop: Uint8Array }).blsPop,
      },
      alice.sk,
    )
    const r1 = await p.applyTransaction(state, forged, env(1n), 1)
    expect(r1.error?.code).toBe('ERR_BAD_BLS_POP')
    const r2 = await p.applyTransaction(state, stake(2n, 1_000n, true), env(1n), 2)
    expect(r2.status).toBe('Success')
    expect((await state.getAccount(alice.address)).stake).toBe(1_000n)
    expect(await state.getValidatorCandidates()).toHaveLength(1)
    const r3 = await p.applyTransaction(state, stake(3n, 10n, true), env(1n), 3)
    expect(r3.error?.code).toBe('ERR_BAD_BLS_KEY')
    const r4 = await p.applyTransaction(state, stake(4n, 10n, false), env(1n), 4)
    expect(r4.status).toBe('Success')
    expect((await state.getAccount(alice.address)).stake).toBe(1_010n)

    // epoch boundary at height 2
    await p.endBlock(state, env(2n))
    let set = await state.getValidatorSet()
    expect(set.epoch).toBe(1n)
    expect(set.validators.map((v) => toHexKey(v.address))).toEqual([toHexKey(alice.address)])
    expect(set.totalStake).toBe(1_010n)

    const unstake = (nonce: bigint, amount: bigint) =>
      signTransaction(
        { kind: TxKind.Unstake, chainId: 1n, nonce, gasPrice: 1n, gasLimit: 100_000n, amount },
        alice.sk,
      )
    const r5 = await p.applyTransaction(state, unstake(5n, 5_000n), env(3n), 0)
    expect(r5.error?.code).toBe('ERR_INSUFFICIENT_STAKE')
    const r6 = await p.applyTransaction(state, unstake(6n, 1_000n), env(3n), 1)
    expect(r6.status).toBe('Success')
    const a = await state.getAccount(alice.address)
    expect(a.stake).toBe(10n)
    expect(a.unbonding).toEqual([{ amount: 1_000n, releaseHeight: 6n }])
    const zero = await p.applyTransaction(state, unstake(7n, 0n), env(3n), 2)
    expect(zero.status).toBe('Success')
    await p.endBlock(state, env(4n))
    set = await state.getValidatorSet()
    expect(set.validators).toEqual([]) // 10 < minValidatorStake
    const bal = (await state.getAccount(alice.address)).balance
    await p.beginBlock(state, env(5n))
    expect((await state.getAccount(alice.address)).balance).toBe(bal)
    await p.beginBlock(state, env(6n))
    const released = await state.getAccount(alice.address)
    expect(released.balance).toBe(bal + 1_000n)
    expect(released.unbonding).toEqual([])
  })
})

describe('[StateProcessor]: blocks', () => {
  it('buildBlock then applyBlock on another copy gives the same roots; bad blocks leave state unchanged', async () => {
    const s1 = await freshState()
    const s2 = await freshState()
    const p = new StateProcessor()
    const parent = genesisHeader(await s1.root())
    const txs = [
      transfer(alice, carol.address, 0n, 5n),
      transfer(alice, carol.address, 1n, 5n),
      transfer(bob, carol.address, 0n, 5n),
      transfer(bob, carol.address, 5n, 5n), // nonce gap: skipped
      { ...transfer(carol, bob.address, 0n, 1n), signature: new Uint8Array(64) } as Transaction,
    ]
    const built = await p.buildBlock(s1, { parent, timestamp: 5n, proposer, transactions: txs })
    expect(built.block.transactions).toHaveLength(3)
    expect(built.skipped.map((s) => s.error.code).sort()).toEqual([
      'ERR_BAD_SIGNATURE',
      'ERR_NONCE_GAP',
    ])
    expect(built.block.header.parentHash).toEqual(blockHash(parent))
    const res = await p.applyBlock(s2, built.block)
    expect(res.stateRoot).toEqual(built.block.header.stateRoot)
    expect(res.receipts).toEqual(built.receipts)

    // a header with a wrong root is refused and the state stays where it was
    const s3 = await freshState()
    const root3 = await s3.root()
    const bad = { ...built.block, header: { ...built.block.header, stateRoot: new Uint8Array(32) } }
    await expect(p.applyBlock(s3, bad)).rejects.toMatchObject({ code: 'ERR_STATE_ROOT_MISMATCH' })
    const badGas = { ...built.block, header: { ...built.block.header, gasUsed: 1n } }
    await s3.setRoot(root3)
    await expect(p.applyBlock(s3, badGas)).rejects.toMatchObject({ code: 'ERR_GAS_USED_MISMATCH' })
    await s3.setRoot(root3)
    const badTx = { ...built.block, header: { ...built.block.header, txRoot: new Uint8Array(32) } }
    await expect(p.applyBlock(s3, badTx)).rejects.toMatchObject({ code: 'ERR_TX_ROOT_MISMATCH' })
    await s3.setRoot(root3)
    const badR = {
      ...built.block,
      header: { ...built.block.header, receiptsRoot: new Uint8Array(32) },
    }
    await expect(p.applyBlock(s3, badR)).rejects.toMatchObject({
      code: 'ERR_RECEIPTS_ROOT_MISMATCH',
    })
    await s3.setRoot(root3)
    const badSig = {
      ...built.block,
      transactions: [
        { ...built.block.transactions[0], signature: new Uint8Array(64) } as Transaction,
        ...built.block.transactions.slice(1),
      ],
    }
    await expect(p.applyBlock(s3, badSig)).rejects.toMatchObject({ code: 'ERR_BAD_SIGNATURE' })
    expect(await s3.root()).toEqual(root3)
    const badNonce = { ...built.block, transactions: [built.block.transactions[1]] }
    await expect(p.applyBlock(s3, badNonce)).rejects.toMatchObject({ code: 'ERR_NONCE_GAP' })
    expect(await s3.root()).toEqual(root3)
    const tooMuchGas = { ...built.block, header: { ...built.block.header, gasLimit: 40_000n } }
    await expect(p.applyBlock(s3, tooMuchGas)).rejects.toMatchObject({
      code: 'ERR_BLOCK_GAS_LIMIT',
    })
    const overChain = { ...built.block, header: { ...built.block.header, gasLimit: 40_000_000n } }
    await expect(p.applyBlock(s3, overChain)).rejects.toMatchObject({ code: 'ERR_BLOCK_GAS_LIMIT' })
    expect(await s3.root()).toEqual(root3)
    // without checks
    const unchecked = await p.applyBlock(s3, bad, { verifyHeader: false, verifySignatures: false })
    expect(unchecked.stateRoot).toEqual(built.block.header.stateRoot)
  })

  it('buildBlock respects gas and count limits', async () => {
    const s = await freshState()
    const p = new StateProcessor()
    const parent = genesisHeader(await s.root())
    const txs = [0n, 1n, 2n, 3n].map((n) => transfer(alice, carol.address, n))
    const b = await p.buildBlock(s, {
      parent,
      timestamp: 1n,
      proposer,
      transactions: txs,
      gasLimit: 50_000n,
    })
    expect(b.block.transactions).toHaveLength(2)
    expect(b.skipped.every((x) => x.error.code === 'ERR_BLOCK_GAS_LIMIT')).toBe(true)
    const s2 = await freshState()
    const b2 = await p.buildBlock(s2, {
      parent,
      timestamp: 1n,
      proposer,
      transactions: txs,
      maxTransactions: 1,
    })
    expect(b2.block.transactions).toHaveLength(1)
  })
})

describe('[StateProcessor]: transfer fast path', () => {
  /** The same state seen through a plain WorldState (not a LedgerWorldState): the general path. */
  const general = (s: LedgerWorldState) =>
    new Proxy(s, {
      getPrototypeOf: () => Object.prototype,
      get(target, prop) {
        const v = Reflect.get(target, prop)
        return typeof v === 'function' ? v.bind(target) : v
      },
    })
  const MAX = (1n << 128n) - 1n

  it('gives the receipts, errors and roots of the general path (property)', async () => {
    const fc = (await import('fast-check')).default
    const ks = [key(21), key(22), key(23)]
    const others = [key(24).address, key(25).address]
    const all = [...ks.map((k) => k.address), ...others]
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 9n }), fc.constant(MAX - 5n)),
          {
            minLength: 5,
            maxLength: 5,
          },
        ),
        fc.integer({ min: 0, max: 4 }),
        fc.array(
          fc.record({
            from: fc.integer({ min: 0, max: 2 }),
            to: fc.integer({ min: 0, max: 4 }),
            amount: fc.oneof(
              fc.constant(0n),
              fc.bigInt({ min: 0n, max: 1000n }),
              fc.constant(MAX - 1n),
            ),
            gasPrice: fc.bigInt({ min: 0n, max: 3n }),
            nonceSkew: fc.constantFrom(0n, 0n, 0n, 1n),
          }),
          { maxLength: 12 },
        ),
        async (balances, proposerIdx, txs) => {
          const a = await createWorldState({ db: createMemoryStore() })
          const b = await createWorldState({ db: createMemoryStore() })
          for (const s of [a, b]) {
            for (let i = 0; i < all.length; i++) {
              await s.putAccount(all[i], { ...emptyAccount(), balance: balances[i] })
            }
            await s.root()
          }
          const e = { ...env(), proposer: all[proposerIdx] }
          const p = new StateProcessor()
          const nonces = [0n, 0n, 0n]
          for (const [i, t] of txs.entries()) {
            const tx = transfer(ks[t.from], all[t.to], nonces[t.from] + t.nonceSkew, t.amount, {
              gasPrice: t.gasPrice,
            })
            const run = async (s: LedgerWorldState | ReturnType<typeof general>) => {
              s.checkpoint()
              try {
                const r = await p.applyTransaction(s, tx, e, i)
                await s.commit()
                return r
              } catch (err) {
                await s.revert()
                if (!isLedgerError(err)) throw err
                return err.code
              }
            }
            const fast = await run(a)
            const slow = await run(general(b))
            expect(fast).toEqual(slow)
            if (typeof fast !== 'string') nonces[t.from]++
          }
          expect(toHexKey(await a.root())).toBe(toHexKey(await b.root()))
          for (const x of all) expect(await a.getAccount(x)).toEqual(await b.getAccount(x))
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('[StateProcessor]: signatures checked once per transaction object', () => {
  /** mainThreadVerifier that counts the signatures it is asked about. */
  const counting = () => {
    const v = {
      checked: 0,
      async verifyEd25519(items: Parameters<typeof mainThreadVerifier.verifyEd25519>[0]) {
        v.checked += items.length
        return mainThreadVerifier.verifyEd25519(items)
      },
    }
    return v
  }

  it('skips signatures the same verifier accepted (pool, look-ahead), not others', async () => {
    const v = counting()
    const p = new StateProcessor({ verifier: v })
    const s = await freshState()
    const txs = [transfer(alice, carol.address, 0n), transfer(bob, carol.address, 0n)]
    const pool = createTxPool({ chainId: 1n, getAccount: (a) => s.getAccount(a), verifier: v })
    await pool.addMany(txs)
    expect(v.checked).toBe(2)
    const built = await p.buildBlock(await s.copy(), {
      parent: genesisHeader(await s.root()),
      timestamp: 1n,
      proposer,
      transactions: pool.select(),
    })
    expect(v.checked).toBe(2) // accepted by the pool: not checked again
    // a copy with another signature object, or another verifier, is checked again
    const forged = { ...txs[0], signature: txs[0].signature.slice() } as Transaction
    expect(await p.verifySignatures([forged, txs[1]])).toEqual([])
    expect(v.checked).toBe(3)
    const other = new StateProcessor({ verifier: counting() })
    const res = await other.applyBlock(await freshState(), built.block)
    expect(res.stateRoot).toEqual(built.block.header.stateRoot)
    expect((other.verifier as ReturnType<typeof counting>).checked).toBe(2)
  })

  it('joins a check still running instead of starting another; a failed check is not kept', async () => {
    const v = counting()
    const p = new StateProcessor({ verifier: v })
    const s = await freshState()
    const txs = [transfer(alice, carol.address, 0n), transfer(bob, carol.address, 0n)]
    const ahead = p.verifySignatures(txs)
    const header = { ...genesisHeader(await s.root()), height: 1n, proposer }
    const res = await p.applyBlock(s, { header, transactions: txs }, { verifyHeader: false })
    expect(await ahead).toEqual([])
    expect(res.receipts.map((r) => r.status)).toEqual(['Success', 'Success'])
    expect(v.checked).toBe(2)
    // a verifier that fails: the error reaches every caller, and nothing is remembered
    let fail = true
    const flaky = {
      checked: 0,
      async verifyEd25519(items: Parameters<typeof mainThreadVerifier.verifyEd25519>[0]) {
        flaky.checked += items.length
        if (fail) throw new Error('verifier down')
        return mainThreadVerifier.verifyEd25519(items)
      },
    }
    const q = new StateProcessor({ verifier: flaky })
    const more = [transfer(alice, carol.address, 1n)]
    const a = q.verifySignatures(more)
    const b = q.verifySignatures(more)
    await expect(a).rejects.toThrow('verifier down')
    await expect(b).rejects.toThrow('verifier down')
    expect(flaky.checked).toBe(1)
    fail = false
    expect(await q.verifySignatures(more)).toEqual([])
    expect(await q.verifySignatures(more)).toEqual([])
    expect(flaky.checked).toBe(2)
  })

  it('a bad signature found after the state was hashed leaves the state as it was', async () => {
    const s = await freshState()
    const root = await s.root()
    const aliceBefore = await s.getAccount(alice.address)
    const p = new StateProcessor()
    const good = transfer(alice, carol.address, 0n, 5n)
    const bad = { ...transfer(bob, carol.address, 0n), signature: new Uint8Array(64) }
    const header = { ...genesisHeader(root), height: 1n, proposer }
    await expect(
      p.applyBlock(
        s,
        { header, transactions: [good, bad as Transaction] },
        { verifyHeader: false },
      ),
    ).rejects.toMatchObject({ code: 'ERR_BAD_SIGNATURE', details: { invalid: [1] } })
    expect(await s.root()).toEqual(root)
    expect(await s.getAccount(alice.address)).toEqual(aliceBefore)
    expect(await s.getAccount(carol.address)).toEqual(emptyAccount())
    // and it still applies a good block
    const ok = await p.applyBlock(s, { header, transactions: [good] }, { verifyHeader: false })
    expect(ok.receipts[0].status).toBe('Success')
    expect((await s.getAccount(carol.address)).balance).toBe(5n)
  })
})
