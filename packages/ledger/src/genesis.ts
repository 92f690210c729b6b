/**
 * genesis.json -> the genesis block and state. Deterministic: balances and validators are
 * applied in address order, numbers are parsed from decimal strings, no clock is read.
 */
import { addressFromPublicKey, hexToBytes } from '@aureon/crypto'
import type { KVStore } from '@aureon/storage'
import { emptyAccount } from './account.js'
import { blockHash, receiptsRoot, transactionsRoot } from './block.js'
import { compareBytesFast, toHexKey } from './codec.js'
import { LedgerError, LedgerErrorCode } from './errors.js'
import { defaultLedgerParams, MAX_U64, MAX_U128 } from './params.js'
import { createWorldState } from './state.js'
import type {
  Block,
  Genesis,
  GenesisConfig,
  LedgerParams,
  Validator,
  ValidatorCandidate,
} from './types.js'

function num(v: unknown, what: string, max: bigint): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v)
  if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) {
    const n = BigInt(v)
    if (n <= max) return n
  }
  throw new LedgerError(
    LedgerErrorCode.BAD_GENESIS,
    `genesis ${what}: ${JSON.stringify(v)} is not a non-negative integer up to ${max}`,
  )
}

function bytes(v: unknown, what: string, len: number): Uint8Array {
  try {
    if (typeof v !== 'string') throw new Error('not a string')
    const b = hexToBytes(v)
    if (b.length !== len) throw new Error(`${b.length} bytes`)
    return b
  } catch (e) {
    throw new LedgerError(
      LedgerErrorCode.BAD_GENESIS,
      `genesis ${what}: expected 0x-hex of ${len} bytes (${e instanceof Error ? e.message : e})`,
    )
  }
}

/** Ledger parameters of a genesis config (defaults where absent). */
export function genesisParams(config: GenesisConfig): LedgerParams {
  const p = config.params ?? {}
  const c = config.consensus as Record<string, unknown>
  const pick = (k: keyof LedgerParams) => p[k] ?? (c?.[k] as string | number | undefined)
  const out: LedgerParams = { ...defaultLedgerParams }
  if (config.gasLimit !== undefined) out.blockGasLimit = num(config.gasLimit, 'gasLimit', MAX_U64)
  for (const k of ['blockGasLimit', 'unbondingPeriod', 'epochLength', 'minGasPrice'] as const) {
    const v = pick(k)
    if (v !== undefined) out[k] = num(v, k, MAX_U64)
  }
  const ms = pick('minValidatorStake')
  if (ms !== undefined) out.minValidatorStake = num(ms, 'minValidatorStake', MAX_U128)
  const mv = pick('maxValidators')
  if (mv !== undefined) out.maxValidators = Number(num(mv, 'maxValidators', 100_000n))
  if (out.epochLength === 0n) {
    throw new LedgerError(LedgerErrorCode.BAD_GENESIS, 'genesis epochLength must be at least 1')
  }
  return out
}

/**
 * Builds the genesis block and state from a genesis.json object.
 * @example
 * const genesis = await createGenesis({ config, db: chain.stateDb })
 * await chain.commitBlock({ block: genesis.block, receipts: [], stateOps: genesis.stateOps })
 */
export async function createGenesis(opts: {
  config: GenesisConfig
  db: KVStore
}): Promise<Genesis> {
  const { config } = opts
  if (!config || typeof config !== 'object') {
    throw new LedgerError(LedgerErrorCode.BAD_GENESIS, 'genesis: expected an object')
  }
  const chainId = num(config.chainId, 'chainId', MAX_U64)
  const timestamp = num(config.timestamp, 'timestamp', MAX_U64)
  const params = genesisParams(config)
  const state = await createWorldState({ db: opts.db })

  const balances = new Map<string, { address: Uint8Array; balance: bigint; stake: bigint }>()
  const entry = (address: Uint8Array) => {
    const k = toHexKey(address)
    let e = balances.get(k)
    if (!e) {
      e = { address, balance: 0n, stake: 0n }
      balances.set(k, e)
    }
    return e
  }
  for (const [addr, bal] of Object.entries(config.balances ?? {})) {
    const e = entry(bytes(addr, `balance address ${addr}`, 20))
    e.balance += num(bal, `balance of ${addr}`, MAX_U128)
  }
  const candidates: ValidatorCandidate[] = []
  const validators: Validator[] = []
  for (const [i, v] of (config.validators ?? []).entries()) {
    const publicKey = bytes(v.publicKey, `validators[${i}].publicKey`, 32)
    const blsPublicKey = bytes(v.blsPublicKey, `validators[${i}].blsPublicKey`, 48)
    const address = addressFromPublicKey(publicKey)
    if (candidates.some((c) => compareBytesFast(c.address, address) === 0)) {
      throw new LedgerError(LedgerErrorCode.BAD_GENESIS, `validators[${i}] is listed twice`)
    }
    const stake = num(v.stake, `validators[${i}].stake`, MAX_U128)
    const e = entry(address)
    e.stake += stake
    if (v.balance !== undefined) e.balance += num(v.balance, `validators[${i}].balance`, MAX_U128)
    candidates.push({ address, publicKey, blsPublicKey })
    validators.push({ address, publicKey, blsPublicKey, stake })
  }
  for (const e of [...balances.values()].sort((a, b) => compareBytesFast(a.address, b.address))) {
    if (e.balance > MAX_U128 || e.stake > MAX_U128) {
      throw new LedgerError(LedgerErrorCode.BAD_GENESIS, 'genesis amount above u128')
    }
    await state.putAccount(e.address, { ...emptyAccount(), balance: e.balance, stake: e.stake })
  }
  if (candidates.length) {
    await state.putValidatorCandidates(candidates)
    const active = validators
      .filter((v) => v.stake >= params.minValidatorStake && v.stake > 0n)
      .sort((a, b) =>
        a.stake === b.stake ? compareBytesFast(a.address, b.address) : a.stake > b.stake ? -1 : 1,
      )
      .slice(0, params.maxValidators)
    await state.putValidatorSet({
      epoch: 0n,
      validators: active,
      totalStake: active.reduce((s, v) => s + v.stake, 0n),
    })
  }
  const stateRoot = await state.root()
  const stateOps = await state.flush()
  const block: Block = {
    header: {
      chainId,
      height: 0n,
      parentHash: new Uint8Array(32),
      timestamp,
      proposer: new Uint8Array(20),
      stateRoot,
      txRoot: transactionsRoot([]),
      receiptsRoot: receiptsRoot([]),
      gasUsed: 0n,
      gasLimit: params.blockGasLimit,
      consensus: config.extraData ? hexToBytes(config.extraData) : new Uint8Array(0),
    },
    transactions: [],
  }
  return { block, hash: blockHash(block.header), state, stateRoot, stateOps, params }
}
