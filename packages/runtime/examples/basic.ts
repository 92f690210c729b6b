import { readFileSync } from 'node:fs'
import { ContractRuntime, MockRuntimeState } from '@aureon/runtime'
import wabt from 'wabt'

// 1. Compile the example counter contract from WebAssembly text.
const source = readFileSync(
  new URL('../../../examples/contracts/counter.wat', import.meta.url),
  'utf8',
)
const { parseWat } = await wabt()
const code = new Uint8Array(parseWat('counter.wat', source).toBinary({}).buffer)

// 2. Deploy it (validated, instrumented, `init` runs) on an in-memory state.
const runtime = new ContractRuntime()
const state = new MockRuntimeState()
const deployer = new Uint8Array(20).fill(1)
const ctx = {
  sender: deployer,
  senderNonce: 0n,
  blockHeight: 1n,
  blockTimestamp: 0n,
  gasLimit: 1_000_000n,
}
const deployed = await runtime.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
console.log('deploy:', deployed.status, 'gas', deployed.gasUsed)

// 3. Call `increment`: the output is the new count (u64 little-endian).
const called = await runtime.call(state, ctx, {
  contract: deployed.contractAddress!,
  function: 'increment',
  args: new Uint8Array(),
  value: 0n,
})
const count = new DataView(called.output.buffer, called.output.byteOffset).getBigUint64(0, true)
console.log('increment:', called.status, 'count', count, 'gas', called.gasUsed)

export { count }
