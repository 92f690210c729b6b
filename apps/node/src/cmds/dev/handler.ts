import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { addressToHex, bytesToHex } from '@aureon/crypto'
import { devAccounts, devValidatorKey } from '../../accounts.js'
import { ConfigError, loadNodeConfig } from '../../config.js'
import { DEV_BALANCE, devGenesis } from '../../genesis-gen.js'
import { dottedFlags, readGenesis, runNodeUntilSignal } from '../shared.js'
import type { DevOptions } from './options.js'

/** `aureon dev`: a single-node dev chain with prefunded accounts, like Anvil. */
export async function devHandler(opts: DevOptions): Promise<void> {
  const dataDir = resolve(opts.dataDir)
  mkdirSync(dataDir, { recursive: true })
  const count = Number(opts.accounts)
  if (!Number.isInteger(count) || count < 1 || count > 1000)
    throw new ConfigError('--accounts must be 1..1000')
  const blockTime = Number(opts.blockTime)
  if (!Number.isInteger(blockTime) || blockTime < 0)
    throw new ConfigError('--block-time must be a whole number of ms (0 = automine)')
  const accounts = devAccounts(count)
  const genesisPath = join(dataDir, 'genesis.json')
  if (!existsSync(genesisPath)) {
    writeFileSync(genesisPath, `${JSON.stringify(devGenesis({ accounts }), null, 2)}\n`)
  }
  const genesis = readGenesis(genesisPath)
  const config = loadNodeConfig({
    flags: {
      dataDir,
      genesis: genesisPath,
      'consensus.engine': 'dev',
      'consensus.blockTime': blockTime,
      'p2p.enabled': false,
      ...dottedFlags(opts as unknown as Record<string, unknown>),
    },
  })
  await runNodeUntilSignal({
    config,
    genesis,
    key: devValidatorKey(),
    onStarted: (node) => {
      const unit = 10n ** 18n
      const lines = [
        '',
        'Aureon dev chain',
        '================',
        '',
        `Available accounts (${DEV_BALANCE / unit} AUR each)`,
        ...accounts.map((a, i) => `(${i}) ${addressToHex(a.address)}`),
        '',
        'Secret keys (ed25519 seeds; public dev keys: never use them on a real network)',
        ...accounts.map((a, i) => `(${i}) ${bytesToHex(a.secretKey)}`),
        '',
        `Chain id:     ${String(genesis.chainId)}`,
        `Data folder:  ${dataDir}`,
        `Mining:       ${blockTime > 0 ? `every ${blockTime} ms` : 'automine (a block per transaction batch)'}`,
        `Head height:  ${node.chain.head().height}`,
        '',
        `Listening on ${node.rpcUrl} (WebSocket ${node.rpcUrl?.replace(/^http/, 'ws')}/ws, explorer ${node.rpcUrl}/)`,
        '',
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    },
  })
}
