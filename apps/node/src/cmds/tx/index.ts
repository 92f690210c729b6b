import type { Command } from 'commander'
import { DEFAULT_RPC } from './options.js'

/** The handlers, imported when a command runs (not when the CLI starts). */
const handler = () => import('./handler.js')

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--key <file>', 'ed25519 key file of the sender')
    .option('--rpc <url>', 'node RPC URL', DEFAULT_RPC)
    .option('--gas-price <n>', 'gas price (default 1)')
    .option('--gas-limit <n>', 'gas limit (default: intrinsic gas, or an estimate for contracts)')
    .option('--nonce <n>', 'nonce (default: the account nonce at head)')
    .option('--no-wait', 'do not wait for the receipt')
    .option('--timeout <s>', 'seconds to wait for the receipt', '30')
}

export function registerTx(program: Command): void {
  const tx = program
    .command('tx')
    .description('sign a transaction locally, send it over RPC, print the receipt')
  common(tx.command('transfer').description('send an amount to an address'))
    .requiredOption('--to <address>', 'recipient (0x + 40 hex)')
    .requiredOption('--amount <n>', 'amount in base units')
    .action(async (o) => {
      await (await handler()).txTransfer(o)
    })
  common(tx.command('deploy').description('deploy a WASM contract'))
    .requiredOption('--code <file.wasm>', 'contract code')
    .option('--args <hex>', 'init arguments (0x-hex)')
    .option('--value <n>', 'amount sent to the contract', '0')
    .action(async (o) => {
      await (await handler()).txDeploy(o)
    })
  common(tx.command('call').description("call a contract's exported function"))
    .requiredOption('--contract <address>', 'contract address')
    .requiredOption('--function <name>', 'exported function')
    .option('--args <hex>', 'arguments (0x-hex)')
    .option('--value <n>', 'amount sent with the call', '0')
    .action(async (o) => {
      await (await handler()).txCall(o)
    })
  common(
    tx
      .command('stake')
      .description('bond stake (first time: with --bls-key to become a validator candidate)'),
  )
    .requiredOption('--amount <n>', 'amount to stake')
    .option(
      '--bls-key <file>',
      'BLS key file (its public key and proof of possession go in the tx)',
    )
    .action(async (o) => {
      await (await handler()).txStake(o)
    })
  common(tx.command('unstake').description('start unbonding stake'))
    .requiredOption('--amount <n>', 'amount to unstake')
    .action(async (o) => {
      await (await handler()).txUnstake(o)
    })
}
