import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openChainStore } from '@aureon/ledger'
import { exportSnapshot, openSnapshot } from '@aureon/snapshots'
import { afterAll, describe, expect, it } from 'vitest'
import {
  clearStaleNamespaces,
  importAndAnchor,
  readAnchorBlock,
  writeAnchorBlock,
} from '../src/snapshot-anchor.js'
import { alice, type Fixture, sealBlock, setup } from './chain-fixture.js'
import { removeDir, tempDir } from './helpers.js'

const dir = tempDir('anchor')
afterAll(() => removeDir(dir))

/** A chain of `n` blocks and a snapshot folder of its head (with block.bin). */
async function snapshotOf(n: number, name: string): Promise<{ src: Fixture; path: string }> {
  const src = await setup()
  for (let i = 0n; i < BigInt(n); i++) await sealBlock(src, [i])
  const head = src.chain.head()
  const path = join(dir, name)
  await exportSnapshot({
    dir: path,
    stateDb: src.store.stateDb,
    chainId: head.chainId,
    height: head.height,
    blockHash: src.store.headHash()!,
    stateRoot: head.stateRoot,
  })
  await writeAnchorBlock(path, (await src.chain.getBlockByHeight(head.height))!)
  return { src, path }
}

/** The live chain of a node that already runs (2 blocks of its own). */
async function liveNode(): Promise<Fixture> {
  const node = await setup()
  await sealBlock(node, [0n])
  await sealBlock(node, [1n])
  return node
}

async function expectUntouched(node: Fixture, headHash: Uint8Array): Promise<void> {
  const reopened = await openChainStore({ db: node.db })
  expect(reopened.headHash()).toEqual(headHash)
  expect(reopened.namespaces()).toEqual({ state: 'state', chain: 'chain', generation: 0 })
  expect((await node.chain.state().getAccount(alice.address)).nonce).toBe(2n)
  // nothing left in the namespace the failed import used
  for await (const _ of node.db.namespace('state-1').iterate({ limit: 1 }))
    throw new Error('leftovers in state-1')
}

describe('[importAndAnchor]: a node continues from a snapshot; a bad one changes nothing', () => {
  it('anchors a live data folder at the snapshot block and clears the old namespaces', async () => {
    const { src, path } = await snapshotOf(4, 'good')
    const node = await liveNode()
    const block = (await readAnchorBlock(path))!
    expect(block.header.height).toBe(4n)
    const r = await importAndAnchor({
      db: node.db,
      chain: node.store,
      source: path,
      block,
      genesis: (await node.chain.getBlockByHeight(0n))!,
      expect: { chainId: 77n },
    })
    expect(r.previous).toEqual({ state: 'state', chain: 'chain', generation: 0 })
    expect(r.live).toEqual({ state: 'state-1', chain: 'chain-1', generation: 1 })
    for (const ns of ['state', 'chain'])
      for await (const _ of node.db.namespace(ns).iterate({ limit: 1 }))
        throw new Error(`${ns} not cleared`)
    // a node opened on the folder now runs from block 4 and executes block 5 like the source
    const resumed = await setup(node.db)
    expect(resumed.chain.head().height).toBe(4n)
    expect(resumed.store.baseHeight()).toBe(4n)
    const b5 = await sealBlock(resumed, [4n])
    expect(b5.header.stateRoot).toEqual((await sealBlock(src, [4n])).header.stateRoot)
    expect(await clearStaleNamespaces(node.db, resumed.store)).toEqual([])
  })

  it('refuses a corrupt chunk, a wrong chain, an unexpected root and a block of another height, with codes', async () => {
    const { path } = await snapshotOf(3, 'bad')
    const other = await snapshotOf(2, 'other')
    const node = await liveNode()
    const head = node.store.headHash()!
    const block = (await readAnchorBlock(path))!
    const attempt = (over: Partial<Parameters<typeof importAndAnchor>[0]>) =>
      importAndAnchor({
        db: node.db,
        chain: node.store,
        source: path,
        block,
        expect: { chainId: 77n },
        ...over,
      })
    await expect(attempt({ expect: { chainId: 5n } })).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_WRONG_CHAIN',
    })
    await expectUntouched(node, head)
    await expect(
      attempt({ expect: { chainId: 77n, stateRoot: new Uint8Array(32).fill(1) } }),
    ).rejects.toMatchObject({ code: 'ERR_SNAPSHOT_UNEXPECTED_STATE' })
    await expectUntouched(node, head)
    await expect(attempt({ block: (await readAnchorBlock(other.path))! })).rejects.toMatchObject({
      code: 'ERR_SNAPSHOT_BLOCK',
    })
    await expectUntouched(node, head)
    // a chunk that fails midway (a source dying after some chunks): nothing stays behind
    const folder = await openSnapshot(path)
    const manifest = await folder.manifest()
    await expect(
      attempt({
        source: {
          manifest: async () => manifest,
          chunk: async (i) => {
            if (i === manifest.chunks.length - 1) throw new Error('peer went away')
            return folder.chunk(i)
          },
        },
      }),
    ).rejects.toThrow(/peer went away/)
    await expectUntouched(node, head)
    // forged bytes in a chunk file
    const chunk = readdirSync(path).find((f) => f.startsWith('chunk-'))!
    const bytes = readFileSync(join(path, chunk))
    bytes[bytes.length >> 1] ^= 0xff
    writeFileSync(join(path, chunk), bytes)
    await expect(attempt({})).rejects.toMatchObject({
      code: expect.stringMatching(/ERR_SNAPSHOT_(CORRUPT|FORGED)/),
    })
    await expectUntouched(node, head)
  })

  it('deletes namespaces of earlier generations left by a stop between the switch and the cleanup', async () => {
    const { path } = await snapshotOf(2, 'stale')
    const node = await liveNode()
    await importAndAnchor({
      db: node.db,
      chain: node.store,
      source: path,
      block: (await readAnchorBlock(path))!,
      expect: { chainId: 77n },
    })
    // as if the node had stopped before deleting the old namespaces
    await node.db.namespace('chain').put(new Uint8Array([1]), new Uint8Array([1]))
    await node.db
      .namespace('state')
      .namespace('code')
      .put(new Uint8Array([2]), new Uint8Array([2]))
    expect(await clearStaleNamespaces(node.db, node.store)).toEqual(['state', 'chain'])
    expect(await clearStaleNamespaces(node.db, node.store)).toEqual([])
    expect(await readAnchorBlock(join(dir, 'nothing-here'))).toBeUndefined()
  })
})
