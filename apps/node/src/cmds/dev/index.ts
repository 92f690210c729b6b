import type { Command } from 'commander'
import { lazyAction } from '../program.js'
import { devDefaults } from './options.js'

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'start a single-node dev chain: prefunded accounts, automine, RPC on 127.0.0.1:8545',
    )
    .option('--data-dir <dir>', 'data folder (LevelDB, genesis)', devDefaults.dataDir)
    .option('--block-time <ms>', 'seal a block every N ms (0 = automine)', devDefaults.blockTime)
    .option('--accounts <n>', 'number of prefunded accounts', devDefaults.accounts)
    .option('--rpc.host <host>', 'RPC bind address', '127.0.0.1')
    .option('--rpc.port <port>', 'RPC port', '8545')
    .option('--log.level <level>', 'log level', 'info')
    .action(lazyAction(async () => (await import('./handler.js')).devHandler))
}
