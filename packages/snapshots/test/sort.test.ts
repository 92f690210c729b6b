import { existsSync, readdirSync, readFileSync } from 'node:fs'
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
        // in a PackedNodes' own spare room: the same result, its entries left as they were
        const before = hex(p.bytes)
        const inPlace = p.sorted()
        expect(hex(inPlace.bytes)).toBe(hex(sorted.bytes))
        expect(inPlace.count).toBe(sorted.count)
        expect(hex(p.bytes)).toBe(before)
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
          // half the runs as sorted bytes, half written by writeSortedRun (as verifiers do)
          for (const [i, r] of runs.entries()) {
            const p = pack(r)
            if (i % 2 === 0) await sorter.addRun(sortPacked(p.bytes).bytes)
            else {
              const run = writeSortedRun(p, sorter.runPath(i))
              const sorted = sortPacked(p.bytes)
              expect(run).toMatchObject({ bytes: sorted.length, count: sorted.count })
              sorter.addWrittenRun(run)
            }
          }
          const got: string[][] = []
          for await (const ops of sorter.batches(max)) {
            expect(ops.length).toBeGreaterThan(0)
            expect(ops.length).toBeLessThanOrEqual(max)
            for (const op of ops) got.push([hex(op.key), hex((op as { value: Uint8Array }).value)])
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

  it('reads runs in pieces: nodes larger than a read buffer and runs of many buffers come out whole', async () => {
    const nodes = Array.from({ length: 3000 }, (_, i) => ({
      hash: Uint8Array.from(
        { length: 32 },
        (_, j) => (j < 4 ? Math.imul(i, 2654435761) >>> (8 * (3 - j)) : j) & 0xff,
      ),
      rlp: new Uint8Array(i % 500 === 0 ? 600_000 : 200).fill(i & 0xff),
    }))
    const sorter = await NodeSorter.create({ dir: join(dir, 'big') })
    for (let r = 0; r < 3; r++) {
      const p = pack(nodes.filter((_, i) => i % 3 === r))
      await sorter.addRun(sortPacked(p.bytes).bytes)
    }
    let n = 0
    let bytes = 0
    let prev = ''
    for await (const ops of sorter.batches(1000)) {
      for (const op of ops) {
        const key = hex(op.key)
        expect(key > prev).toBe(true)
        prev = key
        n++
        bytes += (op as { value: Uint8Array }).value.length
      }
    }
    expect(n).toBe(new Set(nodes.map((x) => hex(x.hash))).size)
    expect(bytes).toBe(nodes.reduce((s, x) => s + x.rlp.length, 0))
    await sorter.close()
  })

  it('mergeRuns: the same nodes, byte for byte, with fresh or reused read buffers, through merge passes', async () => {
    const nodes = canonical(
      Array.from({ length: 2400 }, (_, i) => ({
        hash: Uint8Array.from(
          { length: 32 },
          (_, j) => (Math.imul(i + 7, 2654435761) >>> ((j % 4) * 8)) ^ j,
        ),
        rlp: Uint8Array.from(
          { length: i % 400 === 0 ? 300_000 : 50 + (i % 200) },
          (_, k) => (i + k) & 0xff,
        ),
      })),
    )
    const want = new Map(nodes.map((n) => [hex(n.hash), hex(n.rlp)]))
    for (const reuseReadBuffers of [false, true]) {
      const stage = join(dir, `merge-${reuseReadBuffers}`)
      const sorter = await NodeSorter.create({ dir: stage })
      for (let r = 0; r < 5; r++) {
        const p = pack(nodes.filter((_, i) => i % 5 === r || i % 97 === 0)) // some in two runs
        sorter.addWrittenRun(writeSortedRun(p, sorter.runPath(r)))
      }
      const input = await sorter.mergeInput()
      let k = 0
      const got: [string, string][] = []
      for await (const packed of mergeRuns(input.paths, {
        max: 300,
        fanIn: 2, // merge passes into scratch runs first
        scratch: () => join(stage, `pass-${k++}.bin`),
        reuseReadBuffers,
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
    await first.addRun(sortPacked(p.bytes).bytes)
    const merging = first.batches(10)
    await merging.next() // the run file is on disk once merging starts
    await merging.return(undefined)
    expect(readdirSync(stage)).toEqual(['run-000000.bin'])
    // no close(): as after a crash
    const second = await NodeSorter.create({ dir: stage })
    expect(readdirSync(stage)).toEqual([]) // the old run file is gone
    const got = []
    for await (const ops of second.batches(10)) got.push(...ops)
    expect(got).toEqual([])
    await second.close()
  })
})
