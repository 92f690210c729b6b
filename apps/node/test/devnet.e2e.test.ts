import { join } from 'node:path'
import { addressToHex, bytesToHex } from '@aureon/crypto'
import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { createClient, type RPCClient } from '@aureon/rpc'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
import {
  type CliProcess,
  freePortRange,
  removeDir,
  runCli,
  sleep,
  startCli,
  tempDir,
  until,
} from './helpers.js'

const N = 4
const KILLS = process.env.AUREON_SOAK ? 20 : 2

describe('[aureon devnet]: four BFT validators over libp2p, real processes', () => {
  const dir = tempDir('devnet')
  const nodes: CliProcess[] = []
  const clients: RPCClient[] = []
  const configs: string[] = []
  const sender = devAccounts()[0]
  const recipient = devAccounts()[1]
  let nonce = 0n

  const start = (i: number) => {
    nodes[i] = startCli(['run', '--config', configs[i]])
  }
  const height = async (i: number) => (await clients[i].getHead()).height
  const heights = () => Promise.all(clients.map((_, i) => height(i).catch(() => -1)))

  async function sendTransfer(to: RPCClient, amount: bigint): Promise<string> {
    const tx = signTransaction(
      {
        kind: TxKind.Transfer,
        chainId: 1000n,
        nonce: nonce++,
        gasPrice: 1n,
        gasLimit: 21_000n,
        to: recipient.address,
        amount,
      },
      sender.secretKey,
    )
    return (await to.sendTx({ tx: bytesToHex(encodeTransaction(tx)) })).hash
  }

  beforeAll(async () => {
    const p2p = await freePortRange(N)
    const rpc = await freePortRange(N)
    await runCli([
      'init',
      '--out',
      dir,
      '--validators',
      String(N),
      '--p2p-port',
      String(p2p),
      '--rpc-port',
      String(rpc),
    ])
    for (let i = 0; i < N; i++) {
      configs.push(join(dir, `node-${i}`, 'config.toml'))
      clients.push(createClient({ url: `http://127.0.0.1:${rpc + i}`, timeoutMs: 5_000 }))
      start(i)
    }
    await until(
      async () => (await heights()).every((h) => h >= 2),
      150_000,
      'all four nodes to commit two blocks',
    )
  }, 240_000)

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n?.stop()))
    removeDir(dir)
  }, 60_000)

  it('commits blocks, and a transfer sent to one node has the same receipt on all four', async () => {
    const hash = await sendTransfer(clients[0], 12_345n)
    const lookups = await Promise.all(
      clients.map((c) =>
        until(
          async () => {
            const r = await c.getTx({ hash })
            return r.status !== 'pending' && r
          },
          60_000,
          'the transfer on every node',
        ),
      ),
    )
    for (const l of lookups) {
      expect(l.status).toBe('included')
      expect(l.receipt).toEqual(lookups[0].receipt)
      expect(l.blockHash).toBe(lookups[0].blockHash)
    }
    const acc = await clients[3].getAccount({ address: addressToHex(recipient.address) })
    expect(BigInt(acc.balance)).toBeGreaterThan(12_344n)
  }, 600_000)

  it('lists its peers over the API and with `aureon peers`', async () => {
    const url = (clients[0] as unknown as { url: string }).url
    const out = JSON.parse(await runCli(['peers', '--rpc', url]))
    expect(out.count).toBe(N - 1)
    expect(out.peers.every((p: { id: string }) => p.id.startsWith('12D3KooW'))).toBe(true)
  }, 600_000)

  it('keeps committing with one validator stopped, and the restarted one catches up', async () => {
    await nodes[3].stop()
    const before = Math.max(...(await heights()).slice(0, 3))
    await until(
      async () => (await heights()).slice(0, 3).every((h) => h >= before + 3),
      90_000,
      'three nodes to commit without the fourth',
    )
    start(3)
    const target = Math.max(...(await heights()).slice(0, 3))
    await until(async () => (await height(3)) >= target, 120_000, 'the restarted node to catch up')
  }, 600_000)

  it('survives kill -9 under load: restarts cleanly, catches up, never diverges', async () => {
    for (let k = 0; k < KILLS; k++) {
      const victim = 1 + (k % (N - 1))
      const load = (async () => {
        for (let j = 0; j < 5; j++) await sendTransfer(clients[0], 1n).catch(() => undefined)
      })()
      await sleep(200 + ((k * 7919) % 1500))
      await nodes[victim].kill9()
      await load
      start(victim)
      const target = Math.max(...(await heights()).filter((_, i) => i !== victim))
      await until(
        async () => (await height(victim)) >= target,
        120_000,
        `node ${victim} to catch up after kill -9 #${k + 1}`,
      )
    }
  }, 600_000)

  it('all four agree on the block hash and state root at every height', async () => {
    const top = Math.min(...(await heights()))
    expect(top).toBeGreaterThan(3)
    for (let h = 1; h <= top; h++) {
      const blocks = await Promise.all(clients.map((c) => c.getBlock({ id: h })))
      for (const b of blocks) {
        expect(b.hash).toBe(blocks[0].hash)
        expect(b.stateRoot).toBe(blocks[0].stateRoot)
      }
    }
  }, 600_000)
})
