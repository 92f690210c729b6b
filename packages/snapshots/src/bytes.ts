/** Little binary writer / reader for the snapshot formats (big-endian integers). Internal. */
import { SnapshotError, SnapshotErrorCode } from './errors.js'

/** Appends fields to a growing buffer. */
export class ByteWriter {
  private buf: Uint8Array
  private view: DataView
  length = 0

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial)
    this.view = new DataView(this.buf.buffer)
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.length + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): this {
    this.ensure(1)
    this.buf[this.length++] = v
    return this
  }

  u16(v: number): this {
    this.ensure(2)
    this.view.setUint16(this.length, v)
    this.length += 2
    return this
  }

  u32(v: number): this {
    this.ensure(4)
    this.view.setUint32(this.length, v)
    this.length += 4
    return this
  }

  u64(v: bigint): this {
    this.ensure(8)
    this.view.setBigUint64(this.length, v)
    this.length += 8
    return this
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
    return this
  }

  /** u32 length then the bytes. */
  varBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length)
  }

  /** The bytes without a copy when the initial size was exact. */
  finishExact(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.finish()
  }
}

/** Reads fields; running past the end throws `truncatedCode` (default ERR_SNAPSHOT_CORRUPT). */
export class ByteReader {
  pos = 0
  private readonly view: DataView

  constructor(
    readonly buf: Uint8Array,
    readonly what: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new SnapshotError(
        SnapshotErrorCode.CORRUPT,
        `${this.what} ends early: needed ${n} more bytes at offset ${this.pos}, has ${this.buf.length - this.pos}`,
      )
    }
  }

  u8(): number {
    this.need(1)
    return this.buf[this.pos++]
  }

  u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.pos)
    this.pos += 2
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.pos)
    this.pos += 4
    return v
  }

  u64(): bigint {
    this.need(8)
    const v = this.view.getBigUint64(this.pos)
    this.pos += 8
    return v
  }

  bytes(n: number): Uint8Array {
    this.need(n)
    const b = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return b
  }

  varBytes(): Uint8Array {
    return this.bytes(this.u32())
  }

  get done(): boolean {
    return this.pos === this.buf.length
  }
}

export function toHex(b: Uint8Array): string {
  return `0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex')}`
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** key + 1 as a 256-bit number; undefined when key is all 0xff. */
export function nextKey(key: Uint8Array): Uint8Array | undefined {
  const out = key.slice()
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] !== 0xff) {
      out[i]++
      return out
    }
    out[i] = 0
  }
  return undefined
}

export const ZERO_KEY = new Uint8Array(32)
export const MAX_KEY = new Uint8Array(32).fill(0xff)
