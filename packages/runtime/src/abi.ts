/** The host imports of the contract ABI (module `env`), with their exact WebAssembly signatures. */

export const I32 = 0x7f
export const I64 = 0x7e

export interface HostSignature {
  params: readonly number[]
  results: readonly number[]
}

const sig = (params: number[], results: number[] = []): HostSignature => ({ params, results })

/** Every import a contract may declare, `env.<name>`, with its signature (HOST_ABI.md). */
export const HOST_IMPORTS: Readonly<Record<string, HostSignature>> = {
  input_size: sig([], [I32]),
  input_read: sig([I32]),
  return_data: sig([I32, I32]),
  revert: sig([I32, I32]),
  abort: sig([I32, I32, I32, I32]),
  log: sig([I32, I32]),
  emit_log: sig([I32, I32, I32, I32]),
  get_balance: sig([I32, I32, I32], [I32]),
  transfer: sig([I32, I32, I32], [I32]),
  storage_read: sig([I32, I32, I32, I32], [I32]),
  storage_write: sig([I32, I32, I32, I32], [I32]),
  storage_remove: sig([I32, I32], [I32]),
  block_height: sig([], [I64]),
  block_timestamp: sig([], [I64]),
  caller: sig([I32]),
  self_address: sig([I32]),
  call_value: sig([I32]),
  sha256: sig([I32, I32, I32]),
  gas_left: sig([], [I64]),
}

/** Renders a signature as WAT-like text, e.g. `(i32, i32) -> i32`. */
export function signatureToString(s: { params: readonly number[]; results: readonly number[] }) {
  const t = (v: number) =>
    v === I32
      ? 'i32'
      : v === I64
        ? 'i64'
        : v === 0x7d
          ? 'f32'
          : v === 0x7c
            ? 'f64'
            : `0x${v.toString(16)}`
  const r = s.results.map(t)
  return `(${s.params.map(t).join(', ')}) -> ${r.length === 0 ? '()' : r.length === 1 ? r[0] : `(${r.join(', ')})`}`
}
