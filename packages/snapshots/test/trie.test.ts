import { sha256 as cryptoSha256 } from '@aureon/crypto'
import { createStateTree, keccak256 as merkleKeccak256 } from '@aureon/merkle'
import { createMemoryStore } from '@aureon/storage'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keccak256, sha256 } from '../src/hash.js'
import {
  buildSubtree,
  EMPTY_TRIE_ROOT,
  isSnapshotError,
  proofPath,
  trieRoot,
  verifyKeyProof,
  verifyRange,
  walkLeafBatches,
  walkLeaves,
} from '../src/index.js'
import { sweepingNodeReader } from '../src/store-layout.js'
import { type TrieLeaf, verifyRangeCopying } from '../src/trie.js'

const leafArb = fc.record({
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  value: fc.uint8Array({ minLength: 1, maxLength: 40 }),
})

function sortLeaves(ls: TrieLeaf[]): TrieLeaf[] {
  const m = new Map<string, TrieLeaf>()
  for (const l of ls) m.set(Buffer.from(l.key).toString('hex'), l)
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((e) => e[1])
}

async function committed(leaves: TrieLeaf[]) {
  const db = createMemoryStore()
  const nodes = new Map<string, Uint8Array>()
  const root = trieRoot(leaves, (h, n) => nodes.set(Buffer.from(h).toString('hex'), n))
  await db.batch(
    [...nodes].map(([k, v]) => ({ type: 'put' as const, key: Buffer.from(k, 'hex'), value: v })),
  )
  const read = (hs: Uint8Array[]) => db.getMany(hs)
  return { db, root, read }
}

describe('[trie]: roots, walks and proofs', () => {
  it('builds the same root as @aureon/merkle (non-secure keys)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(leafArb, { maxLength: 60 }), async (raw) => {
        const leaves = sortLeaves(raw)
        const tree = await createStateTree({ db: createMemoryStore(), secure: false })
        for (const l of leaves) await tree.put(l.key, l.value)
        expect(Buffer.from(trieRoot(leaves)).toString('hex')).toBe(
          Buffer.from(tree.root()).toString('hex'),
        )
        // every node the sink got still hashes to its key after the call; buildSubtree's result
        // is the root node's own copy
        const kept: [Uint8Array, Uint8Array][] = []
        const root = trieRoot(leaves, (h, n) => kept.push([h, n]))
        for (const [h, n] of kept) expect(keccak256(n)).toEqual(h)
        if (leaves.length > 0) {
          const enc = buildSubtree(leaves, 0, leaves.length, 0)
          trieRoot(leaves.slice(0, 1))
          expect(keccak256(enc)).toEqual(root)
        }
      }),
      { numRuns: 40 },
    )
  })

  it('walks every leaf in key order whatever the grouping of the walk, one by one or in batches, reporting each group before its leaves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(leafArb, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 4 }),
        async (raw, window, frontier, ahead) => {
          const leaves = sortLeaves(raw)
          const { root, read } = await committed(leaves)
          const walked: string[] = []
          for await (const l of walkLeaves(read, root, { window, frontier, ahead })) {
            walked.push(
              `${Buffer.from(l.key).toString('hex')}=${Buffer.from(l.value).toString('hex')}`,
            )
            // the proof a walked leaf gives is the one read from the store
            expect(l.proof()).toEqual(await proofPath(read, root, l.key))
          }
          expect(walked).toEqual(
            leaves.map(
              (l) =>
                `${Buffer.from(l.key).toString('hex')}=${Buffer.from(l.value).toString('hex')}`,
            ),
          )
          // in batches: the same leaves; each group's values reported once read, in key order,
          // before its leaves are yielded
          const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
          const reported: string[] = []
          const yielded: string[] = []
          for await (const batch of walkLeafBatches(read, root, {
            window,
            frontier,
            ahead,
            onGroupRead: (values) => reported.push(...values.map(hex)),
          })) {
            expect(batch.length).toBeGreaterThan(0)
            expect(batch.length).toBeLessThanOrEqual(1024)
            for (const l of batch) yielded.push(hex(l.value))
            expect(reported.length).toBeGreaterThanOrEqual(yielded.length)
          }
          expect(yielded).toEqual(leaves.map((l) => hex(l.value)))
          expect(reported).toEqual(yielded)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('walks a large trie in batches of at most 1024 leaves', async () => {
    const leaves = sortLeaves(
      Array.from({ length: 2500 }, (_, i) => {
        const key = new Uint8Array(32)
        new DataView(key.buffer).setUint32(0, (i * 2654435761) >>> 0)
        return { key, value: new Uint8Array([i & 0xff, i >> 8]) }
      }),
    )
    const { root, read } = await committed(leaves)
    const sizes: number[] = []
    for await (const batch of walkLeafBatches(read, root, { window: 4096, frontier: 1 })) {
      sizes.push(batch.length)
    }
    expect(sizes).toEqual([1024, 1024, 452])
  })

  it('walk: a missing node is MISSING_STATE, a malformed node is FORGED', async () => {
    const leaves = sortLeaves(
      Array.from({ length: 40 }, (_, i) => ({
        key: new Uint8Array(32).fill(i * 6),
        value: new Uint8Array(40).fill(i),
      })),
    )
    const { db, root, read } = await committed(leaves)
    const all: Uint8Array[] = []
    for await (const [k] of db.iterate()) all.push(k)
    const victim = all.find((k) => Buffer.compare(k, root) !== 0) as Uint8Array
    const walk = async (r: typeof read) => {
      for await (const _ of walkLeaves(r, root, { window: 2, frontier: 4 })) {
      }
    }
    const without = (hs: Uint8Array[]) =>
      read(hs).then((vs) => vs.map((v, i) => (Buffer.compare(hs[i], victim) === 0 ? undefined : v)))
    await expect(walk(without)).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_MISSING_STATE' })
    for (const bad of [
      new Uint8Array([0xc2, 0x80, 0x80, 0x80]), // list of 3
      new Uint8Array([0x80]), // not a list
      new Uint8Array([0xc3, 0x82, 0x40, 0x01]), // bad hex-prefix flag
      new Uint8Array([0xc4, 0x82, 0x21, 0x01, 0xc0]), // leaf value is a list
      new Uint8Array([0xc3, 0x81, 0x00, 0x81]), // single byte as a string, runs past the end
    ]) {
      const forgedRead = (hs: Uint8Array[]) =>
        read(hs).then((vs) => vs.map((v, i) => (Buffer.compare(hs[i], victim) === 0 ? bad : v)))
      await expect(walk(forgedRead)).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_FORGED' })
    }
  })

  it('walks, proves and verifies any range; refuses tampering', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(leafArb, { minLength: 1, maxLength: 50 }),
        fc.nat(),
        fc.nat(),
        async (raw, a, b) => {
          const leaves = sortLeaves(raw)
          const { root, read } = await committed(leaves)
          const walked: TrieLeaf[] = []
          for await (const l of walkLeaves(read, root)) walked.push(l)
          expect(walked.map((l) => Buffer.from(l.key).toString('hex'))).toEqual(
            leaves.map((l) => Buffer.from(l.key).toString('hex')),
          )
          const i = a % leaves.length
          const j = i + (b % (leaves.length - i))
          const start = leaves[i].key
          const end = leaves[j].key
          const proof = [
            ...(await proofPath(read, root, start)),
            ...(await proofPath(read, root, end)),
          ]
          const range = leaves.slice(i, j + 1)
          // what the sink gets stays what it was (nodes are encoded in one reused buffer)
          const kept: [Uint8Array, Uint8Array][] = []
          verifyRange({ root, start, end, leaves: range, proof, sink: (h, n) => kept.push([h, n]) })
          expect(kept.length).toBeGreaterThan(0)
          for (const [h, n] of kept) expect(keccak256(n)).toEqual(h)
          // the same nodes through the importer's copying path
          const copied: string[] = []
          verifyRangeCopying({
            root,
            start,
            end,
            leaves: range,
            proof,
            sink: (h, n) =>
              copied.push(`${Buffer.from(h).toString('hex')}:${Buffer.from(n).toString('hex')}`),
          })
          expect(copied).toEqual(
            kept.map(
              ([h, n]) => `${Buffer.from(h).toString('hex')}:${Buffer.from(n).toString('hex')}`,
            ),
          )
          // key proofs
          expect(verifyKeyProof(root, start, await proofPath(read, root, start))).toEqual(
            leaves[i].value,
          )
          // tampering: drop, change, or add
          if (range.length > 1) {
            expect(() =>
              verifyRange({ root, start, end, leaves: range.filter((_, k) => k !== 1), proof }),
            ).toThrow()
          }
          const changed = range.map((l, k) =>
            k === 0 ? { key: l.key, value: new Uint8Array([...l.value, 1]) } : l,
          )
          expect(() => verifyRange({ root, start, end, leaves: changed, proof })).toThrow()
        },
      ),
      { numRuns: 60 },
    )
  })

  it('proves empty ranges and the empty trie', async () => {
    const leaves = sortLeaves([
      { key: new Uint8Array(32).fill(0x10), value: new Uint8Array([1]) },
      { key: new Uint8Array(32).fill(0x80), value: new Uint8Array([2]) },
    ])
    const { root, read } = await committed(leaves)
    const start = new Uint8Array(32).fill(0x20)
    const end = new Uint8Array(32).fill(0x70)
    const proof = [...(await proofPath(read, root, start)), ...(await proofPath(read, root, end))]
    verifyRange({ root, start, end, leaves: [], proof })
    let err: unknown
    try {
      verifyRange({
        root,
        start,
        end,
        leaves: [{ key: new Uint8Array(32).fill(0x30), value: new Uint8Array([9]) }],
        proof,
      })
    } catch (e) {
      err = e
    }
    expect(isSnapshotError(err, 'ERR_SNAPSHOT_FORGED')).toBe(true)
    verifyRange({ root: EMPTY_TRIE_ROOT, start, end, leaves: [], proof: [] })
    expect(trieRoot([])).toEqual(EMPTY_TRIE_ROOT)
    expect(verifyKeyProof(root, start, proof)).toBeUndefined()
    expect(() => verifyRange({ root, start: end, end: start, leaves: [], proof })).toThrow()
    expect(() => verifyRange({ root, start, end, leaves: [], proof: [] })).toThrow()
  })
})

describe('[account]: refs', () => {
  it('reads codeHash and storageRoot exactly as the generic RLP decoder does', async () => {
    const { accountRefs } = await import('../src/account.js')
    const { rlpDecode, rlpEncode } = await import('../src/rlp.js')
    const { EMPTY_CODE_HASH } = await import('../src/params.js')
    const hex = (b?: Uint8Array) => (b ? Buffer.from(b).toString('hex') : undefined)
    const reference = (v: Uint8Array) => {
      let item: ReturnType<typeof rlpDecode>
      try {
        item = rlpDecode(v)
      } catch {
        return {}
      }
      if (!Array.isArray(item) || item.length !== 6) return {}
      const [c, r] = [item[3], item[4]]
      if (!(c instanceof Uint8Array) || c.length !== 32) return {}
      if (!(r instanceof Uint8Array) || r.length !== 32) return {}
      return {
        codeHash: Buffer.compare(c, EMPTY_CODE_HASH) === 0 ? undefined : hex(c),
        storageRoot: Buffer.compare(r, EMPTY_TRIE_ROOT) === 0 ? undefined : hex(r),
      }
    }
    const bytes = fc.uint8Array({ maxLength: 70 })
    const field = fc.oneof(
      bytes,
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.constant(EMPTY_CODE_HASH),
      fc.constant(EMPTY_TRIE_ROOT),
      fc.array(fc.uint8Array({ maxLength: 4 }), { maxLength: 2 }),
    )
    const account = fc.array(field, { minLength: 4, maxLength: 7 }).map((f) => rlpEncode(f))
    await fc.assert(
      fc.property(fc.oneof(account, bytes), (v) => {
        const got = accountRefs(v)
        expect({ codeHash: hex(got.codeHash), storageRoot: hex(got.storageRoot) }).toEqual({
          codeHash: undefined,
          storageRoot: undefined,
          ...reference(v),
        })
      }),
      { numRuns: 2000 },
    )
  })
})

describe('[sweepingNodeReader]: merged sorted reads', () => {
  // keys that often share their first four bytes (the reader sorts on those first)
  const keyArb = fc
    .tuple(
      fc.constantFrom(0, 1, 0xffffffff),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.boolean(),
    )
    .map(([p, k, same]) => {
      if (same) new DataView(k.buffer).setUint32(0, p)
      return k
    })

  it('answers every request as the plain reader does, for concurrent requests with repeats and absent keys (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, {
          minLength: 1,
          maxLength: 40,
          selector: (k) => Buffer.from(k).toString('hex'),
        }),
        fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.array(keyArb, { maxLength: 5 }),
        async (stored, requests, absent) => {
          const db = createMemoryStore()
          await db.batch(
            stored.map((k, i) => ({ type: 'put', key: k, value: new Uint8Array([i, i >> 8, 7]) })),
          )
          const plain = (ks: Uint8Array[]) => db.getMany(ks)
          const sweeping = sweepingNodeReader(db)
          const pool = [...stored, ...absent]
          const asks = requests.map((r) => r.map((i) => pool[i % pool.length]))
          // issued together (merged into one read), then again one after another
          const together = await Promise.all(asks.map((a) => sweeping(a)))
          for (let i = 0; i < asks.length; i++) {
            const want = await plain(asks[i])
            expect(together[i]).toEqual(want)
            expect(await sweeping(asks[i])).toEqual(want)
          }
        },
      ),
      { numRuns: 60 },
    )
  })

  it('merges requests made while its reads run, and fails each request of a failed read', async () => {
    const db = createMemoryStore()
    const k = (i: number) => new Uint8Array(32).fill(i)
    await db.batch(
      [1, 2, 3].map((i) => ({ type: 'put' as const, key: k(i), value: new Uint8Array([i]) })),
    )
    const sizes: number[] = []
    const calls: { keys: Uint8Array[]; fillCache: boolean | undefined }[] = []
    let fail = false
    let open: () => void = () => {}
    let gate = Promise.resolve()
    const counting = {
      ...db,
      getMany: async (keys: Uint8Array[], opts?: { fillCache?: boolean }) => {
        sizes.push(keys.length)
        calls.push({ keys, fillCache: opts?.fillCache })
        await gate
        if (fail) throw new Error('disk gone')
        return db.getMany(keys)
      },
    } as typeof db
    const read = sweepingNodeReader(counting, 1)
    gate = new Promise((r) => {
      open = r
    })
    const first = read([k(1)])
    while (sizes.length === 0) await new Promise((r) => setImmediate(r))
    // asked while the first read runs: merged into the next one
    const rest = [read([k(2), k(3)]), read([k(3), k(1)])]
    await new Promise((r) => setImmediate(r))
    expect(sizes).toEqual([1])
    open()
    expect(await first).toEqual([new Uint8Array([1])])
    expect(await Promise.all(rest)).toEqual([
      [new Uint8Array([2]), new Uint8Array([3])],
      [new Uint8Array([3]), new Uint8Array([1])],
    ])
    // one read for the first request, one for the two asked meanwhile (3 unique keys)
    expect(sizes).toEqual([1, 3])
    // the merged read asks for unique keys in key order, descending after an ascending one,
    // without filling the block cache
    expect(calls[1].keys).toEqual([k(3), k(2), k(1)])
    expect(calls.every((c) => c.fillCache === false)).toBe(true)
    fail = true
    const failing = [read([k(1)]), read([k(2)])]
    for (const f of failing) await expect(f).rejects.toThrow('disk gone')
    fail = false
    expect(await read([k(2)])).toEqual([new Uint8Array([2])])
  })

  it('splits a request larger than one merged read and keeps its order', async () => {
    const db = createMemoryStore()
    const keys = Array.from({ length: 40000 }, (_, i) => {
      const k = new Uint8Array(32)
      new DataView(k.buffer).setUint32(28, (i * 2654435761) >>> 0)
      return k
    })
    await db.batch(
      keys.slice(0, 100).map((k, i) => ({ type: 'put' as const, key: k, value: Uint8Array.of(i) })),
    )
    const got = await sweepingNodeReader(db)(keys)
    expect(got.length).toBe(40000)
    expect(got.slice(0, 100)).toEqual(keys.slice(0, 100).map((_, i) => Uint8Array.of(i)))
    expect(got.slice(100).every((v) => v === undefined)).toBe(true)
  })
})

describe('hashes', () => {
  it('are the same functions as @aureon/merkle keccak256 and @aureon/crypto sha256', () => {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
    expect(hex(keccak256(new Uint8Array()))).toBe(
      'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470',
    )
    expect(hex(sha256(new Uint8Array()))).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (data) => {
        expect(hex(keccak256(data))).toBe(hex(merkleKeccak256(data)))
        expect(hex(sha256(data))).toBe(hex(cryptoSha256(data)))
      }),
    )
  })
})
