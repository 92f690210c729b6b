import { createHash } from 'node:crypto'
import type { Account, WorldState } from '@aureon/ledger'
import { hex, OverlayRuntimeState, StateNotLoadedError } from './state.js'
import type { StateRequest } from './types.js'

/** sha256 of no bytes: the code hash of an account without code (the ledger's EMPTY_CODE_HASH). */
const EMPTY_CODE_HASH = new Uint8Array(createHash('sha256').digest())

const isEmptyCodeHash = (h: Uint8Array) =>
  h.length === 0 || Buffer.compare(h, EMPTY_CODE_HASH) === 0

/**
 * A RuntimeState over a ledger `WorldState`. Reads are loaded from the world state on demand
 * (the runtime awaits `load` and re-runs the call); writes stay in memory until the outermost
 * commit, which writes them into a WorldState checkpoint and commits it. A failed, reverted or
 * out-of-gas call writes nothing.
 *
 * @example
 * const state = new LedgerRuntimeState(worldState)
 * const result = await runtime.call(state, ctx, { contract, function: 'increment', args, value: 0n })
 */
export class LedgerRuntimeState extends OverlayRuntimeState {
  private accounts = new Map<string, Account>()
  private slots = new Map<string, Uint8Array | null>()

  constructor(readonly world: WorldState) {
    super()
  }

  async load(req: StateRequest): Promise<void> {
    if (req.kind === 'account') {
      this.accounts.set(hex(req.address), await this.world.getAccount(req.address))
    } else {
      const v = await this.world.getStorage(req.contract, req.key)
      this.slots.set(`${hex(req.contract)}:${hex(req.key)}`, v && v.length > 0 ? v : null)
    }
  }

  protected baseBalance(address: Uint8Array, key: string): bigint {
    const a = this.accounts.get(key)
    if (!a) throw new StateNotLoadedError({ kind: 'account', address })
    return a.balance
  }

  protected baseStorage(contract: Uint8Array, key: Uint8Array, skey: string) {
    const v = this.slots.get(skey)
    if (v === undefined) throw new StateNotLoadedError({ kind: 'storage', contract, key })
    return v ?? undefined
  }

  protected async baseCodeHash(address: Uint8Array): Promise<Uint8Array | undefined> {
    const acc = await this.world.getAccount(address)
    return isEmptyCodeHash(acc.codeHash) ? undefined : acc.codeHash
  }

  protected async baseCode(codeHash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.world.getCode(codeHash)
  }

  protected override onOutermostCheckpoint(): void {
    this.world.checkpoint()
  }

  protected override async onOutermostRevert(): Promise<void> {
    await this.world.revert()
  }

  protected async apply(changes: {
    balances: Array<[Uint8Array, bigint]>
    storage: Array<[Uint8Array, Uint8Array, Uint8Array | null]>
    contracts: Array<[Uint8Array, Uint8Array]>
  }): Promise<void> {
    try {
      for (const [address, code] of changes.contracts) {
        const codeHash = await this.world.putCode(code)
        const acc = await this.world.getAccount(address)
        await this.world.putAccount(address, { ...acc, codeHash })
      }
      for (const [address, balance] of changes.balances) {
        const acc = await this.world.getAccount(address)
        if (acc.balance !== balance) await this.world.putAccount(address, { ...acc, balance })
      }
      for (const [contract, key, value] of changes.storage) {
        if (value === null) await this.world.delStorage(contract, key)
        else await this.world.putStorage(contract, key, value)
      }
    } catch (e) {
      await this.world.revert()
      throw e
    }
    await this.world.commit()
    // what was read before may have changed: read again from the world state next time
    this.accounts.clear()
    this.slots.clear()
  }
}
