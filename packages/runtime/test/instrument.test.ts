import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ContractRuntime,
  codeHashOf,
  DEFAULT_GAS_SCHEDULE,
  GAS_SCHEDULE_V2,
  hex,
  instrumentContract,
  isRuntimeError,
  MAX_CODE_SIZE,
  MockRuntimeState,
  type RuntimeError,
  RuntimeErrorCode,
  readInstrumentation,
  readModuleFacts,
} from '../src/index.js'
import { addr, bigModule, exampleContract, readU64le, wat } from './helpers.js'

/** A call by addr(1) at height 1 with `gasLimit` gas. */
const callContext = (gasLimit: bigint) => ({
  sender: addr(1),
  senderNonce: 0n,
  blockHeight: 1n,
  blockTimestamp: 0n,
  gasLimit,
})

const MEM = '(memory (export "memory") 1)'

function refusal(bytes: Uint8Array): RuntimeError {
  try {
    instrumentContract(bytes)
  } catch (e) {
    if (isRuntimeError(e)) return e as RuntimeError
    throw e
  }
  throw new Error('the module was accepted')
}

describe('[instrumentContract]: refused modules name the rule', () => {
  it('a corrupted or cut module is instrumented to valid code or refused with a code (property)', async () => {
    const good = await exampleContract('counter.wat')
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 4,
        }),
        fc.nat(good.length),
        (edits, cut) => {
          const bad = good.slice(0, Math.max(8, cut))
          for (const [at, v] of edits) if (at < bad.length) bad[at] = v
          let out: Uint8Array
          try {
            out = instrumentContract(bad).code
          } catch (e) {
            expect(isRuntimeError(e), String(e)).toBe(true)
            expect((e as RuntimeError).code).toMatch(/^ERR_/)
            return
          }
          expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).toBe(true)
        },
      ),
      { numRuns: 400 },
    )
  })

  it('refuses float instructions with the function index and opcode', async () => {
    const e = refusal(
      await wat(`(module ${MEM}
        (func (export "a"))
        (func (export "b") (drop (i32.const 1)) (drop (f32.add (f32.const 1) (f32.const 2)))))`),
    )
    expect(e.code).toBe(RuntimeErrorCode.FLOAT)
    expect(e.details?.rule).toBe('no floats')
    expect(e.details?.functionIndex).toBe(1)
    expect(e.details?.opcode).toBe('f32.const (0x43)')
    expect(e.message).toMatch(/function 1 uses f32.const/)
  })

  it('refuses float conversions and float types anywhere', async () => {
    const conv = refusal(
      await wat(`(module ${MEM} (func (export "a") (drop (f64.convert_i32_s (i32.const 1)))))`),
    )
    expect(conv.code).toBe(RuntimeErrorCode.FLOAT)
    expect(conv.details?.opcode).toBe('f64.convert_i32_s (0xb7)')
    const param = refusal(await wat(`(module ${MEM} (func (export "a") (param f64)))`))
    expect(param.code).toBe(RuntimeErrorCode.FLOAT)
    const local = refusal(await wat(`(module ${MEM} (func (export "a") (local f32)))`))
    expect(local.code).toBe(RuntimeErrorCode.FLOAT)
    const global = refusal(await wat(`(module ${MEM} (global f64 (f64.const 1)))`))
    expect(global.code).toBe(RuntimeErrorCode.FLOAT)
    const sat = refusal(
      await wat(`(module ${MEM} (func (export "a") (drop (i32.trunc_sat_f32_s (f32.const 1)))))`),
    )
    expect(sat.code).toBe(RuntimeErrorCode.FLOAT)
    const load = refusal(
      await wat(`(module ${MEM} (func (export "a") (drop (f64.load (i32.const 0)))))`),
    )
    expect(load.details?.opcode).toBe('f64.load (0x2b)')
  })

  it('refuses SIMD, atomics, shared memory, tail calls, exceptions and reference types', async () => {
    const simd = refusal(
      await wat(`(module ${MEM} (func (export "a") (drop (i32x4.splat (i32.const 1)))))`),
    )
    expect(simd.code).toBe(RuntimeErrorCode.UNSUPPORTED_FEATURE)
    expect(simd.details?.rule).toBe('no SIMD')
    expect(simd.details?.functionIndex).toBe(0)
    const atomic = refusal(
      await wat(`(module (memory (export "memory") 1 1 shared)
        (func (export "a")))`),
    )
    expect(atomic.details?.rule).toBe('no threads')
    const atomicOp = refusal(
      await wat(`(module ${MEM} (func (export "a") (drop (i32.atomic.load (i32.const 0)))))`),
    )
    expect(atomicOp.details?.rule).toBe('no threads and atomics')
    const tail = refusal(await wat(`(module ${MEM} (func $f (export "a") (return_call $f)))`))
    expect(tail.details?.rule).toBe('no tail calls')
    expect(tail.details?.opcode).toBe('return_call (0x12)')
    const refs = refusal(
      await wat(`(module ${MEM} (table 1 funcref) (func (export "a") (drop (table.size))))`),
    )
    expect(refs.code).toBe(RuntimeErrorCode.UNSUPPORTED_FEATURE)
    const externref = refusal(await wat(`(module ${MEM} (func (export "a") (param externref)))`))
    expect(externref.code).toBe(RuntimeErrorCode.UNSUPPORTED_FEATURE)
    const two = refusal(await wat(`(module ${MEM} (table 1 funcref) (table 1 funcref))`))
    expect(two.code).toBe(RuntimeErrorCode.UNSUPPORTED_FEATURE)
  })

  it('refuses imports outside the ABI and wrong signatures', async () => {
    const unknown = refusal(
      await wat(`(module (import "env" "steal" (func)) ${MEM} (func (export "a")))`),
    )
    expect(unknown.code).toBe(RuntimeErrorCode.IMPORT_NOT_ALLOWED)
    expect(unknown.message).toMatch(/env.steal/)
    const otherModule = refusal(
      await wat(`(module (import "wasi" "fd_write" (func)) ${MEM} (func (export "a")))`),
    )
    expect(otherModule.code).toBe(RuntimeErrorCode.IMPORT_NOT_ALLOWED)
    const sig = refusal(
      await wat(
        `(module (import "env" "input_size" (func (result i64))) ${MEM} (func (export "a")))`,
      ),
    )
    expect(sig.code).toBe(RuntimeErrorCode.IMPORT_SIGNATURE)
    expect(sig.message).toMatch(/\(\) -> i64.*\(\) -> i32/)
    const global = refusal(await wat(`(module (import "env" "g" (global i32)) ${MEM})`))
    expect(global.code).toBe(RuntimeErrorCode.IMPORT_NOT_ALLOWED)
    const memName = refusal(await wat(`(module (import "env" "mem" (memory 1)))`))
    expect(memName.code).toBe(RuntimeErrorCode.IMPORT_NOT_ALLOWED)
    const proto = refusal(
      await wat(`(module (import "env" "toString" (func)) ${MEM} (func (export "a")))`),
    )
    expect(proto.code).toBe(RuntimeErrorCode.IMPORT_NOT_ALLOWED)
  })

  it('refuses a start function, a missing memory and oversized modules', async () => {
    const start = refusal(await wat(`(module ${MEM} (func $s) (start $s))`))
    expect(start.code).toBe(RuntimeErrorCode.START_FUNCTION)
    const noMem = refusal(await wat(`(module (func (export "a")))`))
    expect(noMem.code).toBe(RuntimeErrorCode.NO_MEMORY)
    const unexported = refusal(await wat(`(module (memory 1) (func (export "a")))`))
    expect(unexported.code).toBe(RuntimeErrorCode.NO_MEMORY)
    const big = refusal(await wat(`(module (memory (export "memory") 257))`))
    expect(big.code).toBe(RuntimeErrorCode.MEMORY_LIMIT)
    const bigImport = refusal(await wat(`(module (import "env" "memory" (memory 300)))`))
    expect(bigImport.code).toBe(RuntimeErrorCode.MEMORY_LIMIT)
    const huge = new Uint8Array(MAX_CODE_SIZE + 1)
    huge.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])
    const size = refusal(huge)
    expect(size.code).toBe(RuntimeErrorCode.CODE_TOO_LARGE)
    expect(size.details?.rule).toBe('code size at most 512 KiB')
  })

  it('refuses too many functions, locals, globals and table entries', async () => {
    const funcs = refusal(await wat(`(module ${MEM} ${'(func)'.repeat(10_001)})`))
    expect(funcs.code).toBe(RuntimeErrorCode.TOO_MANY_FUNCTIONS)
    const locals = refusal(await wat(`(module ${MEM} (func ${'(local i32)'.repeat(10_001)}))`))
    expect(locals.code).toBe(RuntimeErrorCode.TOO_MANY_LOCALS)
    expect(locals.details?.functionIndex).toBe(0)
    const globals = refusal(
      await wat(`(module ${MEM} ${'(global i32 (i32.const 0))'.repeat(1001)})`),
    )
    expect(globals.code).toBe(RuntimeErrorCode.TOO_MANY_GLOBALS)
    const table = refusal(await wat(`(module ${MEM} (table 10001 funcref))`))
    expect(table.code).toBe(RuntimeErrorCode.TOO_MANY_TABLE_ENTRIES)
  })

  it('refuses reserved names and malformed bytes', async () => {
    const reserved = refusal(await wat(`(module ${MEM} (func (export "__aureon_gas")))`))
    expect(reserved.code).toBe(RuntimeErrorCode.RESERVED_NAME)
    const once = instrumentContract(await exampleContract('counter.wat')).code
    expect(refusal(once).code).toBe(RuntimeErrorCode.RESERVED_NAME)
    expect(refusal(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])).code).toBe(
      RuntimeErrorCode.INVALID_WASM,
    )
    expect(refusal(new Uint8Array([0, 0x61, 0x73, 0x6d, 2, 0, 0, 0])).code).toBe(
      RuntimeErrorCode.INVALID_WASM,
    )
    const good = await exampleContract('counter.wat')
    const truncated = good.slice(0, good.length - 3)
    expect(refusal(truncated).code).toBe(RuntimeErrorCode.INVALID_WASM)
    expect(JSON.stringify(refusal(truncated))).toMatch(/ERR_INVALID_WASM/)
  })

  it('accepts the ABI subset: imported memory, bulk memory, sign extension, multi-value', async () => {
    const code = await wat(`(module
      (import "env" "memory" (memory 1 2))
      (import "env" "return_data" (func $ret (param i32 i32)))
      (type $pair (func (result i32 i32)))
      (global $g (mut i32) (i32.const 0))
      (table 2 funcref)
      (elem (i32.const 0) $two $two)
      (func $two (type $pair) (i32.const 1) (i32.const 2))
      (func (export "run")
        (local i32)
        (call_indirect (type $pair) (i32.const 1))
        (i32.add)
        (global.set $g)
        (i32.store (i32.const 0) (i32.extend8_s (global.get $g)))
        (memory.fill (i32.const 8) (i32.const 7) (i32.const 4))
        (memory.copy (i32.const 12) (i32.const 8) (i32.const 4))
        (block (result i32 i32) (call $two))
        (drop) (drop)
        (call $ret (i32.const 0) (i32.const 16))))`)
    const { code: out, info } = instrumentContract(code)
    expect(info.importsMemory).toBe(true)
    expect(info.callable).toEqual(['run'])
    expect(readModuleFacts(out).memoryImport).toEqual({ min: 1, max: 2 })
    const rt = new ContractRuntime()
    const state = new MockRuntimeState()
    const ctx = callContext(10_000_000n)
    const d = await rt.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
    expect(d.status).toBe('Success')
    const r = await rt.call(
      state,
      { ...ctx, gasLimit: 1_000_000n },
      {
        contract: d.contractAddress!,
        function: 'run',
        args: new Uint8Array(),
        value: 0n,
      },
    )
    expect(r.status).toBe('Success')
    expect([...r.output]).toEqual([3, 0, 0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7, 7, 7])
  })

  it('passes the stack units through tables, element forms, host imports and export thunks', async () => {
    const code = await wat(`(module
      (import "env" "gas_left" (func $gas (result i64)))
      (import "env" "return_data" (func $ret (param i32 i32)))
      (memory (export "memory") 1)
      (type $g (func (result i64)))
      (type $add (func (param i64 i64) (result i64)))
      (table 6 funcref)
      (elem (i32.const 0) $gas $sum)
      (elem (table 0) (i32.const 2) func $gas)
      (elem (i32.const 3) funcref (ref.func $gas) (ref.null func))
      (elem $p func $gas $sum)
      (elem $q funcref (ref.func $sum))
      (elem declare func $gas)
      (func $sum (param i64 i64) (result i64) (local i64)
        (local.set 2 (i64.add (local.get 0) (local.get 1)))
        (local.get 2))
      (func (export "pair") (param i64 i64) (result i64) (call $sum (local.get 0) (local.get 1)))
      (func (export "run") (local i64)
        (table.init $p (i32.const 4) (i32.const 0) (i32.const 2))
        (elem.drop $q)
        (local.set 0 (call_indirect (type $g) (i32.const 0)))
        (local.set 0 (i64.sub (local.get 0) (call_indirect (type $g) (i32.const 2))))
        (local.set 0 (i64.add (local.get 0) (call_indirect (type $g) (i32.const 3))))
        (local.set 0 (i64.add (local.get 0) (call_indirect (type $g) (i32.const 4))))
        (i64.store (i32.const 0)
          (call_indirect (type $add) (i64.const 40) (local.get 0) (i32.const 5)))
        (i64.store (i32.const 8) (call_indirect (type $add) (i64.const 1) (i64.const 2) (i32.const 1)))
        (call $ret (i32.const 0) (i32.const 16)))
      (export "run2" (func 4)))`)
    const { code: out, info } = instrumentContract(code)
    expect(info.callable).toEqual(['run', 'run2'])
    expect(WebAssembly.validate(out as Uint8Array<ArrayBuffer>)).toBe(true)
    const inst = new WebAssembly.Instance(new WebAssembly.Module(out as Uint8Array<ArrayBuffer>), {
      env: { gas_left: () => 5n, return_data: () => {} },
    })
    ;(inst.exports.__aureon_gas as WebAssembly.Global).value = 1_000_000n
    expect((inst.exports.pair as (a: bigint, b: bigint) => bigint)(2n, 3n)).toBe(5n)
    const rt = new ContractRuntime()
    const state = new MockRuntimeState()
    const ctx = callContext(1_000_000n)
    const d = await rt.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
    expect(d.status).toBe('Success')
    const call = { contract: d.contractAddress!, args: new Uint8Array(), value: 0n }
    const r = await rt.call(state, ctx, { ...call, function: 'run' })
    expect(r.status).toBe('Success')
    expect(readU64le(r.output.subarray(8))).toBe(3n)
    const r2 = await rt.call(state, ctx, { ...call, function: 'run2' })
    expect(r2.gasUsed).toBe(r.gasUsed)
  })

  it('is deterministic and versioned', async () => {
    const code = await exampleContract('counter.wat')
    const a = instrumentContract(code)
    const b = instrumentContract(code.slice())
    expect(Buffer.compare(a.code, b.code)).toBe(0)
    const meta = readInstrumentation(a.code)
    expect(meta?.version).toBe(3)
    expect(readModuleFacts(a.code).version).toBe(3)
    expect(Buffer.compare(meta!.originalHash, a.info.originalHash)).toBe(0)
    expect(readInstrumentation(code)).toBeUndefined()
    expect(
      readInstrumentation(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 99])),
    ).toBeUndefined()
  })
})

describe('[ContractRuntime]: metering versions', () => {
  const ctx = callContext(10_000_000n)
  const call = { function: 'increment', args: new Uint8Array(), value: 0n }
  /** Puts instrumented `code` at `address` (as if deployed earlier). */
  const stored = (state: MockRuntimeState, address: Uint8Array, code: Uint8Array) => {
    const h = codeHashOf(code)
    state.codes.set(hex(h), code)
    state.codeHashes.set(hex(address), h)
  }

  it('code instrumented under version 2 keeps the version 2 schedule (1 unit per gas)', async () => {
    const code = await exampleContract('counter.wat')
    // what version 2 wrote: its costs, its version number (the section ends: version, hash)
    const v2 = instrumentContract(code, { schedule: GAS_SCHEDULE_V2 }).code
    expect(v2[v2.length - 33]).toBe(3)
    v2[v2.length - 33] = 2
    expect(readInstrumentation(v2)?.version).toBe(2)
    const v3 = instrumentContract(code).code
    const state = new MockRuntimeState()
    stored(state, addr(2), v2)
    stored(state, addr(3), v3)
    const rt = new ContractRuntime()
    const old = await rt.call(state, ctx, { ...call, contract: addr(2) })
    const now = await rt.call(state, ctx, { ...call, contract: addr(3) })
    expect(old.status).toBe('Success')
    expect(now.status).toBe('Success')
    // a runtime whose own schedule is GAS_SCHEDULE_V2 charges version-3 code the same
    const state2 = new MockRuntimeState()
    const rtV2 = new ContractRuntime({ schedule: GAS_SCHEDULE_V2 })
    stored(state2, addr(2), v2)
    const same = await rtV2.call(state2, ctx, { ...call, contract: addr(2) })
    expect(same.gasUsed).toBe(old.gasUsed)
    expect(old.gasUsed).not.toBe(now.gasUsed)
    // version 2: a storage read and write cost 25,000 + 68,000 gas plus a few hundred
    expect(old.gasUsed).toBeGreaterThan(93_000n)
    expect(old.gasUsed).toBeLessThan(100_000n)
    // version 3: units, rounded up to whole gas
    const h = DEFAULT_GAS_SCHEDULE.host
    const hostUnits = h.storage_read.base + h.storage_write.base + h.return_data.base
    expect(now.gasUsed).toBeGreaterThan(BigInt(hostUnits / DEFAULT_GAS_SCHEDULE.unitsPerGas))
    expect(now.gasUsed).toBeLessThan(
      BigInt(Math.ceil((hostUnits * 1.1) / DEFAULT_GAS_SCHEDULE.unitsPerGas)),
    )
  })

  it('gas_left reports gas, not metering units', async () => {
    const code = await wat(`(module
      (import "env" "gas_left" (func $gas_left (result i64)))
      (import "env" "return_data" (func $return_data (param i32 i32)))
      (memory (export "memory") 1)
      (func (export "increment")
        (i64.store (i32.const 0) (call $gas_left))
        (call $return_data (i32.const 0) (i32.const 8))))`)
    const state = new MockRuntimeState()
    stored(state, addr(4), instrumentContract(code).code)
    const r = await new ContractRuntime().call(
      state,
      { ...ctx, gasLimit: 10_000n },
      {
        ...call,
        contract: addr(4),
      },
    )
    expect(r.status).toBe('Success')
    const left = readU64le(r.output)
    // 10,000 gas minus the memory page, the gas_left call and the block's few instructions,
    // rounded down
    const s = DEFAULT_GAS_SCHEDULE
    const spent = BigInt((s.instructions.memoryGrowPerPage + s.host.gas_left.base) / s.unitsPerGas)
    expect(left).toBeLessThanOrEqual(10_000n - spent)
    expect(left).toBeGreaterThanOrEqual(10_000n - spent - 2n)
    expect(r.gasUsed).toBeGreaterThan(10_000n - left)
  })
})

describe('[instrumentContract]: speed', () => {
  it('instruments a 512 KiB module into a valid module (its time is the runtime.instrument.512k benchmark)', async () => {
    const code = await bigModule(512 * 1024)
    expect(code.length).toBeGreaterThan(400 * 1024)
    expect(code.length).toBeLessThanOrEqual(MAX_CODE_SIZE)
    const out = instrumentContract(code)
    expect(WebAssembly.validate(out.code)).toBe(true)
    // the same bytes on every run (and so on every node)
    expect(instrumentContract(code).code).toEqual(out.code)
  })
})

describe('[instrumentContract]: metering is exact and the same everywhere', () => {
  it('instrumented code computes what the original computes (property)', async () => {
    const rt = new ContractRuntime()
    const ctx = callContext(10_000_000n)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        async (n, k) => {
          const code = await wat(`(module
          (import "env" "return_data" (func $ret (param i32 i32)))
          ${MEM}
          (func $fib (param i32) (result i64)
            (if (result i64) (i32.lt_u (local.get 0) (i32.const 2))
              (then (return (i64.extend_i32_u (local.get 0))))
              (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                             (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
          (func (export "run") (local $i i32) (local $acc i64)
            (block $out (loop $l
              (br_if $out (i32.ge_u (local.get $i) (i32.const ${n})))
              (local.set $acc (i64.add (local.get $acc) (call $fib (i32.rem_u (local.get $i) (i32.const ${k + 5})))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $l)))
            (i64.store (i32.const 0) (local.get $acc))
            (call $ret (i32.const 0) (i32.const 8))))`)
          const fib = (x: number): bigint => (x < 2 ? BigInt(x) : fib(x - 1) + fib(x - 2))
          let expected = 0n
          for (let i = 0; i < n; i++) expected += fib(i % (k + 5))
          const state = new MockRuntimeState()
          const d = await rt.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
          const call = {
            contract: d.contractAddress!,
            function: 'run',
            args: new Uint8Array(),
            value: 0n,
          }
          const a = await rt.call(state, ctx, call)
          const b = await new ContractRuntime().call(state, ctx, call)
          expect(a.status).toBe('Success')
          expect(readU64le(a.output)).toBe(expected)
          expect(b.gasUsed).toBe(a.gasUsed)
          // exactly enough gas succeeds, one less runs out
          const exact = await rt.call(state, { ...ctx, gasLimit: a.gasUsed }, call)
          expect(exact.status).toBe('Success')
          const less = await rt.call(state, { ...ctx, gasLimit: a.gasUsed - 1n }, call)
          expect(less.status).toBe('OutOfGas')
        },
      ),
      { numRuns: 25 },
    )
  })
})
