/** The two account fields a snapshot follows: codeHash and storageRoot. Internal. */

import { equal } from './bytes.js'
import { EMPTY_CODE_HASH, EMPTY_TRIE_ROOT } from './params.js'
import { rlpDecode } from './rlp.js'

/** References of an account-trie leaf, or undefined when the leaf is not an account record. */
export interface AccountRefs {
  codeHash?: Uint8Array
  storageRoot?: Uint8Array
}

/**
 * Reads codeHash and storageRoot from a leaf value RLP([nonce, balance, stake, codeHash,
 * storageRoot, unbonding]); other records (validator sets) give `{}`. Empty code / storage give
 * undefined fields.
 */
export function accountRefs(value: Uint8Array): AccountRefs {
  const fast = accountRefsFast(value)
  if (fast !== undefined) return fast
  let item: ReturnType<typeof rlpDecode>
  try {
    item = rlpDecode(value)
  } catch {
    return {}
  }
  if (!Array.isArray(item) || item.length !== 6) return {}
  const code = item[3]
  const root = item[4]
  if (!(code instanceof Uint8Array) || code.length !== 32) return {}
  if (!(root instanceof Uint8Array) || root.length !== 32) return {}
  return refsOf(code, root)
}

function refsOf(code: Uint8Array, root: Uint8Array): AccountRefs {
  return {
    codeHash: equal(code, EMPTY_CODE_HASH) ? undefined : code,
    storageRoot: equal(root, EMPTY_TRIE_ROOT) ? undefined : root,
  }
}

/**
 * The common case without the generic decoder (called once per account): a canonical list of
 * exactly six canonical strings or empty lists. Anything else gives undefined and takes the generic path, so
 * the result is the same for every input.
 */
function accountRefsFast(b: Uint8Array): AccountRefs | undefined {
  if (b.length < 2) return undefined
  let p: number
  let end: number
  const t = b[0]
  if (t >= 0xc0 && t < 0xf8) {
    p = 1
    end = 1 + t - 0xc0
  } else if (t === 0xf8) {
    if (b[1] < 56) return undefined
    p = 2
    end = 2 + b[1]
  } else if (t === 0xf9) {
    if (b.length < 3 || b[1] === 0) return undefined
    p = 3
    end = 3 + ((b[1] << 8) | b[2])
  } else return undefined
  if (end !== b.length) return undefined
  let code = -1
  let root = -1
  for (let i = 0; i < 6; i++) {
    if (p >= end) return undefined
    const h = b[p]
    let start: number
    let len: number
    if (h < 0x80) {
      start = p
      len = 1
    } else if (h < 0xb8) {
      start = p + 1
      len = h - 0x80
      if (len === 1 && (start >= end || b[start] < 0x80)) return undefined
    } else if (h === 0xb8) {
      if (p + 1 >= end || b[p + 1] < 56) return undefined
      start = p + 2
      len = b[p + 1]
    } else if (h === 0xc0) {
      start = p + 1 // an empty list (no unbonding entries)
      len = 0
    } else return undefined // longer strings or non-empty lists: generic path
    if (start + len > end) return undefined
    if (i === 3) code = len === 32 ? start : -2
    if (i === 4) root = len === 32 ? start : -2
    p = start + len
  }
  if (p !== end) return undefined
  if (code < 0 || root < 0) return {}
  // most accounts hold neither code nor storage: compared in place, no views, one shared result
  const hasCode = !equalAt(b, code, EMPTY_CODE_HASH)
  const hasRoot = !equalAt(b, root, EMPTY_TRIE_ROOT)
  if (!hasCode && !hasRoot) return NO_REFS
  return {
    codeHash: hasCode ? b.subarray(code, code + 32) : undefined,
    storageRoot: hasRoot ? b.subarray(root, root + 32) : undefined,
  }
}

/** The references of an account without code or storage (shared, frozen). */
const NO_REFS: AccountRefs = Object.freeze({})

/** Whether b[at..at+32) equals the 32 bytes of `h`. */
function equalAt(b: Uint8Array, at: number, h: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (b[at + i] !== h[i]) return false
  return true
}
