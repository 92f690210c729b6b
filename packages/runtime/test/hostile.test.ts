import { describe, expect, it } from 'vitest'
import {
  type CallContext,
  ContractRuntime,
  DEFAULT_GAS_SCHEDULE,
  HOST_IMPORTS,
  MockRuntimeState,
  RuntimeErrorCode,
  signatureToString,
} from '../src/index.js'
import { addr, exampleContract, readU64le, u64le, wat } from './helpers.js'

const rt = new ContractRuntime()
const state = new MockRuntimeState()
const alice = addr(1)
const ctx: CallContext = {
  sender: alice,
  senderNonce: 0n,
  blockHeight: 7n,
  blockTimestamp: 1_700_000_000_000n,
  gasLimit: 5_000_000n,
}
let nonce = 100n
const empty = new Uint8Array()

async function deploy(source: string | Uint8Array, args = empty) {
  const code = typeof source === 'string' ? await wat(source) : source
  const r = await rt.deploy(state, { ...ctx, senderNonce: nonce++ }, { code, args, value: 0n })
  return r
}

async function deployed(source: string) {
  const r = await deploy(source)
  expect(r.status, r.error?.message).toBe('Success')
  return r.contractAddress!
}

const call = (
  contract: Uint8Array,
  fn: string,
  opts: Partial<CallContext> & { args?: Uint8Array; value?: bigint } = {},
) =>
  rt.call(
    state,
    { ...ctx, ...opts },
    { contract, function: fn, args: opts.args ?? empty, value: opts.value ?? 0n },
  )

const HOST = Object.entries(HOST_IMPORTS)
  .map(([name, s]) => {
    const p = s.params.map((v) => (v === 0x7f ? 'i32' : 'i64')).join(' ')
    const r = s.results.map((v) => (v === 0x7f ? 'i32' : 'i64')).join(' ')
    return `(import "env" "${name}" (func $${name} ${p ? `(param ${p})` : ''} ${r ? `(result ${r})` : ''}))`
  })
  .join('\n')

describe('[hostile contracts]', () => {
  let counter: Uint8Array

  it('an honest counter works before the suite', async () => {
    const d = await deploy(await exampleContract('counter.wat'))
    expect(d.status).toBe('Success')
    counter = d.contractAddress!
    const r = await call(counter, 'increment')
    expect(readU64le(r.output)).toBe(1n)
  })

  it('an infinite loop runs out of gas with gasUsed == gasLimit', async () => {
    const c = await deployed(
      `(module (memory (export "memory") 1) (func (export "spin") (loop $l (br $l))))`,
    )
    const r = await call(c, 'spin', { gasLimit: 200_000n })
    expect(r.status).toBe('OutOfGas')
    expect(r.error?.code).toBe(RuntimeErrorCode.OUT_OF_GAS)
    expect(r.gasUsed).toBe(200_000n)
  })

  it('infinite recursion (also through the table) runs out of gas or hits the stack limit', async () => {
    const c = await deployed(`(module (memory (export "memory") 1)
      (type $v (func))
      (table 1 funcref) (elem (i32.const 0) $r)
      (func $r (call_indirect (type $v) (i32.const 0)))
      (func (export "go") (call $r)))`)
    const r = await call(c, 'go', { gasLimit: 100_000_000n })
    expect(r.status).toBe('Failed')
    expect(r.error?.code).toBe(RuntimeErrorCode.STACK_LIMIT)
  })

  it('unbounded recursion fails with ERR_STACK_LIMIT at the same depth every run', async () => {
    for (const locals of [0, 50, 2000]) {
      const c = await deployed(`(module
        ${HOST}
        (memory (export "memory") 1)
        (global $depth (mut i32) (i32.const 0))
        (func $down (param i64) ${locals ? `(local ${'i64 '.repeat(locals)})` : ''}
          (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
          (i32.store (i32.const 0) (global.get $depth))
          (call $down (i64.add (local.get 0) (i64.const 1))))
        (func (export "go") (call $down (i64.const 0))))`)
      const runs = []
      for (let i = 0; i < 3; i++) runs.push(await call(c, 'go', { gasLimit: 1_000_000_000n }))
      for (const r of runs) {
        expect(r.status).toBe('Failed')
        expect(r.error?.code).toBe(RuntimeErrorCode.STACK_LIMIT)
        expect(r.error?.message).not.toMatch(/engine/)
        expect(r.gasUsed).toBe(runs[0].gasUsed)
      }
    }
  })

  it('memory.grow past 256 pages returns -1', async () => {
    const c = await deployed(`(module ${HOST} (memory (export "memory") 1)
      (func (export "grow")
        (i32.store (i32.const 0) (memory.grow (i32.const 255)))
        (i32.store (i32.const 4) (memory.grow (i32.const 1)))
        (i32.store (i32.const 8) (memory.size))
        (call $return_data (i32.const 0) (i32.const 12))))`)
    const r = await call(c, 'grow', { gasLimit: 10_000_000n })
    expect(r.status).toBe('Success')
    const v = new DataView(r.output.buffer, r.output.byteOffset)
    expect(v.getInt32(0, true)).toBe(1)
    expect(v.getInt32(4, true)).toBe(-1)
    expect(v.getInt32(8, true)).toBe(256)
    const big = await deployed(`(module (memory (export "memory") 1 1000)
      (func (export "grow") (drop (memory.grow (i32.const 300)))))`)
    const r2 = await call(big, 'grow', { gasLimit: 10_000_000n })
    expect(r2.status).toBe('Success')
  })

  it('memory.grow is charged per page', async () => {
    const c = await deployed(`(module (memory (export "memory") 1)
      (func (export "grow") (drop (memory.grow (i32.const 200)))))`)
    const r = await call(c, 'grow', { gasLimit: 100_000n })
    expect(r.status).toBe('OutOfGas')
  })

  it('initial memory pages are charged on every call, at the memory.grow price', async () => {
    const s = DEFAULT_GAS_SCHEDULE
    const pageGas = BigInt(s.instructions.memoryGrowPerPage / s.unitsPerGas)
    const small = await deployed(`(module (memory (export "memory") 1) (func (export "f")))`)
    const big = await deployed(`(module (memory (export "memory") 200) (func (export "f")))`)
    const one = await call(small, 'f')
    expect(one.status).toBe('Success')
    expect(one.gasUsed).toBeGreaterThanOrEqual(pageGas)
    const many = await call(big, 'f', { gasLimit: 10_000_000n })
    expect(many.status).toBe('Success')
    expect(many.gasUsed - one.gasUsed).toBe(199n * pageGas)
    const poor = await call(big, 'f', { gasLimit: 199n * pageGas })
    expect(poor.status).toBe('OutOfGas')
    expect(poor.gasUsed).toBe(199n * pageGas)
  })

  it('the first read of a key pays for the work before it (a node may re-run it to load the key)', async () => {
    const read = (k: number) =>
      `(drop (call $storage_read (i32.const ${k}) (i32.const 2) (i32.const 100) (i32.const 8)))`
    // an account's balance (the 20 bytes at 300, an address nobody funded) is state too
    const balance = '(drop (call $get_balance (i32.const 300) (i32.const 20) (i32.const 400)))'
    const c = await deployed(`(module ${HOST} (memory (export "memory") 1)
      (data (i32.const 0) "k1") (data (i32.const 8) "k2")
      (func $spin (local $i i32)
        (loop $l
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 100000)))))
      (func (export "nothing"))
      (func (export "spin") (call $spin))
      (func (export "read_spin") ${read(0)} (call $spin))
      (func (export "spin_read") (call $spin) ${read(0)})
      (func (export "spin_read_read") (call $spin) ${read(0)} ${read(0)})
      (func (export "write_spin_read")
        (drop (call $storage_write (i32.const 0) (i32.const 2) (i32.const 100) (i32.const 8)))
        (call $spin) ${read(0)})
      (func (export "write_spin_read_other")
        (drop (call $storage_write (i32.const 0) (i32.const 2) (i32.const 100) (i32.const 8)))
        (call $spin) ${read(8)})
      (func (export "balance_spin") ${balance} (call $spin))
      (func (export "spin_balance") (call $spin) ${balance}))`)
    const gas = async (fn: string) => {
      const r = await call(c, fn)
      expect(r.status, r.error?.message).toBe('Success')
      return r.gasUsed
    }
    const loop = (await gas('spin')) - (await gas('nothing'))
    expect(loop).toBeGreaterThan(10_000n)
    const near = (x: bigint, y: bigint) => expect(x > y ? x - y : y - x).toBeLessThanOrEqual(2n)
    // reading after the loop costs the loop once more
    near((await gas('spin_read')) - (await gas('read_spin')), loop)
    // a key is charged once per run
    const s = DEFAULT_GAS_SCHEDULE
    near(
      (await gas('spin_read_read')) - (await gas('spin_read')),
      BigInt(s.host.storage_read.base / s.unitsPerGas),
    )
    // a key written first needs no load; another key does (state functions' own units excluded)
    near((await gas('write_spin_read_other')) - (await gas('write_spin_read')), loop)
    // the first read of an account pays the same way
    near((await gas('spin_balance')) - (await gas('balance_spin')), loop)
    // the surcharge is gas like any other: a limit that covers the run without it runs out
    const need = await gas('spin_read')
    expect((await call(c, 'spin_read', { gasLimit: need })).status).toBe('Success')
    const short = await call(c, 'spin_read', { gasLimit: need - loop / 2n })
    expect(short.status).toBe('OutOfGas')
    expect(short.gasUsed).toBe(need - loop / 2n)
  })

  it('bulk memory is charged per byte', async () => {
    const c = await deployed(`(module (memory (export "memory") 256)
      (func (export "fill") (memory.fill (i32.const 0) (i32.const 1) (i32.const 16000000))))`)
    const r = await call(c, 'fill', { gasLimit: 100_000n })
    expect(r.status).toBe('OutOfGas')
    const ok = await call(c, 'fill', { gasLimit: 1_000_000_000n })
    expect(ok.status).toBe('Success')
    // 2,000,000 groups of 8 bytes at bulkPer8Bytes metering units each
    const s = DEFAULT_GAS_SCHEDULE
    expect(ok.gasUsed).toBeGreaterThan(
      BigInt((2_000_000 * s.instructions.bulkPer8Bytes) / s.unitsPerGas),
    )
  })

  it('an out-of-bounds pointer to any host function fails with ERR_MEMORY_ACCESS', async () => {
    const bad = '(i32.const 65530)'
    const calls: Record<string, string> = {
      input_read: `(call $input_read ${bad})`,
      return_data: `(call $return_data ${bad} (i32.const 100))`,
      revert: `(call $revert ${bad} (i32.const 100))`,
      log: `(call $log ${bad} (i32.const 100))`,
      emit_log: `(call $emit_log ${bad} (i32.const 1) (i32.const 0) (i32.const 0))`,
      emit_log_data: `(call $emit_log (i32.const 0) (i32.const 0) ${bad} (i32.const 100))`,
      get_balance: `(drop (call $get_balance ${bad} (i32.const 20) (i32.const 0)))`,
      get_balance_out: `(drop (call $get_balance (i32.const 0) (i32.const 20) ${bad}))`,
      transfer: `(drop (call $transfer ${bad} (i32.const 20) (i32.const 0)))`,
      transfer_amount: `(drop (call $transfer (i32.const 0) (i32.const 20) ${bad}))`,
      storage_read: `(drop (call $storage_read ${bad} (i32.const 10) (i32.const 0) (i32.const 0)))`,
      storage_write: `(drop (call $storage_write (i32.const 0) (i32.const 4) ${bad} (i32.const 10)))`,
      storage_remove: `(drop (call $storage_remove ${bad} (i32.const 10)))`,
      caller: `(call $caller ${bad})`,
      self_address: `(call $self_address ${bad})`,
      call_value: `(call $call_value ${bad})`,
      sha256: `(call $sha256 (i32.const 0) (i32.const 4) ${bad})`,
      sha256_data: `(call $sha256 ${bad} (i32.const 100) (i32.const 0))`,
      negative: `(call $return_data (i32.const -1) (i32.const 2))`,
    }
    const funcs = Object.entries(calls)
      .map(([n, body]) => `(func (export "${n}") ${body})`)
      .join('\n')
    const c = await deployed(`(module ${HOST} (memory (export "memory") 1) ${funcs})`)
    for (const name of Object.keys(calls)) {
      const r = await call(c, name, { args: new Uint8Array(64) })
      expect(r.status, name).toBe('Failed')
      expect(r.error?.code, name).toBe(RuntimeErrorCode.MEMORY_ACCESS)
    }
  })

  it('oversized storage keys and values, too many topics and oversized events fail', async () => {
    const c = await deployed(`(module ${HOST} (memory (export "memory") 2)
      (func (export "bigkey") (drop (call $storage_write (i32.const 0) (i32.const 129) (i32.const 0) (i32.const 1))))
      (func (export "bigvalue") (drop (call $storage_write (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 65537))))
      (func (export "okvalue") (drop (call $storage_write (i32.const 0) (i32.const 128) (i32.const 0) (i32.const 65536))))
      (func (export "topics") (call $emit_log (i32.const 0) (i32.const 5) (i32.const 0) (i32.const 0)))
      (func (export "bigevent") (call $emit_log (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 16385)))
      (func (export "bigdebug") (call $log (i32.const 0) (i32.const 16385)))
      (func (export "okevent") (call $emit_log (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 16384))))`)
    const expectFail = async (fn: string, code: string) => {
      const r = await call(c, fn)
      expect(r.status, fn).toBe('Failed')
      expect(r.error?.code, fn).toBe(code)
    }
    await expectFail('bigkey', RuntimeErrorCode.STORAGE_LIMIT)
    await expectFail('bigvalue', RuntimeErrorCode.STORAGE_LIMIT)
    await expectFail('topics', RuntimeErrorCode.LOG_LIMIT)
    await expectFail('bigevent', RuntimeErrorCode.LOG_LIMIT)
    await expectFail('bigdebug', RuntimeErrorCode.LOG_LIMIT)
    expect((await call(c, 'okvalue')).status).toBe('Success')
    const ev = await call(c, 'okevent')
    expect(ev.status).toBe('Success')
    expect(ev.logs[0].topics.length).toBe(4)
    expect(ev.logs[0].data.length).toBe(16384)
  })

  it('transfer beyond the balance returns 1 and nothing moves', async () => {
    state.setAccountBalance(alice, 1_000n)
    const funded = await call(counter, 'check_balance', { value: 100n })
    expect(funded.status).toBe('Success')
    const bob = addr(2)
    const args = new Uint8Array(36)
    args.set(bob)
    args.set(u64le(101n), 20)
    const r = await call(counter, 'send_funds', { args })
    expect(r.status).toBe('Success')
    expect([...r.output]).toEqual([1])
    expect(r.balanceChanges).toEqual([])
    expect(state.balances.get(Buffer.from(bob).toString('hex'))).toBeUndefined()
    args.set(u64le(40n), 20)
    const ok = await call(counter, 'send_funds', { args })
    expect([...ok.output]).toEqual([0])
    expect(ok.balanceChanges.map((b) => b.balance).sort()).toEqual([40n, 60n])
    const badLen = await deployed(`(module ${HOST} (memory (export "memory") 1)
      (func (export "t") (i32.store (i32.const 100) (call $transfer (i32.const 0) (i32.const 19) (i32.const 0)))
        (i32.store (i32.const 104) (call $get_balance (i32.const 0) (i32.const 21) (i32.const 0)))
        (call $return_data (i32.const 100) (i32.const 8))))`)
    const bl = await call(badLen, 't')
    expect([...bl.output]).toEqual([255, 255, 255, 255, 255, 255, 255, 255])
  })

  it('a call value beyond the balance fails and moves nothing', async () => {
    const r = await call(counter, 'check_balance', { sender: addr(9), value: 5n })
    expect(r.status).toBe('Failed')
    expect(r.error?.code).toBe(RuntimeErrorCode.INSUFFICIENT_BALANCE)
  })

  it('revert after writes keeps none of them', async () => {
    const c = await deployed(`(module ${HOST} (memory (export "memory") 1)
      (data (i32.const 0) "key1key2oops")
      (func (export "write_then_revert")
        (drop (call $storage_write (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4)))
        (drop (call $storage_write (i32.const 4) (i32.const 4) (i32.const 0) (i32.const 4)))
        (call $emit_log (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4))
        (call $log (i32.const 8) (i32.const 4))
        (call $revert (i32.const 8) (i32.const 4)))
      (func (export "write_then_trap")
        (drop (call $storage_write (i32.const 0) (i32.const 4) (i32.const 4) (i32.const 4)))
        (unreachable)))`)
    const r = await call(c, 'write_then_revert')
    expect(r.status).toBe('Reverted')
    expect(r.error).toEqual({ code: RuntimeErrorCode.REVERTED, message: 'oops' })
    expect(r.logs).toEqual([])
    expect(r.debugLogs).toEqual(['oops'])
    expect(state.readStorage(c, new TextEncoder().encode('key1'))).toBeUndefined()
    const t = await call(c, 'write_then_trap')
    expect(t.status).toBe('Failed')
    expect(t.error?.code).toBe(RuntimeErrorCode.TRAP)
    expect(state.readStorage(c, new TextEncoder().encode('key1'))).toBeUndefined()
  })

  it('a call with exactly enough gas succeeds and one gas less runs out', async () => {
    const probe = await call(counter, 'increment')
    const exact = await call(counter, 'increment', { gasLimit: probe.gasUsed })
    expect(exact.status).toBe('Success')
    expect(exact.gasUsed).toBe(probe.gasUsed)
    const less = await call(counter, 'increment', { gasLimit: probe.gasUsed - 1n })
    expect(less.status).toBe('OutOfGas')
    expect(less.gasUsed).toBe(probe.gasUsed - 1n)
  })

  it('refuses hostile modules at deploy with a receipt error and keeps nothing', async () => {
    const cases: Array<[string, string]> = [
      [
        `(module (memory (export "memory") 1) (func (export "f") (drop (f64.const 1))))`,
        RuntimeErrorCode.FLOAT,
      ],
      [
        `(module (memory (export "memory") 1) (func (export "f") (drop (v128.const i64x2 0 0))))`,
        RuntimeErrorCode.UNSUPPORTED_FEATURE,
      ],
      [
        `(module (memory (export "memory") 1) (func (export "f") (atomic.fence)))`,
        RuntimeErrorCode.UNSUPPORTED_FEATURE,
      ],
      [
        `(module (import "env" "unknown" (func)) (memory (export "memory") 1))`,
        RuntimeErrorCode.IMPORT_NOT_ALLOWED,
      ],
      [
        `(module (import "env" "caller" (func (param i64))) (memory (export "memory") 1))`,
        RuntimeErrorCode.IMPORT_SIGNATURE,
      ],
      [
        `(module (memory (export "memory") 1) (func $s) (start $s))`,
        RuntimeErrorCode.START_FUNCTION,
      ],
    ]
    for (const [src, code] of cases) {
      const r = await deploy(src)
      expect(r.status).toBe('Failed')
      expect(r.error?.code).toBe(code)
      expect(r.contractAddress).toBeUndefined()
      expect(r.gasUsed).toBe(rt.deployGas((await wat(src)).length))
    }
    const big = new Uint8Array(600 * 1024)
    const r = await rt.deploy(
      state,
      { ...ctx, gasLimit: 1_000_000_000n },
      { code: big, args: empty, value: 0n },
    )
    expect(r.error?.code).toBe(RuntimeErrorCode.CODE_TOO_LARGE)
    const poor = await rt.deploy(
      state,
      { ...ctx, gasLimit: 10n },
      { code: big, args: empty, value: 0n },
    )
    expect(poor.status).toBe('OutOfGas')
    expect(poor.gasUsed).toBe(10n)
  })

  it('a failing init leaves no code, storage or address', async () => {
    const before = state.codeHashes.size
    const r = await deploy(`(module ${HOST} (memory (export "memory") 1)
      (func (export "init") (drop (call $storage_write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))) (unreachable)))`)
    expect(r.status).toBe('Failed')
    expect(r.contractAddress).toBeUndefined()
    expect(state.codeHashes.size).toBe(before)
  })

  it('calls of missing contracts and functions fail cleanly', async () => {
    expect((await call(addr(77), 'x')).error?.code).toBe(RuntimeErrorCode.CONTRACT_NOT_FOUND)
    expect((await call(counter, 'nope')).error?.code).toBe(RuntimeErrorCode.FUNCTION_NOT_FOUND)
    expect((await call(counter, 'init')).error?.code).toBe(RuntimeErrorCode.FUNCTION_NOT_FOUND)
    const c = await deployed(
      `(module (memory (export "memory") 1) (func (export "withParam") (param i32)))`,
    )
    expect((await call(c, 'withParam')).error?.code).toBe(RuntimeErrorCode.FUNCTION_NOT_FOUND)
  })

  it('a data segment out of bounds fails at instantiation', async () => {
    const r = await deploy(
      `(module (memory (export "memory") 0) (data (i32.const 10) "x") (func (export "init")))`,
    )
    expect(r.status).toBe('Failed')
    expect(r.error?.code).toBe(RuntimeErrorCode.TRAP)
  })

  it('an honest call still works after the whole suite', async () => {
    const r = await call(counter, 'increment')
    expect(r.status).toBe('Success')
    expect(readU64le(r.output)).toBeGreaterThan(1n)
    expect(signatureToString(HOST_IMPORTS.get_balance)).toBe('(i32, i32, i32) -> i32')
  })
})
