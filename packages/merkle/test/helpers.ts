import { readFileSync } from 'node:fs'

export const utf8 = (s: string) => new TextEncoder().encode(s)
export const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`
export const fromHex = (h: string) => new Uint8Array(Buffer.from(h.replace(/^0x/, ''), 'hex'))

/** Vector strings: 0x-prefixed = hex, otherwise UTF-8; null = delete. */
export function vectorBytes(s: string | null): Uint8Array | null {
  if (s === null) return null
  return s.startsWith('0x') ? fromHex(s) : utf8(s)
}

export function loadVectors(name: string): { vectors: any[] } {
  // copies of the shared Ethereum trie test vectors (each file names its source)
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'))
}
