import { hex } from './state.js'
import { Wasm, type WasmModule } from './wasm/engine.js'

export interface ModuleCacheOptions {
  /** Bound on the summed size (bytes of instrumented code) of cached modules. Default 32 MiB. */
  maxBytes?: number
}

export const defaultModuleCacheOptions: Required<ModuleCacheOptions> = {
  maxBytes: 32 * 1024 * 1024,
}

/**
 * Compiled `WasmModule`s by code hash, in a byte-bounded LRU: compile once, instantiate
 * per call. A module's weight is the size of its instrumented code.
 *
 * @example
 * const cache = new ModuleCache({ maxBytes: 16 * 1024 * 1024 })
 * const module = await cache.get(codeHash, code)
 */
export class ModuleCache {
  readonly maxBytes: number
  private entries = new Map<string, { module: WasmModule; bytes: number }>()
  private pending = new Map<string, Promise<WasmModule>>()
  private size = 0
  hits = 0
  misses = 0

  constructor(opts: ModuleCacheOptions = {}) {
    this.maxBytes = opts.maxBytes ?? defaultModuleCacheOptions.maxBytes
  }

  /** Bytes currently held. */
  get bytes(): number {
    return this.size
  }

  /** Number of modules held. */
  get count(): number {
    return this.entries.size
  }

  /** True when the module of `codeHash` is cached. */
  has(codeHash: Uint8Array): boolean {
    return this.entries.has(hex(codeHash))
  }

  /** The cached module of `codeHash`, compiling `code` on a miss. */
  async get(codeHash: Uint8Array, code: Uint8Array): Promise<WasmModule> {
    const k = hex(codeHash)
    const e = this.entries.get(k)
    if (e) {
      this.hits++
      this.entries.delete(k)
      this.entries.set(k, e)
      return e.module
    }
    this.misses++
    const p = this.pending.get(k)
    if (p) return p
    const compiling = Wasm.compile(code).then(
      (module) => {
        this.pending.delete(k)
        this.put(k, module, code.length)
        return module
      },
      (err: unknown) => {
        this.pending.delete(k)
        throw err
      },
    )
    this.pending.set(k, compiling)
    return compiling
  }

  private put(k: string, module: WasmModule, bytes: number): void {
    if (bytes > this.maxBytes) return
    const old = this.entries.get(k)
    if (old) {
      this.size -= old.bytes
      this.entries.delete(k)
    }
    this.entries.set(k, { module, bytes })
    this.size += bytes
    for (const [key, v] of this.entries) {
      if (this.size <= this.maxBytes) break
      this.entries.delete(key)
      this.size -= v.bytes
    }
  }

  /** Drops every module. */
  clear(): void {
    this.entries.clear()
    this.size = 0
  }
}
