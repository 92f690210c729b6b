/**
 * Helpers of the end-to-end tests: real `aureon` processes (the built CLI), real sockets on
 * 127.0.0.1, bounded in time, always killed at the end.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import wabtInit from 'wabt'

export const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const repoDir = resolve(appDir, '../..')
export const cli = join(appDir, 'dist', 'cli.js')

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `aureon-${prefix}-`))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

/** Runs the CLI to completion; resolves with stdout (rejects with stderr on failure). */
export function runCli(
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((res, rej) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { timeout: opts.timeoutMs ?? 60_000, env: { ...process.env, ...opts.env } },
      (err, stdout, stderr) =>
        err
          ? rej(new Error(`aureon ${args.join(' ')} failed: ${stderr || err.message}`))
          : res(stdout),
    )
  })
}

/** A long-running CLI process with its output kept for assertions. */
export interface CliProcess {
  child: ChildProcess
  output(): string
  /** Waits until the output matches `re`; returns the match. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
  kill9(): Promise<void>
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, [cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let out = ''
  child.stdout!.on('data', (d) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d) => {
    out += d.toString()
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return {
    child,
    output: () => out,
    async waitFor(re, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const m = out.match(re)
        if (m) return m
        if (child.exitCode !== null)
          throw new Error(`process exited (${child.exitCode}) before ${re}:\n${out.slice(-4000)}`)
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${re}:\n${out.slice(-4000)}`)
        await sleep(50)
      }
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
      const code = await exited
      clearTimeout(t)
      return code
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Polls `fn` until it returns a truthy value or the time is up. */
export async function until<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      )
    await sleep(intervalMs)
  }
}

/** The counter example contract, compiled from examples/contracts/counter.wat. */
export async function counterWasm(): Promise<Uint8Array> {
  const wabt = await wabtInit()
  const m = wabt.parseWat(
    'counter.wat',
    readFileSync(join(repoDir, 'examples/contracts/counter.wat'), 'utf8'),
  )
  const { buffer } = m.toBinary({})
  m.destroy()
  return new Uint8Array(buffer)
}

/** `n` consecutive free ports on 127.0.0.1 (for configs that number ports base + i). */
export async function freePortRange(n: number): Promise<number> {
  const isFree = (port: number) =>
    new Promise<boolean>((res) => {
      const s = createServer()
      s.once('error', () => res(false))
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)))
    })
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000)
    let ok = true
    for (let i = 0; i < n && ok; i++) ok = await isFree(base + i)
    if (ok) return base
  }
  throw new Error(`no ${n} consecutive free ports found`)
}
