import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemoryStore, type KVStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSnapshot,
  exportSnapshot,
  importSnapshot,
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

  it('reads contracts ahead (storage walks, each code once) and exports them in order', async () => {
    // more contracts than the export starts ahead, pairs sharing code, storage cut over chunks
    const db = createMemoryStore()
    const built = await buildState(db.namespace('state'), {
      accounts: 40,
      contracts: 14,
      slots: 30,
    })
    const codeGets: string[] = []
    const stateDb = db.namespace('state')
    const counting: KVStore = Object.create(stateDb)
    counting.namespace = (name: string) => {
      const ns = stateDb.namespace(name)
      const wrapped: KVStore = Object.create(ns)
      wrapped.get = (key, opts) => {
        codeGets.push(Buffer.from(key).toString('hex'))
        return ns.get(key, opts)
      }
      return wrapped
    }
    const reads: string[][] = []
    counting.getMany = (keys, opts) => {
      reads.push(keys.map((k) => Buffer.from(k).toString('hex')))
      return stateDb.getMany(keys, opts)
    }
    const roots = new Set<string>()
    for (const c of built.contracts) {
      roots.add(Buffer.from((await built.state.getAccount(c)).storageRoot).toString('hex'))
    }
    const dir = join(tmp, 'contracts')
    const { manifest } = await exportSnapshot({
      stateDb: counting,
      chainId: 1n,
      height: 1n,
      blockHash: seeded('b'),
      stateRoot: built.stateRoot,
      dir,
      chunkSize: 4096,
    })
    expect(manifest.codeCount).toBe(7)
    expect(manifest.storageCount).toBe(14 * 30)
    expect(manifest.accountCount).toBe(40 + 14 + 1)
    // storage walks started ahead: several contracts' storage roots in one store read (read
    // only when the export reached each contract, every root would be a read of its own)
    expect(reads.some((ks) => ks.filter((k) => roots.has(k)).length >= 2)).toBe(true)
    // each code blob read once although two contracts hold it
    expect(codeGets.length).toBe(7)
    expect(new Set(codeGets).size).toBe(7)
    const target = createMemoryStore()
    const r = await importSnapshot({ source: dir, db: target, expect: { chainId: 1n } })
    expect(r.stateRoot).toEqual(built.stateRoot)
  })

  it('reports a missing code blob or storage node of a contract read ahead as MISSING_STATE', async () => {
    for (const lose of ['code', 'storage'] as const) {
      const db = createMemoryStore()
      const stateDb = db.namespace('state')
      const built = await buildState(stateDb, { accounts: 20, contracts: 9, slots: 12 })
      const victim = await built.state.getAccount(built.contracts[7])
      if (lose === 'code') await stateDb.namespace('code').del(victim.codeHash)
      else await stateDb.del(victim.storageRoot)
      const file = join(tmp, `lost-${lose}.aursnap`)
      let err: unknown
      try {
        await exportSnapshot({
          stateDb,
          chainId: 1n,
          height: 1n,
          blockHash: seeded('b'),
          stateRoot: built.stateRoot,
          file,
          chunkSize: 4096,
        })
      } catch (e) {
        err = e
      }
      expect(isSnapshotError(err, 'ERR_SNAPSHOT_MISSING_STATE')).toBe(true)
      expect(await listSnapshots(tmp)).not.toContainEqual(expect.objectContaining({ path: file }))
    }
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
