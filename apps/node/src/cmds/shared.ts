import { existsSync, readFileSync } from 'node:fs'
import type { GenesisConfig } from '@aureon/ledger'
import type { NodeKey } from '../accounts.js'
import type { NodeConfig } from '../config.js'
import { createLogger } from '../logger.js'
import { createNodeMetrics } from '../metrics.js'
import { AureonNode } from '../node.js'

/** Commander collects `--rpc.port 9000` as `{ 'rpc.port': '9000' }` with these option names. */
export const SUBSYSTEM_FLAGS = [
  ['--rpc.host <host>', 'RPC bind address'],
  ['--rpc.port <port>', 'RPC port'],
  ['--p2p.listen <multiaddr...>', 'libp2p listen multiaddrs'],
  ['--p2p.bootstrap <multiaddr...>', 'bootstrap peers'],
  ['--log.level <level>', 'log level (trace, debug, info, warn, error)'],
] as const

/** Picks the dotted subsystem flags out of commander's options. */
export function dottedFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(opts)) if (k.includes('.') && v !== undefined) out[k] = v
  return out
}

export function readGenesis(path: string): GenesisConfig {
  if (!existsSync(path))
    throw new Error(`genesis file ${path} does not exist (create one with \`aureon init\`)`)
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as GenesisConfig
  } catch (e) {
    throw new Error(`genesis file ${path} is not valid JSON: ${(e as Error).message}`)
  }
}

/** Starts a node and stops it cleanly on SIGINT/SIGTERM (finishing the current write). */
export async function runNodeUntilSignal(opts: {
  config: NodeConfig
  genesis: GenesisConfig
  key?: NodeKey
  onStarted?: (node: AureonNode) => void
}): Promise<void> {
  const logger = createLogger(opts.config.log)
  const metrics = createNodeMetrics()
  const node = await AureonNode.start({
    config: opts.config,
    genesis: opts.genesis,
    key: opts.key,
    logger,
    metrics,
  })
  opts.onStarted?.(node)
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      logger.info({ signal: sig }, 'shutting down')
      const hard = setTimeout(() => process.exit(1), 10_000)
      hard.unref()
      void node.stop().then(resolve, resolve)
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
  })
}
