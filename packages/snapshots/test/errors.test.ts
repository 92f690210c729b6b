import { readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@aureon/crypto'
import { createMemoryStore, type KVStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  chunkFileName,
  compressChunk,
  DEFAULT_IMPORT_NAMESPACE,
  decodeChunk,
  decodeManifest,
  decompressChunk,
  encodeChunk,
  encodeManifest,
  exportSnapshot,
  getImportStatus,
  IMPORT_META_NAMESPACE,
  IMPORT_STARTED_KEY,
  importSnapshot,
  isSnapshotError,
  MANIFEST_FILE,
  openSnapshot,
  packSnapshot,
  SegmentType,
  SnapshotError,
  type SnapshotErrorCode,
  unpackSnapshot,
} from '../src/index.js'
import { buildState, seeded } from './helpers.js'

let tmp: string
let snapDir: string
let stateRoot: Uint8Array
let n = 0

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-err-'))
  const db = createMemoryStore()
  const built = await buildState(db.namespace('state'), { accounts: 200, contracts: 4, slots: 80 })
  stateRoot = built.stateRoot
  snapDir = join(tmp, 'good')
  await exportSnapshot({
    stateDb: db.namespace('state'),
    chainId: 7n,
    height: 5n,
    blockHash: seeded('b'),
    stateRoot,
    dir: snapDir,
    chunkSize: 8192,
  })
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** A copy of the good snapshot folder to damage. */
async function copySnap(): Promise<string> {
  const dir = join(tmp, `copy-${n++}`)
  await unpackSnapshot({ file: await packTo(), dir })
  return dir
}

async function packTo(): Promise<string> {
  const file = join(tmp, `pack-${n++}.aursnap`)
  await packSnapshot({ dir: snapDir, file })
  return file
}

/** A node store with existing state, and a digest of everything in it. */
async function nodeWithState(): Promise<{ db: KVStore; digest: () => Promise<string> }> {
  const db = createMemoryStore()
  await buildState(db.namespace('state'), { accounts: 20, contracts: 1, slots: 5, seed: 'old' })
  const digest = async () => {
    const parts: string[] = []
    for (const ns of [
      db.namespace('state'),
      db.namespace('state').namespace('code'),
      db.namespace(DEFAULT_IMPORT_NAMESPACE),
    ]) {
      for await (const [k, v] of ns.iterate())
        parts.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
    }
    return Buffer.from(sha256(new TextEncoder().encode(parts.join(',')))).toString('hex')
  }
  return { db, digest }
}

async function expectRefused(
  source: string | Parameters<typeof importSnapshot>[0]['source'],
  code: SnapshotErrorCode,
  expectChain = 7n,
) {
  // each case twice: nodes written as verified, and staged (sorted run files) then written
  for (const stagingDir of [undefined, await mkdtemp(join(tmpdir(), 'aureon-staging-'))]) {
    const { db, digest } = await nodeWithState()
    const before = await digest()
    let err: unknown
    try {
      await importSnapshot({ source, db, expect: { chainId: expectChain }, stagingDir })
    } catch (e) {
      err = e
    }
    expect(isSnapshotError(err)).toBe(true)
    expect((err as SnapshotError).code).toBe(code)
    expect((err as SnapshotError).message.length).toBeGreaterThan(10)
    expect(await digest()).toBe(before)
    expect((await getImportStatus({ db })).complete).toBe(false)
    if (stagingDir) {
      expect(readdirSync(stagingDir)).toEqual([]) // run files removed
      await rm(stagingDir, { recursive: true, force: true })
    }
  }
}

/** Rewrites chunk `i` of `dir` with `edit` applied to its body, and fixes the manifest's hash. */
async function forgeChunk(
  dir: string,
  i: number,
  edit: (body: ReturnType<typeof decodeChunk>) => void,
) {
  const manifest = decodeManifest(new Uint8Array(await readFile(join(dir, MANIFEST_FILE))))
  const file = join(dir, chunkFileName(i))
  const body = decodeChunk(await decompressChunk(new Uint8Array(await readFile(file)), 1 << 22), i)
  edit(body)
  const raw = encodeChunk(body)
  const c = await compressChunk(raw)
  await writeFile(file, c)
  const info = manifest.chunks[i]
  info.hash = sha256(c)
  info.compressedSize = c.length
  info.rawSize = raw.length
  info.leafCount = body.segments.reduce(
    (s, x) => s + (x.type === SegmentType.Code ? 0 : x.leaves.length),
    0,
  )
  await writeFile(join(dir, MANIFEST_FILE), encodeManifest(manifest))
}

describe('[snapshots]: refused imports leave the state untouched', () => {
  it('stops an import aborted through its signal, while verifying or while writing sorted nodes', async () => {
    for (const phase of ['import', 'write'] as const) {
      const stagingDir = await mkdtemp(join(tmpdir(), 'aureon-staging-'))
      const { db, digest } = await nodeWithState()
      const before = await digest()
      const ac = new AbortController()
      await expect(
        importSnapshot({
          source: snapDir,
          db,
          expect: { chainId: 7n },
          stagingDir,
          signal: ac.signal,
          onProgress: (p) => {
            if (p.phase === phase) ac.abort()
          },
        }),
      ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_ABORTED' })
      expect(await digest()).toBe(before)
      expect((await getImportStatus({ db })).complete).toBe(false)
      expect(readdirSync(stagingDir)).toEqual([])
      await rm(stagingDir, { recursive: true, force: true })
    }
  })

  it('refuses a corrupt chunk (flipped byte)', async () => {
    const dir = await copySnap()
    const f = join(dir, chunkFileName(1))
    const b = await readFile(f)
    b[b.length >> 1] ^= 0xff
    await writeFile(f, b)
    await expectRefused(dir, 'ERR_SNAPSHOT_CORRUPT')
  })

  it('refuses a corrupt manifest', async () => {
    const dir = await copySnap()
    const f = join(dir, MANIFEST_FILE)
    const b = await readFile(f)
    b[60] ^= 1
    await writeFile(f, b)
    await expectRefused(dir, 'ERR_SNAPSHOT_CORRUPT')
  })

  it('refuses a truncated packed file', async () => {
    const file = await packTo()
    const size = (await readFile(file)).length
    await truncate(file, size - 100)
    await expectRefused(file, 'ERR_SNAPSHOT_TRUNCATED')
  })

  it('refuses a folder with a missing chunk', async () => {
    const dir = await copySnap()
    await rm(join(dir, chunkFileName(2)))
    await expectRefused(dir, 'ERR_SNAPSHOT_TRUNCATED')
  })

  it('refuses a truncated chunk file', async () => {
    const dir = await copySnap()
    await truncate(join(dir, chunkFileName(0)), 10)
    await expectRefused(dir, 'ERR_SNAPSHOT_TRUNCATED')
  })

  it('refuses a forged account balance (hashes fixed up in the manifest)', async () => {
    const dir = await copySnap()
    await forgeChunk(dir, 0, (body) => {
      const seg = body.segments.find((s) => s.type === SegmentType.Accounts)
      if (!seg || seg.type !== SegmentType.Accounts) throw new Error('no account segment')
      const v = seg.leaves[0].value.slice()
      v[v.length - 40] ^= 1
      seg.leaves[0] = { key: seg.leaves[0].key, value: v }
    })
    await expectRefused(dir, 'ERR_SNAPSHOT_FORGED')
  })

  it('refuses a chunk that drops a leaf', async () => {
    const dir = await copySnap()
    await forgeChunk(dir, 1, (body) => {
      const seg = body.segments.find((s) => s.type !== SegmentType.Code && s.leaves.length > 2)
      if (!seg || seg.type === SegmentType.Code) throw new Error('no leaves')
      seg.leaves.splice(1, 1)
    })
    await expectRefused(dir, 'ERR_SNAPSHOT_FORGED')
  })

  it('refuses forged storage and forged code', async () => {
    const dir = await copySnap()
    const m = decodeManifest(new Uint8Array(await readFile(join(dir, MANIFEST_FILE))))
    let storageChunk = -1
    let codeChunk = -1
    for (let i = 0; i < m.chunks.length; i++) {
      const body = decodeChunk(
        await decompressChunk(new Uint8Array(await readFile(join(dir, chunkFileName(i)))), 1 << 22),
        i,
      )
      if (
        storageChunk < 0 &&
        body.segments.some((s) => s.type === SegmentType.Storage && s.leaves.length > 0)
      )
        storageChunk = i
      if (codeChunk < 0 && body.segments.some((s) => s.type === SegmentType.Code)) codeChunk = i
    }
    await forgeChunk(dir, storageChunk, (body) => {
      const seg = body.segments.find((s) => s.type === SegmentType.Storage && s.leaves.length > 0)
      if (!seg || seg.type !== SegmentType.Storage) throw new Error('no storage')
      seg.leaves[0] = { key: seg.leaves[0].key, value: new Uint8Array([0x83, 1, 2, 3]) }
    })
    await expectRefused(dir, 'ERR_SNAPSHOT_FORGED')
    const dir2 = await copySnap()
    await forgeChunk(dir2, codeChunk, (body) => {
      const seg = body.segments.find((s) => s.type === SegmentType.Code)
      if (!seg || seg.type !== SegmentType.Code) throw new Error('no code')
      seg.code = new Uint8Array([1, 2, 3])
    })
    await expectRefused(dir2, 'ERR_SNAPSHOT_FORGED')
  })

  it('refuses a snapshot of another chain', async () => {
    await expectRefused(snapDir, 'ERR_SNAPSHOT_WRONG_CHAIN', 8n)
  })

  it('refuses a snapshot whose root is not the trusted one', async () => {
    const { db } = await nodeWithState()
    await expect(
      importSnapshot({ source: snapDir, db, expect: { chainId: 7n, stateRoot: seeded('other') } }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_UNEXPECTED_STATE' })
    await expect(
      importSnapshot({ source: snapDir, db, expect: { chainId: 7n, height: 6n } }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_UNEXPECTED_STATE' })
  })

  it('refuses an unknown format version and a path that is not a snapshot', async () => {
    const dir = await copySnap()
    const f = join(dir, MANIFEST_FILE)
    const b = new Uint8Array(await readFile(f))
    b[5] = 9
    await writeFile(f, b)
    await expectRefused(dir, 'ERR_SNAPSHOT_UNSUPPORTED_VERSION')
    await expectRefused(join(tmp, 'nope'), 'ERR_SNAPSHOT_NOT_FOUND')
    await writeFile(join(tmp, 'junk.bin'), new Uint8Array(100))
    await expectRefused(join(tmp, 'junk.bin'), 'ERR_SNAPSHOT_CORRUPT')
  })
})

describe('[snapshots]: crash safety', () => {
  it('clears an import that fails midway and keeps the old state', async () => {
    const src = await openSnapshot(snapDir)
    let calls = 0
    const failing = {
      manifest: () => src.manifest(),
      chunk: async (i: number) => {
        if (++calls > 3) throw new Error('disk unplugged')
        return src.chunk(i)
      },
    }
    const { db, digest } = await nodeWithState()
    const before = await digest()
    await expect(
      importSnapshot({ source: failing, db, expect: { chainId: 7n }, concurrency: 1 }),
    ).rejects.toThrow('disk unplugged')
    expect(await digest()).toBe(before)
  })

  it('overwrites leftovers of a crashed import, then refuses a second import', async () => {
    const { db } = await nodeWithState()
    await db.namespace(DEFAULT_IMPORT_NAMESPACE).put(seeded('junk'), new Uint8Array([1]))
    // data it did not write is never wiped: the node's live namespace is refused
    await expect(
      importSnapshot({ source: snapDir, db, namespace: 'state', expect: { chainId: 7n } }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_TARGET_NOT_EMPTY' })
    await expect(
      importSnapshot({ source: snapDir, db, expect: { chainId: 7n } }),
    ).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_TARGET_NOT_EMPTY',
    })
    // leftovers of a crashed import (started marker present) are cleared
    await db
      .namespace(DEFAULT_IMPORT_NAMESPACE)
      .namespace(IMPORT_META_NAMESPACE)
      .put(IMPORT_STARTED_KEY, new Uint8Array([1]))
    const r = await importSnapshot({ source: snapDir, db, expect: { chainId: 7n } })
    expect(await db.namespace(r.namespace).get(seeded('junk'))).toBeUndefined()
    expect(await db.namespace(r.namespace).get(stateRoot)).toBeDefined()
    await expect(
      importSnapshot({ source: snapDir, db, expect: { chainId: 7n } }),
    ).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_TARGET_NOT_EMPTY',
    })
    expect((await getImportStatus({ db })).complete).toBe(true)
  })

  it('SnapshotError serializes with its code', () => {
    const e = new SnapshotError('ERR_SNAPSHOT_FORGED', 'bad', { details: { chunk: 1 } })
    expect(e.toJSON()).toEqual({
      name: 'SnapshotError',
      code: 'ERR_SNAPSHOT_FORGED',
      message: 'bad',
      details: { chunk: 1 },
    })
    expect(isSnapshotError(e, 'ERR_SNAPSHOT_CORRUPT')).toBe(false)
    expect(isSnapshotError(new Error('x'))).toBe(false)
  })
})
