import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { clearStore, isStorageError, type KVStore } from '../src/index.js'

const b = (...xs: number[]) => new Uint8Array(xs)
const hex = (u: Uint8Array) => Buffer.from(u).toString('hex')

async function collect(it: AsyncIterable<[Uint8Array, Uint8Array]>): Promise<[string, string][]> {
  const out: [string, string][] = []
  for await (const [k, v] of it) out.push([hex(k), hex(v)])
  return out
}

function compare(a: Uint8Array, c: Uint8Array): number {
  return Buffer.compare(a, c)
}

/** The KVStore conformance suite: every implementation must pass it unchanged. */
export function kvStoreConformance(name: string, open: () => Promise<KVStore>) {
  describe(`[${name}]: KVStore conformance`, () => {
    let store: KVStore
    beforeEach(async () => {
      store = await open()
    })
    afterEach(async () => {
      await store.close()
    })

    it('gets what was put, undefined when absent, and deletes', async () => {
      expect(await store.get(b(1))).toBeUndefined()
      expect(await store.has(b(1))).toBe(false)
      await store.put(b(1), b(10, 11))
      expect(await store.get(b(1))).toEqual(b(10, 11))
      expect(await store.has(b(1))).toBe(true)
      expect((await store.get(b(1)))?.constructor).toBe(Uint8Array)
      await store.put(b(1), b(12))
      expect(await store.get(b(1))).toEqual(b(12))
      await store.del(b(1))
      expect(await store.get(b(1))).toBeUndefined()
      await store.del(b(1)) // deleting an absent key is fine
    })

    it('stores empty keys and empty values', async () => {
      await store.put(b(), b())
      expect(await store.get(b())).toEqual(b())
      expect(await store.has(b())).toBe(true)
    })

    it('getMany returns values in order', async () => {
      await store.batch([
        { type: 'put', key: b(1), value: b(1) },
        { type: 'put', key: b(3), value: b(3) },
      ])
      expect(await store.getMany([b(3), b(2), b(1)])).toEqual([b(3), undefined, b(1)])
    })

    it('isolates namespaces, nested ones too', async () => {
      const a = store.namespace('a')
      const ab = a.namespace('b')
      const a2 = store.namespace('ab')
      expect(ab.path).toEqual(['a', 'b'])
      await store.put(b(1), b(0))
      await a.put(b(1), b(1))
      await ab.put(b(1), b(2))
      await a2.put(b(1), b(3))
      expect(await store.get(b(1))).toEqual(b(0))
      expect(await a.get(b(1))).toEqual(b(1))
      expect(await ab.get(b(1))).toEqual(b(2))
      expect(await a2.get(b(1))).toEqual(b(3))
      expect(await collect(store.iterate())).toEqual([['01', '00']])
      expect(await collect(a.iterate())).toEqual([['01', '01']])
      expect(await collect(store.namespace('a').namespace('b').iterate())).toEqual([['01', '02']])
    })

    it('refuses bad namespace names, keys and ops with coded errors', async () => {
      for (const n of ['', 'a\0b', 5 as unknown as string]) {
        expect(() => store.namespace(n)).toThrow(
          expect.objectContaining({ code: 'ERR_INVALID_NAMESPACE' }),
        )
      }
      await expect(store.get('x' as unknown as Uint8Array)).rejects.toMatchObject({
        code: 'ERR_INVALID_KEY',
      })
      await expect(store.put(b(1), 'x' as unknown as Uint8Array)).rejects.toMatchObject({
        code: 'ERR_INVALID_VALUE',
      })
      await expect(
        store.batch([{ type: 'nope', key: b(1) } as never, { type: 'put', key: b(2), value: b() }]),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_BATCH_OP' })
      await expect(
        store.batch([
          { type: 'put', key: b(2), value: b() },
          { type: 'put', key: b(3), value: 7 as never },
        ]),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' })
      expect(await store.has(b(2))).toBe(false) // nothing of a refused batch is written
    })

    it('batches atomically across namespaces, relative to the store', async () => {
      const blocks = store.namespace('blocks')
      await blocks.put(b(9), b(9))
      await store.batch([
        { type: 'put', key: b(1), value: b(1) },
        { type: 'put', key: b(1), value: b(2), namespace: ['blocks'] },
        { type: 'put', key: b(1), value: b(3), namespace: ['blocks', 'sub'] },
        { type: 'del', key: b(9), namespace: ['blocks'] },
      ])
      expect(await store.get(b(1))).toEqual(b(1))
      expect(await blocks.get(b(1))).toEqual(b(2))
      expect(await blocks.get(b(9))).toBeUndefined()
      expect(await blocks.namespace('sub').get(b(1))).toEqual(b(3))
      await blocks.batch([{ type: 'put', key: b(2), value: b(4), namespace: ['sub'] }])
      expect(await store.namespace('blocks').namespace('sub').get(b(2))).toEqual(b(4))
      await store.batch([])
    })

    it('iterates in byte order with gt/gte/lt/lte/limit/reverse', async () => {
      const keys = [b(0), b(1), b(1, 0), b(2), b(0x80), b(0xff), b(0xff, 0xff)]
      await store.batch(keys.map((k) => ({ type: 'put', key: k, value: k })))
      await store.namespace('z').put(b(5), b(5))
      const all = keys.map((k) => [hex(k), hex(k)])
      expect(await collect(store.iterate())).toEqual(all)
      expect(await collect(store.iterate({ reverse: true }))).toEqual([...all].reverse())
      expect(await collect(store.iterate({ gt: b(1) }))).toEqual(all.slice(2))
      expect(await collect(store.iterate({ gte: b(1) }))).toEqual(all.slice(1))
      expect(await collect(store.iterate({ lt: b(2) }))).toEqual(all.slice(0, 3))
      expect(await collect(store.iterate({ lte: b(2) }))).toEqual(all.slice(0, 4))
      expect(await collect(store.iterate({ gte: b(1), lt: b(0xff), limit: 2 }))).toEqual(
        all.slice(1, 3),
      )
      expect(await collect(store.iterate({ lte: b(0xff), reverse: true, limit: 2 }))).toEqual([
        all[5],
        all[4],
      ])
      expect(await collect(store.iterate({ limit: 0 }))).toEqual([])
      expect(await collect(store.iterate({ limit: -1 }))).toEqual(all)
      expect(await collect(store.iterate({ limit: Number.POSITIVE_INFINITY }))).toEqual(all)
    })

    it('iterates past one chunk and can stop early', async () => {
      const n = 2500
      const ops = Array.from({ length: n }, (_, i) => ({
        type: 'put' as const,
        key: b(i >> 8, i & 255),
        value: b(i & 7),
      }))
      await store.batch(ops)
      let count = 0
      for await (const _ of store.iterate()) count++
      expect(count).toBe(n)
      let seen = 0
      for await (const _ of store.iterate()) if (++seen === 3) break
      expect(seen).toBe(3)
    })

    it('matches a sorted-map model under random ops (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              del: fc.boolean(),
              ns: fc.constantFrom<string[] | undefined>(undefined, ['n'], ['n', 'm']),
              key: fc.uint8Array({ maxLength: 3 }),
              value: fc.uint8Array({ maxLength: 4 }),
            }),
            { maxLength: 40 },
          ),
          fc.record({
            lo: fc.option(fc.uint8Array({ maxLength: 2 }), { nil: undefined }),
            hi: fc.option(fc.uint8Array({ maxLength: 2 }), { nil: undefined }),
            loInc: fc.boolean(),
            hiInc: fc.boolean(),
            limit: fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
            reverse: fc.boolean(),
          }),
          async (ops, q) => {
            const s = (await open()) as KVStore
            try {
              const model = new Map<string, Map<string, Uint8Array>>()
              for (const op of ops) {
                const id = (op.ns ?? []).join('/')
                if (!model.has(id)) model.set(id, new Map())
                if (op.del) model.get(id)!.delete(hex(op.key))
                else model.get(id)!.set(hex(op.key), op.value)
              }
              await s.batch(
                ops.map((op) =>
                  op.del
                    ? { type: 'del', key: op.key, namespace: op.ns }
                    : { type: 'put', key: op.key, value: op.value, namespace: op.ns },
                ),
              )
              for (const [id, m] of model) {
                const target = id === '' ? s : id.split('/').reduce((st, n) => st.namespace(n), s)
                let exp = [...m.entries()]
                  .map(([k, v]) => [Buffer.from(k, 'hex'), v] as const)
                  .filter(([k]) => {
                    if (q.lo && (q.loInc ? compare(k, q.lo) < 0 : compare(k, q.lo) <= 0))
                      return false
                    if (q.hi && (q.hiInc ? compare(k, q.hi) > 0 : compare(k, q.hi) >= 0))
                      return false
                    return true
                  })
                  .sort((x, y) => compare(x[0], y[0]))
                if (q.reverse) exp.reverse()
                if (q.limit !== undefined) exp = exp.slice(0, q.limit)
                const got = await collect(
                  target.iterate({
                    [q.loInc ? 'gte' : 'gt']: q.lo,
                    [q.hiInc ? 'lte' : 'lt']: q.hi,
                    limit: q.limit,
                    reverse: q.reverse,
                  }),
                )
                expect(got).toEqual(exp.map(([k, v]) => [hex(k), hex(v)]))
                for (const [k, v] of m) expect(await target.get(Buffer.from(k, 'hex'))).toEqual(v)
              }
            } finally {
              await s.close()
            }
          },
        ),
        { numRuns: 40 },
      )
    })

    it('clearStore deletes every key of a namespace, past one batch, and keeps its sub-namespaces', async () => {
      const ns = store.namespace('c')
      const ops = []
      for (let i = 0; i < 10_050; i++)
        ops.push({ type: 'put' as const, key: b(i >> 8, i & 255), value: b(1) })
      await ns.batch(ops)
      await ns.namespace('sub').put(b(1), b(2))
      await store.put(b(9), b(9))
      await clearStore(ns)
      expect(await collect(ns.iterate())).toEqual([])
      expect(await ns.namespace('sub').get(b(1))).toEqual(b(2))
      expect(await store.get(b(9))).toEqual(b(9))
    })

    it('refuses use after close with ERR_STORE_CLOSED', async () => {
      const ns = store.namespace('x')
      await store.close()
      await store.close() // idempotent
      await expect(store.get(b(1))).rejects.toSatisfy((e) => isStorageError(e, 'ERR_STORE_CLOSED'))
      await expect(ns.put(b(1), b(1))).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await expect(ns.batch([])).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      await expect(collect(ns.iterate())).rejects.toMatchObject({ code: 'ERR_STORE_CLOSED' })
      store = await open() // for afterEach
    })
  })
}
