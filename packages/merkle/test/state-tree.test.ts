import { createMemoryStore, type KVStore } from '@aureon/storage'
import { createMPT } from '@ethereumjs/mpt'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sortEntries } from '../src/build.js'
import {
  createStateTree,
  createStateTreeFromEntries,
  EMPTY_TRIE_ROOT,
  isMerkleError,
  keccak256,
  writeStateTreeFromEntries,
} from '../src/index.js'
import { hex, utf8 } from './helpers.js'

const k = (i: number) => utf8(`key-${i}`)
const v = (i: number) => utf8(`value-${i}-${'x'.repeat(i % 40)}`)

async function storeSize(db: KVStore): Promise<number> {
  let n = 0
  for await (const _ of db.iterate()) n++
  return n
}

describe('[StateTree]: basics', () => {
  it('keccak256 is Ethereum keccak', () => {
    expect(hex(keccak256(new Uint8Array()))).toBe(
      '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    )
    expect(hex(keccak256(new Uint8Array([0x80])))).toBe(hex(EMPTY_TRIE_ROOT))
  })

  it('gets, puts, deletes; empty value deletes', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    expect(tree.root()).toEqual(EMPTY_TRIE_ROOT)
    expect(await tree.get(k(1))).toBeUndefined()
    await tree.put(k(1), v(1))
    await tree.put(k(2), v(2))
    expect(await tree.get(k(1))).toEqual(v(1))
    await tree.del(k(1))
    expect(await tree.get(k(1))).toBeUndefined()
    await tree.put(k(2), new Uint8Array())
    expect(await tree.get(k(2))).toBeUndefined()
    expect(tree.root()).toEqual(EMPTY_TRIE_ROOT)
  })

  it('refuses bad input with coded errors', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    await expect(tree.put('x' as never, v(1))).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(tree.put(k(1), 5 as never)).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(tree.batch([{ type: 'nope' as never, key: k(1) }])).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(tree.batch([{ type: 'put', key: k(1) }])).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(tree.setRoot(new Uint8Array(3))).rejects.toMatchObject({
      code: 'ERR_INVALID_ROOT',
    })
    await expect(tree.setRoot(new Uint8Array(32))).rejects.toSatisfy((e) =>
      isMerkleError(e, 'ERR_INVALID_ROOT'),
    )
    await expect(
      createStateTree({ db: createMemoryStore(), root: new Uint8Array(32).fill(1) }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ROOT' })
  })

  it('gives the same roots as raw @ethereumjs/mpt under random ops (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.uint8Array({ minLength: 0, maxLength: 4 }),
            value: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
          }),
          { maxLength: 60 },
        ),
        fc.boolean(),
        async (ops, secure) => {
          const tree = await createStateTree({ db: createMemoryStore(), secure })
          const batched = await createStateTree({ db: createMemoryStore(), secure })
          // model: the final map, inserted into a fresh raw @ethereumjs/mpt (roots are history-free)
          const raw = await createMPT({ useKeyHashing: secure })
          const model = new Map<string, Uint8Array>()
          for (const op of ops) {
            if (op.value) {
              await tree.put(op.key, op.value)
              model.set(hex(op.key), op.value)
            } else {
              await tree.del(op.key)
              model.delete(hex(op.key))
            }
          }
          for (const [key, value] of model) await raw.put(Buffer.from(key.slice(2), 'hex'), value)
          await batched.batch(
            ops.map((op) =>
              op.value
                ? { type: 'put', key: op.key, value: op.value }
                : { type: 'del', key: op.key },
            ),
          )
          expect(hex(tree.root())).toBe(hex(raw.root()))
          expect(hex(batched.root())).toBe(hex(raw.root()))
          for (const op of ops) {
            const want = await raw.get(op.key)
            expect(await tree.get(op.key)).toEqual(want ?? undefined)
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})

describe('[StateTree]: edge cases', () => {
  it('deletes the empty key of a plain trie without losing the other keys', async () => {
    // raw @ethereumjs/mpt 10.1.3 empties the whole trie here (root branch value deleted)
    const tree = await createStateTree({ db: createMemoryStore(), secure: false })
    await tree.put(new Uint8Array([]), new Uint8Array([0]))
    await tree.put(new Uint8Array([0]), new Uint8Array([0]))
    await tree.del(new Uint8Array([]))
    const fresh = await createStateTree({ db: createMemoryStore(), secure: false })
    await fresh.put(new Uint8Array([0]), new Uint8Array([0]))
    expect(hex(tree.root())).toBe(hex(fresh.root()))
    expect(await tree.get(new Uint8Array([0]))).toEqual(new Uint8Array([0]))
    // root branch with several children keeps them; with one branch child it becomes an extension
    for (const keys of [
      [[1], [2]],
      [
        [1, 1],
        [1, 2],
      ],
      [[0x12, 0x34]],
    ]) {
      const t = await createStateTree({ db: createMemoryStore(), secure: false })
      const f = await createStateTree({ db: createMemoryStore(), secure: false })
      await t.put(new Uint8Array([]), new Uint8Array([9]))
      for (const key of keys) {
        await t.put(new Uint8Array(key), new Uint8Array([7]))
        await f.put(new Uint8Array(key), new Uint8Array([7]))
      }
      await t.del(new Uint8Array([]))
      expect(hex(t.root())).toBe(hex(f.root()))
    }
  })
})

describe('[StateTree]: flush and persistence', () => {
  it('writes nothing to the store until the caller writes flush() ops', async () => {
    const db = createMemoryStore()
    const tree = await createStateTree({ db })
    for (let i = 0; i < 50; i++) await tree.put(k(i), v(i))
    expect(await storeSize(db)).toBe(0)
    const root = tree.root()
    const ops = tree.flush()
    expect(ops.length).toBeGreaterThan(0)
    expect(await storeSize(db)).toBe(0)
    // reads still see the flushed nodes before the caller wrote them
    expect(await tree.get(k(3))).toEqual(v(3))
    await db.batch([...ops, { type: 'put', key: utf8('head'), value: root, namespace: ['meta'] }])
    expect(tree.flush()).toEqual([])
    const reopened = await createStateTree({ db, root })
    for (let i = 0; i < 50; i++) expect(await reopened.get(k(i))).toEqual(v(i))
    expect(reopened.root()).toEqual(root)
  })

  it('namespaces flushed ops when asked', async () => {
    const db = createMemoryStore()
    const tree = await createStateTree({ db: db.namespace('state') })
    await tree.put(k(1), v(1))
    const root = tree.root()
    const ops = tree.flush({ namespace: ['state'] })
    expect(ops.every((o) => o.namespace?.[0] === 'state')).toBe(true)
    await db.batch(ops)
    const again = await createStateTree({ db: db.namespace('state'), root })
    expect(await again.get(k(1))).toEqual(v(1))
  })

  it('throws ERR_MISSING_NODE when the store lacks a node (never a silent absent)', async () => {
    const db = createMemoryStore()
    const tree = await createStateTree({ db })
    for (let i = 0; i < 40; i++) await tree.put(k(i), v(i))
    const root = tree.root()
    const ops = tree.flush()
    // write only the root node
    await db.batch(ops.filter((o) => hex(o.key) === hex(root)))
    const partial = await createStateTree({ db, root })
    const errs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => partial.get(k(i)).catch((e) => e)),
    )
    expect(errs.some((e) => isMerkleError(e, 'ERR_MISSING_NODE'))).toBe(true)
    await expect(partial.put(k(1), v(2)).catch((e) => e)).resolves.toSatisfy(
      (e) => e === undefined || isMerkleError(e, 'ERR_MISSING_NODE'),
    )
    const it = partial.entries()
    await expect(
      (async () => {
        for await (const _ of it);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_MISSING_NODE' })
    await expect(partial.createProof(k(5)).catch((e) => e.code)).resolves.toBeDefined()
    // a batch (direct node reads, no checkpoint) reports it too, and changes nothing
    const fresh = await createStateTree({ db, root })
    await expect(
      fresh.batch(
        Array.from({ length: 40 }, (_, i) => ({ type: 'put', key: k(i), value: v(i + 1) })),
      ),
    ).rejects.toMatchObject({ code: 'ERR_MISSING_NODE' })
    expect(hex(fresh.root())).toBe(hex(root))
  })
})

describe('[StateTree]: checkpoints', () => {
  it('nests checkpoint / commit / revert', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    await tree.put(k(1), v(1))
    const r1 = tree.root()
    tree.checkpoint()
    await tree.put(k(2), v(2))
    tree.checkpoint()
    expect(tree.checkpoints).toBe(2)
    await tree.put(k(3), v(3))
    await tree.revert()
    expect(await tree.get(k(3))).toBeUndefined()
    expect(await tree.get(k(2))).toEqual(v(2))
    tree.checkpoint()
    await tree.put(k(4), v(4))
    await tree.commit()
    const r2 = tree.root()
    await tree.revert()
    expect(tree.root()).toEqual(r1)
    expect(await tree.get(k(4))).toBeUndefined()
    tree.checkpoint()
    await tree.put(k(2), v(2))
    await tree.put(k(4), v(4))
    await tree.commit()
    expect(tree.root()).toEqual(r2)
    expect(tree.checkpoints).toBe(0)
  })

  it('keeps checkpoint nodes out of flush until the outermost commit', async () => {
    const db = createMemoryStore()
    const tree = await createStateTree({ db })
    await tree.put(k(1), v(1))
    await db.batch(tree.flush())
    tree.checkpoint()
    await tree.put(k(2), v(2))
    expect(tree.flush()).toEqual([])
    expect(() => tree.copy()).toThrow(expect.objectContaining({ code: 'ERR_CHECKPOINT' }))
    await expect(tree.setRoot(tree.root())).rejects.toMatchObject({ code: 'ERR_CHECKPOINT' })
    await tree.commit()
    const ops = tree.flush()
    expect(ops.length).toBeGreaterThan(0)
    await db.batch(ops)
    const t2 = await createStateTree({ db, root: tree.root() })
    expect(await t2.get(k(2))).toEqual(v(2))
  })

  it('refuses commit/revert without a checkpoint', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    await expect(tree.commit()).rejects.toMatchObject({ code: 'ERR_CHECKPOINT' })
    await expect(tree.revert()).rejects.toMatchObject({ code: 'ERR_CHECKPOINT' })
  })
})

describe('[StateTree]: copies and roots', () => {
  it('copies are independent views that read unflushed nodes', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    for (let i = 0; i < 20; i++) await tree.put(k(i), v(i))
    const r = tree.root()
    const c = tree.copy()
    await c.put(k(100), v(100))
    expect(await tree.get(k(100))).toBeUndefined()
    expect(await c.get(k(5))).toEqual(v(5))
    await tree.put(k(5), v(6))
    expect(await c.get(k(5))).toEqual(v(5))
    const old = tree.copy(r)
    expect(await old.get(k(5))).toEqual(v(5))
    await tree.setRoot(r)
    expect(await tree.get(k(5))).toEqual(v(5))
    await tree.setRoot(EMPTY_TRIE_ROOT)
    expect(await tree.get(k(5))).toBeUndefined()
  })
})

describe('[StateTree]: ordered iteration', () => {
  it('yields leaves in hashed-key order from startKeyHash, with limit', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    const want = new Map<string, string>()
    for (let i = 0; i < 300; i++) {
      await tree.put(k(i), v(i))
      want.set(hex(keccak256(k(i))), hex(v(i)))
    }
    const all: [string, string][] = []
    for await (const e of tree.entries()) all.push([hex(e.keyHash), hex(e.value)])
    expect(all).toEqual([...want.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    const mid = all[150][0]
    const part: string[] = []
    for await (const e of tree.entries({
      startKeyHash: Buffer.from(mid.slice(2), 'hex'),
      limit: 10,
    }))
      part.push(hex(e.keyHash))
    expect(part).toEqual(all.slice(150, 160).map((x) => x[0]))
    const none: unknown[] = []
    for await (const e of tree.entries({ limit: 0 })) none.push(e)
    expect(none).toEqual([])
    const empty = await createStateTree({ db: createMemoryStore() })
    for await (const e of empty.entries()) none.push(e)
    expect(none).toEqual([])
  })
})

describe('[StateTree]: one-pass build', () => {
  it('gives the same root and contents as inserting one by one (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.uint8Array({ minLength: 0, maxLength: 3 }),
            value: fc.uint8Array({ minLength: 0, maxLength: 40 }),
          }),
          { maxLength: 80 },
        ),
        fc.boolean(),
        async (entries, secure) => {
          const one = await createStateTree({ db: createMemoryStore(), secure })
          for (const e of entries) await one.put(e.key, e.value)
          const db = createMemoryStore()
          const built = await createStateTreeFromEntries({ db, entries, secure })
          expect(hex(built.root())).toBe(hex(one.root()))
          await db.batch(built.flush())
          const reopened = await createStateTree({ db, root: built.root(), secure })
          for (const e of entries) expect(await reopened.get(e.key)).toEqual(await one.get(e.key))
        },
      ),
      { numRuns: 80 },
    )
  })

  it('builds 3,000 accounts like the Ethereum way and refuses bad entries', async () => {
    const entries = Array.from({ length: 3_000 }, (_, i) => ({ key: k(i), value: v(i) }))
    const built = await createStateTreeFromEntries({ db: createMemoryStore(), entries })
    const raw = await createMPT({ useKeyHashing: true, useKeyHashingFunction: keccak256 })
    for (const e of entries) await raw.put(e.key, e.value)
    expect(hex(built.root())).toBe(hex(raw.root()))
    await expect(
      createStateTreeFromEntries({
        db: createMemoryStore(),
        entries: [{ key: 1 as never, value: v(1) }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    const empty = await createStateTreeFromEntries({ db: createMemoryStore(), entries: [] })
    expect(empty.root()).toEqual(EMPTY_TRIE_ROOT)
  })
})

describe('[StateTree]: one-pass build written to the store', () => {
  it('writes the same nodes and root as createStateTreeFromEntries, in batches (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            key: fc.uint8Array({ minLength: 0, maxLength: 5 }),
            value: fc.uint8Array({ minLength: 0, maxLength: 70 }),
          }),
          { maxLength: 120 },
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        async (entries, secure, batchSize) => {
          const built = await createStateTreeFromEntries({
            db: createMemoryStore(),
            entries,
            secure,
          })
          const expected = built.flush()
          const db = createMemoryStore()
          let batches = 0
          const counting = new Proxy(db, {
            get(target, prop) {
              if (prop === 'batch') {
                return async (ops: Parameters<KVStore['batch']>[0]) => {
                  batches++
                  expect(ops.length).toBeLessThanOrEqual(batchSize)
                  await target.batch(ops)
                }
              }
              const value = Reflect.get(target, prop)
              return typeof value === 'function' ? value.bind(target) : value
            },
          })
          const root = await writeStateTreeFromEntries({ db: counting, entries, secure, batchSize })
          expect(hex(root)).toBe(hex(built.root()))
          expect(batches).toBe(Math.ceil(expected.length / batchSize))
          for (const op of expected) {
            expect(await db.get(op.key)).toEqual((op as { value: Uint8Array }).value)
          }
          const reopened = await createStateTree({ db, root, secure })
          for (const e of entries) expect(await reopened.get(e.key)).toEqual(await built.get(e.key))
        },
      ),
      { numRuns: 60 },
    )
  })

  it('sorts by full path when indices cannot be packed (same result)', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({
      key: new Uint8Array([i % 7, (i * 13) % 5, i % 3, 9, i % 11]).subarray(0, 1 + (i % 5)),
      value: i % 4 === 0 ? new Uint8Array(0) : new Uint8Array([i & 255]),
    }))
    for (const secure of [true, false]) {
      const a = sortEntries(entries, secure)
      const b = sortEntries(entries, secure, 0)
      expect(a.paths.map(hex)).toEqual(b.paths.map(hex))
      expect(a.values.map(hex)).toEqual(b.values.map(hex))
      for (let i = 1; i < a.paths.length; i++) {
        expect(Buffer.compare(a.paths[i - 1], a.paths[i])).toBeLessThan(0)
      }
    }
  })
})

describe('[StateTree]: batched update (one hash per node)', () => {
  it('batches on a populated trie give the model root (property)', async () => {
    const op = fc.record({
      key: fc.uint8Array({ minLength: 0, maxLength: 3 }),
      value: fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 60 }),
        fc.array(fc.array(op, { maxLength: 30 }), { maxLength: 4 }),
        fc.boolean(),
        async (initial, batches, secure) => {
          const db = createMemoryStore()
          const tree = await createStateTree({ db, secure })
          const model = new Map<string, Uint8Array>()
          const apply = (o: { key: Uint8Array; value?: Uint8Array }) =>
            o.value ? model.set(hex(o.key), o.value) : model.delete(hex(o.key))
          for (const o of initial) {
            if (o.value) await tree.put(o.key, o.value)
            else await tree.del(o.key)
            apply(o)
          }
          await db.batch(tree.flush())
          const reopened = await createStateTree({ db, root: tree.root(), secure })
          for (const b of batches) {
            await reopened.batch(
              b.map((o) =>
                o.value ? { type: 'put', key: o.key, value: o.value } : { type: 'del', key: o.key },
              ),
            )
            for (const o of b) apply(o)
            const raw = await createMPT({ useKeyHashing: secure })
            for (const [key, value] of model) await raw.put(Buffer.from(key.slice(2), 'hex'), value)
            expect(hex(reopened.root())).toBe(hex(raw.root()))
          }
          await db.batch(reopened.flush())
          const again = await createStateTree({ db, root: reopened.root(), secure })
          for (const [key, value] of model) {
            expect(await again.get(Buffer.from(key.slice(2), 'hex'))).toEqual(value)
          }
        },
      ),
      { numRuns: 150 },
    )
  })

  it('batches inside checkpoints revert cleanly', async () => {
    const tree = await createStateTree({ db: createMemoryStore() })
    await tree.batch(
      Array.from({ length: 50 }, (_, i) => ({ type: 'put', key: k(i), value: v(i) })),
    )
    const r = tree.root()
    tree.checkpoint()
    await tree.batch(Array.from({ length: 20 }, (_, i) => ({ type: 'del', key: k(i * 2) })))
    expect(await tree.get(k(2))).toBeUndefined()
    await tree.revert()
    expect(tree.root()).toEqual(r)
    expect(await tree.get(k(2))).toEqual(v(2))
  })
})
