/** Accounts, validator records and contract addresses (layouts in docs/encoding.md). */
import {
  bigintToBytes,
  checkUint,
  decodeU128,
  decodeUint,
  encodeUtf8,
  equalBytesFast,
  expectAnyList,
  expectBytes,
  expectList,
  rlpDecodeStrict,
  rlpEncode,
} from './codec.js'
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT, sha256 } from './hash.js'
import { CONTRACT_ADDRESS_DOMAIN, MAX_U128 } from './params.js'
import type { Account, ValidatorCandidate, ValidatorSet } from './types.js'

/**
 * A fresh empty account (what `getAccount` returns for an absent address).
 * @example
 * const a = emptyAccount(); a.balance = 10n
 */
export function emptyAccount(): Account {
  return {
    nonce: 0n,
    balance: 0n,
    stake: 0n,
    codeHash: EMPTY_CODE_HASH,
    storageRoot: EMPTY_TRIE_ROOT,
    unbonding: [],
  }
}

/** True if the account holds nothing (it is then deleted from the trie). */
export function isEmptyAccount(a: Account): boolean {
  return (
    a.nonce === 0n &&
    a.balance === 0n &&
    a.stake === 0n &&
    a.unbonding.length === 0 &&
    equalBytesFast(a.codeHash, EMPTY_CODE_HASH) &&
    equalBytesFast(a.storageRoot, EMPTY_TRIE_ROOT)
  )
}

/** A deep copy (accounts are mutable records; caches hand out copies). */
export function cloneAccount(a: Account): Account {
  return {
    nonce: a.nonce,
    balance: a.balance,
    stake: a.stake,
    codeHash: a.codeHash,
    storageRoot: a.storageRoot,
    unbonding: a.unbonding.map((u) => ({ amount: u.amount, releaseHeight: u.releaseHeight })),
  }
}

/**
 * RLP([nonce, balance, stake, codeHash, storageRoot, [[amount, releaseHeight], ...]]).
 * @example
 * decodeAccount(encodeAccount(emptyAccount()))
 */
export function encodeAccount(a: Account): Uint8Array {
  return rlpEncode([
    bigintToBytes(checkUint(a.nonce, 'nonce')),
    bigintToBytes(checkUint(a.balance, 'balance', MAX_U128)),
    bigintToBytes(checkUint(a.stake, 'stake', MAX_U128)),
    a.codeHash,
    a.storageRoot,
    a.unbonding.map((u) => [
      bigintToBytes(checkUint(u.amount, 'unbonding amount', MAX_U128)),
      bigintToBytes(checkUint(u.releaseHeight, 'releaseHeight')),
    ]),
  ])
}

/** Decodes an account, refusing non-canonical bytes. */
export function decodeAccount(bytes: Uint8Array): Account {
  const f = expectList(rlpDecodeStrict(bytes, 1 << 20, 'account'), 6, 'account')
  return {
    nonce: decodeUint(f[0], 'nonce'),
    balance: decodeU128(f[1], 'balance'),
    stake: decodeU128(f[2], 'stake'),
    codeHash: expectBytes(f[3], 'codeHash', { length: 32 }),
    storageRoot: expectBytes(f[4], 'storageRoot', { length: 32 }),
    unbonding: expectAnyList(f[5], 'unbonding').map((u) => {
      const e = expectList(u, 2, 'unbonding entry')
      return {
        amount: decodeU128(e[0], 'unbonding amount'),
        releaseHeight: decodeUint(e[1], 'releaseHeight'),
      }
    }),
  }
}

const CONTRACT_DOMAIN = encodeUtf8(CONTRACT_ADDRESS_DOMAIN)

/**
 * Address of a contract: sha256("aureon/contract" || deployer || RLP(nonce))[0..20].
 * @example
 * contractAddress(deployer, 0n)
 */
export function contractAddress(deployer: Uint8Array, nonce: bigint): Uint8Array {
  return sha256(CONTRACT_DOMAIN, deployer, rlpEncode(bigintToBytes(nonce))).slice(0, 20)
}

/** RLP([epoch, [[address, publicKey, blsPublicKey, stake], ...]]). */
export function encodeValidatorSet(set: ValidatorSet): Uint8Array {
  return rlpEncode([
    bigintToBytes(set.epoch),
    set.validators.map((v) => [
      v.address,
      v.publicKey,
      v.blsPublicKey,
      bigintToBytes(checkUint(v.stake, 'stake', MAX_U128)),
    ]),
  ])
}

/** Decodes the active validator set record. */
export function decodeValidatorSet(bytes: Uint8Array): ValidatorSet {
  const f = expectList(rlpDecodeStrict(bytes, 1 << 24, 'validator set'), 2, 'validator set')
  let totalStake = 0n
  const validators = expectAnyList(f[1], 'validators').map((v) => {
    const e = expectList(v, 4, 'validator')
    const stake = decodeU128(e[3], 'stake')
    totalStake += stake
    return {
      address: expectBytes(e[0], 'address', { length: 20 }),
      publicKey: expectBytes(e[1], 'publicKey', { length: 32 }),
      blsPublicKey: expectBytes(e[2], 'blsPublicKey', { length: 48 }),
      stake,
    }
  })
  return { epoch: decodeUint(f[0], 'epoch'), validators, totalStake }
}

/** RLP([[address, publicKey, blsPublicKey], ...]). */
export function encodeValidatorCandidates(list: ValidatorCandidate[]): Uint8Array {
  return rlpEncode(list.map((c) => [c.address, c.publicKey, c.blsPublicKey]))
}

/** Decodes the candidate list record. */
export function decodeValidatorCandidates(bytes: Uint8Array): ValidatorCandidate[] {
  return expectAnyList(rlpDecodeStrict(bytes, 1 << 24, 'candidates'), 'candidates').map((c) => {
    const e = expectList(c, 3, 'candidate')
    return {
      address: expectBytes(e[0], 'address', { length: 20 }),
      publicKey: expectBytes(e[1], 'publicKey', { length: 32 }),
      blsPublicKey: expectBytes(e[2], 'blsPublicKey', { length: 48 }),
    }
  })
}
