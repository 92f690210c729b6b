import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mergeRuns, NodeSorter, PackedNodes, sortPacked, writeSortedRun } from '../src/sort.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// hashes drawn from a small pool sharing their first 4 bytes often (the sort's fast key), so
// ties, duplicates within a run and duplicates across runs all occur
const hashArb = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.uint8Array({ minLength: 28, maxLength: 28 }))
  .map(([hi, rest]) => Uint8Array.of(0, 0, 0, hi, ...rest))
const nodeArb = fc.record({
  hash: fc.oneof(hashArb, fc.uint8Array({ minLength: 32, maxLength: 32 })),
  rlp: fc.uint8Array({ minLength: 1, maxLength: 300 }),
})

/** A node's content is a function of its hash (as in a trie): duplicates carry the same RLP. */
function canonical(nodes: { hash: Uint8Array; rlp: Uint8Array }[]) {
  const byHash = new Map<string, Uint8Array>()
  for (const n of nodes) if (!byHash.has(hex(n.hash))) byHash.set(hex(n.hash), n.rlp)
  return nodes.map((n) => ({ hash: n.hash, rlp: byHash.get(hex(n.hash)) as Uint8Array }))
}

function pack(nodes: { hash: Uint8Array; rlp: Uint8Array }[]): PackedNodes {
  const p = new PackedNodes(64)
  for (const n of nodes) p.add(n.hash, n.rlp)
  return p
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aureon-sort-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('writeSortedRun', () => {
  it('writes what sortPacked returns, also entries larger than its 1 MiB buffer', async () => {
    const nodes = canonical([
      { hash: new Uint8Array(32).fill(9), rlp: new Uint8Array(3 << 19).fill(7) },
      ...Array.from({ length: 9000 }, (_, i) => ({
        hash: Uint8Array.from({ length: 32 }, (_, k) => (i * 131 + k * 7) & 0xff),
        rlp: new Uint8Array(100 + (i % 150)).fill(i & 0xff),
      })),
      { hash: new Uint8Array(32).fill(3), rlp: new Uint8Array(5 << 18).fill(1) },
    ])
    const p = pack([...nodes, nodes[5]]) // a duplicate, written once
    const path = join(dir, 'big-run.bin')
    const run = writeSortedRun(p, path)
    const want = sortPacked(p.bytes)
    expect(run).toEqual({ path, bytes: want.length, count: want.count })
    expect(hex(new Uint8Array(readFileSync(path)))).toBe(hex(want.bytes))
  })
})

describe('sortPacked', () => {
  it('orders packed nodes by hash, each once (property)', () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { maxLength: 200 }), (raw) => {
        const nodes = canonical(raw)
        const p = pack(nodes)
        const sorted = sortPacked(p.bytes)
        const got = [...sorted.batches(1e9)].flat()
        const want = [...new Map(nodes.map((n) => [hex(n.hash), hex(n.rlp)])).entries()].sort(
          (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
        )
        expect(got.map((op) => [hex(op.key), hex((op as { value: Uint8Array }).value)])).toEqual(
          want,
        )
        expect(sorted.count).toBe(want.length)
      }),
    )
  })
})

describe('NodeSorter', () => {
  it('merges sorted runs from files into key-ordered batches, each node once, in passes when there are more runs than it reads at once (property)', async () => {
    let k = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(nodeArb, { maxLength: 40 }), { maxLength: 12 }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 50 }),
        async (rawRuns, fanIn, max) => {
          const all = canonical(rawRuns.flat())
          const runs: (typeof all)[] = []
          let at = 0
          for (const r of rawRuns) {
            runs.push(all.slice(at, at + r.length))
            at += r.length
          }
          const stage = join(dir, `s${k++}`)
          const sorter = await NodeSorter.create({ dir: stage, fanIn })
          // each run written by writeSortedRun, as verifiers do
          for (const [i, r] of runs.entries()) {
            const p = pack(r)
            const run = writeSortedRun(p, sorter.runPath(i))
            const sorted = sortPacked(p.bytes)
            expect(run).toMatchObject({ bytes: sorted.length, count: sorted.count })
            sorter.addWrittenRun(run)
          }
          const got: string[][] = []
          for await (const packed of sorter.packedBatches(max)) {
            expect(packed.count).toBeGreaterThan(0)
            expect(packed.count).toBeLessThanOrEqual(max)
            for (const op of [...packed.batches(max)].flat())
              got.push([hex(op.key), hex((op as { value: Uint8Array }).value)])
          }
          const want = [...new Map(all.map((n) => [hex(n.hash), hex(n.rlp)])).entries()].sort(
            (a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
          )
          expect(got).toEqual(want)
          await sorter.close()
          expect(existsSync(stage)).toBe(false)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('mergeRuns: the same nodes, byte for byte, read in pieces (nodes larger than a read buffer), with and without merge passes', async () => {
    const nodes = canonical(
      Array.from({ length: 2400 }, (_, i) => ({
        hash: Uint8Array.from(
          { length: 32 },
          (_, j) => (Math.imul(i + 7, 2654435761) >>> ((j % 4) * 8)) ^ j,
        ),
        rlp: Uint8Array.from(
          { length: i % 400 === 0 ? 600_000 : 50 + (i % 200) },
          (_, k) => (i + k) & 0xff,
        ),
      })),
    )
    const want = new Map(nodes.map((n) => [hex(n.hash), hex(n.rlp)]))
    for (const fanIn of [256, 2]) {
      const stage = join(dir, `merge-${fanIn}`)
      const sorter = await NodeSorter.create({ dir: stage })
      for (let r = 0; r < 5; r++) {
        const p = pack(nodes.filter((_, i) => i % 5 === r || i % 97 === 0)) // some in two runs
        sorter.addWrittenRun(writeSortedRun(p, sorter.runPath(r)))
      }
      const input = sorter.mergeInput()
      let k = 0
      const got: [string, string][] = []
      for await (const packed of mergeRuns(input.paths, {
        max: 300,
        fanIn, // 2: merge passes into scratch runs first
        scratch: () => join(stage, `pass-${k++}.bin`),
      })) {
        expect(packed.count).toBeLessThanOrEqual(300)
        for (const op of [...packed.batches(1e9)].flat())
          got.push([hex(op.key), hex((op as { value: Uint8Array }).value)])
      }
      expect(got.map(([h]) => h)).toEqual([...want.keys()].sort())
      for (const [h, v] of got) expect(v).toBe(want.get(h))
      await sorter.close()
    }
  })

  it('removes what a crashed import left in its folder', async () => {
    const stage = join(dir, 'crashed')
    const first = await NodeSorter.create({ dir: stage })
    const p = pack([{ hash: new Uint8Array(32).fill(1), rlp: Uint8Array.of(0xc0) }])
    first.addWrittenRun(writeSortedRun(p, first.runPath(0)))
    expect(readdirSync(stage)).toEqual(['chunk-000000.bin'])
    // no close(): as after a crash
    const second = await NodeSorter.create({ dir: stage })
    expect(readdirSync(stage)).toEqual([]) // the old run file is gone
    const got = []
    for await (const packed of second.packedBatches(10)) got.push(packed)
    expect(got).toEqual([])
    await second.close()
  })

  it('refuses a staging folder it cannot use with ERR_SNAPSHOT_STAGING_FAILED', async () => {
    const file = join(dir, 'a-file')
    writeFileSync(file, 'x')
    const err = (p: Promise<unknown> | (() => unknown)) =>
      (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
        () => 'accepted',
        (e) => e,
      )
    // a folder under a file
    expect(await err(NodeSorter.create({ dir: join(file, 'sort') }))).toMatchObject({
      code: 'ERR_SNAPSHOT_STAGING_FAILED',
      details: { errno: 'ENOTDIR' },
    })
    // a run written where there is no folder (it was removed)
    const p = pack([{ hash: new Uint8Array(32).fill(2), rlp: Uint8Array.of(0xc0) }])
    expect(await err(() => writeSortedRun(p, join(dir, 'gone', 'chunk.bin')))).toMatchObject({
      code: 'ERR_SNAPSHOT_STAGING_FAILED',
      details: { errno: 'ENOENT' },
    })
    // a run that is not there when merged
    const merge = async () => {
      for await (const _ of mergeRuns([join(dir, 'gone.bin')], { max: 10, scratch: () => file })) {
      }
    }
    expect(await err(merge())).toMatchObject({ code: 'ERR_SNAPSHOT_STAGING_FAILED' })
  })
})
