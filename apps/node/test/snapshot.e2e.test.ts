import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { bytesToHex } from '@aureon/crypto'
import { encodeTransaction, signTransaction, TxKind } from '@aureon/ledger'
import { createClient } from '@aureon/rpc'
import { afterAll, describe, expect, it } from 'vitest'
import { devAccounts } from '../src/accounts.js'
import { snapshotCreate, snapshotExport, snapshotImport } from '../src/cmds/snapshot/handler.js'
import { cli, freePort, removeDir, runCli, startCli, tempDir, until } from './helpers.js'

/** Runs the CLI to completion: exit code, stdout and stderr (a failure does not reject). */
function cliResult(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { timeout: 30_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        res({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr }),
    )
  })
}

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
    // the work runs in the snapshot worker (the snapshot code only, not the whole CLI): it reports
    // its peak RSS on request (~80 MiB here; the whole CLI was ~120 MiB before any work)
    const exported = await cliResult(['snapshot', 'export', file, '--data-dir', dataDir], {
      AUREON_SNAPSHOT_DEBUG_RSS: '1',
    })
    expect(exported.code, exported.stderr).toBe(0)
    expect(existsSync(file)).toBe(true)
    const rss = exported.stderr.match(/aureon snapshot worker: peak RSS ([\d.]+) MiB \(exit 0\)/)
    expect(rss, exported.stderr).not.toBeNull()
    expect(Number(rss?.[1])).toBeLessThan(110)
    // an existing file is overwritten with the same snapshot
    const again = JSON.parse(await runCli(['snapshot', 'export', file, '--data-dir', dataDir]))
    expect(again).toEqual(JSON.parse(exported.stdout))
    // a height above the head: ERR_CONFIG from the worker, printed once, exit code passed on
    const above = await cliResult(['snapshot', 'create', '--data-dir', dataDir, '--height', '999'])
    expect(above).toMatchObject({ code: 1, stdout: '' })
    expect(above.stderr).toBe(
      `aureon: ERR_CONFIG: no committed block at height 999 (head is ${head.height})\n`,
    )
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
    // the import staged its sorted trie nodes in the data folder's tmp and removed them
    // (the folder exists: the import used it; it is empty: the run files are gone)
    expect(readdirSync(join(fresh, 'tmp'))).toEqual([])

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
    // (verified on the main thread only: the same refusal)
    await expect(
      runCli([
        'snapshot',
        'import',
        corrupt,
        '--data-dir',
        fresh,
        '--chain-id',
        '1337',
        '--force',
        '--verify-workers',
        '0',
      ]),
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

  it('refuses usage and flag mistakes with exit code 1 and a coded error, before writing anything', async () => {
    const nowhere = join(dir, 'nowhere')
    const missing = join(dir, 'missing.snap')
    const [noFile, noChainId, unknown, noChain, notFound, listEmpty] = await Promise.all([
      cliResult(['snapshot', 'export', '--data-dir', nowhere]),
      cliResult(['snapshot', 'import', missing, '--data-dir', nowhere]),
      cliResult(['snapshot', 'create', '--data-dir', nowhere, '--bogus']),
      // these two go through the worker process
      cliResult(['snapshot', 'create', '--data-dir', nowhere]),
      cliResult(['snapshot', 'import', missing, '--data-dir', nowhere, '--chain-id', '1337']),
      cliResult(['snapshot', 'list', '--data-dir', nowhere]),
    ])
    // the argument parser's own errors
    expect(noFile.code).toBe(1)
    expect(noFile.stderr).toMatch(/missing required argument 'file'/)
    expect(noChainId.code).toBe(1)
    expect(noChainId.stderr).toMatch(/required option '--chain-id <id>' not specified/)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/)
    // coded errors from the worker: one line, exit code 1 passed on
    for (const [r, re] of [
      [noChain, /^aureon: ERR_CONFIG: .*nowhere holds no chain\n$/],
      [notFound, /^aureon: ERR_SNAPSHOT_NOT_FOUND: no snapshot at .*missing\.snap\n$/],
    ] as const) {
      expect(r).toMatchObject({ code: 1, stdout: '' })
      expect(r.stderr, JSON.stringify(r)).toMatch(re)
    }
    // listing a folder without snapshots is not an error
    expect(listEmpty.code).toBe(0)
    expect(JSON.parse(listEmpty.stdout)).toEqual([])

    // flag values are checked by the handlers (the worker runs them; called here directly)
    const config = (message: RegExp) => ({
      code: 'ERR_CONFIG',
      message: expect.stringMatching(message),
    })
    const imp = (flags: Partial<Parameters<typeof snapshotImport>[1]>) =>
      snapshotImport(missing, { dataDir: nowhere, chainId: '1337', ...flags })
    await expect(imp({ chainId: 'abc' })).rejects.toMatchObject(
      config(/^--chain-id must be a non-negative integer, not abc$/),
    )
    await expect(imp({ stateRoot: '0x1234' })).rejects.toMatchObject(
      config(/^--state-root must be 32 bytes in hex .*, not 0x1234$/),
    )
    await expect(imp({ blockHash: `0x${'zz'.repeat(32)}` })).rejects.toMatchObject(
      config(/^--block-hash must be 32 bytes in hex/),
    )
    await expect(imp({ block: join(dir, 'missing.block') })).rejects.toMatchObject(
      config(/^--block .*missing\.block: no such file$/),
    )
    await expect(imp({ maxOpenFiles: '0' })).rejects.toMatchObject(
      config(/^--max-open-files must be a positive integer, not 0$/),
    )
    await expect(imp({ verifyWorkers: 'two' })).rejects.toMatchObject(
      config(/^--verify-workers must be an integer from 0 to 16, not two$/),
    )
    await expect(snapshotCreate({ dataDir: nowhere, height: '-1' })).rejects.toMatchObject(
      config(/^--height must be a non-negative integer, not -1$/),
    )
    await expect(
      snapshotExport(missing, { dataDir: nowhere, height: '1.5' }),
    ).rejects.toMatchObject(config(/^--height must be a non-negative integer, not 1\.5$/))
    // nothing was created by any of them
    expect(existsSync(nowhere)).toBe(false)
    expect(existsSync(missing)).toBe(false)
  }, 60_000)
})
