import type {
  CallRequest,
  ContractExecutor,
  DeployRequest,
  ExecutionContext,
  ExecutionResult,
} from '@aureon/ledger'
import { LedgerRuntimeState } from './ledger-state.js'
import { ContractRuntime } from './runtime.js'
import type { CallContext, ContractRuntimeOptions, RuntimeResult } from './types.js'

export interface WasmExecutorOptions extends Omit<ContractRuntimeOptions, 'transferValue'> {
  /**
   * Move the call value in the executor (default false: the ledger's StateProcessor has already
   * moved it before calling the executor).
   */
  transferValue?: boolean
}

const toCallContext = (ctx: ExecutionContext): CallContext => ({
  sender: ctx.sender,
  senderNonce: ctx.senderNonce,
  blockHeight: ctx.blockHeight,
  blockTimestamp: ctx.blockTimestamp,
  gasLimit: ctx.gasLimit,
  txHash: ctx.txHash,
})

const toExecutionResult = (r: RuntimeResult): ExecutionResult => {
  const out: ExecutionResult = {
    status: r.status,
    gasUsed: r.gasUsed,
    output: r.output,
    logs: r.logs,
    debugLogs: r.debugLogs,
  }
  if (r.error) out.error = r.error
  if (r.contractAddress) out.contractAddress = r.contractAddress
  return out
}

/**
 * The ledger's ContractExecutor, running WASM contracts with a ContractRuntime over a
 * LedgerRuntimeState of the transaction's WorldState.
 *
 * @example
 * const processor = new StateProcessor({ executor: new WasmExecutor() })
 */
export class WasmExecutor implements ContractExecutor {
  readonly runtime: ContractRuntime

  constructor(opts: WasmExecutorOptions = {}) {
    this.runtime = new ContractRuntime({ ...opts, transferValue: opts.transferValue ?? false })
  }

  async deploy(ctx: ExecutionContext, req: DeployRequest): Promise<ExecutionResult> {
    const state = new LedgerRuntimeState(ctx.state)
    return toExecutionResult(await this.runtime.deploy(state, toCallContext(ctx), req))
  }

  async call(ctx: ExecutionContext, req: CallRequest): Promise<ExecutionResult> {
    const state = new LedgerRuntimeState(ctx.state)
    return toExecutionResult(await this.runtime.call(state, toCallContext(ctx), req))
  }

  /**
   * A read-only call (for `POST /contract/call`): the result and gas of `call`, with every effect
   * dropped; the world state is left as it was.
   */
  async simulate(ctx: ExecutionContext, req: CallRequest): Promise<RuntimeResult> {
    const state = new LedgerRuntimeState(ctx.state)
    return this.runtime.simulate(state, toCallContext(ctx), req)
  }
}
