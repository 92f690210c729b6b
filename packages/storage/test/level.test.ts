import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isStorageError, openLevelStore, StorageError } from '../src/index.js'
import { kvStoreConformance } from './conformance.js'

const base = mkdtempSync(join(tmpdir(), 'aureon-storage-'))
let n = 0
afterAll(() => rmSync(base, { recursive: true, force: true }))

kvStoreConformance('LevelStore', () => openLevelStore({ path: join(base, `db${n++}`) }))

describe('[LevelStore]: persistence and locking', () => {
  it('keeps data across close and reopen', async () => {
    const path = join(base, 'persist')
    const s = await openLevelStore({ path })
    await s.batch([
      { type: 'put', key: new Uint8Array([1]), value: new Uint8Array([2]) },
      { type: 'put', key: new Uint8Array([1]), value: new Uint8Array([3]), namespace: ['ns'] },
    ])
    await s.close()
    const t = await openLevelStore({ path })
    expect(await t.get(new Uint8Array([1]))).toEqual(new Uint8Array([2]))
    expect(await t.namespace('ns').get(new Uint8Array([1]))).toEqual(new Uint8Array([3]))
    await t.close()
  })

  it('refuses a second handle with ERR_STORE_LOCKED naming the path', async () => {
    const path = join(base, 'locked')
    const s = await openLevelStore({ path })
    const err = await openLevelStore({ path }).catch((e) => e)
    expect(isStorageError(err, 'ERR_STORE_LOCKED')).toBe(true)
    expect(err.message).toContain(path)
    expect(err.details).toEqual({ path })
    expect(err.toJSON()).toMatchObject({ code: 'ERR_STORE_LOCKED' })
    await s.close()
  })

  it('refuses a store another process holds with ERR_STORE_LOCKED', async () => {
    const path = join(base, 'other-process')
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { ClassicLevel } from 'classic-level'
         const db = new ClassicLevel(${JSON.stringify(path)}); await db.open()
         console.log('ready'); process.stdin.on('data', async () => { await db.close(); process.exit(0) })`,
      ],
      { cwd: join(import.meta.dirname ?? __dirname, '..'), stdio: ['pipe', 'pipe', 'inherit'] },
    )
    try {
      await new Promise<void>((res, rej) => {
        child.stdout.on('data', (d) => String(d).includes('ready') && res())
        child.on('exit', (c) => rej(new Error(`child exited ${c}`)))
      })
      const err = await openLevelStore({ path }).catch((e) => e)
      expect(err).toBeInstanceOf(StorageError)
      expect(err.code).toBe('ERR_STORE_LOCKED')
      expect(err.message).toContain(path)
    } finally {
      child.stdin.write('x')
      await new Promise((res) => child.on('exit', res))
    }
    const s = await openLevelStore({ path })
    await s.close()
  })

  it('reports other open failures with ERR_STORE_OPEN_FAILED', async () => {
    const file = join(base, 'a-file')
    writeFileSync(file, 'not a directory')
    const path = join(file, 'db')
    const err = await openLevelStore({ path }).catch((e) => e)
    expect(isStorageError(err, 'ERR_STORE_OPEN_FAILED')).toBe(true)
    expect(err.message).toContain(path)
  })
})

describe('[LevelStore]: LevelDB options', () => {
  it('passes maxOpenFiles, blockSize, maxFileSize through and reads back a store of many tables', async () => {
    const path = join(base, 'options')
    const opts = {
      path,
      maxOpenFiles: 74,
      blockSize: 1024,
      maxFileSize: 64 * 1024,
      writeBufferSize: 64 * 1024,
      cacheSize: 1 << 20,
    }
    const s = await openLevelStore(opts)
    const value = (i: number) => {
      // incompressible, deterministic: the tables hold about the bytes written
      const v = new Uint8Array(512)
      let x = i + 1
      for (let k = 0; k < v.length; k++) {
        x = (x * 1103515245 + 12345) >>> 0
        v[k] = x >>> 24
      }
      return v
    }
    const key = (i: number) => new Uint8Array([i >> 8, i & 0xff])
    for (let b = 0; b < 80; b++) {
      await s.batch(
        Array.from({ length: 50 }, (_, j) => ({
          type: 'put' as const,
          key: key(b * 50 + j),
          value: value(b * 50 + j),
        })),
      )
    }
    await s.close()
    // small tables: the 2 MB written spread over more table files than the table cache holds
    const tables = readdirSync(path).filter((f) => f.endsWith('.ldb'))
    expect(tables.length).toBeGreaterThan(10)
    const t = await openLevelStore(opts)
    let n = 0
    for await (const [k, v] of t.iterate()) {
      const i = (k[0] << 8) | k[1]
      expect(v).toEqual(value(i))
      n++
    }
    expect(n).toBe(4000)
    expect(await t.get(key(3999))).toEqual(value(3999))
    await t.close()
  })
})

describe('[LevelStore]: reads that do not fill the block cache', () => {
  it('get and getMany with fillCache: false answer as plain reads, in every namespace', async () => {
    const s = await openLevelStore({ path: join(base, 'nofill'), cacheSize: 64 * 1024 })
    const ns = s.namespace('ns')
    const key = (i: number) => new Uint8Array([i >> 8, i & 0xff, 9])
    const ops = Array.from({ length: 500 }, (_, i) => ({
      type: 'put' as const,
      key: key(i),
      value: new Uint8Array(64).fill(i & 0xff),
    }))
    await ns.batch(ops)
    const keys = [...ops.map((o) => o.key), new Uint8Array([0xff, 0xff])]
    const plain = await ns.getMany(keys)
    expect(await ns.getMany(keys, { fillCache: false })).toEqual(plain)
    expect(plain[500]).toBeUndefined()
    expect(await ns.get(key(7), { fillCache: false })).toEqual(ops[7].value)
    expect(await s.get(key(7), { fillCache: false })).toBeUndefined()
    await s.close()
  })
})
