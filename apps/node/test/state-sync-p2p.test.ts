/**
 * State sync in-process over real libp2p hosts on 127.0.0.1: two peers serve the same snapshot,
 * a third node syncs it. Small in CI; `AUREON_SOAK=1` syncs 100,000 accounts and prints the time
 * next to a direct import of the same folder (the p2p overhead).
 */
import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import {
  bigintToBytes,
  createGenesis,
  type GenesisConfig,
  genesisParams,
  openChainStore,
  rlpEncode,
  StateProcessor,
} from '@aureon/ledger'
import { createP2PNode, type P2PNode } from '@aureon/p2p'
import { createSnapshot, importSnapshot } from '@aureon/snapshots'
import { createMemoryStore } from '@aureon/storage'
import { afterAll, describe, expect, it } from 'vitest'
import { defaultSyncConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { writeAnchorBlock } from '../src/snapshot-anchor.js'
import { CHUNK_PROTOCOL, serveSnapshots, stateSync } from '../src/state-sync.js'
import { alice, aliceTransfer } from './chain-fixture.js'
import { removeDir, tempDir } from './helpers.js'

const SOAK = !!process.env.AUREON_SOAK
const ACCOUNTS = SOAK ? 100_000 : 2_000
const CHUNK = SOAK ? 1024 * 1024 : 16 * 1024

const dir = tempDir('sync-p2p')
const hosts: P2PNode[] = []
afterAll(async () => {
  await Promise.all(hosts.map((h) => h.stop().catch(() => undefined)))
  removeDir(dir)
})

describe('[state sync]: two in-process peers serve a snapshot, a third syncs it', () => {
  it(`syncs ${ACCOUNTS} accounts in parallel from both peers to the same state root`, async () => {
    const balances: Record<string, string> = {}
    for (let i = 0; i < ACCOUNTS; i++) {
      const a = new Uint8Array(20)
      new DataView(a.buffer).setUint32(16, i + 1)
      balances[bytesToHex(a)] = String(1000 + i)
    }
    // the fixture's transfers come from alice
    balances[bytesToHex(alice.address)] = (10n ** 24n).toString()
    const config: GenesisConfig = {
      chainId: 77,
      timestamp: 0,
      balances,
      validators: [],
      consensus: { engine: 'dev' },
    }
    const params = genesisParams(config)
    // the source chain: genesis, then block 1 (the snapshot's block)
    const src = await openChainStore({ db: createMemoryStore() })
    const g = await createGenesis({ config, db: src.stateDb })
    await src.commitBlock({ block: g.block, receipts: [], stateOps: g.stateOps })
    const built = await new StateProcessor({ params }).buildBlock(g.state, {
      parent: g.block.header,
      timestamp: 1n,
      proposer: new Uint8Array(20),
      transactions: [aliceTransfer(0n)],
    })
    await src.commitBlock({ ...built, stateOps: await g.state.flush() })
    const head = src.head()!
    const snapshotsDir = join(dir, 'snapshots')
    const snap = await createSnapshot({
      snapshotsDir,
      chainId: 77n,
      height: 1n,
      blockHash: src.headHash()!,
      stateRoot: head.stateRoot,
      stateDb: src.stateDb,
      chunkSize: CHUNK,
    })
    await writeAnchorBlock(snap.path, built.block)

    const host = (bootstrap: string[] = []) =>
      createP2PNode({
        chainId: 77n,
        genesisHash: g.hash,
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap,
        bootstrapIntervalMs: 200,
        logger: null,
      }).then((h) => {
        hosts.push(h)
        return h
      })
    const servers = [await host(), await host()]
    for (const s of servers) await serveSnapshots(s, snapshotsDir)
    const client = await host(servers.map((s) => s.addresses()[0]))

    // the syncing node: genesis only, like a fresh data folder
    const db = createMemoryStore()
    const chain = await openChainStore({ db })
    const g2 = await createGenesis({ config, db: chain.stateDb })
    await chain.commitBlock({ block: g2.block, receipts: [], stateOps: g2.stateOps })
    const t0 = performance.now()
    const r = await stateSync({
      p2p: client,
      db,
      chain,
      chainId: 77n,
      genesis: g2.block,
      sync: { ...defaultSyncConfig, minPeers: 2, timeout: 20_000 },
      logger: createLogger({ level: 'silent' }),
    })
    const syncMs = performance.now() - t0
    expect(r.height).toBe(1n)
    expect(chain.head()?.stateRoot).toEqual(head.stateRoot)
    expect(chain.baseHeight()).toBe(1n)
    expect(await chain.getBlockByHeight(0n)).toEqual(g.block)
    expect(r.manifest.chunks.length).toBeGreaterThanOrEqual(2)
    // both peers served chunks (requests go to peer i mod 2 first)
    expect(servers.every((s) => s.stats().requestsServed >= 2)).toBe(true)

    // a malformed or unknown request gets a refusal, and the server keeps serving
    const peer = servers[0]!.addresses()[0]!.split('/p2p/')[1]!
    const ask = (req: Uint8Array) => client.request(peer, CHUNK_PROTOCOL, req)
    for (const bad of [new Uint8Array([0xff, 1]), rlpEncode([]), rlpEncode([[], []])]) {
      await expect(ask(bad)).rejects.toMatchObject({
        code: 'ERR_REMOTE_ERROR',
        message: expect.stringContaining('invalid chunk request'),
      })
    }
    await expect(ask(rlpEncode([bigintToBytes(9n), bigintToBytes(0n)]))).rejects.toMatchObject({
      message: expect.stringContaining('no chunk 0 of a snapshot at height 9'),
    })
    expect((await ask(rlpEncode([bigintToBytes(1n), bigintToBytes(0n)]))).length).toBeGreaterThan(0)

    // baseline: the same folder imported directly
    const t1 = performance.now()
    await importSnapshot({ source: snap.path, db: createMemoryStore(), expect: { chainId: 77n } })
    const directMs = performance.now() - t1
    // eslint-disable-next-line no-console
    console.log(
      `state sync over p2p: ${ACCOUNTS} accounts, ${r.manifest.chunks.length} chunks, ${(r.manifest.totalCompressedSize / 1048576).toFixed(2)} MiB compressed: fetch+verify+import ${Math.round(r.elapsedMs)} ms over p2p vs ${Math.round(directMs)} ms from the folder (${(r.elapsedMs / directMs).toFixed(2)}x); whole sync ${Math.round(syncMs)} ms with the peer wait`,
    )
  }, 300_000)
})
