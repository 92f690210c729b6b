#!/usr/bin/env node
import { useOptimizingTierOnly } from '@aureon/runtime'
import { Command } from 'commander'
import { registerDev } from './cmds/dev/index.js'
import { registerDevnet } from './cmds/devnet/index.js'
import { registerInit } from './cmds/init/index.js'
import { registerKeys } from './cmds/keys/index.js'
import { registerPeers } from './cmds/peers/index.js'
import { runProgram } from './cmds/program.js'
import { registerRun } from './cmds/run/index.js'
import { registerSnapshot } from './cmds/snapshot/index.js'
import { registerTx } from './cmds/tx/index.js'

// Contracts run V8's optimizing tier only: the gas schedule is calibrated on it (docs/gas.md).
useOptimizingTierOnly()

// The register* modules hold the flags only; each command imports its handler when it runs.
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

runProgram(program)
