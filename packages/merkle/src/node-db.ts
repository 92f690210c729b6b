/**
 * util's `DB` interface (what @ethereumjs/mpt writes nodes to) over a KVStore, with write
 * buffering: node writes stay in memory (`pending`) until the caller takes them with `flush()`
 * and writes them in its own atomic batch. Reads see pending nodes, then nodes handed out by the
 * last flush (`inflight`, in case the caller's batch is still being written), then the shared
 * hot-node cache, then the store. Keys arrive as unprefixed hex of the 32-byte node hash.
 */

import type { BatchOp, KVStore } from '@aureon/storage'
import type { BatchDBOp, DB } from '@ethereumjs/util'

/** A two-generation cache: cheap inserts, approximately LRU. Shared by a tree and its copies. */
export class NodeCache {
  private young = new Map<string, Uint8Array>()
  private old = new Map<string, Uint8Array>()
  constructor(private readonly max: number) {}

  get(k: string): Uint8Array | undefined {
    const v = this.young.get(k)
    if (v !== undefined) return v
    const o = this.old.get(k)
    if (o !== undefined) this.set(k, o)
    return o
  }

  set(k: string, v: Uint8Array): void {
    if (this.max <= 0) return
    this.young.set(k, v)
    if (this.young.size >= this.max / 2) {
      this.old = this.young
      this.young = new Map()
    }
  }

  get size(): number {
    return this.young.size + this.old.size
  }
}

function hexToBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex, 'hex'))
}

export class NodeDB implements DB<string, Uint8Array> {
  /** Written since the last flush (null: deleted). */
  pending = new Map<string, Uint8Array | null>()
  /** Handed out by the last flush. */
  private inflight = new Map<string, Uint8Array | null>()

  constructor(
    readonly store: KVStore,
    readonly cache: NodeCache,
    /** A tree this one was copied from: its unflushed nodes are readable here. */
    private readonly parent?: NodeDB,
  ) {}

  /** Looks a node up in memory only (this db, then its parents). */
  private local(key: string): Uint8Array | null | undefined {
    let v = this.pending.get(key)
    if (v !== undefined) return v
    v = this.inflight.get(key)
    if (v !== undefined) return v
    return this.parent?.local(key)
  }

  /** A node found in memory (pending, in flight, parents, cache); undefined if not there. */
  peek(key: string): Uint8Array | undefined {
    const l = this.local(key)
    if (l !== undefined) return l ?? undefined
    return this.cache.get(key)
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const l = this.local(key)
    if (l !== undefined) return l ?? undefined
    const c = this.cache.get(key)
    if (c !== undefined) return c
    const v = await this.store.get(hexToBytes(key))
    if (v !== undefined) this.cache.set(key, v)
    return v
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.pending.set(key, value)
  }

  async del(key: string): Promise<void> {
    this.pending.set(key, null)
  }

  async batch(ops: BatchDBOp<string, Uint8Array>[]): Promise<void> {
    for (const op of ops) {
      if (op.type === 'put') this.pending.set(op.key, op.value)
      else this.pending.set(op.key, null)
    }
  }

  shallowCopy(): DB<string, Uint8Array> {
    return new NodeDB(this.store, this.cache, this)
  }

  async open(): Promise<void> {}

  /** The pending writes as store ops (sorted by key), moved to `inflight` and the cache. */
  flush(namespace?: string[]): BatchOp[] {
    const keys = [...this.pending.keys()].sort()
    const ops: BatchOp[] = new Array(keys.length)
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]
      const v = this.pending.get(k) as Uint8Array | null
      const key = hexToBytes(k)
      ops[i] =
        v === null
          ? { type: 'del', key, ...(namespace ? { namespace } : {}) }
          : { type: 'put', key, value: v, ...(namespace ? { namespace } : {}) }
      if (v !== null) this.cache.set(k, v)
    }
    this.inflight = this.pending
    this.pending = new Map()
    return ops
  }
}
