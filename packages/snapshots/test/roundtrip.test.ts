import { readdirSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { equalBytes } from '@aureon/crypto'
import {
  type BlockHeader,
  createWorldState,
  EMPTY_TRIE_ROOT,
  StateProcessor,
  signTransaction,
  TxKind,
} from '@aureon/ledger'
import { createMemoryStore, type KVStore, openLevelStore } from '@aureon/storage'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  decodeChunk,
  decompressChunk,
  encodeChunk,
  exportSnapshot,
  getImportStatus,
  importSnapshot,
  listSnapshots,
  openSnapshot,
  readManifest,
  SNAPSHOT_STORE_OPTIONS,
  type SnapshotProgress,
} from '../src/index.js'
import { buildState, seeded } from './helpers.js'

let tmp: string
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'aureon-snap-'))
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

const blockHash = seeded('block')

async function roundtrip(
  makeStore: (name: string) => Promise<KVStore>,
  packed: boolean,
  stagingDir?: string,
) {
  const src = await makeStore('src')
  const built = await buildState(src.namespace('state'), {
    accounts: 300,
    contracts: 6,
    slots: 120,
  })
  const out = join(tmp, `${packed ? 'file' : 'dir'}-${Math.random().toString(36).slice(2)}`)
  const exp: SnapshotProgress[] = []
  const { manifest } = await exportSnapshot({
    stateDb: src.namespace('state'),
    chainId: 7n,
    height: 10n,
    blockHash,
    stateRoot: built.stateRoot,
    ...(packed ? { file: out } : { dir: out }),
    chunkSize: 8192,
    onProgress: (p) => exp.push(p),
  })
  expect(manifest.chunks.length).toBeGreaterThan(3)
  expect(manifest.accountCount).toBe(307)
  expect(manifest.storageCount).toBe(720)
  expect(manifest.codeCount).toBe(3)
  expect(exp.at(-1)?.bytes).toBe(manifest.totalRawSize)
  expect((await readManifest(out)).stateRoot).toEqual(built.stateRoot)

  const dst = await makeStore('dst')
  const imp: SnapshotProgress[] = []
  const r = await importSnapshot({
    source: out,
    db: dst,
    expect: { chainId: 7n, height: 10n, stateRoot: built.stateRoot },
    stagingDir,
    onProgress: (p) => imp.push(p),
  })
  expect(r.stateRoot).toEqual(built.stateRoot)
  expect(imp.filter((p) => p.phase === 'import').at(-1)).toMatchObject({
    chunks: manifest.chunks.length,
    bytes: manifest.totalRawSize,
  })
  const writes = imp.filter((p) => p.phase === 'write')
  if (stagingDir) {
    // the sorted nodes were written after every chunk was verified; the run files are gone
    expect(imp.findIndex((p) => p.phase === 'write')).toBe(manifest.chunks.length)
    expect(writes.length).toBeGreaterThan(0)
    expect(writes.at(-1)?.bytes).toBe(writes.at(-1)?.totalBytes)
    expect(readdirSync(stagingDir)).toEqual([])
  } else {
    expect(writes).toEqual([])
  }
  expect(await getImportStatus({ db: dst, namespace: r.namespace })).toMatchObject({
    complete: true,
    height: 10n,
    chainId: 7n,
  })

  // the exporter writes exactly the documented layout: re-encoding each decoded chunk gives the
  // same bytes
  const snap = await openSnapshot(out)
  for (let i = 0; i < manifest.chunks.length; i++) {
    const raw = await decompressChunk(await snap.chunk(i), manifest.chunks[i].rawSize)
    expect(encodeChunk(decodeChunk(raw, i))).toEqual(raw)
  }
  await snap.close?.()
  // the import wrote exactly the trie nodes and code of the source state, nothing else
  const nodes = async (db: KVStore) => {
    const out: string[] = []
    for await (const [k, v] of db.iterate()) {
      out.push(`${Buffer.from(k).toString('hex')}=${Buffer.from(v).toString('hex')}`)
    }
    return out.sort()
  }
  const srcNodes = await nodes(src.namespace('state'))
  expect(await nodes(dst.namespace(r.namespace))).toEqual(srcNodes)
  expect(await nodes(dst.namespace(r.namespace).namespace('code'))).toEqual(
    await nodes(src.namespace('state').namespace('code')),
  )

  // same accounts, code and storage
  const copy = await createWorldState({ db: dst.namespace(r.namespace), root: r.stateRoot })
  for (const c of built.contracts) {
    expect(await copy.getContractCode(c)).toEqual(await built.state.getContractCode(c))
    expect(await copy.getAccount(c)).toEqual(await built.state.getAccount(c))
    expect(await copy.getStorage(c, seeded('s/k/0/3'))).toEqual(
      await built.state.getStorage(c, seeded('s/k/0/3')),
    )
  }
  expect(await copy.getStorage(built.contracts[0], seeded('s/k/0/7'))).toEqual(
    await built.state.getStorage(built.contracts[0], seeded('s/k/0/7')),
  )
  expect(await copy.getAccount(built.sender)).toEqual(await built.state.getAccount(built.sender))
  expect(await copy.root()).toEqual(built.stateRoot)

  // the imported node executes block H+1 to the same root as the original
  const processor = new StateProcessor()
  const parent: BlockHeader = {
    chainId: 7n,
    height: 10n,
    parentHash: seeded('parent'),
    timestamp: 1_000n,
    proposer: seeded('proposer', 20),
    stateRoot: built.stateRoot,
    txRoot: EMPTY_TRIE_ROOT,
    receiptsRoot: EMPTY_TRIE_ROOT,
    gasUsed: 0n,
    gasLimit: 30_000_000n,
    consensus: new Uint8Array(),
  }
  const txs = [0n, 1n, 2n].map((nonce) =>
    signTransaction(
      {
        kind: TxKind.Transfer,
        chainId: 7n,
        nonce,
        gasPrice: 1n,
        gasLimit: 21_000n,
        to: seeded(`s/acct/${nonce}`, 20),
        amount: 10n + nonce,
      },
      built.secretKey,
    ),
  )
  const original = await createWorldState({ db: src.namespace('state'), root: built.stateRoot })
  const { block } = await processor.buildBlock(original, {
    parent,
    timestamp: 2_000n,
    proposer: parent.proposer,
    transactions: txs,
  })
  expect(block.transactions.length).toBe(3)
  const applied = await processor.applyBlock(copy, block)
  expect(equalBytes(applied.stateRoot, block.header.stateRoot)).toBe(true)
  expect(equalBytes(applied.stateRoot, built.stateRoot)).toBe(false)
  await src.close()
  await dst.close()
  return out
}

describe('[snapshots]: roundtrip', () => {
  it('exports and imports a folder on MemoryStore', async () => {
    await roundtrip(async () => createMemoryStore(), false)
  })

  it('exports and imports a packed file on LevelStore opened with SNAPSHOT_STORE_OPTIONS, nodes staged and written in key order', async () => {
    const staging = join(tmp, 'staging')
    const out = await roundtrip(
      (name) =>
        openLevelStore({
          path: join(tmp, `level-${name}-${Math.random().toString(36).slice(2)}`),
          ...SNAPSHOT_STORE_OPTIONS,
        }),
      true,
      staging,
    )
    const list = await listSnapshots(tmp)
    expect(list.some((s) => s.path === out)).toBe(true)
  })

  it('round-trips the empty state', async () => {
    const db = createMemoryStore()
    const dir = join(tmp, 'empty')
    const { manifest } = await exportSnapshot({
      stateDb: db.namespace('state'),
      chainId: 1n,
      height: 0n,
      blockHash,
      stateRoot: EMPTY_TRIE_ROOT,
      dir,
    })
    expect(manifest.chunks.length).toBe(1)
    const r = await importSnapshot({ source: dir, db, expect: { chainId: 1n } })
    expect(r.stateRoot).toEqual(EMPTY_TRIE_ROOT)
  })
})
