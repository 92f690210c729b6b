/**
 * Gas calibration: measures the ns of each instruction class and host function (base and per
 * byte) on the instrumented code, reads the gas the same code uses, and prints the ns-per-gas of
 * each under the current schedule (DEFAULT_GAS_SCHEDULE in src/params.ts; table in docs/gas.md).
 *
 * Method, per row:
 * - instruction classes: a loop of 16 copies of a snippet, each copy depending on the one before
 *   (a chain through a local, so the CPU cannot overlap copies and the compiler cannot fold them:
 *   operands are parameters of the exported function), minus the same loop with no snippet,
 *   measured interleaved in the same run; median of many rounds of the process's CPU time. ns and
 *   gas are per copy. Measured twice, in child processes: optimized code only (--no-liftoff,
 *   what a hot contract runs) and baseline code only (--liftoff-only, what the first calls of a
 *   freshly compiled contract run: V8 has no on-stack replacement for WebAssembly).
 * - per-byte costs: the slope between two payload sizes (no fixed part in them).
 * - host functions that do not touch the state: the real imports (`createHostImports`) in a loop,
 *   minus the empty loop.
 * - host functions that touch the state (storage_*, get_balance, transfer) and deploy: through
 *   the real path, `ContractRuntime` over `LedgerRuntimeState` over a ledger `WorldState` on a
 *   LevelStore, each call followed by the state root, a flush to the store (what a block does)
 *   and dropping the world state's caches, minus a call of the same contract that does not do the
 *   operation; fresh keys and accounts each call (cold: loaded from the store, the call re-run
 *   after each load). Timed in CPU time of the process (the store works on other threads).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createWorldState, emptyAccount } from '@aureon/ledger'
import { openLevelStore } from '@aureon/storage'
import * as src from '../src/index.js'
import {
  type CallContext,
  createHostImports,
  DEFAULT_GAS_SCHEDULE,
  type HostEnv,
  instrumentContract,
  MockRuntimeState,
} from '../src/index.js'
import { bigModule } from '../test/helpers.js'
import { watToWasm } from './metering.js'

export interface CalibrationRow {
  name: string
  /** ns per operation (or per byte) */
  ns: number
  /** gas per operation (or per byte); metering units / unitsPerGas, so fractions for instructions */
  gas: number
  nsPerGas: number
  /** instruction rows: ns of the same snippet in V8's baseline tier (Liftoff) */
  nsLiftoff?: number
}

/** Metering units per gas of the schedule under test. */
const K = DEFAULT_GAS_SCHEDULE.unitsPerGas

const HOST_DECL = `
  (import "env" "input_size" (func $input_size (result i32)))
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "return_data" (func $return_data (param i32 i32)))
  (import "env" "log" (func $log (param i32 i32)))
  (import "env" "emit_log" (func $emit_log (param i32 i32 i32 i32)))
  (import "env" "get_balance" (func $get_balance (param i32 i32 i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_remove" (func $storage_remove (param i32 i32) (result i32)))
  (import "env" "block_height" (func $block_height (result i64)))
  (import "env" "block_timestamp" (func $block_timestamp (result i64)))
  (import "env" "caller" (func $caller (param i32)))
  (import "env" "self_address" (func $self_address (param i32)))
  (import "env" "call_value" (func $call_value (param i32)))
  (import "env" "sha256" (func $sha256 (param i32 i32 i32)))
  (import "env" "gas_left" (func $gas_left (result i64)))`

/**
 * `run(iters, b, c, k)`: `iters` times `reps` copies of `snippet`. b, c and k are opaque to
 * the compiler; $a (i64) and $q (i32) carry the chains; memory[64] holds 64 (pointer chase).
 */
function loopModule(snippet: string, reps: number, pages = 2, max = ''): string {
  return `(module ${HOST_DECL}
    (memory (export "memory") ${pages} ${max})
    (global $g (mut i64) (i64.const 1))
    (type $bin (func (param i64 i64) (result i64)))
    (table 1 funcref) (elem (i32.const 0) $addf)
    (func $addf (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1)))
    (func (export "run") (param $iters i32) (param $b i64) (param $c i64) (param $k i32) (result i64)
      (local $i i32) (local $a i64) (local $p i32) (local $q i32)
      (local.set $a (local.get $b))
      (local.set $p (i32.const 64))
      (local.set $q (i32.wrap_i64 (local.get $b)))
      (i32.store (i32.const 64) (i32.const 64))
      (loop $l
        ${snippet.repeat(reps)}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $iters))))
      (i64.add (local.get $a) (i64.extend_i32_u (i32.add (local.get $p) (local.get $q))))))`
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * CPU time of this process in µs: the machine is shared, and time spent descheduled is not the
 * operation's (process.threadCpuUsage advances only at scheduler ticks here: too coarse).
 */
const threadCpu = () => {
  const c = process.cpuUsage()
  return c.user + c.system
}

interface Runner {
  /** runs once; returns ns and gas used */
  run(): { ns: number; gas: number }
  env: HostEnv
}

/** Instantiates the instrumented module with the real host imports (MockRuntimeState). */
async function runner(src: string | Uint8Array, args: unknown[], input = 0): Promise<Runner> {
  const wasm = typeof src === 'string' ? await watToWasm(src) : src
  const code = instrumentContract(wasm).code
  const module = await WebAssembly.compile(code as Uint8Array<ArrayBuffer>)
  const state = new MockRuntimeState()
  state.checkpoint()
  const env: HostEnv = {
    state,
    schedule: DEFAULT_GAS_SCHEDULE,
    self: new Uint8Array(20).fill(1),
    caller: new Uint8Array(20).fill(2),
    value: 0n,
    input: new Uint8Array(input).fill(3),
    blockHeight: 1n,
    blockTimestamp: 1n,
    output: new Uint8Array(),
    logs: [],
    debugLogs: [],
  }
  const instance = new WebAssembly.Instance(module, { env: createHostImports(env) as never })
  env.gas = instance.exports.__aureon_gas as never
  env.memory = instance.exports.memory as never
  const gas = instance.exports.__aureon_gas as WebAssembly.Global
  const fn = instance.exports.run as (...a: unknown[]) => unknown
  const START = 1n << 55n
  return {
    env,
    run() {
      env.logs.length = 0
      env.debugLogs.length = 0
      gas.value = START
      const t0 = threadCpu()
      fn(...args)
      const ns = (threadCpu() - t0) * 1000
      return { ns, gas: Number(START - (gas.value as bigint)) / K }
    },
  }
}

/**
 * Median ns and gas of `a` minus `b` (each run `rounds` times, interleaved, after a warm-up that
 * lets V8 tier the code up), divided by `n`.
 */
async function diff(a: Runner, b: Runner, n: number, rounds: number) {
  for (let i = 0; i < 6; i++) {
    a.run()
    b.run()
    await tick()
  }
  const ta: number[] = []
  const tb: number[] = []
  let ga = 0
  let gb = 0
  for (let i = 0; i < rounds; i++) {
    const x = a.run()
    const y = b.run()
    ta.push(x.ns)
    tb.push(y.ns)
    ga = x.gas
    gb = y.gas
  }
  return { ns: (median(ta) - median(tb)) / n, gas: (ga - gb) / n }
}

const row = (name: string, m: { ns: number; gas: number }): CalibrationRow => ({
  name,
  ns: m.ns,
  gas: m.gas,
  nsPerGas: m.ns / m.gas,
})

/** Snippets: each copy depends on the one before (through $a, $q or $p). */
const INSTRUCTIONS: Array<[string, string]> = [
  ['i64.add', '(local.set $a (i64.add (local.get $a) (local.get $b)))'],
  [
    'i64.shl + xor',
    '(local.set $a (i64.xor (i64.shl (local.get $a) (i64.const 1)) (local.get $b)))',
  ],
  [
    'i64.lt_u + extend + add',
    '(local.set $a (i64.add (local.get $a) (i64.extend_i32_u (i64.lt_u (local.get $a) (local.get $b)))))',
  ],
  ['i64.mul', '(local.set $a (i64.mul (local.get $a) (local.get $b)))'],
  ['i64.div_u', '(local.set $a (i64.or (i64.div_u (local.get $a) (local.get $c)) (local.get $b)))'],
  [
    'i64.rem_s',
    '(local.set $a (i64.add (i64.rem_s (local.get $a) (local.get $c)) (local.get $b)))',
  ],
  [
    'i32.div_s',
    '(local.set $q (i32.or (i32.div_s (local.get $q) (local.get $k)) (i32.const 0x40000000)))',
  ],
  ['i64.popcnt', '(local.set $a (i64.add (i64.popcnt (local.get $a)) (local.get $b)))'],
  ['i32.load (pointer chase)', '(local.set $p (i32.load (local.get $p)))'],
  [
    'i64.store',
    '(i64.store (local.get $p) (local.tee $a (i64.add (local.get $a) (local.get $b))))',
  ],
  ['global.get/set', '(global.set $g (i64.add (global.get $g) (local.get $b)))'],
  [
    'select',
    '(local.set $a (i64.add (select (local.get $b) (local.get $c) (i64.eqz (local.get $a))) (local.get $a)))',
  ],
  [
    'block + br_if',
    '(block $x (br_if $x (i64.eqz (local.get $a))) (local.set $a (i64.add (local.get $a) (local.get $b))))',
  ],
  [
    'if/else',
    '(if (i64.eqz (local.get $a)) (then (local.set $a (local.get $b))) (else (local.set $a (i64.add (local.get $a) (local.get $b)))))',
  ],
  [
    'br_table',
    '(block $x (block $y (br_table $x $y (i32.wrap_i64 (i64.and (local.get $a) (i64.const 1))))) (local.set $a (i64.add (local.get $a) (local.get $b))))',
  ],
  ['call', '(local.set $a (call $addf (local.get $a) (local.get $b)))'],
  [
    'call_indirect',
    '(local.set $a (call_indirect (type $bin) (local.get $a) (local.get $b) (i32.const 0)))',
  ],
  ['memory.size', '(local.set $a (i64.add (local.get $a) (i64.extend_i32_u (memory.size))))'],
]

const FIB = `(module (memory (export "memory") 1)
  (func $fib (param i32) (result i64)
    (if (result i64) (i32.lt_u (local.get 0) (i32.const 2))
      (then (i64.extend_i32_u (local.get 0)))
      (else (i64.add (call $fib (i32.sub (local.get 0) (i32.const 1)))
                     (call $fib (i32.sub (local.get 0) (i32.const 2)))))))
  (func (export "run") (param $n i32) (result i64) (call $fib (local.get $n))))`

/** Host snippets: [name, snippet with the payload length as LEN, payload sizes for the slope]. */
const HOST: Array<[string, string, 'input' | 'len' | undefined]> = [
  ['input_size', '(local.set $q (i32.add (local.get $q) (call $input_size)))', undefined],
  ['input_read', '(call $input_read (i32.const 1024))', 'input'],
  ['return_data', '(call $return_data (i32.const 1024) (i32.const LEN))', 'len'],
  ['log', '(call $log (i32.const 1024) (i32.const LEN))', 'len'],
  [
    'emit_log',
    '(call $emit_log (i32.const 0) (i32.const 0) (i32.const 1024) (i32.const LEN))',
    'len',
  ],
  ['sha256', '(call $sha256 (i32.const 1024) (i32.const LEN) (i32.const 100))', 'len'],
  ['block_height', '(local.set $a (i64.add (local.get $a) (call $block_height)))', undefined],
  ['block_timestamp', '(local.set $a (i64.add (local.get $a) (call $block_timestamp)))', undefined],
  ['caller', '(call $caller (i32.const 100))', undefined],
  ['self_address', '(call $self_address (i32.const 100))', undefined],
  ['call_value', '(call $call_value (i32.const 100))', undefined],
  ['gas_left', '(local.set $a (i64.add (local.get $a) (call $gas_left)))', undefined],
]

const SMALL = 256
const LARGE = 8192

/**
 * Instruction classes and memory, and (`host`) the host functions that do not touch the state.
 * Runs in a child process with the tier fixed (--no-liftoff or --liftoff-only).
 */
async function inProcessRows(scale: number, host: boolean): Promise<CalibrationRow[]> {
  const rows: CalibrationRow[] = []
  const reps = 16
  const iters = Math.max(2000, Math.floor(200_000 * scale))
  const rounds = Math.max(9, Math.floor(25 * scale))
  const args = [iters, 0x7fff_1234_5678_9abdn, 3n, 3]
  const empty = await runner(loopModule('', reps), args)
  for (const [name, snippet] of INSTRUCTIONS) {
    const m = await runner(loopModule(snippet, reps), args)
    rows.push(row(name, await diff(m, empty, iters * reps, rounds)))
  }
  // recursive calls: fib(22) makes 2 * fib(23) - 1 calls
  {
    const calls = 2 * 28657 - 1
    const a = await runner(FIB, [22])
    const b = await runner(FIB, [0])
    rows.push(row('call (recursive fib, per call)', await diff(a, b, calls, rounds)))
  }
  // memory.grow: per page, with the first touch of every 4 KiB of the new pages (the zeroing
  // happens there); slope between growing 8 and 200 pages, each in a fresh instance
  {
    const growMod = (pages: number) =>
      `(module (memory (export "memory") 1 256)
        (func (export "run") (local $p i32) (local $end i32)
          (drop (memory.grow (i32.const ${pages})))
          (local.set $p (i32.const 65536))
          (local.set $end (i32.mul (i32.const 65536) (i32.const ${pages + 1})))
          (loop $l
            (i32.store (local.get $p) (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 4096)))
            (br_if $l (i32.lt_u (local.get $p) (local.get $end))))))`
    const once = async (pages: number) => {
      const ns: number[] = []
      let gas = 0
      for (let i = 0; i < Math.max(7, rounds); i++) {
        const r = await runner(growMod(pages), [])
        const m = r.run()
        ns.push(m.ns)
        gas = m.gas
      }
      return { ns: median(ns), gas }
    }
    await once(8)
    const a = await once(200)
    const b = await once(8)
    rows.push(
      row('memory.grow (per page, first touch)', {
        ns: (a.ns - b.ns) / 192,
        gas: (a.gas - b.gas) / 192,
      }),
    )
  }
  // bulk memory per byte: slope between 1 MiB and 8 MiB
  for (const op of ['fill', 'copy'] as const) {
    const mod = (bytes: number) =>
      `(module (memory (export "memory") 256)
        (func (export "run") (memory.${op} (i32.const 0) (i32.const ${op === 'fill' ? 1 : 8 << 20}) (i32.const ${bytes}))))`
    const a = await runner(mod(8 << 20), [])
    const b = await runner(mod(1 << 20), [])
    rows.push(row(`memory.${op} (per byte)`, await diff(a, b, 7 << 20, rounds)))
  }
  if (!host) return rows
  // host functions: base (payload 0) minus the empty loop, per byte as a slope
  const hReps = 4
  const hIters = Math.max(200, Math.floor(1500 * scale))
  const hArgs = [hIters, 0x7fff_1234_5678_9abdn, 3n, 3]
  const hEmpty = await runner(loopModule('', hReps), hArgs)
  for (const [name, snippet, payload] of HOST) {
    const base = await runner(loopModule(snippet.replace('LEN', '0'), hReps), hArgs)
    rows.push(row(`${name} (base)`, await diff(base, hEmpty, hIters * hReps, rounds)))
    if (payload) {
      const sized = (len: number) =>
        payload === 'input'
          ? runner(loopModule(snippet, hReps), hArgs, len)
          : runner(loopModule(snippet.replace('LEN', String(len)), hReps), hArgs)
      const n = hIters * hReps * (LARGE - SMALL)
      rows.push(
        row(`${name} (per byte)`, await diff(await sized(LARGE), await sized(SMALL), n, rounds)),
      )
    }
  }
  return rows
}

/** A contract doing `n` (args: u64 n, u64 first index, u64 value length) state operations. */
const STATE_WAT = `(module
  (import "env" "input_read" (func $input_read (param i32)))
  (import "env" "get_balance" (func $get_balance (param i32 i32 i32) (result i32)))
  (import "env" "transfer" (func $transfer (param i32 i32 i32) (result i32)))
  (import "env" "storage_read" (func $storage_read (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_write" (func $storage_write (param i32 i32 i32 i32) (result i32)))
  (import "env" "storage_remove" (func $storage_remove (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; 0: args; 64: key / address (32 bytes, index LE in the first 8, byte 63+20 = 0xaa);
  ;; 200: amount 1; 1024: value
  (func $each (param $op i32) (local $i i64) (local $n i64)
    (call $input_read (i32.const 0))
    (local.set $n (i64.load (i32.const 0)))
    (i64.store (i32.const 200) (i64.const 1))
    (i32.store8 (i32.const 83) (i32.const 0xaa))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (i64.store (i32.const 64) (i64.add (i64.load (i32.const 8)) (local.get $i)))
      (if (i32.eq (local.get $op) (i32.const 0)) (then
        (drop (call $storage_write (i32.const 64) (i32.const 32) (i32.const 1024) (i32.wrap_i64 (i64.load (i32.const 16)))))))
      (if (i32.eq (local.get $op) (i32.const 1)) (then
        (drop (call $storage_read (i32.const 64) (i32.const 32) (i32.const 1024) (i32.const 4096)))))
      (if (i32.eq (local.get $op) (i32.const 2)) (then
        (drop (call $storage_remove (i32.const 64) (i32.const 32)))))
      (if (i32.eq (local.get $op) (i32.const 3)) (then
        (drop (call $transfer (i32.const 64) (i32.const 20) (i32.const 200)))))
      (if (i32.eq (local.get $op) (i32.const 4)) (then
        (drop (call $get_balance (i32.const 64) (i32.const 20) (i32.const 300)))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l))))
  (func (export "write") (call $each (i32.const 0)))
  (func (export "read") (call $each (i32.const 1)))
  (func (export "remove") (call $each (i32.const 2)))
  (func (export "transfer") (call $each (i32.const 3)))
  (func (export "balance") (call $each (i32.const 4))))`

/**
 * The built package when there is one (what a node runs: tsx's keepNames wrappers slow the
 * instrumenter of the source version down), else the source.
 */
async function library(): Promise<typeof src> {
  const dist = new URL('../dist/index.js', import.meta.url)
  return existsSync(fileURLToPath(dist)) ? await import(dist.href) : src
}

/** CPU time of this process (all threads: the store's work included) since `t0`, in ns. */
const cpuNs = (t0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(t0)
  return (c.user + c.system) * 1000
}

/**
 * The state-touching host functions and deploy, through the real ledger path on a LevelStore.
 * Timed in CPU time of the process (the store works on other threads; the machine is shared).
 */
async function ledgerRows(scale: number): Promise<CalibrationRow[]> {
  const { ContractRuntime, LedgerRuntimeState } = await library()
  const rows: CalibrationRow[] = []
  const rounds = Math.max(7, Math.floor(21 * scale))
  const N = 16
  const dir = mkdtempSync(join(tmpdir(), 'aureon-calibrate-'))
  const store = await openLevelStore({ path: dir })
  try {
    const db = store.namespace('state')
    const world = await createWorldState({ db })
    // root, flush to the store, and drop the world state's caches: every call starts cold
    const commit = async () => {
      await world.root()
      await db.batch(await world.flush())
      world.clearCache()
    }
    const sender = new Uint8Array(20).fill(7)
    await world.putAccount(sender, { ...emptyAccount(), balance: 10n ** 30n })
    const addrOf = (i: number) => {
      const a = new Uint8Array(20)
      new DataView(a.buffer).setBigUint64(0, BigInt(i), true)
      a[19] = 0xaa
      return a
    }
    // accounts get_balance reads (existing, cold)
    for (let i = 0; i < (rounds + 4) * N * 2; i++) {
      await world.putAccount(addrOf(1_000_000 + i), { ...emptyAccount(), balance: 5n })
    }
    await commit()
    let nonce = 0n
    const ctx = (): CallContext => ({
      sender,
      senderNonce: nonce++,
      blockHeight: 1n,
      blockTimestamp: 1n,
      gasLimit: 10n ** 13n,
    })
    const base = new ContractRuntime()
    const deployed = await base.deploy(new LedgerRuntimeState(world), ctx(), {
      code: await watToWasm(STATE_WAT),
      args: new Uint8Array(),
      value: 10n ** 20n,
    })
    if (deployed.status !== 'Success') throw new Error(deployed.error?.message)
    await commit()
    const contract = deployed.contractAddress!
    const args = (n: number, first: number, len: number) => {
      const b = new Uint8Array(24)
      const v = new DataView(b.buffer)
      v.setBigUint64(0, BigInt(n), true)
      v.setBigUint64(8, BigInt(first), true)
      v.setBigUint64(16, BigInt(len), true)
      return b
    }
    /** One call (fresh runtime: no load hints; shared module cache), then root + flush. */
    const call = async (fn: string, n: number, first: number, len = 32) => {
      const rt = new ContractRuntime({ cache: base.cache })
      const t0 = process.cpuUsage()
      const r = await rt.call(new LedgerRuntimeState(world), ctx(), {
        contract,
        function: fn,
        args: args(n, first, len),
        value: 0n,
      })
      await commit()
      const ns = cpuNs(t0)
      if (r.status !== 'Success') throw new Error(`${fn}: ${r.error?.message}`)
      return { ns, gas: Number(r.gasUsed) }
    }
    /** Median per-op ns and gas of `fn` with N ops against the same call with 0 ops. */
    const measureOp = async (
      fn: string,
      next: () => number,
      len = 32,
      lenBase = len,
      nBase = 0,
    ) => {
      const ta: number[] = []
      const tb: number[] = []
      let ga = 0
      let gb = 0
      for (let i = 0; i < rounds + 2; i++) {
        const a = await call(fn, N, next(), len)
        const b = await call(fn, nBase, next(), lenBase)
        if (i < 2) continue
        ta.push(a.ns)
        tb.push(b.ns)
        ga = a.gas
        gb = b.gas
      }
      return { ns: median(ta) - median(tb), gas: ga - gb }
    }
    let fresh = 3_000_000
    const nextWrite = () => {
      fresh += N
      return fresh - N
    }
    const w = await measureOp('write', nextWrite)
    rows.push(
      row('storage_write (new slot, 32-byte key and value)', { ns: w.ns / N, gas: w.gas / N }),
    )
    const wb = await measureOp('write', nextWrite, 32768, 32, N)
    rows.push(row('storage_write (per byte)', { ns: wb.ns / N / 32736, gas: wb.gas / N / 32736 }))
    // read and remove the slots written above (first the 32-byte ones), cold
    let readAt = 3_000_000
    const nextRead = () => {
      readAt += N
      return readAt - N
    }
    const rd = await measureOp('read', nextRead)
    rows.push(row('storage_read (cold slot, 32 bytes)', { ns: rd.ns / N, gas: rd.gas / N }))
    const rm = await measureOp('remove', nextRead)
    rows.push(row('storage_remove (existing slot)', { ns: rm.ns / N, gas: rm.gas / N }))
    let acct = 1_000_000
    const bal = await measureOp('balance', () => {
      acct += N
      return acct - N
    })
    rows.push(row('get_balance (cold account)', { ns: bal.ns / N, gas: bal.gas / N }))
    let to = 5_000_000
    const tr = await measureOp('transfer', () => {
      to += N
      return to - N
    })
    rows.push(row('transfer (to a new account)', { ns: tr.ns / N, gas: tr.gas / N }))

    // deploy: validation, instrumentation, compilation, storing the code; a distinct module each
    // time (a custom section carries a counter: V8 would reuse an identical module)
    let serial = 0
    const distinct = (code: Uint8Array) => {
      serial++
      return new Uint8Array([...code, 0, 4, 1, 0x78, serial & 255, (serial >> 8) & 255])
    }
    const deploy = async (code: Uint8Array) => {
      const rt = new ContractRuntime()
      const t0 = process.cpuUsage()
      const r = await rt.deploy(new LedgerRuntimeState(world), ctx(), {
        code: distinct(code),
        args: new Uint8Array(),
        value: 0n,
      })
      await commit()
      const ns = cpuNs(t0)
      if (r.status !== 'Success') throw new Error(`deploy: ${r.error?.message}`)
      return { ns, gas: Number(r.gasUsed) }
    }
    const small = await bigModule(4 * 1024)
    const large = await bigModule(128 * 1024)
    const ts: number[] = []
    const tl: number[] = []
    let gs = 0
    let gl = 0
    for (let i = 0; i < Math.max(5, Math.floor(rounds / 2)) + 1; i++) {
      const s = await deploy(small)
      const l = await deploy(large)
      if (i === 0) continue
      ts.push(s.ns)
      tl.push(l.ns)
      gs = s.gas
      gl = l.gas
    }
    const perByte = (median(tl) - median(ts)) / (large.length - small.length)
    const perByteGas = (gl - gs) / (large.length - small.length)
    rows.push(row('deploy (per code byte)', { ns: perByte, gas: perByteGas }))
    rows.push(
      row('deploy (base)', {
        ns: median(ts) - perByte * (small.length + 6),
        gas: gs - perByteGas * (small.length + 6),
      }),
    )
  } finally {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

/** Runs `part` of the calibration in a child process with V8 `flags`; returns its rows. */
async function child(flags: string[], part: string, scale: number): Promise<CalibrationRow[]> {
  const { execFileSync } = await import('node:child_process')
  const out = execFileSync(
    process.execPath,
    [...flags, '--import', 'tsx', fileURLToPath(import.meta.url)],
    {
      env: { ...process.env, CALIBRATE_PART: part, SCALE: String(scale) },
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    },
  )
  return JSON.parse(out.slice(out.indexOf('[')))
}

/**
 * Runs the calibration; `scale` < 1 makes it faster (and noisier). Instruction rows are measured
 * in optimized code (TurboFan, what a hot contract runs) and again in the baseline tier (Liftoff,
 * what the first calls of a freshly compiled contract run): `nsLiftoff`.
 */
export async function calibrate(scale = 1): Promise<CalibrationRow[]> {
  const optimized = await child(['--no-liftoff'], 'host', scale)
  const baseline = await child(['--liftoff-only'], 'instructions', scale)
  for (const r of optimized) {
    const b = baseline.find((x) => x.name === r.name)
    if (b) r.nsLiftoff = b.ns
  }
  return [...optimized, ...(await ledgerRows(scale))]
}

/** Mean ns per gas over all rows and the worst ratio of a row to it (either direction). */
export function summarize(rows: CalibrationRow[]) {
  const mean = rows.reduce((s, r) => s + r.nsPerGas, 0) / rows.length
  const worst = Math.max(...rows.map((r) => Math.max(r.nsPerGas / mean, mean / r.nsPerGas)))
  return {
    mean,
    worst,
    within3x: rows.filter((r) => r.nsPerGas / mean <= 3 && mean / r.nsPerGas <= 3).length,
  }
}

const fmt = (x: number) =>
  Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3)

/** The markdown table of docs/gas.md. */
export function table(rows: CalibrationRow[]): string {
  const { mean } = summarize(rows)
  const lines = [
    '| operation | gas | ns | ns/gas | x mean | ns (Liftoff) | x mean (Liftoff) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const lo =
      r.nsLiftoff === undefined
        ? '| | '
        : `| ${fmt(r.nsLiftoff)} | ${(r.nsLiftoff / r.gas / mean).toFixed(2)} `
    lines.push(
      `| ${r.name} | ${fmt(r.gas)} | ${fmt(r.ns)} | ${r.nsPerGas.toFixed(2)} | ${(r.nsPerGas / mean).toFixed(2)} ${lo}|`,
    )
  }
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const scale = Number(process.env.SCALE ?? 1)
  const part = process.env.CALIBRATE_PART
  if (part) {
    console.log(JSON.stringify(await inProcessRows(scale, part === 'host')))
  } else {
    const rows = await calibrate(scale)
    console.log(table(rows))
    const lo = rows.filter((r) => r.nsLiftoff !== undefined)
    const { mean } = summarize(rows)
    console.log(summarize(rows), {
      liftoffWorst: Math.max(
        ...lo.map((r) => Math.max(r.nsLiftoff! / r.gas / mean, (mean * r.gas) / r.nsLiftoff!)),
      ),
    })
  }
}
