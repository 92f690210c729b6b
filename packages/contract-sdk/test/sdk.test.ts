import { createHash } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type CallContext,
  ContractRuntime,
  instrumentContract,
  MockRuntimeState,
} from '@aureon/runtime'
import asc from 'assemblyscript/asc'
import { beforeAll, describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))

async function compile(entry: string): Promise<Uint8Array> {
  let wasm: Uint8Array | undefined
  const { error, stderr } = await asc.main(
    [entry, '--outFile', 'out.wasm', '--runtime', 'stub', '--exportStart', '_initialize'],
    {
      writeFile(name: string, contents: Uint8Array | string) {
        if (name.endsWith('.wasm')) wasm = contents as Uint8Array
      },
    },
  )
  if (error || !wasm) throw new Error(`asc failed: ${stderr.toString()}`)
  return wasm
}

const me = new Uint8Array(20).fill(7)
const ctx: CallContext = {
  sender: me,
  senderNonce: 0n,
  blockHeight: 9n,
  blockTimestamp: 123_456n,
  gasLimit: 5_000_000n,
}
const u64 = (b: Uint8Array, at = 0) =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true)

describe('[contract-sdk]: every helper against the runtime', () => {
  const rt = new ContractRuntime()
  const state = new MockRuntimeState()
  let contract: Uint8Array
  const call = (fn: string, args = new Uint8Array(), value = 0n) =>
    rt.call(state, ctx, { contract, function: fn, args, value })

  beforeAll(async () => {
    const code = await compile(join(here, 'assembly', 'probe.ts'))
    expect(instrumentContract(code).info.imports).not.toContain('unknown')
    state.setAccountBalance(me, 1_000n)
    const d = await rt.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
    expect(d.status, d.error?.message).toBe('Success')
    contract = d.contractAddress!
  })

  it('storage helpers', async () => {
    const r = await call('storage')
    expect(r.status, r.error?.message).toBe('Success')
    expect(u64(r.output)).toBe(42n)
    expect(r.debugLogs).toEqual(['value'])
  })

  it('context and amounts', async () => {
    const r = await call('context', new Uint8Array(), 300n)
    expect(r.status, r.error?.message).toBe('Success')
    expect([...r.output.subarray(0, 20)]).toEqual([...me])
    expect([...r.output.subarray(20, 40)]).toEqual([...contract])
    expect(u64(r.output, 40)).toBe(9n)
    expect(u64(r.output, 48)).toBe(123_456n)
    expect(u64(r.output, 56)).toBe(300n)
    expect(u64(r.output, 72)).toBe(300n)
  })

  it('transfer and balances', async () => {
    const args = new Uint8Array(28)
    args.fill(5, 0, 20)
    new DataView(args.buffer).setBigUint64(20, 100n, true)
    const ok = await call('pay', args)
    expect(ok.status, ok.error?.message).toBe('Success')
    expect(u64(ok.output)).toBe(0n)
    new DataView(args.buffer).setBigUint64(20, 10_000n, true)
    expect(u64((await call('pay', args)).output)).toBe(1n)
  })

  it('events and revert', async () => {
    const r = await call('event')
    expect(r.status, r.error?.message).toBe('Success')
    expect(r.logs[0].topics).toHaveLength(3)
    expect(Buffer.from(r.logs[0].topics[0])).toEqual(createHash('sha256').update('Ping()').digest())
    expect(Buffer.from(r.logs[0].data).toString()).toBe('abcd')
    const f = await call('fail')
    expect(f.status).toBe('Reverted')
    expect(f.error?.message).toBe('no way')
  })
})
