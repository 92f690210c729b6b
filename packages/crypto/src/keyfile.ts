import { createCipheriv, createDecipheriv, scrypt as scryptCb } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { inspect } from 'node:util'
import { addressFromPublicKey, addressToHex } from './address.js'
import { bls } from './bls.js'
import { bytesToHex, equalBytes, hexToBytes, randomBytes, utf8ToBytes } from './bytes.js'
import { ed25519 } from './ed25519.js'
import { CryptoError, CryptoErrorCode } from './errors.js'

/** Key types a key file can hold. */
export type KeyType = 'ed25519' | 'bls'

/** scrypt cost parameters (RFC 7914). */
export interface ScryptParams {
  /** CPU/memory cost, a power of two (default 2^16). */
  n: number
  /** Block size (default 8). */
  r: number
  /** Parallelism (default 1). */
  p: number
}

/** Defaults for new key files: about 64 MiB and a few hundred ms per unlock. */
export const defaultScryptParams: ScryptParams = { n: 2 ** 16, r: 8, p: 1 }

// Refuse files asking for more than this (a hostile file must not exhaust memory).
const MAX_N = 2 ** 20
const MAX_R = 32
const MAX_P = 16

/**
 * The JSON stored in a key file (see docs/crypto.md). Exactly one of `secretKey` (plain) and
 * `crypto` (passphrase-encrypted) is present.
 */
export interface KeyFileJSON {
  version: 1
  type: KeyType
  /** Public key, 0x-hex (32 bytes ed25519, 48 bytes BLS). */
  publicKey: string
  /** ed25519 only: the account address, 0x-hex. */
  address?: string
  /** Unencrypted secret key, 0x-hex. */
  secretKey?: string
  crypto?: {
    cipher: 'aes-256-gcm'
    /** The encrypted secret key, 0x-hex. */
    ciphertext: string
    /** 12-byte GCM nonce, 0x-hex. */
    iv: string
    /** 16-byte GCM tag, 0x-hex. */
    tag: string
    kdf: 'scrypt'
    kdfparams: ScryptParams & { dklen: 32; salt: string }
  }
}

/** Options of `createKeyFile` / `writeKeyFile`. */
export interface KeyFileOptions {
  type: KeyType
  secretKey: Uint8Array
  /** When given, the secret key is encrypted (scrypt + AES-256-GCM). */
  passphrase?: string
  scrypt?: Partial<ScryptParams>
}

// Secret keys live outside the object, so no enumeration, spread or serializer can reach them.
const secrets = new WeakMap<KeyPair, Uint8Array>()

/**
 * A key loaded from a key file. The secret key is readable through `secretKey`, but never
 * appears in `toJSON()`, `toString()`, `util.inspect` / `console.log`, or spread copies.
 */
export class KeyPair {
  readonly type: KeyType
  readonly publicKey: Uint8Array
  readonly address: Uint8Array | undefined

  constructor(type: KeyType, secretKey: Uint8Array, publicKey: Uint8Array) {
    this.type = type
    this.publicKey = publicKey
    this.address = type === 'ed25519' ? addressFromPublicKey(publicKey) : undefined
    secrets.set(this, secretKey)
  }

  /** The secret key bytes. Handle with care: do not log them. */
  get secretKey(): Uint8Array {
    return secrets.get(this)!
  }

  toJSON(): { type: KeyType; publicKey: string; address?: string } {
    return {
      type: this.type,
      publicKey: bytesToHex(this.publicKey),
      ...(this.address ? { address: addressToHex(this.address) } : {}),
    }
  }

  toString(): string {
    return `KeyPair(${this.type} ${bytesToHex(this.publicKey)})`
  }

  [inspect.custom](): string {
    return `KeyPair { type: '${this.type}', publicKey: '${bytesToHex(this.publicKey)}', secretKey: [redacted] }`
  }
}

function formatError(msg: string, details?: Record<string, unknown>): CryptoError {
  return new CryptoError(CryptoErrorCode.KEYFILE_FORMAT, msg, details ? { details } : {})
}

function derivePublicKey(type: KeyType, sk: Uint8Array): Uint8Array {
  return type === 'ed25519' ? ed25519.getPublicKey(sk) : bls.getPublicKey(sk)
}

function scrypt(passphrase: string, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scryptCb(
      utf8ToBytes(passphrase.normalize('NFKC')),
      salt,
      32,
      { N: p.n, r: p.r, p: p.p, maxmem: 256 * p.n * p.r + 1024 * 1024 },
      (err, key) => {
        /* v8 ignore next */
        if (err)
          reject(new CryptoError(CryptoErrorCode.KEYFILE_FORMAT, `scrypt failed: ${err.message}`))
        else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength))
      },
    )
  })
}

function checkScrypt(p: ScryptParams): void {
  const ok =
    Number.isInteger(p.n) &&
    p.n >= 2 &&
    p.n <= MAX_N &&
    (p.n & (p.n - 1)) === 0 &&
    Number.isInteger(p.r) &&
    p.r >= 1 &&
    p.r <= MAX_R &&
    Number.isInteger(p.p) &&
    p.p >= 1 &&
    p.p <= MAX_P
  if (!ok) {
    throw formatError(
      `scrypt parameters out of range: n must be a power of two in [2, 2^20], r in [1, ${MAX_R}], p in [1, ${MAX_P}]`,
      { n: p.n, r: p.r, p: p.p },
    )
  }
}

// The GCM additional data binds the public fields: editing them breaks decryption.
function aad(type: KeyType, publicKeyHex: string): Uint8Array {
  return utf8ToBytes(`aureon-keyfile:v1:${type}:${publicKeyHex.toLowerCase()}`)
}

/**
 * Builds the key file JSON for a secret key; encrypts it when `passphrase` is given.
 *
 * @example
 * const json = await createKeyFile({ type: 'ed25519', secretKey: sk, passphrase: 'correct horse' })
 */
export async function createKeyFile(opts: KeyFileOptions): Promise<KeyFileJSON> {
  if (opts.type !== 'ed25519' && opts.type !== 'bls') {
    throw formatError(`key type must be 'ed25519' or 'bls', got ${JSON.stringify(opts.type)}`)
  }
  const publicKey = derivePublicKey(opts.type, opts.secretKey)
  const out: KeyFileJSON = { version: 1, type: opts.type, publicKey: bytesToHex(publicKey) }
  if (opts.type === 'ed25519') out.address = addressToHex(addressFromPublicKey(publicKey))
  if (opts.passphrase === undefined) {
    out.secretKey = bytesToHex(opts.secretKey)
    return out
  }
  if (typeof opts.passphrase !== 'string') throw formatError('passphrase must be a string')
  const params: ScryptParams = { ...defaultScryptParams, ...opts.scrypt }
  checkScrypt(params)
  const salt = randomBytes(32)
  const iv = randomBytes(12)
  const key = await scrypt(opts.passphrase, salt, params)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(aad(opts.type, out.publicKey))
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(opts.secretKey), cipher.final()]))
  key.fill(0)
  out.crypto = {
    cipher: 'aes-256-gcm',
    ciphertext: bytesToHex(ciphertext),
    iv: bytesToHex(iv),
    tag: bytesToHex(new Uint8Array(cipher.getAuthTag())),
    kdf: 'scrypt',
    kdfparams: { ...params, dklen: 32, salt: bytesToHex(salt) },
  }
  return out
}

function hexField(v: unknown, name: string, len?: number): Uint8Array {
  if (typeof v !== 'string') throw formatError(`key file field ${name} must be a hex string`)
  let b: Uint8Array
  try {
    b = hexToBytes(v)
  } catch {
    throw formatError(`key file field ${name} is not valid hex`)
  }
  if (len !== undefined && b.length !== len) {
    throw formatError(`key file field ${name} must be ${len} bytes, got ${b.length}`)
  }
  return b
}

/**
 * Opens key file JSON (an object or its text). Encrypted files need `passphrase`; a wrong
 * passphrase or an edited file gives `ERR_KEYFILE_PASSPHRASE`, a malformed one `ERR_KEYFILE_FORMAT`.
 * Neither error ever contains the secret key or the passphrase.
 *
 * @example
 * const key = await openKeyFile(json, { passphrase: 'correct horse' })
 */
export async function openKeyFile(
  input: KeyFileJSON | string,
  opts: { passphrase?: string } = {},
): Promise<KeyPair> {
  let json: any = input
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input)
    } catch {
      throw formatError('key file is not valid JSON')
    }
  }
  if (typeof json !== 'object' || json === null) throw formatError('key file must be a JSON object')
  if (json.version !== 1) {
    throw formatError(`unsupported key file version ${JSON.stringify(json.version)}; expected 1`)
  }
  const type = json.type
  if (type !== 'ed25519' && type !== 'bls') {
    throw formatError(`key type must be 'ed25519' or 'bls', got ${JSON.stringify(type)}`)
  }
  const publicKey = hexField(json.publicKey, 'publicKey', type === 'ed25519' ? 32 : 48)
  let secretKey: Uint8Array
  if (json.crypto !== undefined) {
    const c = json.crypto
    if (typeof c !== 'object' || c === null || c.cipher !== 'aes-256-gcm' || c.kdf !== 'scrypt') {
      throw formatError("key file crypto must use cipher 'aes-256-gcm' and kdf 'scrypt'")
    }
    if (typeof opts.passphrase !== 'string') {
      throw new CryptoError(
        CryptoErrorCode.KEYFILE_PASSPHRASE,
        'key file is encrypted: a passphrase is needed',
      )
    }
    const kp = c.kdfparams ?? {}
    const params: ScryptParams = { n: kp.n, r: kp.r, p: kp.p }
    checkScrypt(params)
    if (kp.dklen !== 32) throw formatError('key file kdfparams.dklen must be 32')
    const salt = hexField(kp.salt, 'kdfparams.salt')
    const iv = hexField(c.iv, 'iv', 12)
    const tag = hexField(c.tag, 'tag', 16)
    const ciphertext = hexField(c.ciphertext, 'ciphertext')
    const key = await scrypt(opts.passphrase, salt, params)
    try {
      const d = createDecipheriv('aes-256-gcm', key, iv)
      d.setAAD(aad(type, json.publicKey))
      d.setAuthTag(tag)
      secretKey = new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]))
    } catch {
      throw new CryptoError(
        CryptoErrorCode.KEYFILE_PASSPHRASE,
        'cannot decrypt the key file: wrong passphrase, or the file was modified',
      )
    } finally {
      key.fill(0)
    }
  } else {
    secretKey = hexField(json.secretKey, 'secretKey')
  }
  let derived: Uint8Array
  try {
    derived = derivePublicKey(type, secretKey)
  } catch {
    throw formatError(`key file secret key is not a valid ${type} secret key`)
  }
  if (!equalBytes(derived, publicKey)) {
    throw formatError('key file publicKey does not match its secret key')
  }
  return new KeyPair(type, secretKey, publicKey)
}

function ioError(action: string, path: string, e: unknown): CryptoError {
  const code = (e as NodeJS.ErrnoException)?.code
  return new CryptoError(
    CryptoErrorCode.KEYFILE_IO,
    `cannot ${action} key file ${path}${code ? ` (${code})` : ''}`,
    { details: { path, ...(code ? { errno: code } : {}) }, cause: e },
  )
}

/**
 * Writes a key file with mode 0600 (owner read/write only). Refuses to overwrite an existing
 * file unless `overwrite` is set. Returns the JSON written.
 *
 * @example
 * await writeKeyFile('./validator.key.json', { type: 'ed25519', secretKey: sk, passphrase })
 */
export async function writeKeyFile(
  path: string,
  opts: KeyFileOptions & { overwrite?: boolean },
): Promise<KeyFileJSON> {
  const json = await createKeyFile(opts)
  try {
    await writeFile(path, `${JSON.stringify(json, null, 2)}\n`, {
      mode: 0o600,
      flag: opts.overwrite ? 'w' : 'wx',
    })
    await chmod(path, 0o600) // an overwritten file keeps its old mode otherwise
  } catch (e) {
    throw ioError('write', path, e)
  }
  return json
}

/**
 * Reads and opens a key file written by `writeKeyFile`.
 *
 * @example
 * const key = await readKeyFile('./validator.key.json', { passphrase })
 * ed25519.sign(msg, key.secretKey)
 */
export async function readKeyFile(
  path: string,
  opts: { passphrase?: string } = {},
): Promise<KeyPair> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    throw ioError('read', path, e)
  }
  return openKeyFile(text, opts)
}
