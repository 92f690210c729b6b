import type { Command } from 'commander'
import { lazyAction } from '../program.js'

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one node of a network from a config.toml (flags override the file)')
    .option('--config <file>', 'config.toml')
    .option('--data-dir <dir>', 'data folder')
    .option('--rpc.host <host>', 'RPC bind address')
    .option('--rpc.port <port>', 'RPC port')
    .option('--p2p.listen <multiaddr...>', 'libp2p listen multiaddrs')
    .option('--p2p.bootstrap <multiaddr...>', 'bootstrap peers')
    .option('--consensus.engine <engine>', 'dev, poa, bft or pow')
    .option('--sync.mode <mode>', 'full (execute from genesis) or snapshot (state sync from peers)')
    .option('--state-sync', 'same as --sync.mode snapshot')
    .option('--sync.trustedStateRoot <hex>', 'state sync: only a snapshot with this state root')
    .option('--sync.trustedHeight <n>', 'state sync: only a snapshot at this height')
    .option('--snapshots.every <n>', 'take a snapshot every N blocks (0 = never)')
    .option('--log.level <level>', 'log level')
    .action(lazyAction(async () => (await import('./handler.js')).runHandler))
}
