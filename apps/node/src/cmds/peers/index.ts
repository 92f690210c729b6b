import type { Command } from 'commander'
import { lazyAction } from '../program.js'
import { DEFAULT_RPC } from './options.js'

export function registerPeers(program: Command): void {
  program
    .command('peers')
    .description("list the node's connected peers")
    .option('--rpc <url>', 'node RPC URL', DEFAULT_RPC)
    .action(lazyAction(async () => (await import('./handler.js')).peersHandler))
}
