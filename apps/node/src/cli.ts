#!/usr/bin/env node
import { useOptimizingTierOnly } from '@aureon/runtime'
import { Command } from 'commander'
import { registerDev } from './cmds/dev/index.js'
import { registerDevnet } from './cmds/devnet/index.js'
import { registerInit } from './cmds/init/index.js'
import { registerKeys } from './cmds/keys/index.js'
import { registerPeers } from './cmds/peers/index.js'
import { registerRun } from './cmds/run/index.js'
import { registerSnapshot } from './cmds/snapshot/index.js'
import { registerTx } from './cmds/tx/index.js'

// Contracts run V8's optimizing tier only: the gas schedule is calibrated on it (docs/gas.md).
useOptimizingTierOnly()

const program = new Command()
program.name('aureon').description('the Aureon reference node').version('0.1.0')
registerDev(program)
registerInit(program)
registerRun(program)
registerKeys(program)
registerTx(program)
registerPeers(program)
registerSnapshot(program)
registerDevnet(program)

program
  .parseAsync(process.argv)
  .then(() => process.exit(0))
  .catch((e: unknown) => {
    const err = e as { code?: string; message?: string }
    process.stderr.write(`aureon: ${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}\n`)
    process.exit(1)
  })
