import { describe, expect, it } from 'vitest'
import {
  ADDRESS_LENGTH,
  addressFromPublicKey,
  addressToHex,
  bytesToHex,
  CryptoErrorCode,
  ed25519,
  hexToBytes,
  isAddressHex,
  isCryptoError,
  parseAddress,
  sha256,
} from '../src/index.js'

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return isCryptoError(e) ? e.code : 'not-a-crypto-error'
  }
  return undefined
}

describe('[address]: derivation and parsing', () => {
  it('is the first 20 bytes of sha256(public key)', () => {
    const pk = ed25519.getPublicKey(
      hexToBytes('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
    )
    const a = addressFromPublicKey(pk)
    expect(a.length).toBe(ADDRESS_LENGTH)
    expect(a).toEqual(sha256(pk).slice(0, 20))
    const hex = addressToHex(a)
    expect(hex).toMatch(/^0x[0-9a-f]{40}$/)
    expect(parseAddress(hex)).toEqual(a)
    expect(parseAddress(hex.slice(2).toUpperCase())).toEqual(a)
    expect(parseAddress(`0X${hex.slice(2)}`)).toEqual(a)
    expect(isAddressHex(hex)).toBe(true)
    expect(bytesToHex(a)).toBe(hex)
  })
  it('refuses wrong lengths and non-hex with ERR_INVALID_ADDRESS', () => {
    expect(codeOf(() => parseAddress('0x1234'))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => parseAddress(`0x${'zz'.repeat(20)}`))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => parseAddress(`0x${'00'.repeat(21)}`))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => parseAddress(5 as any))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => addressToHex(new Uint8Array(19)))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => addressToHex('x' as any))).toBe(CryptoErrorCode.INVALID_ADDRESS)
    expect(codeOf(() => addressFromPublicKey(new Uint8Array(31)))).toBe(
      CryptoErrorCode.INVALID_PUBLIC_KEY,
    )
    expect(codeOf(() => addressFromPublicKey('x' as any))).toBe(CryptoErrorCode.INVALID_PUBLIC_KEY)
    expect(isAddressHex('0x12')).toBe(false)
    try {
      parseAddress('0x12')
    } catch (e: any) {
      expect(e.message).toMatch(/40 hex digits, got 2/)
    }
  })
})
