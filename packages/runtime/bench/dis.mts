import wabtInit from 'wabt'
import { instrumentContract } from '../src/index.js'
import { FIB_WAT, watToWasm } from './metering.js'
const wabt = await wabtInit()
const out = instrumentContract(await watToWasm(FIB_WAT)).code
const m = wabt.readWasm(out, { readDebugNames: false, multi_value: true, bulk_memory: true, sign_extension: true, mutable_globals: true })
console.log(m.toText({}))
