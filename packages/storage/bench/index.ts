/**
 * Storage benchmarks: LevelStore batch put of 100k 32-byte keys with 100-byte values (batches of
 * 1,000) and ordered iteration of them, in MB/s of key + value bytes. Baseline: raw classic-level
 * with the same data in the same run.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { BenchReport, timeMedian } from '../../../bench/harness.js'
import { type KVStore, openLevelStore } from '../src/index.js'

const N = 100_000
const BATCH = 1_000
const keys = Array.from({ length: N }, () => new Uint8Array(randomBytes(32)))
const values = Array.from({ length: N }, () => new Uint8Array(randomBytes(100)))
const MB = (N * 132) / 1e6
const base = mkdtempSync(join(tmpdir(), 'aureon-storage-bench-'))
let n = 0

async function fill(store: KVStore): Promise<void> {
  for (let i = 0; i < N; i += BATCH) {
    const ops = []
    for (let j = i; j < i + BATCH; j++)
      ops.push({ type: 'put' as const, key: keys[j], value: values[j] })
    await store.batch(ops)
  }
}

async function rawDb(): Promise<ClassicLevel<Uint8Array, Uint8Array>> {
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(base, `raw${n++}`), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  })
  await db.open()
  return db
}

const report = new BenchReport('storage')
try {
  const ours = await timeMedian(async () => {
    const s = await openLevelStore({ path: join(base, `db${n++}`) })
    await fill(s)
    await s.close()
  }, 5)
  const raw = await timeMedian(async () => {
    const db = await rawDb()
    for (let i = 0; i < N; i += BATCH) {
      const ops = []
      for (let j = i; j < i + BATCH; j++)
        ops.push({ type: 'put' as const, key: keys[j], value: values[j] })
      await db.batch(ops)
    }
    await db.close()
  }, 5)
  report.add({
    name: 'storage.level.batchPut',
    value: MB / (ours / 1000),
    unit: 'MB/s',
    baseline: 'raw classic-level batch',
    baselineValue: MB / (raw / 1000),
    note: `${N} puts of 32-byte keys + 100-byte values in batches of ${BATCH}`,
  })

  const s = await openLevelStore({ path: join(base, 'iter') })
  await fill(s)
  const it = await timeMedian(async () => {
    let c = 0
    for await (const _ of s.iterate()) c++
    if (c !== N) throw new Error(`iterated ${c}, expected ${N}`)
  }, 5)
  await s.close()
  const db = await rawDb()
  for (let i = 0; i < N; i += BATCH) {
    await db.batch(
      keys.slice(i, i + BATCH).map((k, j) => ({ type: 'put', key: k, value: values[i + j] })),
    )
  }
  const itRaw = await timeMedian(async () => {
    let c = 0
    for await (const _ of db.iterator()) c++
    if (c !== N) throw new Error(`raw iterated ${c}`)
  }, 5)
  await db.close()
  report.add({
    name: 'storage.level.iterate',
    value: MB / (it / 1000),
    unit: 'MB/s',
    baseline: 'raw classic-level iterator (for await)',
    baselineValue: MB / (itRaw / 1000),
    note: `ordered iteration of ${N} entries`,
  })
  report.write()
} finally {
  rmSync(base, { recursive: true, force: true })
}
