/**
 * Gas calibration: measures ns per instruction class and per host function (base and per byte)
 * on the instrumented code, and prints the ns-per-gas of each under the current schedule. The
 * schedule in src/params.ts is set so that every row is within 3x of the mean.
 */
import {
  createHostImports,
  DEFAULT_GAS_SCHEDULE,
  type HostEnv,
  instrumentContract,
  MockRuntimeState,
} from '../src/index.js'
import { watToWasm } from './metering.js'

export interface CalibrationRow {
  name: string
  /** ns per operation (or per byte) */
  ns: number
  /** gas per operation (or per byte) */
  gas: number
  nsPerGas: number
}

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

function loopModule(snippet: string, reps: number, iters: number, extra = ''): string {
  return `(module ${HOST_DECL}
    (memory (export "memory") 2)
    (global $g (mut i64) (i64.const 1))
    (type $v (func))
    (table 1 funcref) (elem (i32.const 0) $nop)
    (func $nop)
    ${extra}
    (func (export "run")
      (local $i i32) (local $a i64) (local $b i64) (local $c i64) (local $p i32) (local $one i32) (local $zero i32)
      (local.set $b (i64.const 12345)) (local.set $c (i64.const 7)) (local.set $p (i32.const 64)) (local.set $one (i32.const 1))
      (loop $l
        ${snippet.repeat(reps)}
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (i32.const ${iters}))))
      (i64.store (i32.const 0) (local.get $a))))`
}

interface Measured {
  ns: number
  gas: number
}

/** Runs the instrumented module's `run` (one instance, warmed up) and returns median ns and gas. */
async function measure(src: string, rounds: number): Promise<Measured> {
  const code = instrumentContract(await watToWasm(src)).code
  const module = await WebAssembly.compile(code as Uint8Array<ArrayBuffer>)
  const state = new MockRuntimeState()
  state.checkpoint()
  const env: HostEnv = {
    state,
    schedule: DEFAULT_GAS_SCHEDULE,
    self: new Uint8Array(20).fill(1),
    caller: new Uint8Array(20).fill(2),
    value: 0n,
    input: new Uint8Array(16384),
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
  const run = instance.exports.run as () => void
  const times: number[] = []
  let gasUsed = 0n
  for (let i = 0; i < rounds + 3; i++) {
    env.logs.length = 0
    env.debugLogs.length = 0
    gas.value = 1n << 50n
    const t0 = process.hrtime.bigint()
    run()
    const dt = Number(process.hrtime.bigint() - t0)
    gasUsed = (1n << 50n) - (gas.value as bigint)
    if (i >= 3) times.push(dt)
  }
  times.sort((a, b) => a - b)
  return { ns: times[0], gas: Number(gasUsed) }
}

const INSTRUCTIONS: Array<[string, string]> = [
  ['const + local.set', '(local.set $a (i64.const 7))'],
  ['local.get/set', '(local.set $a (local.get $b))'],
  ['global.get/set', '(global.set $g (global.get $g))'],
  ['i64.add', '(local.set $a (i64.add (local.get $a) (local.get $b)))'],
  ['i64.xor/shl', '(local.set $a (i64.xor (local.get $a) (i64.shl (local.get $b) (i64.const 3))))'],
  ['i64.mul', '(local.set $a (i64.mul (local.get $a) (local.get $b)))'],
  ['i64.div_u', '(local.set $a (i64.div_u (local.get $b) (local.get $c)))'],
  ['i64.rem_s', '(local.set $a (i64.rem_s (local.get $b) (local.get $c)))'],
  ['i64.popcnt', '(local.set $a (i64.popcnt (local.get $b)))'],
  ['i64.load', '(local.set $a (i64.load (local.get $p)))'],
  ['i64.store', '(i64.store (local.get $p) (local.get $b))'],
  ['select', '(local.set $a (select (local.get $a) (local.get $b) (local.get $one)))'],
  ['block + br_if', '(block $x (br_if $x (local.get $one)))'],
  [
    'if/else',
    '(if (local.get $one) (then (local.set $a (local.get $b))) (else (local.set $a (local.get $c))))',
  ],
  ['br_table', '(block $x (block $y (br_table $x $y (local.get $one))))'],
  ['call (leaf)', '(call $nop)'],
  ['call_indirect', '(call_indirect (type $v) (i32.const 0))'],
  ['memory.size', '(local.set $p (i32.add (i32.const 64) (i32.and (memory.size) (i32.const 0))))'],
]

const HOST: Array<[string, string, string?]> = [
  // name, snippet with len 0, snippet with len 16384 (per-byte)
  ['input_size', '(drop (call $input_size))'],
  ['input_read', '', '(call $input_read (i32.const 1024))'],
  [
    'return_data',
    '(call $return_data (i32.const 0) (i32.const 0))',
    '(call $return_data (i32.const 0) (i32.const 16384))',
  ],
  ['log', '(call $log (i32.const 0) (i32.const 0))', '(call $log (i32.const 0) (i32.const 16384))'],
  [
    'emit_log',
    '(call $emit_log (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))',
    '(call $emit_log (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 16384))',
  ],
  ['get_balance', '(drop (call $get_balance (i32.const 0) (i32.const 20) (i32.const 100)))'],
  ['transfer', '(drop (call $transfer (i32.const 0) (i32.const 20) (i32.const 200)))'],
  [
    'storage_read',
    '(drop (call $storage_read (i32.const 0) (i32.const 8) (i32.const 100) (i32.const 0)))',
  ],
  [
    'storage_write',
    '(drop (call $storage_write (i32.const 0) (i32.const 8) (i32.const 100) (i32.const 1)))',
    '(drop (call $storage_write (i32.const 0) (i32.const 8) (i32.const 100) (i32.const 16384)))',
  ],
  ['storage_remove', '(drop (call $storage_remove (i32.const 0) (i32.const 8)))'],
  ['block_height', '(drop (call $block_height))'],
  ['block_timestamp', '(drop (call $block_timestamp))'],
  ['caller', '(call $caller (i32.const 100))'],
  ['self_address', '(call $self_address (i32.const 100))'],
  ['call_value', '(call $call_value (i32.const 100))'],
  [
    'sha256',
    '(call $sha256 (i32.const 0) (i32.const 0) (i32.const 100))',
    '(call $sha256 (i32.const 0) (i32.const 16384) (i32.const 100))',
  ],
  ['gas_left', '(drop (call $gas_left))'],
]

/** Runs the calibration; `scale` < 1 makes it faster (and noisier). */
export async function calibrate(scale = 1): Promise<CalibrationRow[]> {
  const rows: CalibrationRow[] = []
  const iters = Math.max(1000, Math.floor(200_000 * scale))
  const reps = 16
  const rounds = 5
  const empty = await measure(loopModule('', reps, iters), rounds)
  for (const [name, snippet] of INSTRUCTIONS) {
    const m = await measure(loopModule(snippet, reps, iters), rounds)
    const n = iters * reps
    const ns = Math.max(0.001 * n, m.ns - empty.ns) / n
    const gas = (m.gas - empty.gas) / n
    rows.push({ name, ns, gas, nsPerGas: ns / gas })
  }
  // memory.grow per page and bulk memory per byte
  const grow = await measure(
    `(module (memory (export "memory") 1) (func (export "run") (drop (memory.grow (i32.const 1)))))`,
    1,
  )
  rows.push({
    name: 'memory.grow (1 page)',
    ns: grow.ns,
    gas: grow.gas,
    nsPerGas: grow.ns / grow.gas,
  })
  const fill = await measure(
    `(module (memory (export "memory") 256) (func (export "run") (memory.fill (i32.const 0) (i32.const 1) (i32.const 16000000))))`,
    rounds,
  )
  rows.push({
    name: 'memory.fill (per byte)',
    ns: fill.ns / 16e6,
    gas: fill.gas / 16e6,
    nsPerGas: fill.ns / fill.gas,
  })
  // host functions: base (len 0) and per byte (len 16384 minus len 0)
  const hostIters = Math.max(200, Math.floor(4_000 * scale))
  const hostReps = 4
  const hEmpty = await measure(loopModule('', hostReps, hostIters), rounds)
  for (const [name, small, big] of HOST) {
    const n = hostIters * hostReps
    let base: Measured | undefined
    if (small) {
      base = await measure(loopModule(small, hostReps, hostIters), rounds)
      const ns = Math.max(0, base.ns - hEmpty.ns) / n
      const gas = (base.gas - hEmpty.gas) / n
      rows.push({ name: `${name} (base)`, ns, gas, nsPerGas: ns / gas })
    }
    if (big) {
      const b = await measure(loopModule(big, hostReps, hostIters), rounds)
      const ref = base ?? hEmpty
      const ns = Math.max(0, b.ns - ref.ns) / n / 16384
      const gas = (b.gas - ref.gas) / n / 16384
      rows.push({ name: `${name} (per byte)`, ns, gas, nsPerGas: ns / gas })
    }
  }
  return rows
}

/**
 * Mean ns per gas and the worst ratio of a row to it, over the rows this method resolves (at least
 * 0.05 ns per operation: below that the CPU overlaps the operation with the loop's own work).
 */
export function summarize(rows: CalibrationRow[]) {
  const ok = rows.filter((r) => Number.isFinite(r.nsPerGas) && r.nsPerGas > 0 && r.ns >= 0.05)
  const mean = ok.reduce((s, r) => s + r.nsPerGas, 0) / ok.length
  const worst = Math.max(...ok.map((r) => Math.max(r.nsPerGas / mean, mean / r.nsPerGas)))
  return { mean, worst }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await calibrate(Number(process.env.SCALE ?? 1))
  const { mean } = summarize(rows)
  console.log('| operation | ns | gas | ns/gas | x mean |\n| --- | ---: | ---: | ---: | ---: |')
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.ns.toFixed(r.ns < 1 ? 3 : 1)} | ${r.gas.toFixed(r.gas < 1 ? 3 : 1)} | ${r.nsPerGas.toFixed(3)} | ${(r.nsPerGas / mean).toFixed(2)} |`,
    )
  }
  console.log(summarize(rows))
}
