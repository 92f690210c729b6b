import { bytesToHex, hexToBytes } from './bytes.js'
import { CryptoError, CryptoErrorCode, isCryptoError } from './errors.js'
import { sha256 } from './hashes.js'
import { ADDRESS_LENGTH, ED25519_PUBLIC_KEY_LENGTH } from './params.js'

/**
 * The address of an ed25519 public key: the first 20 bytes of sha256(publicKey).
 *
 * @example
 * const address = addressFromPublicKey(ed25519.getPublicKey(sk))
 */
export function addressFromPublicKey(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
      `public key must be ${ED25519_PUBLIC_KEY_LENGTH} bytes, got ${publicKey instanceof Uint8Array ? publicKey.length : typeof publicKey}`,
    )
  }
  return sha256(publicKey).slice(0, ADDRESS_LENGTH)
}

/**
 * `0x` + 40 lowercase hex digits. Throws `ERR_INVALID_ADDRESS` on a wrong length.
 *
 * @example
 * addressToHex(address) // '0x3f1c...'
 */
export function addressToHex(address: Uint8Array): string {
  if (!(address instanceof Uint8Array) || address.length !== ADDRESS_LENGTH) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_ADDRESS,
      `address must be ${ADDRESS_LENGTH} bytes, got ${address instanceof Uint8Array ? address.length : typeof address}`,
    )
  }
  return bytesToHex(address)
}

/**
 * Parses `0x` + 40 hex digits (the prefix is optional, case is ignored). Throws CryptoError
 * `ERR_INVALID_ADDRESS` on a wrong length or non-hex characters.
 *
 * @example
 * parseAddress('0x00112233445566778899aabbccddeeff00112233')
 */
export function parseAddress(s: string): Uint8Array {
  if (typeof s !== 'string') {
    throw new CryptoError(
      CryptoErrorCode.INVALID_ADDRESS,
      `address must be a string, got ${typeof s}`,
    )
  }
  const digits = s.startsWith('0x') || s.startsWith('0X') ? s.length - 2 : s.length
  if (digits !== ADDRESS_LENGTH * 2) {
    throw new CryptoError(
      CryptoErrorCode.INVALID_ADDRESS,
      `address must be 0x followed by ${ADDRESS_LENGTH * 2} hex digits, got ${digits} digits`,
      { details: { digits } },
    )
  }
  try {
    return hexToBytes(s)
  } catch (e) {
    /* v8 ignore next */
    if (!isCryptoError(e)) throw e
    throw new CryptoError(CryptoErrorCode.INVALID_ADDRESS, `address is not hex: ${e.message}`, {
      cause: e,
    })
  }
}

/**
 * True when `s` parses as an address.
 *
 * @example
 * isAddressHex('0x00112233445566778899aabbccddeeff00112233') // true
 */
export function isAddressHex(s: string): boolean {
  try {
    parseAddress(s)
    return true
  } catch {
    return false
  }
}
