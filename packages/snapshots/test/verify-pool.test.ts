import { execFileSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ChunkSource,
  type ChunkVerifierThreads,
  createChunkVerifier,
  importSnapshot,
  isSnapshotError,
  openSnapshot,
  type PackedVerifiedChunk,
  type SnapshotManifest,
  verifyChunkPacked,
} from '../src/index.js'
import {
  mergeRuns,
  NodeSorter,
  type PackedNodes,
  sortPacked,
  type WrittenRun,
} from '../src/sort.js'
import { exportTestSnapshot, seeded } from './helpers.js'

// the worker runs this package's sources (a TypeScript loader), as the built code runs dist/
const WORKER: ChunkVerifierThreads = {
  workerUrl: new URL('../src/verify-worker.ts', import.meta.url),
  execArgv: ['--import', 'tsx'],
}

let tmp: string
let dir: string
let source: ChunkSource
let manifest: SnapshotManifest
let chunks: Uint8Array[]

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-pool-'))
  dir = join(tmp, 'snap')
  await exportTestSnapshot(dir, { accounts: 60, contracts: 3, slots: 30 })
  source = await openSnapshot(dir)
  manifest = await source.manifest()
  chunks = await Promise.all(manifest.chunks.map((_, i) => source.chunk(i)))
  expect(chunks.length).toBeGreaterThan(4)
})
afterAll(async () => {
  await source?.close?.()
  await rm(tmp, { recursive: true, force: true })
})

/** What a verified chunk says, comparable with toEqual. */
function summary(v: PackedVerifiedChunk) {
  const { nodes, codeOps, ...rest } = v
  return { ...rest, nodes: [...nodes.bytes], count: nodes.count, codeOps }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    expect(isSnapshotError(e), String(e)).toBe(true)
    return (e as { code: string }).code
  }
  return 'accepted'
}

describe('createChunkVerifier', () => {
  it('verifies on a worker thread exactly as on the calling thread', async () => {
    const verifier = createChunkVerifier({ manifest, workers: 1, ...WORKER })
    try {
      expect(verifier.workers).toBe(1)
      expect(verifier.window).toBe(3) // two on the worker, one here
      const [onPool, here] = await Promise.all([
        Promise.all(chunks.map((b, i) => verifier.verify(i, b))),
        Promise.all(chunks.map((b, i) => verifyChunkPacked({ manifest, index: i, bytes: b }))),
      ])
      expect(onPool.map(summary)).toEqual(here.map(summary))
      // the caller's bytes are left as they were (the worker got a copy)
      expect(chunks.every((b) => b.length > 0)).toBe(true)
    } finally {
      await verifier.close()
    }
  })

  it('writes the same sorted run file on a worker as on the calling thread, and as sortPacked', async () => {
    const verifier = createChunkVerifier({ manifest, workers: 1, alsoHere: false, ...WORKER })
    try {
      for (let i = 0; i < chunks.length; i++) {
        const onWorker = await verifier.verify(i, chunks[i], { runPath: join(tmp, `w-${i}.bin`) })
        const here = await verifyChunkPacked({
          manifest,
          index: i,
          bytes: chunks[i],
          runPath: join(tmp, `h-${i}.bin`),
        })
        const plain = await verifyChunkPacked({ manifest, index: i, bytes: chunks[i] })
        const want = sortPacked(plain.nodes.bytes)
        expect(onWorker.nodes.count).toBe(0)
        expect(onWorker.run).toEqual({
          path: join(tmp, `w-${i}.bin`),
          bytes: want.length,
          count: want.count,
        })
        expect(here.run).toEqual({
          path: join(tmp, `h-${i}.bin`),
          bytes: want.length,
          count: want.count,
        })
        expect(new Uint8Array(await readFile(join(tmp, `w-${i}.bin`)))).toEqual(want.bytes)
        expect(new Uint8Array(await readFile(join(tmp, `h-${i}.bin`)))).toEqual(want.bytes)
      }
    } finally {
      await verifier.close()
    }
  })

  it('merges run files on the worker as mergeRuns does here (none without a worker)', async () => {
    const stage = join(tmp, 'merge-stage')
    const sorter = await NodeSorter.create({ dir: stage })
    for (let i = 0; i < chunks.length; i++) {
      const v = await verifyChunkPacked({
        manifest,
        index: i,
        bytes: chunks[i],
        runPath: sorter.runPath(i),
      })
      sorter.addWrittenRun(v.run as WrittenRun)
    }
    const input = sorter.mergeInput()
    const flat = async (batches: AsyncIterable<PackedNodes>) => {
      const out: string[] = []
      for await (const p of batches) out.push(Buffer.from(p.bytes).toString('hex'))
      return out.join('')
    }
    const here = await flat(mergeRuns(input.paths, { max: 100, scratch: () => join(stage, 'x') }))
    const verifier = createChunkVerifier({ manifest, workers: 1, ...WORKER })
    try {
      const onWorker = verifier.merge(input, 100)
      expect(onWorker).toBeDefined()
      expect(await flat(onWorker as AsyncGenerator<PackedNodes>)).toBe(here)
    } finally {
      await verifier.close()
    }
    expect(createChunkVerifier({ manifest, workers: 0 }).merge(input, 100)).toBeUndefined()
    // a run the worker cannot read: the merge fails with the staging code, not the worker
    const broken = createChunkVerifier({ manifest, workers: 1, ...WORKER })
    try {
      const bad = broken.merge({ ...input, paths: [join(stage, 'missing.bin')] }, 100)
      const drain = async () => {
        for await (const _ of bad as AsyncGenerator<PackedNodes>) {
        }
      }
      expect(await codeOf(drain())).toBe('ERR_SNAPSHOT_STAGING_FAILED')
      expect(broken.workers).toBe(1)
      expect(await flat(broken.merge(input, 100) as AsyncGenerator<PackedNodes>)).toBe(here)
    } finally {
      await broken.close()
    }
    await sorter.close()
  })

  it('refuses a bad chunk on the worker with the same code as on the calling thread', async () => {
    const forgedManifest = { ...manifest, stateRoot: seeded('not the root') }
    const verifier = createChunkVerifier({
      manifest: forgedManifest,
      workers: 1,
      alsoHere: false,
      ...WORKER,
    })
    try {
      expect(verifier.window).toBe(2)
      const bad = chunks[1].slice()
      bad[bad.length >> 1] ^= 1
      expect(await codeOf(verifier.verify(1, bad))).toBe('ERR_SNAPSHOT_CORRUPT')
      expect(await codeOf(verifier.verify(0, chunks[0]))).toBe('ERR_SNAPSHOT_FORGED')
      expect(
        await codeOf(verifyChunkPacked({ manifest: forgedManifest, index: 0, bytes: chunks[0] })),
      ).toBe('ERR_SNAPSHOT_FORGED')
    } finally {
      await verifier.close()
    }
  })

  it('verifies on the calling thread when its worker cannot start', async () => {
    const verifier = createChunkVerifier({
      manifest,
      workers: 1,
      alsoHere: false,
      workerUrl: new URL('./no-such-worker.js', import.meta.url),
    })
    try {
      const got = await Promise.all(chunks.map((b, i) => verifier.verify(i, b)))
      expect(got.map((v) => v.index)).toEqual(chunks.map((_, i) => i))
      expect(got.map((v) => v.leafCount)).toEqual(manifest.chunks.map((c) => c.leafCount))
    } finally {
      await verifier.close()
    }
  })

  it('close() refuses the chunks not verified yet, and later ones', async () => {
    const verifier = createChunkVerifier({ manifest, workers: 1, alsoHere: false, ...WORKER })
    const settled = Promise.all(chunks.map((b, i) => codeOf(verifier.verify(i, b))))
    await verifier.close()
    const codes = await settled
    expect(codes.every((c) => c === 'ERR_SNAPSHOT_ABORTED' || c === 'accepted')).toBe(true)
    expect(codes.filter((c) => c === 'ERR_SNAPSHOT_ABORTED').length).toBeGreaterThan(0)
    expect(await codeOf(verifier.verify(0, chunks[0]))).toBe('ERR_SNAPSHOT_ABORTED')
  })

  it('keeps the process alive while a worker verifies, and not once it is idle', () => {
    // a process whose only pending work is the worker's answer; it never calls close()
    const script = `
      import { createChunkVerifier, openSnapshot } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)}
      const src = await openSnapshot(${JSON.stringify(dir)})
      const manifest = await src.manifest()
      const bytes = await src.chunk(0)
      await src.close?.()
      const verifier = createChunkVerifier({
        manifest, workers: 1, alsoHere: false,
        workerUrl: new URL(${JSON.stringify(String(WORKER.workerUrl))}), execArgv: ['--import', 'tsx'],
      })
      const v = await verifier.verify(0, bytes)
      console.log('verified', v.index, v.leafCount)
    `
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000, cwd: new URL('..', import.meta.url) },
    ).toString()
    expect(out).toContain(`verified 0 ${manifest.chunks[0].leafCount}`)
  })

  it('runs on the calling thread only with workers: 0', () => {
    const verifier = createChunkVerifier({ manifest, workers: 0, ...WORKER })
    expect(verifier.workers).toBe(0)
    expect(verifier.window).toBe(1)
  })
})

describe('importSnapshot with a verification worker', () => {
  it('imports the same state, staged or not', async () => {
    for (const stagingDir of [undefined, join(tmp, 'staging')]) {
      const db = createMemoryStore()
      const r = await importSnapshot({
        source: dir,
        db,
        expect: { chainId: 7n, stateRoot: manifest.stateRoot },
        stagingDir,
        verifyThreads: { workers: 1, ...WORKER },
      })
      expect(r.stateRoot).toEqual(manifest.stateRoot)
      const plain = createMemoryStore()
      await importSnapshot({
        source: dir,
        db: plain,
        expect: { chainId: 7n },
        verifyThreads: { workers: 0 },
      })
      const all = async (s: typeof db) => {
        const out: string[] = []
        for await (const [k, v] of s.iterate())
          out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
        return out
      }
      expect(await all(db)).toEqual(await all(plain))
    }
  })

  it('refuses a staging folder it cannot create with a coded error, writing nothing', async () => {
    const file = join(tmp, 'not-a-folder')
    await writeFile(file, 'x')
    const db = createMemoryStore()
    const code = await codeOf(
      importSnapshot({ source: dir, db, expect: { chainId: 7n }, stagingDir: file }),
    )
    expect(code).toBe('ERR_SNAPSHOT_STAGING_FAILED')
    for await (const _ of db.iterate({ limit: 1 })) throw new Error('the import left data behind')
  })

  it('refuses a forged snapshot through the worker and leaves the namespace empty', async () => {
    const db = createMemoryStore()
    const forged: ChunkSource = {
      manifest: async () => ({ ...manifest, stateRoot: seeded('other root') }),
      chunk: (i) => source.chunk(i),
    }
    const code = await codeOf(
      importSnapshot({
        source: forged,
        db,
        expect: { chainId: 7n },
        verifyThreads: { workers: 1, ...WORKER },
      }),
    )
    expect(code).toBe('ERR_SNAPSHOT_FORGED')
    for await (const _ of db.iterate({ limit: 1 })) throw new Error('the import left data behind')
  })
})
