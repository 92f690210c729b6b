import { addressToHex, bls, bytesToHex, randomBytes } from '@aureon/crypto'
import type { GenesisConfig } from '@aureon/ledger'
import { devAccounts, devValidatorKey, type NodeKey, nodeKeyFromSecret } from './accounts.js'

/** The dev chain's id (like Anvil's 31337). */
export const DEV_CHAIN_ID = 1337

/** Each dev account's starting balance: 1,000,000 AUR of 10^18 units. */
export const DEV_BALANCE = 10n ** 24n

/** The genesis of `aureon dev`: ten prefunded accounts and one dev validator. */
export function devGenesis(opts: { accounts?: NodeKey[]; timestamp?: number } = {}): GenesisConfig {
  const accounts = opts.accounts ?? devAccounts()
  const v = devValidatorKey()
  return {
    chainId: DEV_CHAIN_ID,
    timestamp: opts.timestamp ?? 0,
    balances: Object.fromEntries(
      accounts.map((a) => [addressToHex(a.address), DEV_BALANCE.toString()]),
    ),
    validators: [
      {
        publicKey: bytesToHex(v.publicKey),
        blsPublicKey: bytesToHex(v.blsPublicKey!),
        stake: (10n ** 21n).toString(),
      },
    ],
    consensus: { engine: 'dev' },
  }
}

/** Fresh validator keys for a new network (random seeds). */
export function newValidatorKeys(n: number): NodeKey[] {
  return Array.from({ length: n }, () => nodeKeyFromSecret(randomBytes(32), bls.randomSecretKey()))
}

/** The genesis of a new network of `validators` (bft, poa or pow) with prefunded accounts. */
export function networkGenesis(opts: {
  chainId: number
  engine: 'bft' | 'poa' | 'pow' | 'dev'
  validators: NodeKey[]
  accounts?: NodeKey[]
  timestamp: number
  params?: GenesisConfig['params']
  consensus?: Record<string, unknown>
}): GenesisConfig {
  const accounts = opts.accounts ?? devAccounts()
  return {
    chainId: opts.chainId,
    timestamp: opts.timestamp,
    balances: Object.fromEntries(
      accounts.map((a) => [addressToHex(a.address), DEV_BALANCE.toString()]),
    ),
    validators: opts.validators.map((v) => ({
      publicKey: bytesToHex(v.publicKey),
      blsPublicKey: bytesToHex(v.blsPublicKey!),
      stake: (10n ** 21n).toString(),
      balance: (10n ** 21n).toString(),
    })),
    consensus: { engine: opts.engine, ...opts.consensus },
    params: opts.params,
  }
}
