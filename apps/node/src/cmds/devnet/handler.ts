import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { initHandler } from '../init/handler.js'
import type { DevnetOptions } from './options.js'

const colors = [36, 33, 35, 32, 34, 31, 96, 93]

/** Starts one `aureon run` process per validator, prefixing their output. */
export function spawnNode(opts: { config: string; index: number; cli?: string }): ChildProcess {
  // the running CLI script (bundled code may live in a shared chunk, so not import.meta.url)
  const cli = opts.cli ?? process.argv[1]
  const child = spawn(process.execPath, [cli, 'run', '--config', opts.config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  })
  const tag = process.stdout.isTTY
    ? `\u001b[${colors[opts.index % colors.length]}m[node-${opts.index}]\u001b[0m `
    : `[node-${opts.index}] `
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n')
      rest = lines.pop() ?? ''
      for (const l of lines) process.stdout.write(`${tag}${l}\n`)
    })
  }
  return child
}

/** `aureon devnet`: a fresh local network of N validators, one process each, on 127.0.0.1. */
export async function devnetHandler(opts: DevnetOptions): Promise<void> {
  const dir = resolve(opts.dir)
  if (existsSync(dir) && !opts.keep) rmSync(dir, { recursive: true, force: true })
  const net = existsSync(join(dir, 'genesis.json'))
    ? {
        nodes: Array.from({ length: Number(opts.validators) }, (_, i) => ({
          config: join(dir, `node-${i}`, 'config.toml'),
          rpcUrl: `http://127.0.0.1:${Number(opts.rpcPort) + i}`,
        })),
      }
    : await initHandler(
        {
          validators: opts.validators,
          engine: opts.engine,
          out: dir,
          chainId: '1000',
          p2pPort: opts.p2pPort,
          rpcPort: opts.rpcPort,
          blockTime: '1000',
          force: true,
        },
        true,
      )
  const children = net.nodes.map((n, i) => spawnNode({ config: n.config, index: i }))
  process.stdout.write(
    `devnet: ${net.nodes.length} validators (${opts.engine}) in ${dir}\n${net.nodes
      .map((n, i) => `  node-${i}: ${n.rpcUrl}`)
      .join('\n')}\nCtrl-C stops them all.\n`,
  )
  await new Promise<void>((resolveDone) => {
    let stopping = false
    const stopAll = () => {
      if (stopping) return
      stopping = true
      for (const c of children) c.kill('SIGTERM')
      const hard = setTimeout(() => {
        for (const c of children) c.kill('SIGKILL')
      }, 10_000)
      hard.unref()
    }
    let alive = children.length
    for (const c of children)
      c.on('exit', () => {
        alive--
        if (alive === 0) resolveDone()
      })
    process.once('SIGINT', stopAll)
    process.once('SIGTERM', stopAll)
  })
}
