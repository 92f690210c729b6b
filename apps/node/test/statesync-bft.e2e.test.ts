import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'
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
const ROUND_TIMEOUT = 500

/** The validator that starts late, by state sync (the chain runs without it until then). */
const LATE = 3

describe('[aureon state sync]: a late validator and a fifth node state-sync a BFT devnet, vote, follow and restart; real processes', () => {
  const dir = tempDir('statesync-bft')
  const nodes: { name: string; proc: CliProcess }[] = []
  const start = (name: string, args: string[]) => {
    const proc = startCli(args)
    nodes.push({ name, proc })
    return proc
  }
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.proc.stop()))
    removeDir(dir)
  })

  it('proves the validator sets below the snapshot, reaches the validators head hash and state root, votes, follows, and restarts without a new sync', async () => {
    try {
      await scenario()
    } catch (e) {
      for (const n of nodes)
        process.stderr.write(`--- ${n.name} output ---\n${n.proc.output().slice(-5000)}\n`)
      throw e
    }
  }, 150_000)

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
    const validators: CliProcess[] = []
    const runValidator = (i: number, ...flags: string[]) =>
      start(`validator ${i}`, ['run', '--config', init.nodes[i].config, ...flags])
    for (let i = 0; i < N; i++) {
      // a shorter round timeout: the rounds of a stopped validator (and a restarting one) pass
      // sooner (the pacemaker doubles it after each timeout certificate)
      const cfg = readFileSync(init.nodes[i].config, 'utf8')
      expect(cfg).toContain('[consensus]\n')
      writeFileSync(
        init.nodes[i].config,
        `${cfg.replace('[consensus]\n', `[consensus]\nroundTimeout = ${ROUND_TIMEOUT}\n`)}\n[snapshots]\nevery = ${EVERY}\nkeep = 2\n`,
      )
      clients.push(createClient({ url: `http://127.0.0.1:${rpc + i}`, timeoutMs: 5_000 }))
    }
    // validator LATE (in the genesis set) joins with an empty data folder and `--state-sync`:
    // it waits for a snapshot of the others (they make a quorum without it), then votes
    appendFileSync(init.nodes[LATE].config, '\n[sync]\ntimeout = 60000\n')
    for (let i = 0; i < N; i++)
      validators[i] = i === LATE ? runValidator(i, '--state-sync') : runValidator(i)
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
        'timeout = 60000',
        '[log]',
        'level = "info"',
        '',
      ].join('\n'),
    )
    const f = start('follower', ['run', '--config', file])
    const fc = createClient({ url: `http://127.0.0.1:${rpcPort}`, timeoutMs: 5_000 })
    const late = validators[LATE]
    const lc = clients[LATE]
    for (const p of [f, late]) {
      await p.waitFor(/state sync: state imported and verified/, 60_000)
      await p.waitFor(/validator sets below the snapshot fetched and verified/, 20_000)
    }
    const tSynced = Date.now() - t0
    const logLine = (p: CliProcess, what: string) =>
      JSON.parse(
        p
          .output()
          .split('\n')
          .find((l) => l.includes(what))!,
      )
    const h = logLine(f, 'snapshot chosen').height as number
    const hLate = logLine(late, 'snapshot chosen').height as number
    // a snapshot above two epoch boundaries (the first one is at EVERY = 11 > 2 x EPOCH)
    expect(Math.min(h, hLate)).toBeGreaterThanOrEqual(EVERY)
    const history = logLine(f, 'validator sets below the snapshot')
    // the boundaries of the epochs around H, each below H, at least two of them above genesis
    expect(history.boundaries.filter((b: number) => b > 0).length).toBeGreaterThanOrEqual(2)
    expect(history.boundaries.every((b: number) => b < h && b % EPOCH === 0)).toBe(true)
    await f.waitFor(/RPC listening/, 30_000)
    await late.waitFor(/RPC listening/, 30_000)

    // both reach a height the validators are at, with the same hash and state root
    const target = (await clients[0].getHead()).height
    await until(
      async () => (await fc.getHead()).height >= target && (await lc.getHead()).height >= target,
      30_000,
      `the follower and the late validator to reach height ${target}`,
    )
    const sameBlock = async (height: number, of: RPCClient[]) => {
      const [want, ...got] = await Promise.all(
        [clients[1], ...of].map((c) => c.getBlock({ id: height })),
      )
      for (const b of got) {
        expect(b.hash).toBe(want.hash)
        expect(b.stateRoot).toBe(want.stateRoot)
      }
    }
    await sameBlock(target, [fc, lc])
    expect((await fc.getHealth()).details).toMatchObject({ base: h, engine: 'bft' })
    expect((await lc.getHealth()).details).toMatchObject({ base: hLate, engine: 'bft' })
    // a boundary block below the snapshot was backfilled (hash-linked); genesis is kept
    const b = history.boundaries[history.boundaries.length - 1] as number
    expect((await fc.getBlock({ id: b })).hash).toBe((await clients[1].getBlock({ id: b })).hash)

    // (a) the late validator votes: with validator 0 stopped, a commit needs 3 of the 4 equal
    // stakes, i.e. validators 1, 2 and the late one (blocks certified before the stop are at
    // most two above the head, so the chain moving 4 further proves its votes count)
    await validators[0].stop()
    const voted = (await clients[1].getHead()).height + 4
    await until(
      async () => (await clients[1].getHead()).height >= voted,
      30_000,
      `validators 1, 2 and ${LATE} to commit ${voted} without validator 0`,
    )
    await until(
      async () => (await lc.getHead()).height >= voted && (await fc.getHead()).height >= voted,
      10_000,
      `the late validator and the follower to commit ${voted}`,
    )
    await sameBlock(voted, [fc, lc])
    const tVoted = Date.now() - t0

    // (b) restart the late validator (still with --state-sync) and the follower on their data
    // folders: each loads its chain anchored at H (no new sync; the blocks missing below H break
    // neither the chain store, the history check nor the engine's restore) and follows again;
    // without the validator (and validator 0) the chain stands still, so it moving on proves the
    // restarted validator votes again
    expect(await Promise.all([late.stop(), f.stop()])).toEqual([0, 0])
    const restarted = [
      { p: runValidator(LATE, '--state-sync'), base: hLate },
      { p: start('follower (restarted)', ['run', '--config', file]), base: h },
    ]
    for (const { p, base } of restarted) {
      await p.waitFor(/snapshot\\" ignored: the data folder already holds a chain/, 20_000)
      expect(logLine(p, 'chain loaded from the data folder').from).toBe(String(base))
      expect(p.output()).not.toContain('state sync: waiting for peers')
    }
    const resumed = (await clients[1].getHead()).height + 3
    await until(
      async () => (await clients[1].getHead()).height >= resumed,
      40_000,
      `the chain to resume with the restarted validator ${LATE} (to ${resumed})`,
    )
    await until(
      async () => (await lc.getHead()).height >= resumed && (await fc.getHead()).height >= resumed,
      10_000,
      `the restarted validator and follower to commit ${resumed}`,
    )
    await sameBlock(resumed, [fc, lc])
    expect((await lc.getHealth()).details).toMatchObject({ base: hLate, engine: 'bft' })
    expect((await fc.getHealth()).details).toMatchObject({ base: h, engine: 'bft' })
    if (process.env.AUREON_E2E_DUMP) {
      const dump = nodes.map((n) => `--- ${n.name} ---\n${n.proc.output()}`).join('\n')
      writeFileSync(process.env.AUREON_E2E_DUMP, dump)
    }
    // eslint-disable-next-line no-console
    console.log(
      `bft state sync e2e: snapshot at ${h} (late validator ${hLate}), boundaries ${history.boundaries.join(',')}; voted to ${voted} without validator 0, resumed to ${resumed} after the restarts; ms: synced ${tSynced}, voted ${tVoted}, whole test ${Date.now() - t0}`,
    )
  }
})
