import {
  addressFromPublicKey,
  addressToHex,
  bls,
  bytesToHex,
  ed25519,
  sha256,
  utf8ToBytes,
} from '@aureon/crypto'

/** A key pair the node can sign with: ed25519 (accounts, proposals, VRF) and BLS (votes). */
export interface NodeKey {
  secretKey: Uint8Array
  publicKey: Uint8Array
  address: Uint8Array
  blsSecretKey?: Uint8Array
  blsPublicKey?: Uint8Array
}

/** Builds a NodeKey from an ed25519 seed (and an optional BLS secret key). */
export function nodeKeyFromSecret(secretKey: Uint8Array, blsSecretKey?: Uint8Array): NodeKey {
  const publicKey = ed25519.getPublicKey(secretKey)
  return {
    secretKey,
    publicKey,
    address: addressFromPublicKey(publicKey),
    blsSecretKey,
    blsPublicKey: blsSecretKey ? bls.getPublicKey(blsSecretKey) : undefined,
  }
}

/**
 * The dev chain's well-known accounts, like Anvil's: the same ten keys on every machine, derived
 * from a public label. NEVER use them on a real network.
 */
export function devAccounts(count = 10): NodeKey[] {
  return Array.from({ length: count }, (_, i) =>
    nodeKeyFromSecret(sha256(utf8ToBytes(`aureon dev account ${i}`))),
  )
}

/** The dev chain's validator key (ed25519 + BLS), also derived from a public label. */
export function devValidatorKey(): NodeKey {
  const seed = sha256(utf8ToBytes('aureon dev validator'))
  return nodeKeyFromSecret(seed, blsSecretFromSeed(seed))
}

/** A BLS secret key derived from a 32-byte seed (reduced below the curve order, never zero). */
export function blsSecretFromSeed(seed: Uint8Array): Uint8Array {
  const order = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n
  const h = sha256(new Uint8Array([...utf8ToBytes('aureon/bls-keygen'), ...seed]))
  let x = BigInt(bytesToHex(h)) % (order - 1n)
  x += 1n
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn)
    x >>= 8n
  }
  return out
}

/** One line per account, for printing. */
export function describeAccount(k: NodeKey): { address: string; secretKey: string } {
  return { address: addressToHex(k.address), secretKey: bytesToHex(k.secretKey) }
}
