import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addressToHex, bytesToHex } from '@aureon/crypto'
import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { createClient, type RPCClient } from '@aureon/rpc'
import { afterAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
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

const CHAIN_ID = 1000n
const EVERY = 4
/** AUREON_SOAK=1: 100,000 extra genesis accounts, 1 MiB chunks (prints the sync time). */
const SOAK = !!process.env.AUREON_SOAK
const EXTRA_ACCOUNTS = SOAK ? 100_000 : 0
const CHUNK_SIZE = SOAK ? 1024 * 1024 : 4096
const SLOW = SOAK ? 10 : 1

/** The node's own p2p address, from its `p2p: listening` log line. */
async function p2pAddress(node: CliProcess): Promise<{ peerId: string; addr: string }> {
  const m = await node.waitFor(/"peerId":"([^"]+)","addresses":\["([^"]+)"/)
  return { peerId: m[1], addr: m[2] }
}

function toml(o: {
  dataDir: string
  genesis: string
  key?: string
  rpcPort: number
  listen?: string
  bootstrap: string[]
  sync?: string
}): string {
  return [
    `dataDir = ${JSON.stringify(o.dataDir)}`,
    `genesis = ${JSON.stringify(o.genesis)}`,
    `key = ${JSON.stringify(o.key ?? '')}`,
    '[rpc]',
    `port = ${o.rpcPort}`,
    '[p2p]',
    `listen = [${JSON.stringify(o.listen ?? '/ip4/127.0.0.1/tcp/0')}]`,
    `bootstrap = [${o.bootstrap.map((b) => JSON.stringify(b)).join(', ')}]`,
    '[consensus]',
    'engine = "dev"',
    'blockTime = 0',
    '[snapshots]',
    `every = ${EVERY}`,
    'keep = 2',
    `chunkSize = ${CHUNK_SIZE}`,
    '[sync]',
    `mode = ${JSON.stringify(o.sync ?? 'full')}`,
    'minPeers = 2',
    'timeout = 20000',
    '[log]',
    'level = "info"',
    '',
  ].join('\n')
}

describe('[aureon state sync]: a fresh node syncs a verified snapshot from two peers, another starts from an imported one; real processes', () => {
  const dir = tempDir('statesync')
  const nodes: CliProcess[] = []
  const sender = devAccounts()[0]
  let nonce = 0n
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    removeDir(dir)
  })

  async function transfer(c: RPCClient, n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const to = new Uint8Array(20)
      to[0] = 0xab
      new DataView(to.buffer).setUint32(16, Number(nonce) + 1)
      const tx = signTransaction(
        {
          kind: TxKind.Transfer,
          chainId: CHAIN_ID,
          nonce: nonce++,
          gasPrice: 1n,
          gasLimit: 21_000n,
          to,
          amount: 1000n,
        },
        sender.secretKey,
      )
      await c.sendTx({ tx: bytesToHex(encodeTransaction(tx)) })
    }
  }

  it(
    'picks the snapshot both peers offer, refuses the forged chunks of one, and follows the chain to the same state root',
    async () => {
      try {
        await scenario()
      } catch (e) {
        for (const [i, n] of nodes.entries())
          process.stderr.write(`--- node ${'abcd'[i]} output ---\n${n.output().slice(-6000)}\n`)
        throw e
      }
    },
    120_000 * SLOW,
  )

  async function scenario(): Promise<void> {
    const t0 = Date.now()
    const p2pPort = await freePortRange(1)
    const init = JSON.parse(
      await runCli([
        'init',
        '--out',
        join(dir, 'net'),
        '--engine',
        'dev',
        '--validators',
        '1',
        '--chain-id',
        String(CHAIN_ID),
        '--p2p-port',
        String(p2pPort),
        '--block-time',
        '0',
      ]),
    )
    const genesis = init.genesis as string
    if (EXTRA_ACCOUNTS) {
      const g = JSON.parse(readFileSync(genesis, 'utf8'))
      for (let i = 0; i < EXTRA_ACCOUNTS; i++)
        g.balances[`0x${'cd'.repeat(16)}${(i + 1).toString(16).padStart(8, '0')}`] = '1000'
      writeFileSync(genesis, JSON.stringify(g))
    }
    const aAddr = `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${init.nodes[0].peer}`
    const start = async (name: string, cfg: Omit<Parameters<typeof toml>[0], 'rpcPort'>) => {
      const rpcPort = await freePort()
      const file = join(dir, `${name}.toml`)
      writeFileSync(file, toml({ ...cfg, rpcPort }))
      const node = startCli(['run', '--config', file])
      nodes.push(node)
      const client = createClient({ url: `http://127.0.0.1:${rpcPort}`, timeoutMs: 5_000 })
      return { node, client, dataDir: cfg.dataDir }
    }

    // A seals (automine), B follows; both take a snapshot every 4 blocks
    const a = await start('a', {
      dataDir: join(dir, 'a'),
      genesis,
      key: join(dir, 'net', 'node-0', 'validator.key.json'),
      listen: `/ip4/127.0.0.1/tcp/${p2pPort}`,
      bootstrap: [],
    })
    await a.node.waitFor(/RPC listening/, 60_000 * SLOW)
    const b = await start('b', { dataDir: join(dir, 'b'), genesis, bootstrap: [aAddr] })
    const bP2P = await p2pAddress(b.node)
    await b.node.waitFor(/p2p: peer ready/)
    // new accounts (so a snapshot has several 4 KiB chunks); automine seals them in some blocks
    // (and a head above the newest snapshot, so C has blocks to sync after it)
    for (let round = 0; round < 4 || (await a.client.getHead()).height % EVERY === 0; round++) {
      await transfer(a.client, round < 4 ? 10 : 1)
      const want = nonce
      await until(
        async () => {
          const acct = await a.client.getAccount({ address: addressToHex(sender.address) })
          return BigInt(acct.nonce) === want
        },
        20_000 * SLOW,
        `A to include ${want} transactions`,
      )
    }
    const aHead = await a.client.getHead()
    expect(aHead.height).toBeGreaterThanOrEqual(2 * EVERY + 1)
    await until(
      async () => (await b.client.getHead()).height === aHead.height,
      30_000 * SLOW,
      'B to follow A',
    )
    const snapDir = (d: string, height: number) =>
      join(d, 'snapshots', `height-${String(height).padStart(12, '0')}`)
    // the newest snapshot both peers hold, strictly below the head
    const h = Math.floor(aHead.height / EVERY) * EVERY
    await until(
      async () =>
        existsSync(join(snapDir(a.dataDir, h), 'block.bin')) &&
        existsSync(join(snapDir(b.dataDir, h), 'block.bin')),
      20_000 * SLOW,
      `both peers to snapshot height ${h}`,
    )
    // same state, same snapshot bytes on both peers
    expect(readFileSync(join(snapDir(b.dataDir, h), 'manifest.bin'))).toEqual(
      readFileSync(join(snapDir(a.dataDir, h), 'manifest.bin')),
    )
    // B now serves forged chunks: one byte of each flipped (sizes kept)
    const chunks = readdirSync(snapDir(b.dataDir, h)).filter((f) => f.startsWith('chunk-'))
    expect(chunks.length).toBeGreaterThanOrEqual(2)
    for (const f of chunks) {
      const p = join(snapDir(b.dataDir, h), f)
      const bytes = readFileSync(p)
      bytes[bytes.length >> 1] ^= 0xff
      writeFileSync(p, bytes)
    }

    // C: an empty data folder, state sync from A and B
    const tSync = Date.now()
    const c = await start('c', {
      dataDir: join(dir, 'c'),
      genesis,
      bootstrap: [aAddr, bP2P.addr],
      sync: 'snapshot',
    })
    await c.node.waitFor(/state sync: state imported and verified/, 40_000 * SLOW)
    const syncMs = Date.now() - tSync
    const out = c.node.output()
    const done = JSON.parse(out.split('\n').find((l) => l.includes('state imported and verified'))!)
    expect(out).toMatch(/state sync: snapshot chosen/)
    const chosen = JSON.parse(out.split('\n').find((l) => l.includes('snapshot chosen'))!)
    expect(chosen.height).toBe(h)
    expect(chosen.peers).toHaveLength(2)
    // B's chunk was refused with the chunk error, and fetched from A instead
    const refused = out
      .split('\n')
      .filter((l) => l.includes('state sync: chunk refused'))
      .map((l) => JSON.parse(l))
    expect(refused.length).toBeGreaterThanOrEqual(1)
    expect(refused.every((r) => r.peer === bP2P.peerId && r.code === 'ERR_SNAPSHOT_CORRUPT')).toBe(
      true,
    )
    await c.node.waitFor(/RPC listening/, 60_000 * SLOW)
    // C block-syncs H+1.. from its peers (executing block H+1 to A's root)
    await until(
      async () => (await c.client.getHead()).height === aHead.height,
      20_000 * SLOW,
      'C to reach the head',
    )
    expect((await c.client.getHead()).stateRoot).toBe(aHead.stateRoot)
    expect((await c.client.getBlock({ id: h + 1 })).stateRoot).toBe(
      (await a.client.getBlock({ id: h + 1 })).stateRoot,
    )
    expect((await c.client.getHealth()).details).toMatchObject({ base: h, engine: 'dev' })
    // below the snapshot: a clear not-found
    await expect(c.client.getBlock({ id: 3 })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
      message: expect.stringMatching(new RegExp(`started from a snapshot at height ${h}`)),
    })

    // D: `aureon snapshot import` of A's folder into an empty data folder, then `aureon run`: it
    // continues from H, block-syncs H+1.. from A and executes them to A's roots
    await runCli([
      'snapshot',
      'import',
      snapDir(a.dataDir, h),
      '--data-dir',
      join(dir, 'd'),
      '--chain-id',
      String(CHAIN_ID),
      '--genesis',
      genesis,
    ])
    const d = await start('d', { dataDir: join(dir, 'd'), genesis, bootstrap: [aAddr] })
    await d.node.waitFor(/RPC listening/, 60_000 * SLOW)
    await until(
      async () => (await d.client.getHead()).height === aHead.height,
      20_000 * SLOW,
      'D to reach the head',
    )
    expect((await d.client.getBlock({ id: h + 1 })).stateRoot).toBe(
      (await a.client.getBlock({ id: h + 1 })).stateRoot,
    )
    expect((await d.client.getBlock({ id: 0 })).hash).toBe(
      (await a.client.getBlock({ id: 0 })).hash,
    )

    // and they follow consensus: a new block of A reaches C and D with the same root
    await transfer(a.client, 2)
    await until(
      async () => {
        const acct = await a.client.getAccount({ address: addressToHex(sender.address) })
        return BigInt(acct.nonce) === nonce
      },
      20_000 * SLOW,
      'A to seal the new transactions',
    )
    const next = await a.client.getHead()
    expect(next.height).toBeGreaterThan(aHead.height)
    await until(
      async () => (await c.client.getHead()).height >= next.height,
      20_000 * SLOW,
      'C to follow the new blocks',
    )
    expect((await c.client.getBlock({ id: next.height })).stateRoot).toBe(next.stateRoot)
    await until(
      async () => (await d.client.getHead()).height >= next.height,
      20_000 * SLOW,
      'D to follow the new blocks',
    )
    expect((await d.client.getBlock({ id: next.height })).stateRoot).toBe(next.stateRoot)
    // baseline (soak only): the same snapshot imported from A's folder by the CLI
    let direct = ''
    if (SOAK) {
      const t = Date.now()
      await runCli(
        [
          'snapshot',
          'import',
          snapDir(a.dataDir, h),
          '--data-dir',
          join(dir, 'direct'),
          '--chain-id',
          String(CHAIN_ID),
        ],
        { timeoutMs: 600_000 },
      )
      direct = `; CLI import of the same folder ${Date.now() - t} ms (process start included)`
    }
    // eslint-disable-next-line no-console
    console.log(
      `state sync e2e: snapshot at ${h} (${chosen.chunks} chunks, head ${aHead.height}), ${refused.length} forged chunk(s) refused from B; C synced in ${syncMs} ms (process start included; fetch+verify+import ${done.importMs} ms)${direct}; whole test ${Date.now() - t0} ms`,
    )
  }
})
