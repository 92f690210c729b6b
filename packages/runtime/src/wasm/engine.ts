/**
 * The few WebAssembly JS API types the runtime uses, declared locally: @types/node has no
 * `WebAssembly` namespace and declaring the global one would clash with a consumer's DOM lib.
 */

/** A compiled module (opaque). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string
}

export interface WasmGlobal {
  value: unknown
}

export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow(delta: number): number
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>
}

export type WasmImports = Record<string, Record<string, unknown>>

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>
  validate(bytes: Uint8Array): boolean
  Module: (new (
    bytes: Uint8Array,
  ) => WasmModule) & {
    exports(m: WasmModule): Array<{ name: string; kind: string }>
  }
  Instance: new (module: WasmModule, imports?: WasmImports) => WasmInstance
  Memory: new (desc: { initial: number; maximum?: number }) => WasmMemory
  RuntimeError: new (...args: unknown[]) => Error
  CompileError: new (...args: unknown[]) => Error
}

/** The engine's WebAssembly object. */
export const Wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly
