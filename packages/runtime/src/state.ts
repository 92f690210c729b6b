import { createHash } from 'node:crypto'
import { RuntimeError, RuntimeErrorCode } from './errors.js'
import type { BalanceChange, RuntimeState, StateRequest } from './types.js'

/** Thrown by a synchronous RuntimeState read of something `load` has not loaded yet. */
export class StateNotLoadedError extends RuntimeError {
  constructor(readonly request: StateRequest) {
    super(
      RuntimeErrorCode.STATE_NOT_LOADED,
      `state not loaded: ${request.kind} ${hex(request.kind === 'account' ? request.address : request.contract)}`,
    )
  }
}

/** Lowercase hex without prefix (map keys). */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

function unhex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'))
}

/** sha256 of code: the code hash. */
export function codeHashOf(code: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(code).digest())
}

interface Level {
  balances: Map<string, bigint>
  storage: Map<string, Uint8Array | null>
  contracts: Map<string, { codeHash: Uint8Array; code: Uint8Array }>
}

const storageKey = (contract: Uint8Array, key: Uint8Array) => `${hex(contract)}:${hex(key)}`

/**
 * The journal both RuntimeState implementations share: writes go to nested levels in memory and
 * reach the backing store only at the outermost commit, so MockRuntimeState and
 * LedgerRuntimeState behave the same call for call.
 */
export abstract class OverlayRuntimeState implements RuntimeState {
  private levels: Level[] = []

  /** Base balance (before any level); throws StateNotLoadedError when not loaded. */
  protected abstract baseBalance(address: Uint8Array, key: string): bigint
  /** Base storage value; throws StateNotLoadedError when not loaded. */
  protected abstract baseStorage(
    contract: Uint8Array,
    key: Uint8Array,
    skey: string,
  ): Uint8Array | undefined
  protected abstract baseCodeHash(address: Uint8Array): Promise<Uint8Array | undefined>
  protected abstract baseCode(codeHash: Uint8Array): Promise<Uint8Array | undefined>
  /** Writes the outermost level through to the backing store. */
  protected abstract apply(changes: {
    balances: Array<[Uint8Array, bigint]>
    storage: Array<[Uint8Array, Uint8Array, Uint8Array | null]>
    contracts: Array<[Uint8Array, Uint8Array]>
  }): Promise<void>
  protected onOutermostCheckpoint(): void {}
  protected async onOutermostRevert(): Promise<void> {}
  abstract load(req: StateRequest): Promise<void>

  private top(): Level {
    const l = this.levels[this.levels.length - 1]
    if (!l) {
      throw new RuntimeError(
        RuntimeErrorCode.INVALID_ARGUMENT,
        'RuntimeState write outside a checkpoint; call checkpoint() first',
      )
    }
    return l
  }

  getBalance(address: Uint8Array): bigint {
    const k = hex(address)
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const v = this.levels[i].balances.get(k)
      if (v !== undefined) return v
    }
    return this.baseBalance(address, k)
  }

  setBalance(address: Uint8Array, balance: bigint): void {
    this.top().balances.set(hex(address), balance)
  }

  getStorage(contract: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    const k = storageKey(contract, key)
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const v = this.levels[i].storage.get(k)
      if (v !== undefined) return v === null ? undefined : v
    }
    return this.baseStorage(contract, key, k)
  }

  setStorage(contract: Uint8Array, key: Uint8Array, value: Uint8Array): void {
    this.top().storage.set(storageKey(contract, key), value.length === 0 ? null : value.slice())
  }

  async getCodeHash(address: Uint8Array): Promise<Uint8Array | undefined> {
    const k = hex(address)
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const c = this.levels[i].contracts.get(k)
      if (c) return c.codeHash
    }
    return this.baseCodeHash(address)
  }

  async getCode(codeHash: Uint8Array): Promise<Uint8Array | undefined> {
    for (let i = this.levels.length - 1; i >= 0; i--) {
      for (const c of this.levels[i].contracts.values()) {
        if (Buffer.compare(c.codeHash, codeHash) === 0) return c.code
      }
    }
    return this.baseCode(codeHash)
  }

  async putContract(address: Uint8Array, code: Uint8Array): Promise<Uint8Array> {
    const codeHash = codeHashOf(code)
    this.top().contracts.set(hex(address), { codeHash, code })
    return codeHash
  }

  checkpoint(): void {
    if (this.levels.length === 0) this.onOutermostCheckpoint()
    this.levels.push({ balances: new Map(), storage: new Map(), contracts: new Map() })
  }

  async commit(): Promise<void> {
    const l = this.levels.pop()
    if (!l) throw new RuntimeError(RuntimeErrorCode.INVALID_ARGUMENT, 'commit without checkpoint')
    const parent = this.levels[this.levels.length - 1]
    if (parent) {
      for (const [k, v] of l.balances) parent.balances.set(k, v)
      for (const [k, v] of l.storage) parent.storage.set(k, v)
      for (const [k, v] of l.contracts) parent.contracts.set(k, v)
      return
    }
    // sorted, so the backing store sees the same writes in the same order on every node
    const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))
    await this.apply({
      balances: sorted(l.balances).map(([k, v]) => [unhex(k), v]),
      storage: sorted(l.storage).map(([k, v]) => {
        const [c, key] = k.split(':')
        return [unhex(c), unhex(key), v]
      }),
      contracts: sorted(l.contracts).map(([k, v]) => [unhex(k), v.code]),
    })
  }

  async revert(): Promise<void> {
    const l = this.levels.pop()
    if (!l) throw new RuntimeError(RuntimeErrorCode.INVALID_ARGUMENT, 'revert without checkpoint')
    if (this.levels.length === 0) await this.onOutermostRevert()
  }

  balanceChanges(): BalanceChange[] {
    const merged = new Map<string, bigint>()
    for (const l of this.levels) for (const [k, v] of l.balances) merged.set(k, v)
    return [...merged.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : 1))
      .map(([k, balance]) => ({ address: unhex(k), balance }))
  }
}

/**
 * A RuntimeState over plain maps: everything is always loaded. For tests, tools and simulations.
 *
 * @example
 * const state = new MockRuntimeState()
 * state.setAccountBalance(alice, 1_000n)
 * const result = await runtime.call(state, ctx, { contract, function: 'increment', args, value: 0n })
 */
export class MockRuntimeState extends OverlayRuntimeState {
  readonly balances = new Map<string, bigint>()
  readonly storage = new Map<string, Uint8Array>()
  readonly codeHashes = new Map<string, Uint8Array>()
  readonly codes = new Map<string, Uint8Array>()

  /** Sets a balance directly (outside any call). */
  setAccountBalance(address: Uint8Array, balance: bigint): void {
    this.balances.set(hex(address), balance)
  }

  /** Reads a committed storage value directly (outside any call). */
  readStorage(contract: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    return this.storage.get(storageKey(contract, key))
  }

  async load(_req: StateRequest): Promise<void> {}

  protected baseBalance(_address: Uint8Array, key: string): bigint {
    return this.balances.get(key) ?? 0n
  }

  protected baseStorage(_c: Uint8Array, _k: Uint8Array, skey: string): Uint8Array | undefined {
    return this.storage.get(skey)
  }

  protected async baseCodeHash(address: Uint8Array): Promise<Uint8Array | undefined> {
    return this.codeHashes.get(hex(address))
  }

  protected async baseCode(codeHash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.codes.get(hex(codeHash))
  }

  protected async apply(changes: {
    balances: Array<[Uint8Array, bigint]>
    storage: Array<[Uint8Array, Uint8Array, Uint8Array | null]>
    contracts: Array<[Uint8Array, Uint8Array]>
  }): Promise<void> {
    for (const [a, v] of changes.balances) this.balances.set(hex(a), v)
    for (const [c, k, v] of changes.storage) {
      if (v === null) this.storage.delete(storageKey(c, k))
      else this.storage.set(storageKey(c, k), v)
    }
    for (const [a, code] of changes.contracts) {
      const h = codeHashOf(code)
      this.codes.set(hex(h), code)
      this.codeHashes.set(hex(a), h)
    }
  }
}
