// @aureon/contract-sdk: a small AssemblyScript library over the Aureon contract ABI.
// Compile contracts with: asc contract.ts --runtime stub --outFile contract.wasm (no floats).
import * as env from './env'

export { env }

/** Length of an address. */
export const ADDRESS_LENGTH: i32 = 20

// ---- input / output -------------------------------------------------------------------------

/** The call's (or deploy's) args. */
export function input(): Uint8Array {
  const n = env.input_size()
  const buf = new Uint8Array(n)
  if (n > 0) env.input_read(buf.dataStart)
  return buf
}

/** Sets the call's output (the last call wins). */
export function output(data: Uint8Array): void {
  env.return_data(data.dataStart, data.length)
}

/** Sets the call's output to a u64, 8 bytes little-endian. */
export function outputU64(v: u64): void {
  const b = new Uint8Array(8)
  store<u64>(b.dataStart, v)
  output(b)
}

/** Stops the call, reverting every effect; the receipt has status Reverted and this message. */
export function revert(message: string): void {
  const b = Uint8Array.wrap(String.UTF8.encode(message))
  env.revert(b.dataStart, b.length)
}

/** Reverts with `message` unless `condition` holds. */
export function require(condition: bool, message: string): void {
  if (!condition) revert(message)
}

/** A debug line, kept in the receipt's debugLogs. */
export function log(message: string): void {
  const b = Uint8Array.wrap(String.UTF8.encode(message))
  env.log(b.dataStart, b.length)
}

// ---- context --------------------------------------------------------------------------------

/** The transaction's sender (20 bytes). */
export function caller(): Uint8Array {
  const a = new Uint8Array(ADDRESS_LENGTH)
  env.caller(a.dataStart)
  return a
}

/** The executing contract's own address (20 bytes). */
export function selfAddress(): Uint8Array {
  const a = new Uint8Array(ADDRESS_LENGTH)
  env.self_address(a.dataStart)
  return a
}

/** Height of the block being executed. */
export function blockHeight(): u64 {
  return <u64>env.block_height()
}

/** The block's timestamp, milliseconds since 1970. */
export function blockTimestamp(): u64 {
  return <u64>env.block_timestamp()
}

/** Gas remaining. */
export function gasLeft(): u64 {
  return <u64>env.gas_left()
}

// ---- amounts (u128 as two u64 halves) -------------------------------------------------------

/** A u128 amount of the chain's currency. */
export class Amount {
  constructor(
    public lo: u64 = 0,
    public hi: u64 = 0,
  ) {}

  static fromU64(v: u64): Amount {
    return new Amount(v, 0)
  }

  /** Reads 16 bytes little-endian. */
  static read(ptr: usize): Amount {
    return new Amount(load<u64>(ptr), load<u64>(ptr + 8))
  }

  write(ptr: usize): void {
    store<u64>(ptr, this.lo)
    store<u64>(ptr + 8, this.hi)
  }

  isZero(): bool {
    return this.lo == 0 && this.hi == 0
  }

  /** -1, 0 or 1. */
  compare(o: Amount): i32 {
    if (this.hi != o.hi) return this.hi < o.hi ? -1 : 1
    if (this.lo != o.lo) return this.lo < o.lo ? -1 : 1
    return 0
  }
}

/** The amount sent with the call. */
export function callValue(): Amount {
  const b = new Uint8Array(16)
  env.call_value(b.dataStart)
  return Amount.read(b.dataStart)
}

/** The balance of `address`. */
export function balanceOf(address: Uint8Array): Amount {
  const b = new Uint8Array(16)
  env.get_balance(address.dataStart, address.length, b.dataStart)
  return Amount.read(b.dataStart)
}

/** The contract's own balance. */
export function selfBalance(): Amount {
  return balanceOf(selfAddress())
}

/** Moves `amount` of the contract's own funds to `to`: 0 ok, 1 insufficient balance, -1 bad address. */
export function transfer(to: Uint8Array, amount: Amount): i32 {
  const b = new Uint8Array(16)
  amount.write(b.dataStart)
  return env.transfer(to.dataStart, to.length, b.dataStart)
}

// ---- storage --------------------------------------------------------------------------------

/** UTF-8 bytes of a string (for keys). */
export function bytes(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s))
}

/** `prefix` followed by `suffix` (e.g. a map key: bytes("balance:") ++ address). */
export function concat(prefix: Uint8Array, suffix: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + suffix.length)
  out.set(prefix, 0)
  out.set(suffix, prefix.length)
  return out
}

/** Contract storage: keys of at most 128 bytes, values of at most 64 KiB. */
export namespace Storage {
  /** The value under `key`, or null. */
  export function get(key: Uint8Array): Uint8Array | null {
    const n = env.storage_read(key.dataStart, key.length, 0, 0)
    if (n < 0) return null
    const v = new Uint8Array(n)
    if (n > 0) env.storage_read(key.dataStart, key.length, v.dataStart, n)
    return v
  }

  /** Writes `value` under `key` (an empty value removes the key). */
  export function set(key: Uint8Array, value: Uint8Array): void {
    env.storage_write(key.dataStart, key.length, value.dataStart, value.length)
  }

  /** Removes `key`; true if it existed. */
  export function remove(key: Uint8Array): bool {
    return env.storage_remove(key.dataStart, key.length) == 1
  }

  /** True if `key` holds a value. */
  export function has(key: Uint8Array): bool {
    return env.storage_read(key.dataStart, key.length, 0, 0) >= 0
  }

  /** A u64 (8 bytes LE) under `key`, or `fallback`. */
  export function getU64(key: Uint8Array, fallback: u64 = 0): u64 {
    const b = new Uint8Array(8)
    const n = env.storage_read(key.dataStart, key.length, b.dataStart, 8)
    return n == 8 ? load<u64>(b.dataStart) : fallback
  }

  export function setU64(key: Uint8Array, v: u64): void {
    const b = new Uint8Array(8)
    store<u64>(b.dataStart, v)
    set(key, b)
  }

  /** A UTF-8 string under `key`, or `fallback`. */
  export function getString(key: Uint8Array, fallback: string = ''): string {
    const v = get(key)
    return v == null ? fallback : String.UTF8.decode(v.buffer)
  }

  export function setString(key: Uint8Array, v: string): void {
    set(key, bytes(v))
  }
}

// ---- events and hashing ---------------------------------------------------------------------

/** sha256 of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32)
  env.sha256(data.dataStart, data.length, out.dataStart)
  return out
}

/** `b` left-padded with zeros to a 32-byte topic (for addresses and small values). */
export function topic(b: Uint8Array): Uint8Array {
  const t = new Uint8Array(32)
  const n = b.length < 32 ? b.length : 32
  t.set(b.subarray(0, n), 32 - n)
  return t
}

/** The topic naming an event: sha256 of its signature, e.g. "Transfer(address,address,u64)". */
export function eventTopic(signature: string): Uint8Array {
  return sha256(bytes(signature))
}

/** Emits an event: 0 to 4 topics of 32 bytes each, data up to 16 KiB. */
export function emit(topics: Uint8Array[], data: Uint8Array): void {
  const n = topics.length
  const buf = new Uint8Array(n * 32)
  for (let i = 0; i < n; i++) buf.set(topics[i], i * 32)
  env.emit_log(buf.dataStart, n, data.dataStart, data.length)
}

// ---- little-endian helpers ------------------------------------------------------------------

/** Reads a u64 (8 bytes LE) at `offset` of `b`. */
export function readU64(b: Uint8Array, offset: i32 = 0): u64 {
  require(offset + 8 <= b.length, 'readU64: out of range')
  return load<u64>(b.dataStart + <usize>offset)
}

/** 8 bytes LE of `v`. */
export function u64Bytes(v: u64): Uint8Array {
  const b = new Uint8Array(8)
  store<u64>(b.dataStart, v)
  return b
}
