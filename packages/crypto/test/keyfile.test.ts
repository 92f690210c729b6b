import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import {
  bls,
  bytesToHex,
  CryptoErrorCode,
  createKeyFile,
  ed25519,
  isCryptoError,
  KeyPair,
  openKeyFile,
  readKeyFile,
  writeKeyFile,
} from '../src/index.js'

const dir = mkdtempSync(join(tmpdir(), 'aureon-keyfile-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const fast = { n: 2 ** 10, r: 8, p: 1 }

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p
  } catch (e) {
    return isCryptoError(e) ? e.code : String(e)
  }
  return undefined
}

function assertNoSecret(text: string, sk: Uint8Array) {
  const hex = bytesToHex(sk).slice(2)
  expect(text.toLowerCase()).not.toContain(hex)
  expect(text).not.toContain(Buffer.from(sk).toString('base64'))
}

describe('[keyfile]: plain and encrypted round trips', () => {
  it('ed25519, plain, mode 0600', async () => {
    const sk = ed25519.randomSecretKey()
    const path = join(dir, 'plain.json')
    const json = await writeKeyFile(path, { type: 'ed25519', secretKey: sk })
    expect(json.secretKey).toBe(bytesToHex(sk))
    expect(json.address).toMatch(/^0x[0-9a-f]{40}$/)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const key = await readKeyFile(path)
    expect(key.secretKey).toEqual(sk)
    expect(key.publicKey).toEqual(ed25519.getPublicKey(sk))
    expect(key.type).toBe('ed25519')
  })

  it('ed25519 and BLS, encrypted: secret not in the file, wrong passphrase refused', async () => {
    for (const [type, sk] of [
      ['ed25519', ed25519.randomSecretKey()],
      ['bls', bls.randomSecretKey()],
    ] as const) {
      const path = join(dir, `enc-${type}.json`)
      await writeKeyFile(path, { type, secretKey: sk, passphrase: 'correct horse', scrypt: fast })
      const text = readFileSync(path, 'utf8')
      assertNoSecret(text, sk)
      expect(text).not.toContain('correct horse')
      expect(JSON.parse(text)).toMatchObject({
        version: 1,
        type,
        crypto: {
          cipher: 'aes-256-gcm',
          kdf: 'scrypt',
          kdfparams: { n: 1024, r: 8, p: 1, dklen: 32 },
        },
      })
      const key = await readKeyFile(path, { passphrase: 'correct horse' })
      expect(key.secretKey).toEqual(sk)
      expect(await codeOf(readKeyFile(path, { passphrase: 'wrong' }))).toBe(
        CryptoErrorCode.KEYFILE_PASSPHRASE,
      )
      expect(await codeOf(readKeyFile(path))).toBe(CryptoErrorCode.KEYFILE_PASSPHRASE)
    }
  })

  it('default scrypt parameters are used and recorded', async () => {
    const json = await createKeyFile({
      type: 'ed25519',
      secretKey: ed25519.randomSecretKey(),
      passphrase: 'p',
    })
    expect(json.crypto?.kdfparams).toMatchObject({ n: 65536, r: 8, p: 1 })
  })

  it('refuses to overwrite unless asked; an overwrite gets mode 0600', async () => {
    const path = join(dir, 'over.json')
    writeFileSync(path, 'x', { mode: 0o644 })
    const sk = ed25519.randomSecretKey()
    expect(await codeOf(writeKeyFile(path, { type: 'ed25519', secretKey: sk }))).toBe(
      CryptoErrorCode.KEYFILE_IO,
    )
    await writeKeyFile(path, { type: 'ed25519', secretKey: sk, overwrite: true })
    expect(statSync(path).mode & 0o777).toBe(0o600)
  })
})

describe('[keyfile]: secrets never leak', () => {
  it('toJSON, toString, inspect, spread, JSON.stringify', async () => {
    const sk = ed25519.randomSecretKey()
    const key = await openKeyFile(await createKeyFile({ type: 'ed25519', secretKey: sk }))
    expect(key).toBeInstanceOf(KeyPair)
    for (const text of [
      JSON.stringify(key),
      String(key),
      inspect(key, { showHidden: true, depth: 10 }),
      JSON.stringify({ ...key }),
      Object.keys(key).join(','),
    ]) {
      assertNoSecret(text, sk)
    }
    expect(inspect(key)).toMatch(/redacted/)
    expect(key.toJSON()).toEqual({
      type: 'ed25519',
      publicKey: bytesToHex(key.publicKey),
      address: bytesToHex(key.address!),
    })
    const blsKey = await openKeyFile(
      await createKeyFile({ type: 'bls', secretKey: bls.randomSecretKey() }),
    )
    expect(blsKey.toJSON().address).toBeUndefined()
  })

  it('errors about bad files do not contain the secret', async () => {
    const sk = ed25519.randomSecretKey()
    const json = await createKeyFile({ type: 'ed25519', secretKey: sk })
    const other = bytesToHex(ed25519.getPublicKey(ed25519.randomSecretKey()))
    try {
      await openKeyFile({ ...json, publicKey: other })
      expect.unreachable()
    } catch (e) {
      expect(isCryptoError(e) && e.code).toBe(CryptoErrorCode.KEYFILE_FORMAT)
      assertNoSecret(JSON.stringify(e) + String(e) + inspect(e), sk)
    }
  })
})

describe('[keyfile]: malformed files', () => {
  it('gives ERR_KEYFILE_FORMAT or ERR_KEYFILE_PASSPHRASE, never a stack of internals', async () => {
    const sk = ed25519.randomSecretKey()
    const plain = await createKeyFile({ type: 'ed25519', secretKey: sk })
    const enc = await createKeyFile({
      type: 'ed25519',
      secretKey: sk,
      passphrase: 'pw',
      scrypt: fast,
    })
    const F = CryptoErrorCode.KEYFILE_FORMAT
    const P = CryptoErrorCode.KEYFILE_PASSPHRASE
    const cases: [any, string][] = [
      ['not json', F],
      ['5', F],
      [{ ...plain, version: 2 }, F],
      [{ ...plain, type: 'rsa' }, F],
      [{ ...plain, publicKey: '0x12' }, F],
      [{ ...plain, publicKey: 12 }, F],
      [{ ...plain, secretKey: 'zz' }, F],
      [{ ...plain, secretKey: '0x1234' }, F],
      [{ ...enc, crypto: { ...enc.crypto, cipher: 'aes-128-ctr' } }, F],
      [
        { ...enc, crypto: { ...enc.crypto, kdfparams: { ...enc.crypto!.kdfparams, n: 2 ** 30 } } },
        F,
      ],
      [{ ...enc, crypto: { ...enc.crypto, kdfparams: { ...enc.crypto!.kdfparams, n: 1000 } } }, F],
      [
        { ...enc, crypto: { ...enc.crypto, kdfparams: { ...enc.crypto!.kdfparams, dklen: 16 } } },
        F,
      ],
      [{ ...enc, crypto: { ...enc.crypto, iv: '0x00' } }, F],
      [{ ...enc, crypto: { ...enc.crypto, kdfparams: undefined } }, F],
      [{ ...enc, crypto: { ...enc.crypto, tag: `0x${'00'.repeat(16)}` } }, P],
      [{ ...enc, crypto: { ...enc.crypto, ciphertext: `0x${'00'.repeat(32)}` } }, P],
      // the public fields are bound to the ciphertext
      [{ ...enc, publicKey: bytesToHex(ed25519.getPublicKey(ed25519.randomSecretKey())) }, P],
    ]
    for (const [input, code] of cases) {
      const arg = typeof input === 'string' ? input : JSON.stringify(input)
      expect(
        await codeOf(openKeyFile(arg, { passphrase: 'pw' })),
        JSON.stringify(input).slice(0, 80),
      ).toBe(code)
    }
    const blsBad = {
      version: 1,
      type: 'bls',
      publicKey: `0x${'00'.repeat(48)}`,
      secretKey: `0x${'00'.repeat(32)}`,
    }
    expect(await codeOf(openKeyFile(blsBad as any))).toBe(F)
    expect(await codeOf(createKeyFile({ type: 'x' as any, secretKey: sk }))).toBe(F)
    expect(
      await codeOf(createKeyFile({ type: 'ed25519', secretKey: sk, passphrase: 5 as any })),
    ).toBe(F)
    expect(
      await codeOf(
        createKeyFile({ type: 'ed25519', secretKey: sk, passphrase: 'x', scrypt: { r: 0 } }),
      ),
    ).toBe(F)
    expect(await codeOf(readKeyFile(join(dir, 'missing.json')))).toBe(CryptoErrorCode.KEYFILE_IO)
  })
})
