import { RuntimeError, RuntimeErrorCode } from '../errors.js'

/** Thrown on truncated or malformed input. */
export function malformed(what: string, offset: number): RuntimeError {
  return new RuntimeError(
    RuntimeErrorCode.INVALID_WASM,
    `invalid WebAssembly module: ${what} at byte ${offset}`,
    { rule: 'valid WebAssembly 1.0 binary', offset },
  )
}

const utf8 = new TextDecoder('utf-8', { fatal: false })

/** A cursor over bytes with LEB128 readers. Every read is bounds-checked. */
export class Reader {
  constructor(
    readonly b: Uint8Array,
    public p = 0,
    public end = b.length,
  ) {}

  u8(): number {
    if (this.p >= this.end) throw malformed('unexpected end', this.p)
    return this.b[this.p++]
  }

  u32(): number {
    if (this.p < this.end) {
      const first = this.b[this.p]
      if (first < 0x80) {
        this.p++
        return first
      }
    }
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const byte = this.u8()
      result += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) {
        if (result > 0xffffffff) throw malformed('u32 out of range', this.p)
        return result
      }
      shift += 7
    }
    throw malformed('LEB128 too long', this.p)
  }

  /** Reads a signed LEB128 of at most `maxBytes` bytes and returns it as a number (s33 block types). */
  s33(): number {
    let result = 0
    let shift = 0
    let byte: number
    let i = 0
    do {
      if (i++ >= 5) throw malformed('LEB128 too long', this.p)
      byte = this.u8()
      result += (byte & 0x7f) * 2 ** shift
      shift += 7
    } while (byte & 0x80)
    if (byte & 0x40) result -= 2 ** shift
    return result
  }

  /** Skips a LEB128 of at most `maxBytes` bytes. */
  skipLeb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) if ((this.u8() & 0x80) === 0) return
    throw malformed('LEB128 too long', this.p)
  }

  bytes(n: number): Uint8Array {
    if (this.p + n > this.end) throw malformed('unexpected end', this.p)
    const out = this.b.subarray(this.p, this.p + n)
    this.p += n
    return out
  }

  name(): string {
    const n = this.u32()
    const b = this.bytes(n)
    let ascii = true
    for (let i = 0; i < b.length; i++) if (b[i] > 0x7e || b[i] < 0x20) ascii = false
    return ascii ? String.fromCharCode.apply(null, b as unknown as number[]) : utf8.decode(b)
  }
}

/** A growable byte buffer with LEB128 writers. */
export class Writer {
  buf: Uint8Array
  len = 0

  constructor(capacity = 1024) {
    this.buf = new Uint8Array(capacity)
  }

  private grow(extra: number): void {
    let cap = this.buf.length * 2
    while (cap < this.len + extra) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  byte(v: number): void {
    if (this.len >= this.buf.length) this.grow(1)
    this.buf[this.len++] = v
  }

  bytes(v: Uint8Array): void {
    if (this.len + v.length > this.buf.length) this.grow(v.length)
    this.buf.set(v, this.len)
    this.len += v.length
  }

  /** Appends `src[from..to)` (a plain loop for short runs: no subarray allocation). */
  copy(src: Uint8Array, from: number, to: number): void {
    const n = to - from
    if (this.len + n > this.buf.length) this.grow(n)
    if (n > 32) this.buf.set(src.subarray(from, to), this.len)
    else {
      const buf = this.buf
      let o = this.len
      for (let i = from; i < to; i++) buf[o++] = src[i]
    }
    this.len += n
  }

  u32(v: number): void {
    if (v < 0x80) {
      if (this.len >= this.buf.length) this.grow(1)
      this.buf[this.len++] = v
      return
    }
    do {
      let byte = v & 0x7f
      v = Math.floor(v / 128)
      if (v !== 0) byte |= 0x80
      this.byte(byte)
    } while (v !== 0)
  }

  /** Signed LEB128 of a safe integer. */
  s64(v: number): void {
    for (;;) {
      const byte = v & 0x7f
      v = Math.floor(v / 128)
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        this.byte(byte)
        return
      }
      this.byte(byte | 0x80)
    }
  }

  /** Reserves `n` bytes for a padded non-negative LEB128 written later by `patchPadded`. */
  reserve(n: number): number {
    const at = this.len
    if (this.len + n > this.buf.length) this.grow(n)
    this.len += n
    return at
  }

  /** Writes `v` (non-negative, below 2^(7n-1)) as a signed LEB128 padded to exactly `n` bytes. */
  patchPadded(at: number, n: number, v: number): void {
    for (let i = 0; i < n; i++) {
      const byte = v & 0x7f
      v = Math.floor(v / 128)
      this.buf[at + i] = i < n - 1 ? byte | 0x80 : byte
    }
  }

  name(s: string): void {
    const b = new TextEncoder().encode(s)
    this.u32(b.length)
    this.bytes(b)
  }

  /** Writes a section: id, payload length, payload. */
  section(id: number, payload: Uint8Array): void {
    this.byte(id)
    this.u32(payload.length)
    this.bytes(payload)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}
