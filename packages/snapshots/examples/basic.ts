import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createWorldState, emptyAccount } from '@aureon/ledger'
import { exportSnapshot, importSnapshot } from '@aureon/snapshots'
import { createMemoryStore } from '@aureon/storage'

// A node's store with some state at height 100 (in a real node: ChainStore's 'state' namespace).
const source = createMemoryStore()
const state = await createWorldState({ db: source.namespace('state') })
await state.putAccount(new Uint8Array(20).fill(1), { ...emptyAccount(), balance: 1_000n })
const contract = new Uint8Array(20).fill(2)
const codeHash = await state.putCode(new TextEncoder().encode('(module)'))
await state.putAccount(contract, { ...emptyAccount(), codeHash })
await state.putStorage(contract, new Uint8Array(32).fill(3), new Uint8Array([42]))
const stateRoot = await state.root()
await source.namespace('state').batch(await state.flush())

// Export: streamed, chunked, zstd-compressed, packed into one file.
const file = join(await mkdtemp(join(tmpdir(), 'aureon-example-')), 'state-100.aursnap')
const { manifest } = await exportSnapshot({
  stateDb: source.namespace('state'),
  chainId: 1n,
  height: 100n,
  blockHash: new Uint8Array(32),
  stateRoot,
  file,
  onProgress: (p) => console.log(`export: ${p.chunks} chunks, ${p.bytes} bytes`),
})
console.log(`snapshot: ${manifest.chunks.length} chunk(s), ${manifest.accountCount} accounts`)

// Import into a fresh node: every chunk is verified against the trusted state root on arrival.
const target = createMemoryStore()
const imported = await importSnapshot({
  source: file,
  db: target,
  expect: { chainId: 1n, stateRoot },
  onProgress: (p) => console.log(`import: ${p.chunks}/${p.totalChunks} chunks`),
})
const copy = await createWorldState({
  db: target.namespace(imported.namespace),
  root: imported.stateRoot,
})
console.log('storage value:', await copy.getStorage(contract, new Uint8Array(32).fill(3)))
