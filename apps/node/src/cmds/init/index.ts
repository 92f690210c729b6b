import type { Command } from 'commander'
import { initDefaults } from './options.js'

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create genesis.json, validator keys and a config.toml per validator')
    .option('--validators <n>', 'number of validators', initDefaults.validators)
    .option('--engine <engine>', 'bft, poa, pow or dev', initDefaults.engine)
    .option('--out <dir>', 'output folder', initDefaults.out)
    .option('--chain-id <id>', 'chain id', initDefaults.chainId)
    .option(
      '--p2p-port <port>',
      'first p2p port (node i listens on port + i)',
      initDefaults.p2pPort,
    )
    .option('--rpc-port <port>', 'first RPC port (node i serves on port + i)', initDefaults.rpcPort)
    .option('--block-time <ms>', 'block period for poa/pow', initDefaults.blockTime)
    .option('--force', 'write into a non-empty folder')
    .action(async (o) => {
      await (await import('./handler.js')).initHandler(o)
    })
}
