import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ChunkSource,
  createMultiSourceChunkSource,
  encodeManifest,
  exportSnapshot,
  importSnapshot,
  openSnapshot,
  type SnapshotManifest,
} from '../src/index.js'
import { buildState, seeded } from './helpers.js'

let tmp: string
let good: ChunkSource
let manifest: SnapshotManifest
let stateRoot: Uint8Array

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-sync-'))
  const db = createMemoryStore()
  const built = await buildState(db.namespace('state'), { accounts: 150, contracts: 3, slots: 60 })
  stateRoot = built.stateRoot
  await exportSnapshot({
    stateDb: db.namespace('state'),
    chainId: 3n,
    height: 9n,
    blockHash: seeded('b'),
    stateRoot,
    file: join(tmp, 's.aursnap'),
    chunkSize: 8192,
  })
  good = await openSnapshot(join(tmp, 's.aursnap'))
  manifest = await good.manifest()
})
afterAll(async () => {
  await good.close?.()
  await rm(tmp, { recursive: true, force: true })
})

describe('[sync]: chunks from several sources', () => {
  it('fetches in parallel, skips failing and lying sources', async () => {
    const asked = new Map<string, number>()
    const errors: string[] = []
    let inflight = 0
    let maxInflight = 0
    const source = createMultiSourceChunkSource({
      manifest: encodeManifest(manifest),
      sources: ['liar', 'flaky', 'honest', 'honest2'],
      fetchChunk: async (peer, i) => {
        asked.set(peer, (asked.get(peer) ?? 0) + 1)
        inflight++
        maxInflight = Math.max(maxInflight, inflight)
        await new Promise((r) => setTimeout(r, 2))
        inflight--
        if (peer === 'liar') return new Uint8Array(100)
        if (peer === 'flaky' && i % 2 === 0) throw new Error('timeout')
        return good.chunk(i)
      },
      onSourceError: (peer) => errors.push(peer),
    })
    const db = createMemoryStore()
    const r = await importSnapshot({
      source,
      db,
      expect: { chainId: 3n, stateRoot },
      concurrency: 4,
    })
    expect(r.stateRoot).toEqual(stateRoot)
    expect(source.activeSources).not.toContain('liar')
    expect(errors).toContain('liar')
    expect(errors).toContain('flaky')
    expect(asked.get('honest')).toBeGreaterThan(0)
    expect(maxInflight).toBeGreaterThan(1)
  })

  it('fails with ERR_SNAPSHOT_FETCH_FAILED when no source delivers', async () => {
    const source = createMultiSourceChunkSource({
      manifest,
      sources: ['a', 'b'],
      fetchChunk: async () => {
        throw new Error('unreachable')
      },
    })
    const db = createMemoryStore()
    await expect(importSnapshot({ source, db, expect: { chainId: 3n } })).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_FETCH_FAILED',
    })
    expect(() =>
      createMultiSourceChunkSource({
        manifest,
        sources: [],
        fetchChunk: async () => new Uint8Array(),
      }),
    ).toThrow()
  })
})

describe('[export]: packed files', () => {
  it('writes chunks in order even when compression finishes out of order', async () => {
    const src = await openSnapshot(join(tmp, 's.aursnap'))
    const m = await src.manifest()
    for (let i = 0; i < m.chunks.length; i++) {
      const b = await src.chunk(i)
      expect(b.length).toBe(m.chunks[i].compressedSize)
    }
    await src.close?.()
  })
})
