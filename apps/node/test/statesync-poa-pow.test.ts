/**
 * State sync on PoA and PoW chains, in-process (two AureonNodes, real LevelDB and libp2p on
 * 127.0.0.1): the synced node checks the authority's seal (PoA) or the work and the difficulty
 * retarget (PoW, which needs the blocks of the retarget window below the snapshot: fetched from
 * the peer) on every block after the snapshot.
 */
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { loadNodeConfig } from '../src/config.js'
import { networkGenesis, newValidatorKeys } from '../src/genesis-gen.js'
import { createLogger } from '../src/logger.js'
import { AureonNode } from '../src/node.js'
import { removeDir, tempDir, until } from './helpers.js'

const dir = tempDir('poa-sync')
const nodes: AureonNode[] = []
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)))
  removeDir(dir)
})

describe('[state sync]: PoA and PoW chains', () => {
  it.each(['poa', 'pow'] as const)(
    '%s: syncs the snapshot, then block-syncs and follows the sealer',
    async (engine) => {
      const [authority] = newValidatorKeys(1)
      const genesis = networkGenesis({
        chainId: 500,
        engine,
        validators: [authority],
        timestamp: Date.now() - 60_000,
      })
      const logger = createLogger({ level: 'silent' })
      const flags = (name: string, extra: Record<string, unknown>) => ({
        dataDir: join(dir, `${engine}-${name}`),
        'rpc.enabled': false,
        'p2p.listen': ['/ip4/127.0.0.1/tcp/0'],
        'consensus.engine': engine,
        'consensus.blockTime': 200,
        'snapshots.every': 3,
        'snapshots.chunkSize': 4096,
        ...extra,
      })
      const a = await AureonNode.start({
        config: loadNodeConfig({ flags: flags('a', {}) }),
        genesis,
        key: authority,
        logger,
      })
      nodes.push(a)
      // past a PoW retarget (every 10 blocks), so the snapshot's window matters
      await until(async () => a.chain.head().height >= 13n, 30_000, 'the sealer to seal 13 blocks')
      const b = await AureonNode.start({
        config: loadNodeConfig({
          flags: flags('b', {
            'sync.mode': 'snapshot',
            'sync.minPeers': 1,
            'p2p.bootstrap': [a.p2p!.addresses()[0]],
          }),
        }),
        genesis,
        logger,
      })
      nodes.push(b)
      const base = b.chainStore.baseHeight()
      expect(base).toBeGreaterThanOrEqual(12n)
      expect(base % 3n).toBe(0n)
      expect(await b.chainStore.getBlockByHeight(1n)).toBeUndefined()
      // it follows: block-synced and gossiped blocks pass the seal check and execute to A's roots
      // through the next retarget (PoW)
      const target = (a.chain.head().height / 10n + 1n) * 10n + 2n
      await until(async () => b.chain.head().height >= target, 30_000, 'B to follow A')
      for (const h of [base + 1n, target]) {
        expect((await b.chainStore.getHeader(h))?.stateRoot).toEqual(
          (await a.chainStore.getHeader(h))?.stateRoot,
        )
        expect(await b.chainStore.getBlockHash(h)).toEqual(await a.chainStore.getBlockHash(h))
      }
    },
    120_000,
  )
})
