import { MemoryLevel } from 'memory-level'
import { type BytesLevel, LevelBackedStore } from './level-backed.js'
import type { KVStore } from './types.js'

/** A {@link KVStore} in memory (memory-level): for tests, tools and throwaway state. */
export class MemoryStore extends LevelBackedStore {
  /** Use {@link createMemoryStore}. */
  static create(): MemoryStore {
    const db = new MemoryLevel<Uint8Array, Uint8Array>({
      storeEncoding: 'view',
      keyEncoding: 'view',
      valueEncoding: 'view',
    }) as unknown as BytesLevel
    return new MemoryStore(LevelBackedStore.rootOf(db, 'memory'), [])
  }

  protected override child(path: string[]): KVStore {
    return new MemoryStore(this.shared, path)
  }
}

/**
 * A new, empty in-memory store. It opens lazily on first use; nothing is persisted.
 *
 * @example
 * const store = createMemoryStore()
 * await store.put(new Uint8Array([1]), new Uint8Array([2]))
 */
export function createMemoryStore(): KVStore {
  return MemoryStore.create()
}
