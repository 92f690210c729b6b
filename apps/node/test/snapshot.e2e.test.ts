import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import { createClient } from '@aureon/rpc'
import { afterAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
import { freePort, removeDir, runCli, startCli, tempDir } from './helpers.js'

describe('[aureon snapshot]: create, list, export and a verified import of a dev chain', () => {
  const dir = tempDir('snap')
  const dataDir = join(dir, 'chain')
  afterAll(() => removeDir(dir))

  it('snapshots a stopped node, packs it, and imports it into a fresh folder with the same root', async () => {
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
        join(dir, 'fresh'),
        '--chain-id',
        '1337',
        '--state-root',
        head.stateRoot,
      ]),
    )
    expect(imported.stateRoot).toBe(head.stateRoot)
    expect(imported.height).toBe(String(head.height))

    // a snapshot of another chain is refused with a coded error
    await expect(
      runCli(['snapshot', 'import', file, '--data-dir', join(dir, 'other'), '--chain-id', '7']),
    ).rejects.toThrow(/ERR_/)
  }, 180_000)
})
