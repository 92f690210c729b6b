import { createHash } from 'node:crypto'
import { RuntimeErrorCode } from './errors.js'
import {
  ADDRESS_SIZE,
  AMOUNT_SIZE,
  type GasSchedule,
  type HostCost,
  LOG_TOPIC_SIZE,
  MAX_DEBUG_LOG,
  MAX_LOG_DATA,
  MAX_LOG_TOPICS,
  MAX_STORAGE_KEY,
  MAX_STORAGE_VALUE,
  MAX_U128,
} from './params.js'
import { hex } from './state.js'
import type { ContractLog, RuntimeState } from './types.js'
import type { WasmGlobal, WasmMemory } from './wasm/engine.js'

/** Why a host function stopped the call. */
export class HostSignal extends Error {
  constructor(
    readonly kind: 'revert' | 'trap' | 'oog',
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Everything the host functions of one call see. */
export interface HostEnv {
  state: RuntimeState
  schedule: GasSchedule
  self: Uint8Array
  caller: Uint8Array
  value: bigint
  input: Uint8Array
  blockHeight: bigint
  blockTimestamp: bigint
  output: Uint8Array
  logs: ContractLog[]
  debugLogs: string[]
  gas?: WasmGlobal
  memory?: WasmMemory
  /** Units the run started with (after its memory charge): the base of the re-run surcharge. */
  startUnits?: bigint
}

const utf8 = new TextDecoder('utf-8', { fatal: false })
const utf16 = new TextDecoder('utf-16le', { fatal: false })

/** Reads a u128 little-endian amount. */
export function readU128(b: Uint8Array): bigint {
  let v = 0n
  for (let i = AMOUNT_SIZE - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i])
  return v
}

/** Writes a u128 little-endian amount into `out` at `at`. */
export function writeU128(out: Uint8Array, at: number, v: bigint): void {
  for (let i = 0; i < AMOUNT_SIZE; i++) {
    out[at + i] = Number(v & 0xffn)
    v >>= 8n
  }
}

/**
 * The `env` imports of a call (HOST_ABI.md). Every function charges its cost first (metering
 * units of `env.schedule`), from the instance's injected gas global; an out-of-bounds pointer
 * traps with ERR_MEMORY_ACCESS.
 */
export function createHostImports(env: HostEnv): Record<string, (...args: number[]) => unknown> {
  const h = env.schedule.host
  /** Charges `c` for `bytes` bytes of payload; returns the units charged. */
  const charge = (c: HostCost, bytes = 0): bigint => {
    const g = env.gas!
    const cost = BigInt(c.base + c.per8Bytes * ((bytes + 7) >>> 3))
    const left = (g.value as bigint) - cost
    g.value = left
    if (left < 0n) throw new HostSignal('oog', RuntimeErrorCode.OUT_OF_GAS, 'out of gas')
    return cost
  }
  const chargeMore = (perByte: number, bytes: number): bigint => {
    if (bytes === 0 || perByte === 0) return 0n
    return charge({ base: 0, per8Bytes: perByte }, bytes)
  }
  // state functions: their units are counted apart, and the first access of a key in this run
  // pays the re-run surcharge (GasSchedule.rerunSurcharge)
  let stateUnits = 0n
  const touched = new Set<string>()
  const chargeState = (c: HostCost, bytes = 0) => {
    stateUnits += charge(c, bytes)
  }
  const chargeStateMore = (perByte: number, bytes: number) => {
    stateUnits += chargeMore(perByte, bytes)
  }
  // without the surcharge (code of schedules before v3) nothing is tracked: the call sites use
  // `firstAccess?.(key)`, which then does not even build the key
  const firstAccess = !env.schedule.rerunSurcharge
    ? undefined
    : (key: string) => {
        if (touched.has(key)) return
        touched.add(key)
        if (env.startUnits === undefined) return
        const g = env.gas!
        const extra = env.startUnits - (g.value as bigint) - stateUnits
        if (extra <= 0n) return
        stateUnits += extra
        const left = (g.value as bigint) - extra
        g.value = left
        if (left < 0n) throw new HostSignal('oog', RuntimeErrorCode.OUT_OF_GAS, 'out of gas')
      }
  const mem = () => new Uint8Array(env.memory!.buffer)
  const range = (ptr: number, len: number, what: string): Uint8Array => {
    const m = mem()
    const p = ptr >>> 0
    const l = len >>> 0
    if (p + l > m.length) {
      throw new HostSignal(
        'trap',
        RuntimeErrorCode.MEMORY_ACCESS,
        `${what}: bytes ${p}..${p + l} are outside the contract's memory (${m.length} bytes)`,
      )
    }
    return m.subarray(p, p + l)
  }
  const read = (ptr: number, len: number, what: string) => range(ptr, len, what).slice()
  const trap = (code: string, message: string) => new HostSignal('trap', code, message)

  return {
    input_size: () => {
      charge(h.input_size)
      return env.input.length
    },
    input_read: (ptr) => {
      charge(h.input_read, env.input.length)
      range(ptr, env.input.length, 'input_read').set(env.input)
    },
    return_data: (ptr, len) => {
      charge(h.return_data, len >>> 0)
      env.output = read(ptr, len, 'return_data')
    },
    revert: (ptr, len) => {
      charge(h.revert, len >>> 0)
      const msg = utf8.decode(range(ptr, len, 'revert'))
      throw new HostSignal('revert', RuntimeErrorCode.REVERTED, msg)
    },
    abort: (msg, file, line, col) => {
      charge(h.abort)
      const text = asString(mem(), msg) ?? 'abort'
      const f = asString(mem(), file)
      throw new HostSignal(
        'revert',
        RuntimeErrorCode.REVERTED,
        f ? `${text} (${f}:${line >>> 0}:${col >>> 0})` : text,
      )
    },
    log: (ptr, len) => {
      charge(h.log, len >>> 0)
      if (len >>> 0 > MAX_DEBUG_LOG) {
        throw trap(RuntimeErrorCode.LOG_LIMIT, `log: ${len >>> 0} bytes; at most ${MAX_DEBUG_LOG}`)
      }
      env.debugLogs.push(utf8.decode(range(ptr, len, 'log')))
    },
    emit_log: (topicsPtr, count, dataPtr, dataLen) => {
      charge(h.emit_log)
      const n = count >>> 0
      const dl = dataLen >>> 0
      if (n > MAX_LOG_TOPICS) {
        throw trap(RuntimeErrorCode.LOG_LIMIT, `emit_log: ${n} topics; at most ${MAX_LOG_TOPICS}`)
      }
      if (dl > MAX_LOG_DATA) {
        throw trap(
          RuntimeErrorCode.LOG_LIMIT,
          `emit_log: ${dl} bytes of data; at most ${MAX_LOG_DATA}`,
        )
      }
      chargeMore(h.emit_log.per8Bytes, n * LOG_TOPIC_SIZE + dl)
      const t = range(topicsPtr, n * LOG_TOPIC_SIZE, 'emit_log topics')
      const topics: Uint8Array[] = []
      for (let i = 0; i < n; i++) topics.push(t.slice(i * LOG_TOPIC_SIZE, (i + 1) * LOG_TOPIC_SIZE))
      env.logs.push({ address: env.self, topics, data: read(dataPtr, dl, 'emit_log data') })
    },
    get_balance: (addrPtr, addrLen, outPtr) => {
      chargeState(h.get_balance)
      if (addrLen >>> 0 !== ADDRESS_SIZE) return -1
      const addr = read(addrPtr, ADDRESS_SIZE, 'get_balance address')
      const out = range(outPtr, AMOUNT_SIZE, 'get_balance out')
      firstAccess?.(`a:${hex(addr)}`)
      writeU128(out, 0, env.state.getBalance(addr))
      return 0
    },
    transfer: (toPtr, toLen, amountPtr) => {
      chargeState(h.transfer)
      if (toLen >>> 0 !== ADDRESS_SIZE) return -1
      const to = read(toPtr, ADDRESS_SIZE, 'transfer to')
      const amount = readU128(range(amountPtr, AMOUNT_SIZE, 'transfer amount'))
      const from = env.self
      firstAccess?.(`a:${hex(from)}`)
      const fromBal = env.state.getBalance(from)
      if (fromBal < amount) return 1
      if (amount === 0n || Buffer.compare(from, to) === 0) return 0
      firstAccess?.(`a:${hex(to)}`)
      const toBal = env.state.getBalance(to)
      if (toBal + amount > MAX_U128) return 1
      env.state.setBalance(from, fromBal - amount)
      env.state.setBalance(to, toBal + amount)
      return 0
    },
    storage_read: (keyPtr, keyLen, valPtr, maxLen) => {
      chargeState(h.storage_read, keyLen >>> 0)
      const key = read(keyPtr, keyLen, 'storage_read key')
      if (key.length > MAX_STORAGE_KEY) return -1
      firstAccess?.(`s:${hex(key)}`)
      const v = env.state.getStorage(env.self, key)
      if (v === undefined) return -1
      const n = Math.min(v.length, maxLen >>> 0)
      chargeStateMore(h.storage_read.per8Bytes, n)
      range(valPtr, n, 'storage_read value').set(v.subarray(0, n))
      return v.length
    },
    storage_write: (keyPtr, keyLen, valPtr, valLen) => {
      chargeState(h.storage_write)
      const kl = keyLen >>> 0
      const vl = valLen >>> 0
      if (kl > MAX_STORAGE_KEY) {
        throw trap(
          RuntimeErrorCode.STORAGE_LIMIT,
          `storage_write: key of ${kl} bytes; at most ${MAX_STORAGE_KEY}`,
        )
      }
      if (vl > MAX_STORAGE_VALUE) {
        throw trap(
          RuntimeErrorCode.STORAGE_LIMIT,
          `storage_write: value of ${vl} bytes; at most ${MAX_STORAGE_VALUE}`,
        )
      }
      chargeStateMore(h.storage_write.per8Bytes, kl + vl)
      const key = read(keyPtr, kl, 'storage_write key')
      const value = read(valPtr, vl, 'storage_write value')
      // written before it is read: that read needs no load
      if (firstAccess) touched.add(`s:${hex(key)}`)
      env.state.setStorage(env.self, key, value)
      return 0
    },
    storage_remove: (keyPtr, keyLen) => {
      chargeState(h.storage_remove, keyLen >>> 0)
      const key = read(keyPtr, keyLen, 'storage_remove key')
      if (key.length > MAX_STORAGE_KEY) return 0
      firstAccess?.(`s:${hex(key)}`)
      if (env.state.getStorage(env.self, key) === undefined) return 0
      env.state.setStorage(env.self, key, new Uint8Array(0))
      return 1
    },
    block_height: () => {
      charge(h.block_height)
      return env.blockHeight
    },
    block_timestamp: () => {
      charge(h.block_timestamp)
      return env.blockTimestamp
    },
    caller: (outPtr) => {
      charge(h.caller)
      range(outPtr, ADDRESS_SIZE, 'caller out').set(env.caller)
    },
    self_address: (outPtr) => {
      charge(h.self_address)
      range(outPtr, ADDRESS_SIZE, 'self_address out').set(env.self)
    },
    call_value: (outPtr) => {
      charge(h.call_value)
      writeU128(range(outPtr, AMOUNT_SIZE, 'call_value out'), 0, env.value)
    },
    sha256: (dataPtr, len, outPtr) => {
      charge(h.sha256, len >>> 0)
      const digest = createHash('sha256')
        .update(range(dataPtr, len, 'sha256 data'))
        .digest()
      range(outPtr, 32, 'sha256 out').set(digest)
    },
    gas_left: () => {
      charge(h.gas_left)
      // gas, not metering units
      return (env.gas!.value as bigint) / BigInt(env.schedule.unitsPerGas)
    },
  }
}

/**
 * Decodes an AssemblyScript string (UTF-16LE, byte length at ptr - 4), or undefined when the
 * pointer does not point at one. Never traps.
 */
export function asString(m: Uint8Array, ptr: number): string | undefined {
  const p = ptr >>> 0
  if (p < 4 || p > m.length) return undefined
  const len = (m[p - 4] | (m[p - 3] << 8) | (m[p - 2] << 16) | (m[p - 1] << 24)) >>> 0
  if (len % 2 !== 0 || p + len > m.length) return undefined
  return utf16.decode(m.subarray(p, p + Math.min(len, 2048)))
}
