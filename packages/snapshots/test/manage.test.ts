import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSnapshot,
  exportSnapshot,
  isSnapshotError,
  listSnapshots,
  packSnapshot,
  pruneSnapshots,
  readManifest,
} from '../src/index.js'
import { buildState, seeded } from './helpers.js'

let tmp: string
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-manage-'))
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

describe('[snapshots]: create, list, prune', () => {
  it('creates one folder per height, lists by height, keeps the last K', async () => {
    const db = createMemoryStore()
    const built = await buildState(db.namespace('state'), { accounts: 30, contracts: 1, slots: 10 })
    const snapshotsDir = join(tmp, 'snaps')
    for (const height of [30n, 10n, 20n]) {
      const r = await createSnapshot({
        snapshotsDir,
        stateDb: db.namespace('state'),
        chainId: 1n,
        height,
        blockHash: seeded(`b${height}`),
        stateRoot: built.stateRoot,
      })
      expect(r.path).toContain(`${height}`)
    }
    await writeFile(join(snapshotsDir, 'notes.txt'), 'not a snapshot')
    expect((await listSnapshots(snapshotsDir)).map((s) => s.manifest.height)).toEqual([
      10n,
      20n,
      30n,
    ])
    const dropped = await pruneSnapshots({ snapshotsDir, keep: 2 })
    expect(dropped.map((s) => s.manifest.height)).toEqual([10n])
    expect((await listSnapshots(snapshotsDir)).map((s) => s.manifest.height)).toEqual([20n, 30n])
    expect(await listSnapshots(join(tmp, 'missing'))).toEqual([])
    // a folder cannot be written twice; pack refuses nothing odd
    await expect(
      exportSnapshot({
        stateDb: db.namespace('state'),
        chainId: 1n,
        height: 20n,
        blockHash: seeded('b'),
        stateRoot: built.stateRoot,
        dir: (await listSnapshots(snapshotsDir))[0].path,
      }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_INVALID_OPTIONS' })
    const file = join(tmp, 'x.aursnap')
    await packSnapshot({ dir: (await listSnapshots(snapshotsDir))[0].path, file })
    expect((await readManifest(file)).height).toBe(20n)
  })

  it('validates export options and reports a missing state', async () => {
    const db = createMemoryStore()
    const base = {
      stateDb: db,
      chainId: 1n,
      height: 1n,
      blockHash: seeded('b'),
      stateRoot: seeded('r'),
    }
    await expect(exportSnapshot({ ...base })).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_INVALID_OPTIONS',
    })
    await expect(
      exportSnapshot({ ...base, dir: join(tmp, 'a'), chunkSize: 10 }),
    ).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_INVALID_OPTIONS',
    })
    await expect(
      exportSnapshot({ ...base, dir: join(tmp, 'a'), blockHash: new Uint8Array(3) }),
    ).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_INVALID_OPTIONS',
    })
    let err: unknown
    try {
      await exportSnapshot({ ...base, file: join(tmp, 'missing.aursnap') })
    } catch (e) {
      err = e
    }
    expect(isSnapshotError(err, 'ERR_SNAPSHOT_MISSING_STATE')).toBe(true)
    expect(await listSnapshots(tmp)).not.toContainEqual(
      expect.objectContaining({ path: join(tmp, 'missing.aursnap') }),
    )
  })

  it('aborts an export through its signal', async () => {
    const db = createMemoryStore()
    const built = await buildState(db.namespace('state'), { accounts: 200, contracts: 0, slots: 0 })
    const ac = new AbortController()
    ac.abort()
    await expect(
      exportSnapshot({
        stateDb: db.namespace('state'),
        chainId: 1n,
        height: 1n,
        blockHash: seeded('b'),
        stateRoot: built.stateRoot,
        dir: join(tmp, 'aborted'),
        chunkSize: 4096,
        signal: ac.signal,
      }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_ABORTED' })
  })
})
