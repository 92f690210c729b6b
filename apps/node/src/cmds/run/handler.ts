import { readKeyFile } from '@aureon/crypto'
import { type NodeKey, nodeKeyFromSecret } from '../../accounts.js'
import { ConfigError, loadNodeConfig } from '../../config.js'
import { passphrase } from '../keys/handler.js'
import { dottedFlags, readGenesis, runNodeUntilSignal } from '../shared.js'
import type { RunOptions } from './options.js'

/** Loads the node key (ed25519 and optional BLS) named by the config. */
export async function loadNodeKey(key: string, blsKey: string): Promise<NodeKey | undefined> {
  if (!key) return undefined
  const ed = await readKeyFile(key, { passphrase: passphrase() })
  if (ed.type !== 'ed25519') throw new ConfigError(`${key} is not an ed25519 key file`)
  let blsSecret: Uint8Array | undefined
  if (blsKey) {
    const b = await readKeyFile(blsKey, { passphrase: passphrase() })
    if (b.type !== 'bls') throw new ConfigError(`${blsKey} is not a BLS key file`)
    blsSecret = b.secretKey
  }
  return nodeKeyFromSecret(ed.secretKey, blsSecret)
}

/** `aureon run --config config.toml`: one node of a network; flags override the file. */
export async function runHandler(opts: RunOptions): Promise<void> {
  const flags = dottedFlags(opts)
  if (opts.dataDir) flags.dataDir = opts.dataDir
  if (opts.stateSync) flags['sync.mode'] = 'snapshot'
  const config = loadNodeConfig({ file: opts.config, flags })
  const genesis = readGenesis(config.genesis)
  const key = await loadNodeKey(config.key, config.blsKey)
  await runNodeUntilSignal({ config, genesis, key })
}
