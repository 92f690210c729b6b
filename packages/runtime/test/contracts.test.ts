import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createWorldState, emptyAccount } from '@aureon/ledger'
import { createMemoryStore } from '@aureon/storage'
import { describe, expect, it } from 'vitest'
import {
  type CallContext,
  ContractRuntime,
  LedgerRuntimeState,
  MockRuntimeState,
  type RuntimeResult,
  type RuntimeState,
} from '../src/index.js'
import { addr, exampleContract, u64le, wat } from './helpers.js'

const alice = addr(1)
const bob = addr(2)
const base: CallContext = {
  sender: alice,
  senderNonce: 0n,
  blockHeight: 42n,
  blockTimestamp: 1_700_000_000_123n,
  gasLimit: 2_000_000n,
}

/** Serializes a result so two backends can be compared exactly. */
const show = (r: RuntimeResult) =>
  JSON.parse(
    JSON.stringify(r, (_k, v) =>
      typeof v === 'bigint'
        ? `${v}n`
        : v instanceof Uint8Array
          ? Buffer.from(v).toString('hex')
          : v,
    ),
  )

/** The one contract suite: runs against any RuntimeState, returns every result. */
async function contractSuite(
  state: RuntimeState,
  fund: (a: Uint8Array, v: bigint) => Promise<void>,
): Promise<RuntimeResult[]> {
  const rt = new ContractRuntime()
  const out: RuntimeResult[] = []
  await fund(alice, 1_000_000n)
  const counterCode = await exampleContract('counter.wat')
  const kitchenCode = await wat(
    readFileSync(join(import.meta.dirname, 'fixtures', 'kitchen.wat'), 'utf8'),
  )
  const counter = await rt.deploy(state, base, { code: counterCode, args: u64le(10n), value: 500n })
  out.push(counter)
  const kitchen = await rt.deploy(
    state,
    { ...base, senderNonce: 1n },
    {
      code: kitchenCode,
      args: new Uint8Array(),
      value: 0n,
    },
  )
  out.push(kitchen)
  const c = counter.contractAddress!
  const k = kitchen.contractAddress!
  const call = async (
    contract: Uint8Array,
    fn: string,
    args = new Uint8Array(),
    value = 0n,
    extra: Partial<CallContext> = {},
  ) => {
    const r = await rt.call(state, { ...base, ...extra }, { contract, function: fn, args, value })
    out.push(r)
    return r
  }
  for (let i = 0; i < 3; i++) await call(c, 'increment')
  await call(c, 'check_balance')
  const pay = new Uint8Array(36)
  pay.set(bob)
  pay.set(u64le(123n), 20)
  await call(c, 'send_funds', pay)
  pay.set(u64le(1_000_000n), 20)
  await call(c, 'send_funds', pay)
  await call(c, 'send_funds', new Uint8Array(3))
  await call(k, 'env_info', new Uint8Array(), 7n)
  await call(k, 'store', new TextEncoder().encode('some key'))
  await call(k, 'store', new TextEncoder().encode('some key'))
  await call(k, 'pay', pay)
  await call(k, 'fail')
  await call(k, 'burn', new Uint8Array(), 0n, { gasLimit: 50_000n })
  await call(k, 'missing')
  out.push(
    await rt.simulate(state, base, {
      contract: c,
      function: 'increment',
      args: new Uint8Array(),
      value: 0n,
    }),
  )
  await call(c, 'increment')
  return out
}

describe('[contracts]: one suite against both RuntimeState implementations', () => {
  it('MockRuntimeState and LedgerRuntimeState give identical results and gas', async () => {
    const mock = new MockRuntimeState()
    const mockResults = await contractSuite(mock, async (a, v) => mock.setAccountBalance(a, v))

    const world = await createWorldState({ db: createMemoryStore() })
    const ledger = new LedgerRuntimeState(world)
    const ledgerResults = await contractSuite(ledger, async (a, v) => {
      await world.putAccount(a, { ...emptyAccount(), balance: v })
    })
    expect(ledgerResults.map(show)).toEqual(mockResults.map(show))

    const statuses = mockResults.map((r) => r.status)
    expect(statuses).toEqual([
      'Success',
      'Success',
      'Success',
      'Success',
      'Success',
      'Success',
      'Success',
      'Success',
      'Reverted',
      'Success',
      'Success',
      'Success',
      'Success',
      'Reverted',
      'OutOfGas',
      'Failed',
      'Success',
      'Success',
    ])
    // counter: init(10) then 3 increments, the simulation (14) is dropped, then 14
    const last = mockResults[mockResults.length - 1]
    expect(last.output[0]).toBe(14)
    expect(mockResults[mockResults.length - 2].output[0]).toBe(14)
    // the ledger holds what the mock holds
    const key = new TextEncoder().encode('count')
    const c = mockResults[0].contractAddress!
    expect(Buffer.from((await world.getStorage(c, key))!).toString('hex')).toBe(
      Buffer.from(mock.readStorage(c, key)!).toString('hex'),
    )
    expect((await world.getAccount(bob)).balance).toBe(123n)
    expect(mock.balances.get(Buffer.from(bob).toString('hex'))).toBe(123n)
    const env = mockResults[9]
    expect(env.status).toBe('Success')
    const v = new DataView(env.output.buffer, env.output.byteOffset)
    expect(v.getBigUint64(0, true)).toBe(42n)
    expect(v.getBigUint64(8, true)).toBe(1_700_000_000_123n)
    expect([...env.output.subarray(16, 36)]).toEqual([...alice])
    expect(env.output[56]).toBe(7)
    const stored = mockResults[10]
    expect(stored.logs).toHaveLength(1)
    expect(stored.debugLogs).toEqual(['hello'])
  })
})
