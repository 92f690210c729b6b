import { deriveContractAddress } from './address.js'
import { ModuleCache } from './cache.js'
import { isRuntimeError, RuntimeError, RuntimeErrorCode } from './errors.js'
import { createHostImports, type HostEnv, HostSignal } from './host.js'
import { instrumentContract, type ModuleFacts, readModuleFacts } from './instrument.js'
import {
  DEFAULT_GAS_SCHEDULE,
  GAS_GLOBAL_EXPORT,
  type GasSchedule,
  INITIALIZE_EXPORT,
  MAX_MEMORY_PAGES,
  STACK_GLOBAL_EXPORT,
  STACK_LIMIT,
  scheduleForVersion,
} from './params.js'
import { codeHashOf, StateNotLoadedError } from './state.js'
import type {
  CallContext,
  CallRequest,
  ContractRuntimeOptions,
  DeployRequest,
  RuntimeResult,
  RuntimeState,
  StateRequest,
} from './types.js'
import {
  Wasm,
  type WasmGlobal,
  type WasmImports,
  type WasmInstance,
  type WasmMemory,
  type WasmModule,
} from './wasm/engine.js'

const EMPTY = new Uint8Array(0)

/** Facts of every compiled module, shared by all runtimes (modules may share a cache). */
const moduleFacts = new WeakMap<WasmModule, ModuleFacts>()

interface Loaded {
  module: WasmModule
  facts: ModuleFacts
  /** The schedule of the module's instrumentation version. */
  schedule: GasSchedule
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b

/** Result of running one export once. */
interface RunOutcome {
  status: RuntimeResult['status']
  gasLeft: bigint
  output: Uint8Array
  error?: { code: string; message: string }
}

function failure(
  status: RuntimeResult['status'],
  gasUsed: bigint,
  code: string,
  message: string,
  debugLogs: string[] = [],
): RuntimeResult {
  return {
    status,
    gasUsed,
    output: EMPTY,
    logs: [],
    debugLogs,
    error: { code, message },
    balanceChanges: [],
  }
}

/**
 * Runs contracts: deploy (validate, instrument, store, run `init`), call, and read-only
 * simulation, over any RuntimeState. Deterministic: the same state and request give the same
 * result and gas on every node.
 *
 * @example
 * const runtime = new ContractRuntime()
 * const state = new MockRuntimeState()
 * const deployed = await runtime.deploy(state, ctx, { code, args: new Uint8Array(), value: 0n })
 * const called = await runtime.call(state, ctx, {
 *   contract: deployed.contractAddress!, function: 'increment', args: new Uint8Array(), value: 0n,
 * })
 */
export class ContractRuntime {
  readonly schedule: GasSchedule
  readonly cache: ModuleCache
  readonly transferValue: boolean
  readonly stackLimit: number
  /**
   * State the last runs of a contract function had to load, loaded up front next time so that a
   * call usually runs once (a hint only: results never depend on it).
   */
  private hints = new Map<string, StateRequest[]>()

  constructor(opts: ContractRuntimeOptions = {}) {
    this.schedule = opts.schedule ?? DEFAULT_GAS_SCHEDULE
    this.cache = opts.cache ?? new ModuleCache()
    this.transferValue = opts.transferValue ?? true
    this.stackLimit = opts.stackLimit ?? STACK_LIMIT
  }

  /** Gas a deploy of `size` bytes costs before `init` runs. */
  deployGas(size: number): bigint {
    return ceilDiv(this.deployUnits(size), BigInt(this.schedule.unitsPerGas))
  }

  /** The same in metering units. */
  private deployUnits(size: number): bigint {
    return BigInt(this.schedule.deployBase + this.schedule.deployPer8Bytes * ((size + 7) >>> 3))
  }

  private async load(
    codeHash: Uint8Array,
    code: Uint8Array,
    state?: RuntimeState,
  ): Promise<Loaded> {
    const module = await this.cache.get(codeHash, code)
    let facts = moduleFacts.get(module)
    if (!facts) {
      const bytes = code.length > 0 ? code : ((await state?.getCode(codeHash)) ?? code)
      facts = readModuleFacts(bytes)
      moduleFacts.set(module, facts)
    }
    return { module, facts, schedule: scheduleForVersion(facts.version, this.schedule) }
  }

  /**
   * Deploys a contract: charges the deploy gas, validates and instruments the code, stores it,
   * derives the address from (sender, senderNonce), moves `value`, and runs `init` with `args`.
   * If anything fails, nothing of the deploy stays.
   */
  async deploy(state: RuntimeState, ctx: CallContext, req: DeployRequest): Promise<RuntimeResult> {
    const deployUnits = this.deployUnits(req.code.length)
    const deployGas = ceilDiv(deployUnits, BigInt(this.schedule.unitsPerGas))
    if (deployUnits > ctx.gasLimit * BigInt(this.schedule.unitsPerGas)) {
      return failure(
        'OutOfGas',
        ctx.gasLimit,
        RuntimeErrorCode.OUT_OF_GAS,
        `deploying ${req.code.length} bytes costs ${deployGas} gas; ${ctx.gasLimit} available`,
      )
    }
    let code: Uint8Array
    try {
      code = instrumentContract(req.code, {
        schedule: this.schedule,
        stackLimit: this.stackLimit,
      }).code
    } catch (e) {
      if (isRuntimeError(e)) return failure('Failed', deployGas, e.code, e.message)
      throw e
    }
    const address = req.address ?? deriveContractAddress(ctx.sender, ctx.senderNonce)
    if (await state.getCodeHash(address)) {
      return failure(
        'Failed',
        deployGas,
        RuntimeErrorCode.CONTRACT_EXISTS,
        `a contract already exists at the derived address`,
      )
    }
    const codeHash = codeHashOf(code)
    let loaded: Loaded
    try {
      loaded = await this.load(codeHash, code)
    } catch (e) {
      return failure('Failed', deployGas, RuntimeErrorCode.INVALID_WASM, String(e))
    }
    const hasInit = loaded.facts.callable.has('init')
    const result = await this.execute(state, {
      loaded,
      fn: hasInit ? 'init' : undefined,
      contract: address,
      ctx,
      input: req.args,
      value: req.value,
      gasLimit: ctx.gasLimit,
      unitsBefore: deployUnits,
      before: async () => {
        await state.putContract(address, code)
      },
      readOnly: false,
    })
    if (result.status === 'Success') result.contractAddress = address
    return result
  }

  /** Calls an exported `() -> ()` function of a deployed contract by name. */
  async call(state: RuntimeState, ctx: CallContext, req: CallRequest): Promise<RuntimeResult> {
    return this.callOrSimulate(state, ctx, req, false)
  }

  /**
   * Runs a call without changing anything (for `POST /contract/call`): the same result and gas
   * as `call`, every effect dropped.
   */
  async simulate(state: RuntimeState, ctx: CallContext, req: CallRequest): Promise<RuntimeResult> {
    return this.callOrSimulate(state, ctx, req, true)
  }

  private async callOrSimulate(
    state: RuntimeState,
    ctx: CallContext,
    req: CallRequest,
    readOnly: boolean,
  ): Promise<RuntimeResult> {
    const codeHash = await state.getCodeHash(req.contract)
    // a cached module needs no code bytes
    const code =
      codeHash &&
      (this.cache.has(codeHash) ? EMPTY : ((await state.getCode(codeHash)) ?? undefined))
    if (!codeHash || !code) {
      return failure(
        'Failed',
        0n,
        RuntimeErrorCode.CONTRACT_NOT_FOUND,
        `no contract at 0x${Buffer.from(req.contract).toString('hex')}`,
      )
    }
    const loaded = await this.load(codeHash, code, state)
    if (
      req.function === 'init' ||
      req.function === INITIALIZE_EXPORT ||
      !loaded.facts.callable.has(req.function)
    ) {
      return failure(
        'Failed',
        0n,
        RuntimeErrorCode.FUNCTION_NOT_FOUND,
        req.function === 'init' || req.function === INITIALIZE_EXPORT
          ? `"${req.function}" is not callable: "init" runs once at deploy, "${INITIALIZE_EXPORT}" before every call`
          : `the contract exports no function "${req.function}" of type () -> ()`,
      )
    }
    return this.execute(state, {
      loaded,
      fn: req.function,
      contract: req.contract,
      ctx,
      input: req.args,
      value: req.value,
      gasLimit: ctx.gasLimit,
      unitsBefore: 0n,
      readOnly,
    })
  }

  /**
   * Runs one export in a journal level, retrying when a state read was not loaded yet. The export
   * gets `gasLimit` gas in metering units minus `unitsBefore` (a deploy's own cost); the result's
   * gasUsed is in gas, all units used rounded up.
   */
  private async execute(
    state: RuntimeState,
    job: {
      loaded: Loaded
      fn: string | undefined
      contract: Uint8Array
      ctx: CallContext
      input: Uint8Array
      value: bigint
      gasLimit: bigint
      unitsBefore: bigint
      before?: () => Promise<void>
      readOnly: boolean
    },
  ): Promise<RuntimeResult> {
    const schedule = job.loaded.schedule
    const perGas = BigInt(schedule.unitsPerGas)
    const units = job.gasLimit * perGas - job.unitsBefore
    const hintKey = `${Buffer.from(job.contract).toString('hex')}:${job.fn ?? ''}`
    const hint = this.hints.get(hintKey)
    if (hint) for (const req of hint) await state.load(req)
    const loadedNow: StateRequest[] = []
    for (;;) {
      state.checkpoint()
      const env: HostEnv = {
        state,
        schedule,
        self: job.contract,
        caller: job.ctx.sender,
        value: job.value,
        input: job.input,
        blockHeight: job.ctx.blockHeight,
        blockTimestamp: job.ctx.blockTimestamp,
        output: EMPTY,
        logs: [],
        debugLogs: [],
      }
      let outcome: RunOutcome
      try {
        if (job.before) await job.before()
        if (this.transferValue && job.value > 0n) {
          const from = state.getBalance(job.ctx.sender)
          if (from < job.value) {
            await state.revert()
            return failure(
              'Failed',
              ceilDiv(job.unitsBefore, perGas),
              RuntimeErrorCode.INSUFFICIENT_BALANCE,
              `the sender's balance ${from} does not cover the call value ${job.value}`,
            )
          }
          const to = state.getBalance(job.contract)
          state.setBalance(job.ctx.sender, from - job.value)
          state.setBalance(job.contract, to + job.value)
        }
        outcome = job.fn
          ? this.run(job.loaded, job.fn, env, units)
          : { status: 'Success', gasLeft: units, output: EMPTY }
      } catch (e) {
        if (e instanceof StateNotLoadedError) {
          await state.revert()
          await state.load(e.request)
          loadedNow.push(e.request)
          continue
        }
        await state.revert()
        throw e
      }
      if (loadedNow.length > 0) {
        const merged = [...(hint ?? []), ...loadedNow].slice(-64)
        if (this.hints.size > 4096) this.hints.clear()
        this.hints.set(hintKey, merged)
      }
      const ok = outcome.status === 'Success'
      const result: RuntimeResult = {
        status: outcome.status,
        gasUsed:
          outcome.status === 'OutOfGas'
            ? job.gasLimit
            : ceilDiv(job.unitsBefore + units - outcome.gasLeft, perGas),
        output: outcome.output,
        logs: ok ? env.logs : [],
        debugLogs: env.debugLogs,
        balanceChanges: ok ? state.balanceChanges() : [],
      }
      if (outcome.error) result.error = outcome.error
      if (ok && !job.readOnly) await state.commit()
      else await state.revert()
      return result
    }
  }

  /**
   * Instantiates the module and runs `fn` once with `units` metering units. Synchronous. Since
   * INSTRUMENT_VERSION 3 the module's initial memory pages are charged first, at the
   * `memory.grow` price per page (the kernel zeroes each page when it is first touched).
   */
  private run(loaded: Loaded, fn: string, env: HostEnv, units: bigint): RunOutcome {
    if (loaded.facts.version >= 3) {
      const memoryUnits =
        BigInt(loaded.schedule.instructions.memoryGrowPerPage) * BigInt(loaded.facts.memoryPages)
      if (memoryUnits > units) {
        return {
          status: 'OutOfGas',
          gasLeft: 0n,
          output: EMPTY,
          error: {
            code: RuntimeErrorCode.OUT_OF_GAS,
            message: `out of gas: ${loaded.facts.memoryPages} initial memory pages cost ${memoryUnits} metering units; ${units} given`,
          },
        }
      }
      units -= memoryUnits
    }
    const imports: WasmImports = { env: createHostImports(env) }
    const mi = loaded.facts.memoryImport
    if (mi) {
      env.memory = new Wasm.Memory({
        initial: mi.min,
        maximum: Math.min(mi.max ?? MAX_MEMORY_PAGES, MAX_MEMORY_PAGES),
      })
      imports.env.memory = env.memory
    }
    let instance: WasmInstance
    try {
      instance = new Wasm.Instance(loaded.module, imports)
    } catch (e) {
      return {
        status: 'Failed',
        gasLeft: units,
        output: EMPTY,
        error: {
          code: RuntimeErrorCode.TRAP,
          message: `instantiation failed: ${(e as Error).message}`,
        },
      }
    }
    const ex = instance.exports
    const gas = ex[GAS_GLOBAL_EXPORT] as WasmGlobal
    const stack = ex[STACK_GLOBAL_EXPORT] as WasmGlobal
    env.gas = gas
    if (!mi) env.memory = ex.memory as WasmMemory
    gas.value = units
    env.startUnits = units
    try {
      // the WASI reactor convention (AssemblyScript: --exportStart _initialize): static
      // initialisation of the fresh instance, metered like the call itself
      if (loaded.facts.callable.has(INITIALIZE_EXPORT)) (ex[INITIALIZE_EXPORT] as () => void)()
      ;(ex[fn] as () => void)()
      return { status: 'Success', gasLeft: gas.value as bigint, output: env.output }
    } catch (e) {
      if (e instanceof StateNotLoadedError) throw e
      const left = gas.value as bigint
      if (left < 0n || (e instanceof HostSignal && e.kind === 'oog')) {
        return {
          status: 'OutOfGas',
          gasLeft: 0n,
          output: EMPTY,
          error: {
            code: RuntimeErrorCode.OUT_OF_GAS,
            message: `out of gas (${units} metering units given)`,
          },
        }
      }
      if (e instanceof HostSignal) {
        return {
          status: e.kind === 'revert' ? 'Reverted' : 'Failed',
          gasLeft: left,
          output: EMPTY,
          error: { code: e.code, message: e.message },
        }
      }
      if (
        (e instanceof Wasm.RuntimeError && (stack.value as number) > this.stackLimit) ||
        e instanceof RangeError
      ) {
        return {
          status: 'Failed',
          gasLeft: left,
          output: EMPTY,
          error: {
            code: RuntimeErrorCode.STACK_LIMIT,
            message: `stack limit exceeded (${this.stackLimit} units)`,
          },
        }
      }
      if (e instanceof Wasm.RuntimeError) {
        return {
          status: 'Failed',
          gasLeft: left,
          output: EMPTY,
          error: { code: RuntimeErrorCode.TRAP, message: `trap: ${e.message}` },
        }
      }
      if (isRuntimeError(e)) throw e
      throw new RuntimeError(RuntimeErrorCode.TRAP, `host error: ${(e as Error).message}`, {}, e)
    }
  }
}
