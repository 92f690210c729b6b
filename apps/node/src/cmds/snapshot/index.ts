import type { Command } from 'commander'
import { lazyAction } from '../program.js'
import { MAX_OPEN_FILES_HELP, snapshotDefaults, VERIFY_WORKERS_HELP } from './options.js'
import { inSnapshotProcess } from './process.js'

/** The handlers, imported when a command runs (not when the CLI starts). */
const handler = () => import('./handler.js')

export function registerSnapshot(program: Command): void {
  const snap = program
    .command('snapshot')
    .description("state snapshots of a stopped node's data folder: create, list, export, import")
  snap
    .command('create')
    .description('take a snapshot (folder under <data-dir>/snapshots)')
    .option('--data-dir <dir>', 'data folder', snapshotDefaults.dataDir)
    .option('--height <n>', 'committed height (default: head)')
    .option('--max-open-files <n>', MAX_OPEN_FILES_HELP)
    .action(
      inSnapshotProcess(
        'export',
        lazyAction(async () => (await handler()).snapshotCreate),
      ),
    )
  snap
    .command('list')
    .description('list the snapshots of a data folder')
    .option('--data-dir <dir>', 'data folder', snapshotDefaults.dataDir)
    .action(lazyAction(async () => (await handler()).snapshotList))
  snap
    .command('export <file>')
    .description('write a snapshot packed into one file')
    .option('--data-dir <dir>', 'data folder', snapshotDefaults.dataDir)
    .option('--height <n>', 'committed height (default: head)')
    .option('--max-open-files <n>', MAX_OPEN_FILES_HELP)
    .action(
      inSnapshotProcess(
        'export',
        lazyAction(async () => (await handler()).snapshotExport),
      ),
    )
  snap
    .command('import <file>')
    .description(
      'verify a snapshot chunk by chunk, import its state into a data folder and anchor the chain at its block (the node continues from there)',
    )
    .option('--data-dir <dir>', 'data folder', snapshotDefaults.dataDir)
    .requiredOption('--chain-id <id>', 'the chain the snapshot must belong to')
    .option('--height <n>', 'expected height')
    .option('--state-root <hex>', 'trusted state root')
    .option('--block-hash <hex>', 'trusted block hash')
    .option(
      '--block <file>',
      "the snapshot's block (default: block.bin in the folder, <file>.block)",
    )
    .option('--genesis <file>', 'genesis.json (default: <data-dir>/genesis.json if present)')
    .option('--force', 'replace a chain that is already at or above the snapshot height')
    .option('--verify-workers <n>', VERIFY_WORKERS_HELP)
    .option('--max-open-files <n>', MAX_OPEN_FILES_HELP)
    .action(
      inSnapshotProcess(
        'import',
        lazyAction(async () => (await handler()).snapshotImport),
      ),
    )
}
