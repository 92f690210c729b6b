import type { Command } from 'commander'

/**
 * A command action that imports its handler module only when that command runs, so that
 * `aureon --help`, `aureon keys ...` or the snapshot worker never load libp2p, the RPC server,
 * consensus or the contract runtime. The arguments commander passes are forwarded unchanged.
 */
export function lazyAction<A extends unknown[]>(
  load: () => Promise<(...args: A) => unknown>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await (await load())(...args)
  }
}

/**
 * Parses the process arguments and runs the command; exits 0 when it is done, or prints
 * `aureon: <code>: <message>` to stderr and exits 1 on an error. Shared by the CLI and the
 * snapshot worker so that both report errors the same way.
 */
export function runProgram(program: Command): void {
  program
    .parseAsync(process.argv)
    .then(() => process.exit(0))
    .catch((e: unknown) => {
      const err = e as { code?: string; message?: string }
      process.stderr.write(
        `aureon: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`,
      )
      process.exit(1)
    })
}
