import type { Command } from 'commander'

export function registerSnapshot(program: Command): void {
  program.command('snapshot').description('state snapshots: create, list, export, import')
}
