import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { createClient } from '@aureon/rpc'
import { afterAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
import { freePort, removeDir, runCli, startCli, tempDir, until } from './helpers.js'

describe('[aureon snapshot]: create, list, export, a verified import, and a node that continues from it', () => {
  const dir = tempDir('snap')
  const dataDir = join(dir, 'chain')
  const fresh = join(dir, 'fresh')
  afterAll(() => removeDir(dir))

  it('snapshots a stopped node, packs it, imports it into a fresh folder that runs block H+1 to the original root', async () => {
    const port = await freePort()
    const node = startCli([
      'dev',
      '--data-dir',
      dataDir,
      '--rpc.port',
      String(port),
      '--log.level',
      'warn',
    ])
    const url = (await node.waitFor(/Listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]
    await runCli([
      'keys',
      'import',
      bytesToHex(devAccounts()[0].secretKey),
      '--out',
      join(dir, 'k0.json'),
    ])
    for (let i = 0; i < 3; i++) {
      await runCli([
        'tx',
        'transfer',
        '--key',
        join(dir, 'k0.json'),
        '--to',
        `0x${String(i + 1).padStart(40, '0')}`,
        '--amount',
        '5',
        '--rpc',
        url,
      ])
    }
    const head = await createClient({ url }).getHead()
    expect(await node.stop()).toBe(0)

    const created = JSON.parse(await runCli(['snapshot', 'create', '--data-dir', dataDir]))
    expect(created.height).toBe(String(head.height))
    expect(created.stateRoot).toBe(head.stateRoot)
    const list = JSON.parse(await runCli(['snapshot', 'list', '--data-dir', dataDir]))
    expect(list).toHaveLength(1)

    const file = join(dir, 'state.snap')
    await runCli(['snapshot', 'export', file, '--data-dir', dataDir])
    expect(existsSync(file)).toBe(true)
    const imported = JSON.parse(
      await runCli([
        'snapshot',
        'import',
        file,
        '--data-dir',
        fresh,
        '--chain-id',
        '1337',
        '--state-root',
        head.stateRoot,
      ]),
    )
    expect(imported.stateRoot).toBe(head.stateRoot)
    expect(imported.height).toBe(String(head.height))

    expect(imported.anchored).toBe(true)

    // a snapshot of another chain is refused with a coded error
    await expect(
      runCli(['snapshot', 'import', file, '--data-dir', join(dir, 'other'), '--chain-id', '7']),
    ).rejects.toThrow(/ERR_/)
    // a corrupt snapshot is refused and leaves the anchored chain of `fresh` as it was
    const corrupt = join(dir, 'corrupt.snap')
    const bytes = readFileSync(file)
    bytes[20] ^= 0xff
    writeFileSync(corrupt, bytes)
    copyFileSync(`${file}.block`, `${corrupt}.block`)
    // (same height as the folder's chain: refused unless --force)
    await expect(
      runCli(['snapshot', 'import', file, '--data-dir', fresh, '--chain-id', '1337']),
    ).rejects.toThrow(/ERR_SNAPSHOT_NOT_NEWER/)
    await expect(
      runCli(['snapshot', 'import', corrupt, '--data-dir', fresh, '--chain-id', '1337', '--force']),
    ).rejects.toThrow(/ERR_SNAPSHOT_(CORRUPT|FORGED)/)
    // a packed file without its block cannot anchor a chain: refused before anything is written
    copyFileSync(file, join(dir, 'bare.snap'))
    await expect(
      runCli([
        'snapshot',
        'import',
        join(dir, 'bare.snap'),
        '--data-dir',
        fresh,
        '--chain-id',
        '1337',
      ]),
    ).rejects.toThrow(/ERR_SNAPSHOT_NO_BLOCK/)

    // both nodes run; the imported one continues from H without blocks 1..H-1
    const [p1, p2] = [await freePort(), await freePort()]
    const original = startCli(['dev', '--data-dir', dataDir, '--rpc.port', String(p1)])
    const imported2 = startCli(['dev', '--data-dir', fresh, '--rpc.port', String(p2)])
    try {
      await original.waitFor(/Listening on/)
      await imported2.waitFor(/Listening on/)
      const a = createClient({ url: `http://127.0.0.1:${p1}` })
      const b = createClient({ url: `http://127.0.0.1:${p2}` })
      const bHead = await b.getHead()
      expect(bHead.height).toBe(head.height)
      expect(bHead.stateRoot).toBe(head.stateRoot)
      expect((await b.getBlock({ id: 0 })).hash).toBe((await a.getBlock({ id: 0 })).hash)
      await expect(b.getBlock({ id: 1 })).rejects.toMatchObject({
        code: 'ERR_NOT_FOUND',
        message: expect.stringMatching(/started from a snapshot/),
      })
      // the same transaction on both: block H+1 executes to the same state root
      const tx = signTransaction(
        {
          kind: TxKind.Transfer,
          chainId: 1337n,
          nonce: 3n,
          gasPrice: 1n,
          gasLimit: 21_000n,
          to: devAccounts()[1].address,
          amount: 7n,
        },
        devAccounts()[0].secretKey,
      )
      const raw = bytesToHex(encodeTransaction(tx))
      await a.sendTx({ tx: raw })
      await b.sendTx({ tx: raw })
      const next = async (c: typeof a) =>
        until(
          async () => {
            const h = await c.getHead()
            return h.height === head.height + 1 && h
          },
          20_000,
          'block H+1',
        )
      const [ha, hb] = await Promise.all([next(a), next(b)])
      expect(hb.stateRoot).toBe(ha.stateRoot)
    } finally {
      await Promise.all([original.stop(), imported2.stop()])
    }
  }, 180_000)
})
