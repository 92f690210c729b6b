import { resolve } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { StorageError, StorageErrorCode } from './errors.js'
import { type BytesLevel, LevelBackedStore } from './level-backed.js'
import { DEFAULT_LEVEL_CACHE_SIZE, DEFAULT_LEVEL_WRITE_BUFFER_SIZE } from './params.js'
import type { KVStore, LevelStoreOptions } from './types.js'

/** A {@link KVStore} on disk (classic-level, LevelDB). One process may hold a directory at a time. */
export class LevelStore extends LevelBackedStore {
  /** Use {@link openLevelStore}. */
  static async open(opts: LevelStoreOptions): Promise<LevelStore> {
    const location = resolve(opts.path)
    const db = new ClassicLevel<Uint8Array, Uint8Array>(location, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      cacheSize: opts.cacheSize ?? DEFAULT_LEVEL_CACHE_SIZE,
      writeBufferSize: opts.writeBufferSize ?? DEFAULT_LEVEL_WRITE_BUFFER_SIZE,
      // classic-level's own defaults apply when these are not given
      ...(opts.maxOpenFiles !== undefined && { maxOpenFiles: opts.maxOpenFiles }),
      ...(opts.blockSize !== undefined && { blockSize: opts.blockSize }),
      ...(opts.maxFileSize !== undefined && { maxFileSize: opts.maxFileSize }),
    })
    try {
      await db.open()
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') {
        throw new StorageError(
          StorageErrorCode.STORE_LOCKED,
          `store ${location} is locked: another process (or another open handle) is using it; stop it or choose another data directory`,
          { details: { path: location }, cause: e },
        )
      }
      throw new StorageError(
        StorageErrorCode.STORE_OPEN_FAILED,
        `cannot open store ${location}: ${cause?.message ?? (e as Error).message}`,
        { details: { path: location }, cause: e },
      )
    }
    return new LevelStore(LevelBackedStore.rootOf(db as unknown as BytesLevel, location), [])
  }

  protected override child(path: string[]): KVStore {
    return new LevelStore(this.shared, path)
  }
}

/**
 * Opens (creating if needed) a LevelDB store in `path`. Throws a StorageError with code
 * `ERR_STORE_LOCKED`, naming the path, when another process or handle holds it.
 *
 * @example
 * const store = await openLevelStore({ path: './data/chain' })
 * // a full scan with bounded memory-mapped RSS: await openLevelStore({ path, maxOpenFiles: 64 })
 * await store.namespace('blocks').put(key, value)
 * await store.close()
 */
export async function openLevelStore(opts: LevelStoreOptions): Promise<KVStore> {
  return LevelStore.open(opts)
}
