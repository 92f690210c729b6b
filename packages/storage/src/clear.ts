import type { KVStore } from './types.js'

/**
 * Deletes every key of `store` (not of its sub-namespaces), in batches of 10,000 keys, so the
 * memory used stays bounded whatever the size of the store.
 * @example
 * await clearStore(db.namespace('state-import'))
 */
export async function clearStore(store: KVStore): Promise<void> {
  for (;;) {
    const keys: Uint8Array[] = []
    for await (const [k] of store.iterate({ limit: 10_000 })) keys.push(k)
    if (keys.length === 0) return
    await store.batch(keys.map((key) => ({ type: 'del' as const, key })))
  }
}
