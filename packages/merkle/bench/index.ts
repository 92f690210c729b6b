/**
 * Merkle benchmarks.
 * - merkle.commit.overhead: state commit of 1,000 changed accounts on a 1,000,000-account state
 *   on LevelStore (tree.batch + root + flush + ONE store batch), vs raw @ethereumjs/mpt
 *   (`batch` + root, its nodes written through a plain util DB adapter on the same LevelDB) on
 *   the same updates from the same root. Both use hash-wasm keccak. Ratio = ours / raw time.
 * - merkle.update.100k: 1,000 updates + root on a 100k-key trie in memory (ms), baseline raw
 *   @ethereumjs/mpt with its defaults (noble keccak, MapDB).
 * - merkle.build: one-pass build of the whole state trie (entries/s).
 * - merkle.commit.1000: ms per commit of 1,000 accounts (ours), raw mpt as baseline.
 * AUREON_BENCH_ACCOUNTS overrides the 1,000,000 state size.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { type KVStore, openLevelStore } from '@aureon/storage'
import { createMPT } from '@ethereumjs/mpt'
import { type BatchDBOp, type DB, MapDB } from '@ethereumjs/util'
import { BenchReport, median, timeMedian } from '../../../bench/harness.js'
import {
  createStateTree,
  createStateTreeFromEntries,
  keccak256,
  type StateTreeOp,
  writeStateTreeFromEntries,
} from '../src/index.js'

const N = Number(process.env.AUREON_BENCH_ACCOUNTS ?? 1_000_000)
const CHANGES = 1_000
const RUNS = Number(process.env.AUREON_BENCH_RUNS ?? 7)
const report = new BenchReport('merkle')
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')
const loadStart = load()
const base = mkdtempSync(join(tmpdir(), 'aureon-merkle-bench-'))

const address = (i: number) => {
  const a = new Uint8Array(20)
  new DataView(a.buffer).setUint32(16, i)
  a[0] = 0xaa
  return a
}
/** An account-like RLP-sized value (~70 bytes), distinct per (i, salt), cheap to make. */
const account = (i: number, salt: number) => {
  const v = new Uint8Array(70)
  const d = new DataView(v.buffer)
  d.setUint32(0, i)
  d.setUint32(4, salt)
  let x = (i * 2_654_435_761 + salt * 40_503 + 1) >>> 0
  for (let k = 8; k < 24; k += 4) {
    x = (x ^ (x << 13)) >>> 0
    x = (x ^ (x >>> 17)) >>> 0
    x = (x ^ (x << 5)) >>> 0
    d.setUint32(k, x)
  }
  return v
}

/** A plain util DB over a KVStore, writing immediately (how raw mpt is used on LevelDB). */
class RawKVDB implements DB<string, Uint8Array> {
  constructor(private store: KVStore) {}
  async get(key: string) {
    return this.store.get(Buffer.from(key, 'hex'))
  }
  async put(key: string, value: Uint8Array) {
    await this.store.put(Buffer.from(key, 'hex'), value)
  }
  async del(key: string) {
    await this.store.del(Buffer.from(key, 'hex'))
  }
  async batch(ops: BatchDBOp<string, Uint8Array>[]) {
    await this.store.batch(
      ops.map((o) =>
        o.type === 'put'
          ? { type: 'put' as const, key: Buffer.from(o.key, 'hex'), value: o.value }
          : { type: 'del' as const, key: Buffer.from(o.key, 'hex') },
      ),
    )
  }
  shallowCopy() {
    return this
  }
  async open() {}
}

/** `count` distinct accounts (a stride prime to n walks them without repeats), new values. */
function updates(run: number, n: number, count: number): StateTreeOp[] {
  const ops: StateTreeOp[] = []
  const stride = 104_729 % n === 0 ? 1 : 104_729
  for (let j = 0; j < count; j++) {
    const i = (run * 7_919 + j * stride) % n
    ops.push({ type: 'put', key: address(i), value: account(i, run + 1) })
  }
  return ops
}

try {
  // ---- build the 1M-account state on LevelStore -------------------------------------------
  const store = await openLevelStore({ path: join(base, 'state') })
  const db = store.namespace('state')
  const entries = Array.from({ length: N }, (_, i) => ({ key: address(i), value: account(i, 0) }))
  const t0 = performance.now()
  let nodes = 0
  const counted: KVStore = new Proxy(db, {
    get(target, prop) {
      if (prop === 'batch') {
        return (ops: Parameters<KVStore['batch']>[0]) => {
          nodes += ops.length
          return target.batch(ops)
        }
      }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  // one pass: sort the hashed keys, build and hash each node once, write nodes in big batches
  const root0 = await writeStateTreeFromEntries({ db: counted, entries })
  const buildMs = performance.now() - t0
  report.add({
    name: 'merkle.build',
    value: N / (buildMs / 1000),
    unit: 'entries/s',
    note: `one-pass build of ${N} accounts written to LevelStore (${nodes} nodes, batches of 50,000): ${buildMs.toFixed(0)} ms`,
  })
  console.error(`built ${N} accounts in ${buildMs.toFixed(0)} ms (${nodes} nodes)`)
  entries.length = 0

  // ---- commit of 1,000 changed accounts: ours vs raw mpt, same updates, same root ---------
  const tree = await createStateTree({ db, root: root0 })
  const raw = await createMPT({
    db: new RawKVDB(db),
    useKeyHashing: true,
    useKeyHashingFunction: keccak256,
    valueEncoding: 'view',
  })
  const ours: number[] = []
  const theirs: number[] = []
  let nodesPerCommit = 0
  for (let run = 0; run < RUNS + 1; run++) {
    const ops = updates(run, N, CHANGES)
    await tree.setRoot(root0)
    let t = performance.now()
    await tree.batch(ops)
    const r1 = tree.root()
    const flushed = tree.flush({ namespace: ['state'] })
    await store.batch(flushed)
    const a = performance.now() - t
    nodesPerCommit = flushed.length
    raw.root(root0)
    t = performance.now()
    await raw.batch(ops.map((o) => ({ type: 'put', key: o.key, value: o.value! })))
    const r2 = raw.root()
    const b = performance.now() - t
    if (Buffer.compare(r1, r2) !== 0) throw new Error('roots differ between StateTree and raw mpt')
    console.error(`run ${run}: ours ${a.toFixed(1)} ms, raw ${b.toFixed(1)} ms`)
    if (run > 0) {
      ours.push(a)
      theirs.push(b)
    }
  }
  report.add({
    name: 'merkle.commit.overhead',
    value: median(ours) / median(theirs),
    unit: 'ratio',
    baseline:
      'raw @ethereumjs/mpt batch (hash-wasm keccak, util DB adapter on the same LevelStore)',
    baselineValue: 1,
    ratio: Number((median(ours) / median(theirs)).toFixed(4)),
    note: `ours ${median(ours).toFixed(1)} ms vs raw ${median(theirs).toFixed(1)} ms per commit of ${CHANGES} accounts on ${N}; ${nodesPerCommit} nodes per commit; target <= 1.1`,
  })
  report.add({
    name: 'merkle.commit.1000',
    value: median(ours),
    unit: 'ms',
    baseline: 'raw @ethereumjs/mpt batch on LevelStore',
    baselineValue: median(theirs),
  })
  await store.close()

  // ---- 1,000 updates + root on a 100k trie, in memory ----------------------------------
  const { createMemoryStore } = await import('@aureon/storage')
  const M = 100_000
  const mem = createMemoryStore()
  const small = await createStateTreeFromEntries({
    db: mem,
    entries: Array.from({ length: M }, (_, i) => ({ key: address(i), value: account(i, 0) })),
  })
  const rootM = small.root()
  await mem.batch(small.flush())
  const t100 = await createStateTree({ db: mem, root: rootM })
  let run = 100
  const oursMem = await timeMedian(async () => {
    await t100.setRoot(rootM)
    await t100.batch(updates(run++, M, CHANGES))
    t100.root()
    await mem.batch(t100.flush())
  }, RUNS)
  // raw mpt with its defaults on a MapDB holding the same nodes (same trie, no re-insertion)
  const mapDb = new MapDB<string, Uint8Array>()
  for await (const [key, value] of mem.iterate())
    await mapDb.put(Buffer.from(key).toString('hex'), value)
  const rawMem = await createMPT({
    db: mapDb,
    useKeyHashing: true,
    valueEncoding: 'view',
    root: rootM,
  })
  const rawRoot = rawMem.root()
  run = 100
  const rawMemMs = await timeMedian(async () => {
    rawMem.root(rawRoot)
    await rawMem.batch(
      updates(run++, M, CHANGES).map((o) => ({ type: 'put', key: o.key, value: o.value! })),
    )
  }, RUNS)
  report.add({
    name: 'merkle.update.100k',
    value: oursMem,
    unit: 'ms',
    baseline: 'raw @ethereumjs/mpt defaults (noble keccak) on a MapDB with the same nodes',
    baselineValue: rawMemMs,
    note: '1,000 updates + root (+ flush to MemoryStore for ours) on a 100,000-key trie',
  })
  const loadNote = `load average (1, 5, 15 min) ${loadStart} at start, ${load()} at end, 2 cores`
  for (const r of report.results) r.note = r.note ? `${r.note}; ${loadNote}` : loadNote
  report.write()
} finally {
  rmSync(base, { recursive: true, force: true })
}
