/**
 * Key layout shared by both implementations. The store at path `[n1, ..., nk]` keeps its own
 * entries under the prefix `01 utf8(n1) 00 ... 01 utf8(nk) 00 00`; so a store's own keys
 * (`... 00 key`) and its namespaces (`... 01 name 00 ...`) never interleave, and iteration of a
 * store sees exactly its own keys.
 */
import { StorageError, StorageErrorCode } from './errors.js'

const encoder = new TextEncoder()

/** Checks a namespace name: a non-empty string without NUL. */
export function checkNamespaceName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) {
    throw new StorageError(
      StorageErrorCode.INVALID_NAMESPACE,
      `invalid namespace name ${JSON.stringify(name)}: expected a non-empty string without NUL`,
    )
  }
}

/** The prefix of a namespace path, without the final data marker. */
export function pathPrefix(path: readonly string[]): Uint8Array {
  const parts = path.map((n) => {
    checkNamespaceName(n)
    return encoder.encode(n)
  })
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 2, 0))
  let o = 0
  for (const p of parts) {
    out[o++] = 1
    out.set(p, o)
    o += p.length
    out[o++] = 0
  }
  return out
}

/** `prefix || 00`: where a store's own keys begin. */
export function dataPrefix(path: readonly string[]): Uint8Array {
  const p = pathPrefix(path)
  const out = new Uint8Array(p.length + 1)
  out.set(p)
  return out
}

/** `prefix || key`. */
export function withPrefix(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + key.length)
  out.set(prefix)
  out.set(key, prefix.length)
  return out
}

/** The first key after every key that starts with `prefix` (prefix has no trailing 0xff here). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const out = prefix.slice()
  out[out.length - 1]++
  return out
}

/** A plain Uint8Array view of `b` without its first `n` bytes (no copy). */
export function viewFrom(b: Uint8Array, n: number): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset + n, b.byteLength - n)
}

/** A plain Uint8Array view of `b` (Buffers become Uint8Array, no copy). */
export function plainView(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}
