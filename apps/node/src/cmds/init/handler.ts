import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { addressToHex, writeKeyFile } from '@aureon/crypto'
import { peerIdFromSecretKey } from '@aureon/p2p'
import { stringify as toTOML } from 'smol-toml'
import { ConfigError } from '../../config.js'
import { networkGenesis, newValidatorKeys } from '../../genesis-gen.js'
import { passphrase } from '../keys/handler.js'
import type { InitOptions } from './options.js'

export interface InitResult {
  dir: string
  genesis: string
  nodes: { dir: string; config: string; rpcUrl: string; address: string; peer: string }[]
}

/** `aureon init`: genesis.json, validator keys and one config.toml per validator. */
export async function initHandler(opts: InitOptions, quiet = false): Promise<InitResult> {
  const n = Number(opts.validators)
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new ConfigError('--validators must be 1..100')
  if (!['bft', 'poa', 'pow', 'dev'].includes(opts.engine))
    throw new ConfigError('--engine must be bft, poa, pow or dev')
  const dir = resolve(opts.out)
  if (existsSync(dir) && readdirSync(dir).length && !opts.force) {
    throw new ConfigError(`${dir} is not empty (use --force to overwrite)`)
  }
  mkdirSync(dir, { recursive: true })
  const keys = newValidatorKeys(n)
  const genesis = networkGenesis({
    chainId: Number(opts.chainId),
    engine: opts.engine,
    validators: keys,
    timestamp: Date.now(),
  })
  const genesisPath = join(dir, 'genesis.json')
  writeFileSync(genesisPath, `${JSON.stringify(genesis, null, 2)}\n`)
  const p2pBase = Number(opts.p2pPort)
  const rpcBase = Number(opts.rpcPort)
  const peers = await Promise.all(keys.map((k) => peerIdFromSecretKey(k.secretKey)))
  const addr = (i: number) => `/ip4/127.0.0.1/tcp/${p2pBase + i}/p2p/${peers[i]}`
  const nodes: InitResult['nodes'] = []
  for (const [i, k] of keys.entries()) {
    const nodeDir = join(dir, `node-${i}`)
    mkdirSync(nodeDir, { recursive: true })
    await writeKeyFile(join(nodeDir, 'validator.key.json'), {
      type: 'ed25519',
      secretKey: k.secretKey,
      passphrase: passphrase(),
      overwrite: true,
    })
    await writeKeyFile(join(nodeDir, 'validator.bls.json'), {
      type: 'bls',
      secretKey: k.blsSecretKey!,
      passphrase: passphrase(),
      overwrite: true,
    })
    const config = {
      dataDir: 'data',
      genesis: '../genesis.json',
      key: 'validator.key.json',
      blsKey: 'validator.bls.json',
      rpc: { host: '127.0.0.1', port: rpcBase + i },
      p2p: {
        listen: [`/ip4/127.0.0.1/tcp/${p2pBase + i}`],
        bootstrap: keys
          .map((_, j) => j)
          .filter((j) => j !== i)
          .map(addr),
      },
      consensus: { engine: opts.engine, blockTime: Number(opts.blockTime) },
      log: { level: 'info' },
    }
    const configPath = join(nodeDir, 'config.toml')
    writeFileSync(
      configPath,
      `# Aureon node ${i} (${addressToHex(k.address)})\n${toTOML(config)}\n`,
    )
    nodes.push({
      dir: nodeDir,
      config: configPath,
      rpcUrl: `http://127.0.0.1:${rpcBase + i}`,
      address: addressToHex(k.address),
      peer: peers[i],
    })
  }
  const result = { dir, genesis: genesisPath, nodes }
  if (!quiet) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  return result
}
