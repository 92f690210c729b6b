import type { Command } from 'commander'
import { lazyAction } from '../program.js'
import { devnetDefaults } from './options.js'

export function registerDevnet(program: Command): void {
  program
    .command('devnet')
    .description('generate a fresh local network and run one process per validator on 127.0.0.1')
    .option('--validators <n>', 'number of validators', devnetDefaults.validators)
    .option('--dir <dir>', 'network folder (wiped unless --keep)', devnetDefaults.dir)
    .option('--engine <engine>', 'bft, poa or pow', devnetDefaults.engine)
    .option('--p2p-port <port>', 'first p2p port', devnetDefaults.p2pPort)
    .option('--rpc-port <port>', 'first RPC port', devnetDefaults.rpcPort)
    .option('--keep', 'reuse the folder (and its chain) if it exists')
    .action(lazyAction(async () => (await import('./handler.js')).devnetHandler))
}
