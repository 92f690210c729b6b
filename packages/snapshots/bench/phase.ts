/**
 * One benchmark phase, run in its own process so its peak RSS is its own:
 *   setup | export | export-unbounded | raw-export | import | raw-import, then <dir>
 * Prints one JSON line with the result. It runs as plain Node (TypeScript types stripped) on the
 * built packages (`@aureon/snapshots` is this package's dist/), as `aureon snapshot`'s worker
 * runs on built code: the process holds what the CLI's would, no TypeScript loader.
 */
import { readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import * as zlib from 'node:zlib'
import { sha256 } from '@aureon/crypto'
import { createWorldState, emptyAccount, encodeAccount } from '@aureon/ledger'
import { keccak256 } from '@aureon/merkle'
import {
  exportSnapshot,
  importSnapshot,
  SNAPSHOT_EXPORT_STORE_OPTIONS,
  SNAPSHOT_STORE_OPTIONS,
  trieRoot,
} from '@aureon/snapshots'
import { type BatchOp, type KVStore, openLevelStore } from '@aureon/storage'

type Z = (b: Uint8Array, o: object, cb: (e: Error | null, r: Buffer) => void) => void
const zc = zlib as unknown as {
  zstdCompress: Z
  zstdDecompress: Z
  constants: Record<string, number>
}
const compress = promisify(zc.zstdCompress)
const decompress = promisify(zc.zstdDecompress)
const LEVEL = { params: { [zc.constants.ZSTD_c_compressionLevel]: 3 } }

const [phase, dir] = process.argv.slice(2)
const N = Number(process.env.AUREON_BENCH_ACCOUNTS ?? 1_000_000)
const CONTRACTS = Number(process.env.AUREON_BENCH_CONTRACTS ?? 200)
const SLOTS = Number(process.env.AUREON_BENCH_SLOTS ?? 500)
const CHUNK = 4 * 1024 * 1024
// export / import open the store as `aureon snapshot` does (export-unbounded: export with
// LevelDB's default table cache); the raw pipeline keeps the defaults
const STORE = SNAPSHOT_STORE_OPTIONS
const rssMB = () => process.resourceUsage().maxRSS / 1024
const mem = () => {
  const m = process.memoryUsage()
  const st = readFileSync('/proc/self/status', 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? 0) >> 10
  return {
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    heapTotal: m.heapTotal >> 20,
    external: m.external >> 20,
    arrayBuffers: m.arrayBuffers >> 20,
  }
}
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const CHAIN = 1n

function u32Bytes(n: number, len: number, tag: number): Uint8Array {
  const b = new Uint8Array(len)
  const v = new DataView(b.buffer)
  v.setUint32(0, n)
  b[4] = tag
  return b
}

async function writeOps(db: KVStore, ops: BatchOp[]) {
  for (let i = 0; i < ops.length; i += 50_000) await db.batch(ops.slice(i, i + 50_000))
}

async function setup() {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const db = await openLevelStore({ path: join(dir, 'src') })
  const stateDb = db.namespace('state')
  const leaves: { key: Uint8Array; value: Uint8Array }[] = []
  for (let i = 0; i < N; i++) {
    const addr = u32Bytes(i, 20, 1)
    leaves.push({
      key: keccak256(addr),
      value: encodeAccount({
        ...emptyAccount(),
        nonce: BigInt(i % 1000),
        balance: 10n ** 18n + BigInt(i) * 7919n,
      }),
    })
  }
  for (let c = 0; c < CONTRACTS; c++) {
    const addr = u32Bytes(c, 20, 2)
    const code = new Uint8Array(4096)
    for (let k = 0; k < code.length; k++) code[k] = (k * 31 + c) % 97 // repetitive, like WASM
    const codeHash = sha256(code)
    await stateDb.namespace('code').put(codeHash, code)
    const slots = []
    for (let s = 0; s < SLOTS; s++) {
      slots.push({
        key: keccak256(u32Bytes(s, 32, c & 0xff)),
        value: Uint8Array.of(0xa0, ...sha256(u32Bytes(s * 7 + c, 8, 3))), // RLP of 32 bytes
      })
    }
    slots.sort((a, b) => Buffer.compare(a.key, b.key))
    const ops: BatchOp[] = []
    const storageRoot = trieRoot(slots, (h, n) => ops.push({ type: 'put', key: h, value: n }))
    await writeOps(stateDb, ops)
    leaves.push({
      key: keccak256(addr),
      value: encodeAccount({ ...emptyAccount(), codeHash, storageRoot, balance: 1n }),
    })
  }
  leaves.sort((a, b) => Buffer.compare(a.key, b.key))
  let ops: BatchOp[] = []
  const root = trieRoot(leaves, (h, n) => {
    ops.push({ type: 'put', key: h, value: n })
  })
  await writeOps(stateDb, ops)
  ops = []
  // sanity: the ledger reads the state we wrote
  const ws = await createWorldState({ db: stateDb, root })
  const a = await ws.getAccount(u32Bytes(5, 20, 1))
  if (a.balance !== 10n ** 18n + 5n * 7919n)
    throw new Error('bench state is not readable by the ledger')
  await db.close()
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ root: hex(root), N, CONTRACTS, SLOTS }))
  return { root: hex(root) }
}

async function meta() {
  return JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as { root: string }
}

async function doExport(store: object = SNAPSHOT_EXPORT_STORE_OPTIONS, out = 'snap') {
  const { root } = await meta()
  await rm(join(dir, out), { recursive: true, force: true })
  const db = await openLevelStore({ path: join(dir, 'src'), ...store })
  const t0 = performance.now()
  const { manifest } = await exportSnapshot({
    stateDb: db.namespace('state'),
    chainId: CHAIN,
    height: 1000n,
    blockHash: new Uint8Array(32),
    stateRoot: Buffer.from(root, 'hex'),
    dir: join(dir, out),
  })
  const ms = performance.now() - t0
  await db.close()
  return {
    ms,
    bytes: manifest.totalRawSize,
    compressed: manifest.totalCompressedSize,
    chunks: manifest.chunks.length,
    rss: rssMB(),
    mem: mem(),
  }
}

async function rawExport() {
  await rm(join(dir, 'raw'), { recursive: true, force: true })
  await mkdir(join(dir, 'raw'))
  const db = await openLevelStore({ path: join(dir, 'src') })
  const t0 = performance.now()
  let buf = Buffer.allocUnsafe(CHUNK + 65536)
  let len = 0
  let bytes = 0
  let compressed = 0
  let n = 0
  const inflight: Promise<void>[] = []
  const flush = async () => {
    const data = buf.subarray(0, len)
    const i = n++
    inflight.push(
      compress(data, LEVEL).then(async (c) => {
        compressed += c.length
        await writeFile(join(dir, 'raw', `${i}.zst`), c)
      }),
    )
    buf = Buffer.allocUnsafe(CHUNK + 65536)
    len = 0
    if (inflight.length >= 2) await inflight.shift()
  }
  for (const ns of [db.namespace('state'), db.namespace('state').namespace('code')]) {
    for await (const [k, v] of ns.iterate()) {
      if (len + 8 + k.length + v.length > CHUNK) await flush()
      buf.writeUInt32BE(k.length, len)
      buf.set(k, len + 4)
      buf.writeUInt32BE(v.length, len + 4 + k.length)
      buf.set(v, len + 8 + k.length)
      len += 8 + k.length + v.length
      bytes += k.length + v.length
    }
  }
  if (len > 0) await flush()
  await Promise.all(inflight)
  const ms = performance.now() - t0
  await db.close()
  return { ms, bytes, compressed, rss: rssMB(), mem: mem() }
}

async function doImport() {
  const { root } = await meta()
  await rm(join(dir, 'dst'), { recursive: true, force: true })
  const db = await openLevelStore({ path: join(dir, 'dst'), ...STORE })
  const t0 = performance.now()
  let verifiedMs = 0 // when the last chunk was verified and staged (the write phase follows)
  const r = await importSnapshot({
    onProgress: (p) => {
      if (p.phase === 'import' && p.chunks === p.totalChunks) verifiedMs = performance.now() - t0
    },
    source: join(dir, 'snap'),
    db,
    expect: { chainId: CHAIN, stateRoot: Buffer.from(root, 'hex') },
    // as the CLI: a scratch folder beside the store
    stagingDir: process.env.AUREON_BENCH_NO_STAGING ? undefined : join(dir, 'tmp'),
    // the library default (a worker beside this thread on 2+ cores), unless overridden
    verifyThreads: process.env.AUREON_BENCH_VERIFY_WORKERS
      ? { workers: Number(process.env.AUREON_BENCH_VERIFY_WORKERS) }
      : undefined,
    // the library default (4), as `aureon snapshot import` uses it, unless overridden
    concurrency: process.env.AUREON_BENCH_CONCURRENCY
      ? Number(process.env.AUREON_BENCH_CONCURRENCY)
      : undefined,
  })
  const ms = performance.now() - t0
  const ws = await createWorldState({ db: db.namespace(r.namespace), root: r.stateRoot })
  const a = await ws.getAccount(u32Bytes(5, 20, 1))
  if (a.balance !== 10n ** 18n + 5n * 7919n) throw new Error('imported state is wrong')
  await db.close()
  return { ms, verifiedMs, bytes: r.manifest.totalRawSize, rss: rssMB(), mem: mem() }
}

async function rawImport() {
  await rm(join(dir, 'rawdst'), { recursive: true, force: true })
  const db = await openLevelStore({ path: join(dir, 'rawdst') })
  const target = db.namespace('state')
  const files = (await readdir(join(dir, 'raw'))).sort(
    (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10),
  )
  const t0 = performance.now()
  let bytes = 0
  for (const f of files) {
    const data = await decompress(await readFile(join(dir, 'raw', f)), {})
    const ops: BatchOp[] = []
    let p = 0
    while (p < data.length) {
      const kl = data.readUInt32BE(p)
      const key = data.subarray(p + 4, p + 4 + kl)
      const vl = data.readUInt32BE(p + 4 + kl)
      const value = data.subarray(p + 8 + kl, p + 8 + kl + vl)
      ops.push({ type: 'put', key, value })
      bytes += kl + vl
      p += 8 + kl + vl
    }
    await target.batch(ops)
  }
  const ms = performance.now() - t0
  await db.close()
  return { ms, bytes, rss: rssMB(), mem: mem() }
}

const phases: Record<string, () => Promise<object>> = {
  setup,
  export: () => doExport(),
  'export-unbounded': () => doExport(SNAPSHOT_STORE_OPTIONS, 'snap-unbounded'),
  'raw-export': rawExport,
  import: doImport,
  'raw-import': rawImport,
}
const fn = phases[phase]
if (!fn || !dir) {
  console.error(`usage: phase.ts <${Object.keys(phases).join('|')}> <dir>`)
  process.exit(2)
}
// peaks of the RSS parts while the phase runs (maxRSS gives only the total)
const peak = { rssAnon: 0, rssFile: 0, heapTotal: 0 }
const sample = () => {
  const m = mem()
  peak.rssAnon = Math.max(peak.rssAnon, m.rssAnon)
  peak.rssFile = Math.max(peak.rssFile, m.rssFile)
  peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal)
}
const sampler = setInterval(sample, 100)
const cpu0 = process.cpuUsage()
const res = await fn()
clearInterval(sampler)
const cpu = process.cpuUsage(cpu0)
console.log(JSON.stringify({ ...res, peak, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }))
