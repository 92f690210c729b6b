import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import { emptyAccount } from '../src/account.js'
import { openChainStore } from '../src/chain-store.js'
import { toHexKey } from '../src/codec.js'
import { LedgerError } from '../src/errors.js'
import { createGenesis } from '../src/genesis.js'
import { StateProcessor } from '../src/processor.js'
import { transactionHash } from '../src/tx.js'
import { createTxPool } from '../src/txpool.js'
import type { Account, GenesisConfig, Transaction } from '../src/types.js'
import { fastSign, type Key, key, transfer } from './helpers.js'

const a = key(1)
const b = key(2)
const c = key(3)

function poolWith(accounts: Record<string, Partial<Account>>, opts = {}) {
  return createTxPool({
    chainId: 1n,
    getAccount: async (addr) => ({ ...emptyAccount(), ...(accounts[toHexKey(addr)] ?? {}) }),
    ...opts,
  })
}
const rich = (...ks: Key[]) =>
  Object.fromEntries(ks.map((k) => [toHexKey(k.address), { balance: 10n ** 12n }]))

const codeOf = async (p: ReturnType<typeof poolWith>, tx: Transaction) => {
  try {
    return (await p.add(tx)).status
  } catch (e) {
    return (e as LedgerError).code
  }
}

describe('[TxPool]: admission', () => {
  it('queues by nonce, reports pending/queued and refuses with codes', async () => {
    const pool = poolWith(rich(a, b))
    expect(await codeOf(pool, transfer(a, c.address, 1n))).toBe('queued')
    expect(await codeOf(pool, transfer(a, c.address, 0n))).toBe('pending')
    expect(await codeOf(pool, transfer(a, c.address, 0n))).toBe('ERR_ALREADY_KNOWN')
    expect(await codeOf(pool, transfer(c, a.address, 0n))).toBe('ERR_INSUFFICIENT_BALANCE')
    expect(await codeOf(pool, transfer(a, c.address, 0n, 1n, { chainId: 9n }))).toBe(
      'ERR_WRONG_CHAIN_ID',
    )
    expect(await codeOf(pool, transfer(a, c.address, 5000n))).toBe('ERR_NONCE_GAP')
    const forged = { ...transfer(b, c.address, 0n), signature: new Uint8Array(64) } as Transaction
    expect(await codeOf(pool, forged)).toBe('ERR_BAD_SIGNATURE')
    expect(pool.size).toBe(2)
    expect(pool.stats()).toEqual({ pending: 2, queued: 0, senders: 1 })
    expect(pool.has(transactionHash(transfer(a, c.address, 0n)))).toBe(true)
    expect(pool.get(transactionHash(transfer(a, c.address, 1n)))?.nonce).toBe(1n)
    expect(pool.bytes).toBeGreaterThan(0)
  })

  it('replaces the same nonce only at >= 10% higher price', async () => {
    const pool = poolWith(rich(a))
    await pool.add(transfer(a, c.address, 0n, 1n, { gasPrice: 100n }))
    expect(await codeOf(pool, transfer(a, c.address, 0n, 2n, { gasPrice: 109n }))).toBe(
      'ERR_REPLACEMENT_UNDERPRICED',
    )
    const r = await pool.add(transfer(a, c.address, 0n, 3n, { gasPrice: 110n }))
    expect(r.status).toBe('replaced')
    expect(pool.size).toBe(1)
    expect(pool.select()[0].gasPrice).toBe(110n)
    // zero price: any higher price replaces
    const pool0 = poolWith(rich(a))
    await pool0.add(transfer(a, c.address, 0n, 1n, { gasPrice: 0n }))
    expect(await codeOf(pool0, transfer(a, c.address, 0n, 2n, { gasPrice: 0n }))).toBe(
      'ERR_REPLACEMENT_UNDERPRICED',
    )
    expect(await codeOf(pool0, transfer(a, c.address, 0n, 2n, { gasPrice: 1n }))).toBe('replaced')
  })

  it('enforces limits with lowest-price eviction', async () => {
    const pool = poolWith(rich(a, b, c), { maxCount: 3, maxPerSender: 2 })
    await pool.add(transfer(a, c.address, 0n, 1n, { gasPrice: 5n }))
    await pool.add(transfer(a, c.address, 1n, 1n, { gasPrice: 5n }))
    expect(await codeOf(pool, transfer(a, c.address, 2n, 1n, { gasPrice: 5n }))).toBe(
      'ERR_SENDER_LIMIT',
    )
    await pool.add(transfer(b, c.address, 0n, 1n, { gasPrice: 2n }))
    expect(await codeOf(pool, transfer(c, a.address, 0n, 1n, { gasPrice: 2n }))).toBe(
      'ERR_POOL_FULL',
    )
    const r = await pool.add(transfer(c, a.address, 0n, 1n, { gasPrice: 3n }))
    expect(r.evicted?.map(toHexKey)).toEqual([
      toHexKey(transactionHash(transfer(b, c.address, 0n, 1n, { gasPrice: 2n }))),
    ])
    expect(pool.size).toBe(3)
    // byte limit
    const small = poolWith(rich(a, b), { maxBytes: 200 })
    await small.add(transfer(a, c.address, 0n, 1n, { gasPrice: 1n }))
    expect(await codeOf(small, transfer(b, c.address, 0n, 1n, { gasPrice: 1n }))).toBe(
      'ERR_POOL_FULL',
    )
    expect(await codeOf(small, transfer(b, c.address, 0n, 1n, { gasPrice: 2n }))).toBe('pending')
    expect(small.size).toBe(1)
    // a refused newcomer leaves what it tried to evict in place
    const tight = poolWith(rich(a, b, c), { maxBytes: 300 })
    const cheap = transfer(a, c.address, 0n, 1n, { gasPrice: 1n })
    await tight.add(cheap)
    await tight.add(transfer(b, c.address, 0n, 1n, { gasPrice: 5n }))
    const deployBig = fastSign(
      {
        kind: 1,
        chainId: 1n,
        nonce: 0n,
        gasPrice: 3n,
        gasLimit: 200_000n,
        code: new Uint8Array(150),
        args: new Uint8Array(0),
        value: 0n,
      },
      c,
    )
    expect(await codeOf(tight, deployBig)).toBe('ERR_POOL_FULL')
    expect(tight.size).toBe(2)
    expect(tight.has(transactionHash(cheap))).toBe(true)
    expect(tight.select()).toHaveLength(2)
  })

  it('selects by price in nonce order per sender within gas and count limits', async () => {
    const pool = poolWith(rich(a, b, c))
    await pool.add(transfer(a, c.address, 0n, 1n, { gasPrice: 1n }))
    await pool.add(transfer(a, c.address, 1n, 1n, { gasPrice: 50n }))
    await pool.add(transfer(b, c.address, 0n, 1n, { gasPrice: 10n }))
    await pool.add(transfer(c, a.address, 1n, 1n, { gasPrice: 99n })) // not executable
    const s = pool.select()
    expect(s.map((t) => [t.gasPrice, t.nonce])).toEqual([
      [10n, 0n],
      [1n, 0n],
      [50n, 1n],
    ])
    expect(pool.select({ maxCount: 1 })).toHaveLength(1)
    expect(pool.select({ maxGas: 42_000n })).toHaveLength(2)
    expect(pool.select({ maxBytes: 10 })).toHaveLength(0)
    expect(pool.remove(transactionHash(s[0]))).toBe(true)
    expect(pool.remove(transactionHash(s[0]))).toBe(false)
  })

  it('revalidates on a new head', async () => {
    const accounts = rich(a, b)
    const pool = poolWith(accounts)
    const t0 = transfer(a, c.address, 0n)
    await pool.add(t0)
    await pool.add(transfer(a, c.address, 1n))
    await pool.add(transfer(b, c.address, 0n, 10n ** 11n))
    accounts[toHexKey(a.address)] = { balance: 10n ** 12n, nonce: 1n }
    accounts[toHexKey(b.address)] = { balance: 5n }
    const { removed } = await pool.onNewHead({ included: [t0] })
    expect(removed).toBe(2)
    expect(pool.size).toBe(1)
  })
})

const SOAK = process.env.AUREON_SOAK === '1'

describe('[TxPool]: soak', () => {
  it(`${SOAK ? '50,000 txs from 500' : '2,000 txs from 40'} senders drain through blocks: none lost, none twice`, async () => {
    const senders = SOAK ? 500 : 40
    const perSender = SOAK ? 100 : 50
    const ks = Array.from({ length: senders }, (_, i) => key(1000 + i))
    const config: GenesisConfig = {
      chainId: 1,
      timestamp: 0,
      balances: Object.fromEntries(ks.map((k) => [`0x${toHexKey(k.address)}`, '1000000000000'])),
      validators: [],
      consensus: { engine: 'dev' },
    }
    const chain = await openChainStore({ db: createMemoryStore() })
    const g = await createGenesis({ config, db: chain.stateDb })
    await chain.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
    const state = g.state
    const pool = createTxPool({
      chainId: 1n,
      getAccount: (x) => state.getAccount(x),
      maxPerSender: 200,
    })
    // each sender: nonces in shuffled order, varied prices; plus refusals with reasons
    const all: Transaction[] = []
    for (const [si, k] of ks.entries()) {
      for (let n = 0; n < perSender; n++) {
        const nonce = BigInt((n * 37 + si) % perSender)
        all.push(
          transfer(k, ks[(si + 1) % senders].address, nonce, 1n, {
            gasPrice: BigInt(1 + ((si * 7 + n) % 13)),
          }),
        )
      }
    }
    const results = await pool.addMany(all)
    expect(results.every((r) => !(r instanceof Error))).toBe(true)
    const refused = await pool.addMany([
      all[0], // duplicate
      transfer(ks[0], ks[1].address, 0n, 2n, { gasPrice: 1n }), // underpriced replacement (or same)
      { ...transfer(ks[1], ks[2].address, 500n), signature: new Uint8Array(64) } as Transaction,
    ])
    expect(refused.map((r) => (r instanceof LedgerError ? r.code : 'ok'))).toEqual([
      'ERR_ALREADY_KNOWN',
      'ERR_REPLACEMENT_UNDERPRICED',
      'ERR_BAD_SIGNATURE',
    ])
    expect(pool.size).toBe(senders * perSender)
    const p = new StateProcessor()
    const seen = new Set<string>()
    let height = 0
    while (pool.size > 0) {
      const parent = chain.head()!
      const txs = pool.select({ maxCount: 1000 })
      expect(txs.length).toBeGreaterThan(0)
      const { block, receipts, skipped } = await p.buildBlock(state, {
        parent,
        timestamp: BigInt(++height),
        proposer: new Uint8Array(20),
        transactions: txs,
      })
      expect(skipped).toEqual([])
      for (const tx of block.transactions) {
        const h = toHexKey(transactionHash(tx))
        expect(seen.has(h)).toBe(false)
        seen.add(h)
      }
      await chain.commitBlock({ block, receipts, stateOps: await state.flush() })
      await pool.onNewHead({ included: block.transactions })
    }
    expect(seen.size).toBe(senders * perSender)
    for (const k of ks) expect((await state.getAccount(k.address)).nonce).toBe(BigInt(perSender))
  }, 600_000)
})
