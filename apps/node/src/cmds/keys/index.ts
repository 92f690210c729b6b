import type { Command } from 'commander'
import { lazyAction } from '../program.js'
import { defaultKeyType } from './options.js'

/** The handlers, imported when a command runs (not when the CLI starts). */
const handler = () => import('./handler.js')

export function registerKeys(program: Command): void {
  const keys = program
    .command('keys')
    .description('create, show and import key files (set AUREON_PASSPHRASE to encrypt / decrypt)')
  keys
    .command('new')
    .description('create a new key file (mode 0600)')
    .requiredOption('--out <file>', 'key file to write')
    .option(
      '--type <type>',
      'ed25519 (accounts, validators) or bls (validator votes)',
      defaultKeyType,
    )
    .option('--force', 'overwrite an existing file')
    .action(lazyAction(async () => (await handler()).keysNew))
  keys
    .command('show <file>')
    .description('print the public part of a key file')
    .action(lazyAction(async () => (await handler()).keysShow))
  keys
    .command('import <secretHex>')
    .description('write a key file from a secret key (0x-hex)')
    .requiredOption('--out <file>', 'key file to write')
    .option('--type <type>', 'ed25519 or bls', defaultKeyType)
    .option('--force', 'overwrite an existing file')
    .action(lazyAction(async () => (await handler()).keysImport))
}
