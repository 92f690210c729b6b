import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { addressToHex, bytesToHex, utf8ToBytes } from '@aureon/crypto'
import { createClient } from '@aureon/rpc'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
import { DEV_BALANCE } from '../src/genesis-gen.js'
import {
  type CliProcess,
  counterWasm,
  freePort,
  removeDir,
  runCli,
  startCli,
  tempDir,
} from './helpers.js'

const u64le = (n: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(n)
  return `0x${b.toString('hex')}`
}

describe('[aureon dev]: a transfer and a counter contract through the CLI and the RPC', () => {
  const dir = tempDir('dev')
  const dataDir = join(dir, 'chain')
  const accounts = devAccounts()
  let node: CliProcess
  let url: string
  let port: number

  beforeAll(async () => {
    port = await freePort()
    node = startCli([
      'dev',
      '--data-dir',
      dataDir,
      '--rpc.port',
      String(port),
      '--log.level',
      'warn',
    ])
    url = (await node.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]
    await runCli([
      'keys',
      'import',
      bytesToHex(accounts[0].secretKey),
      '--out',
      join(dir, 'k0.json'),
    ])
  })

  afterAll(async () => {
    await node?.stop()
    removeDir(dir)
  })

  it('prints ten prefunded accounts with their keys', () => {
    const out = node.output()
    for (const a of accounts) {
      expect(out).toContain(addressToHex(a.address))
      expect(out).toContain(bytesToHex(a.secretKey))
    }
    expect(url).toBe(`http://127.0.0.1:${port}`)
  })

  it('sends a transfer with `aureon tx transfer` and the RPC shows the new balance', async () => {
    const to = addressToHex(accounts[1].address)
    const out = JSON.parse(
      await runCli([
        'tx',
        'transfer',
        '--key',
        join(dir, 'k0.json'),
        '--to',
        to,
        '--amount',
        '1000',
        '--rpc',
        url,
      ]),
    )
    expect(out.status).toBe('included')
    expect(out.receipt.status).toBe('Success')
    const client = createClient({ url })
    const acc = await client.getAccount({ address: to })
    expect(BigInt(acc.balance)).toBe(DEV_BALANCE + 1000n)
    const sender = await client.getAccount({ address: addressToHex(accounts[0].address) })
    expect(BigInt(sender.nonce)).toBe(1n)
    const tx = await client.getTx({ hash: out.hash })
    expect(tx.status).toBe('included')
  })

  it('deploys the counter contract, calls increment, and reads its storage', async () => {
    const wasm = join(dir, 'counter.wasm')
    writeFileSync(wasm, await counterWasm())
    const dep = JSON.parse(
      await runCli(['tx', 'deploy', '--key', join(dir, 'k0.json'), '--code', wasm, '--rpc', url]),
    )
    expect(dep.receipt.status).toBe('Success')
    expect(dep.receipt.contractAddress).toBe(dep.contractAddress)
    const call = JSON.parse(
      await runCli([
        'tx',
        'call',
        '--key',
        join(dir, 'k0.json'),
        '--contract',
        dep.contractAddress,
        '--function',
        'increment',
        '--rpc',
        url,
      ]),
    )
    expect(call.receipt.status).toBe('Success')
    expect(call.receipt.output).toBe(u64le(1n))
    const client = createClient({ url })
    const stored = await client.getContractStorage({
      address: dep.contractAddress,
      key: bytesToHex(utf8ToBytes('count')),
    })
    expect(stored.value).toBe(u64le(1n))
    // a read-only call computes 2 but changes nothing
    const sim = await client.callContract({ contract: dep.contractAddress, function: 'increment' })
    expect(sim.status).toBe('Success')
    expect(sim.output).toBe(u64le(2n))
    const again = await client.getContractStorage({
      address: dep.contractAddress,
      key: bytesToHex(utf8ToBytes('count')),
    })
    expect(again.value).toBe(u64le(1n))
    const info = await client.getContract({ address: dep.contractAddress })
    expect(info.exports).toEqual(['check_balance', 'increment', 'init', 'send_funds'])
  })

  it('stakes with a BLS key and proof of possession, then starts unbonding', async () => {
    await runCli(['keys', 'new', '--type', 'bls', '--out', join(dir, 'b0.json')])
    const stake = JSON.parse(
      await runCli([
        'tx',
        'stake',
        '--key',
        join(dir, 'k0.json'),
        '--amount',
        '5000',
        '--bls-key',
        join(dir, 'b0.json'),
        '--rpc',
        url,
      ]),
    )
    expect(stake.receipt.status).toBe('Success')
    const unstake = JSON.parse(
      await runCli([
        'tx',
        'unstake',
        '--key',
        join(dir, 'k0.json'),
        '--amount',
        '2000',
        '--rpc',
        url,
      ]),
    )
    expect(unstake.receipt.status).toBe('Success')
    const acc = await createClient({ url }).getAccount({
      address: addressToHex(accounts[0].address),
    })
    expect(acc.stake).toBe('3000')
    expect(acc.unbonding.map((u) => u.amount)).toEqual(['2000'])
  })

  it('refuses a bad transaction with a coded error and keeps serving', async () => {
    const client = createClient({ url })
    await expect(client.sendTx({ tx: '0x1234' })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_/),
    })
    const head = await client.getHead()
    expect(head.height).toBeGreaterThanOrEqual(3)
  })

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(text).toMatch(/aureon_chain_head_height \d+/)
    expect(text).toContain('aureon_txpool_size')
  })

  it('continues the same chain after a restart on the same data folder', async () => {
    const client = createClient({ url })
    const before = await client.getHead()
    expect(await node.stop()).toBe(0)
    node = startCli([
      'dev',
      '--data-dir',
      dataDir,
      '--rpc.port',
      String(port),
      '--log.level',
      'warn',
    ])
    await node.waitFor(/Listening on/)
    const after = await client.getHead()
    expect(after.height).toBe(before.height)
    expect(after.hash).toBe(before.hash)
    const acc = await client.getAccount({ address: addressToHex(accounts[1].address) })
    expect(BigInt(acc.balance)).toBe(DEV_BALANCE + 1000n)
  })
})
