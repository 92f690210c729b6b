/**
 * The process `aureon snapshot create|export|import` runs its work in (started by
 * cmds/snapshot/process.ts with the snapshot memory settings). It registers the snapshot commands
 * only, so it never loads the node, libp2p, the RPC server, consensus or the contract runtime:
 * that memory would count in the export's peak RSS. Its arguments are the CLI's
 * (`snapshot export <file> ...`), its output and exit code are the CLI's.
 */
import { Command } from 'commander'
import { runProgram } from './cmds/program.js'
import { registerSnapshot } from './cmds/snapshot/index.js'

const program = new Command()
program.name('aureon').description('the Aureon snapshot worker').version('0.1.0')
registerSnapshot(program)

if (process.env.AUREON_SNAPSHOT_DEBUG_RSS === '1') {
  // peak RSS of this process, for measuring (resourceUsage().maxRSS is in KiB)
  process.once('exit', (code) => {
    process.stderr.write(
      `aureon snapshot worker: peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(1)} MiB (exit ${code})\n`,
    )
  })
}

runProgram(program)
