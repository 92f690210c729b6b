/**
 * State sync on a PoA chain, in-process (two AureonNodes, real LevelDB and libp2p on 127.0.0.1):
 * the synced node checks the authority's seal on every block it block-syncs after the snapshot.
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

describe('[state sync]: a PoA chain', () => {
  it('syncs the snapshot, then block-syncs sealed blocks and follows the authority', async () => {
    const [authority] = newValidatorKeys(1)
    const genesis = networkGenesis({
      chainId: 500,
      engine: 'poa',
      validators: [authority],
      timestamp: Date.now() - 60_000,
    })
    const logger = createLogger({ level: 'silent' })
    const flags = (name: string, extra: Record<string, unknown>) => ({
      dataDir: join(dir, name),
      'rpc.enabled': false,
      'p2p.listen': ['/ip4/127.0.0.1/tcp/0'],
      'consensus.engine': 'poa',
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
    await until(async () => a.chain.head().height >= 7n, 30_000, 'the authority to seal 7 blocks')
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
    expect(base).toBeGreaterThanOrEqual(6n)
    expect(base % 3n).toBe(0n)
    expect(await b.chainStore.getBlockByHeight(1n)).toBeUndefined()
    // it follows: block-synced and gossiped blocks pass the seal check and execute to A's roots
    const target = a.chain.head().height + 3n
    await until(async () => b.chain.head().height >= target, 30_000, 'B to follow A')
    for (const h of [base + 1n, target]) {
      expect((await b.chainStore.getHeader(h))?.stateRoot).toEqual(
        (await a.chainStore.getHeader(h))?.stateRoot,
      )
      expect(await b.chainStore.getBlockHash(h)).toEqual(await a.chainStore.getBlockHash(h))
    }
  }, 120_000)
})
