import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type RPCClient } from '@aureon/rpc'
import { afterAll, describe, expect, it } from 'vitest'
import {
  type CliProcess,
  freePort,
  freePortRange,
  removeDir,
  runCli,
  startCli,
  tempDir,
  until,
} from './helpers.js'

const N = 4
const EPOCH = 5
const EVERY = 11

describe('[aureon state sync]: a fifth node state-syncs a four-validator BFT devnet; real processes', () => {
  const dir = tempDir('statesync-bft')
  const nodes: CliProcess[] = []
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    removeDir(dir)
  })

  it('proves the validator sets below the snapshot, reaches the validators head hash and state root, and follows', async () => {
    try {
      await scenario()
    } catch (e) {
      for (const [i, n] of nodes.entries())
        process.stderr.write(`--- node ${i} output ---\n${n.output().slice(-5000)}\n`)
      throw e
    }
  }, 120_000)

  async function scenario(): Promise<void> {
    const t0 = Date.now()
    const p2p = await freePortRange(N)
    const rpc = await freePortRange(N)
    const init = JSON.parse(
      await runCli([
        'init',
        '--out',
        join(dir, 'net'),
        '--validators',
        String(N),
        '--p2p-port',
        String(p2p),
        '--rpc-port',
        String(rpc),
      ]),
    )
    // a small epoch, so the snapshot is above two epoch boundaries
    const g = JSON.parse(readFileSync(init.genesis, 'utf8'))
    g.params = { ...g.params, epochLength: String(EPOCH) }
    writeFileSync(init.genesis, JSON.stringify(g))
    const clients: RPCClient[] = []
    for (let i = 0; i < N; i++) {
      appendFileSync(init.nodes[i].config, `\n[snapshots]\nevery = ${EVERY}\nkeep = 2\n`)
      clients.push(createClient({ url: `http://127.0.0.1:${rpc + i}`, timeoutMs: 5_000 }))
      nodes.push(startCli(['run', '--config', init.nodes[i].config]))
    }
    const snapRoot = (i: number) => join(init.nodes[i].dir, 'data', 'snapshots')
    const withBlock = (i: number) =>
      existsSync(snapRoot(i))
        ? readdirSync(snapRoot(i)).filter((d) => existsSync(join(snapRoot(i), d, 'block.bin')))
        : []
    // every validator has a snapshot (H >= 11 > 2 x EPOCH: above two boundaries)
    await until(
      async () =>
        [0, 1, 2, 3].every((i) =>
          withBlock(i).some((d) => Number(d.replace('height-', '')) >= EVERY),
        ),
      60_000,
      'the validators to take snapshots',
    )

    // the fifth node: no key, an empty data folder, state sync from the four
    const rpcPort = await freePort()
    const file = join(dir, 'follower.toml')
    writeFileSync(
      file,
      [
        `dataDir = ${JSON.stringify(join(dir, 'follower'))}`,
        `genesis = ${JSON.stringify(init.genesis)}`,
        '[rpc]',
        `port = ${rpcPort}`,
        '[p2p]',
        'listen = ["/ip4/127.0.0.1/tcp/0"]',
        `bootstrap = [${init.nodes.map((n: { peer: string }, i: number) => JSON.stringify(`/ip4/127.0.0.1/tcp/${p2p + i}/p2p/${n.peer}`)).join(', ')}]`,
        '[consensus]',
        'engine = "bft"',
        '[sync]',
        'mode = "snapshot"',
        'minPeers = 2',
        'timeout = 20000',
        '[log]',
        'level = "info"',
        '',
      ].join('\n'),
    )
    const f = startCli(['run', '--config', file])
    nodes.push(f)
    const fc = createClient({ url: `http://127.0.0.1:${rpcPort}`, timeoutMs: 5_000 })
    await f.waitFor(/state sync: state imported and verified/, 40_000)
    await f.waitFor(/validator sets below the snapshot fetched and verified/, 20_000)
    const out = f.output()
    const chosen = JSON.parse(out.split('\n').find((l) => l.includes('snapshot chosen'))!)
    const h = chosen.height as number
    expect(h).toBeGreaterThan(2 * EPOCH)
    const history = JSON.parse(
      out.split('\n').find((l) => l.includes('validator sets below the snapshot'))!,
    )
    // the boundaries of the epochs around H, each below H, at least two of them above genesis
    expect(history.boundaries.filter((b: number) => b > 0).length).toBeGreaterThanOrEqual(2)
    expect(history.boundaries.every((b: number) => b < h && b % EPOCH === 0)).toBe(true)
    await f.waitFor(/RPC listening/, 30_000)

    // it reaches a height the validators are at, with the same hash and state root
    const target = (await clients[0].getHead()).height
    await until(
      async () => (await fc.getHead()).height >= target,
      30_000,
      `the follower to reach height ${target}`,
    )
    const [mine, theirs] = await Promise.all([
      fc.getBlock({ id: target }),
      clients[0].getBlock({ id: target }),
    ])
    expect(mine.hash).toBe(theirs.hash)
    expect(mine.stateRoot).toBe(theirs.stateRoot)
    expect((await fc.getHealth()).details).toMatchObject({ base: h, engine: 'bft' })
    // a boundary block below the snapshot was backfilled (hash-linked); genesis is kept
    const b = history.boundaries[history.boundaries.length - 1] as number
    expect((await fc.getBlock({ id: b })).hash).toBe((await clients[1].getBlock({ id: b })).hash)

    // and the engine follows (it synced the blocks after the snapshot itself): same hashes as the
    // validators'
    const later = (await fc.getHead()).height + 5
    await until(
      async () => (await fc.getHead()).height >= later,
      20_000,
      'the follower to follow new blocks',
    )
    const laterHash = (await fc.getBlock({ id: later })).hash
    await until(
      async () => (await clients[2].getBlock({ id: later }).catch(() => undefined))?.hash,
      10_000,
      'validator 2 to commit the same block',
    )
    expect((await clients[2].getBlock({ id: later })).hash).toBe(laterHash)
    if (process.env.AUREON_E2E_DUMP) writeFileSync(process.env.AUREON_E2E_DUMP, f.output())
    // eslint-disable-next-line no-console
    console.log(
      `bft state sync e2e: snapshot at ${h}, boundaries ${history.boundaries.join(',')}; followed to ${later}; whole test ${Date.now() - t0} ms`,
    )
  }
})
