import { bls, ed25519, hexToBytes, type KeyType, readKeyFile, writeKeyFile } from '@aureon/crypto'
import { ConfigError } from '../../config.js'

/** The passphrase of key files: from AUREON_PASSPHRASE when set (never a flag: flags leak to ps). */
export function passphrase(): string | undefined {
  return process.env.AUREON_PASSPHRASE || undefined
}

function keyType(t: string): KeyType {
  if (t !== 'ed25519' && t !== 'bls')
    throw new ConfigError(`--type must be ed25519 or bls, got ${t}`)
  return t
}

export async function keysNew(opts: { out: string; type: string; force?: boolean }): Promise<void> {
  const type = keyType(opts.type)
  const secretKey = type === 'ed25519' ? ed25519.randomSecretKey() : bls.randomSecretKey()
  const json = await writeKeyFile(opts.out, {
    type,
    secretKey,
    passphrase: passphrase(),
    overwrite: opts.force,
  })
  process.stdout.write(
    `${JSON.stringify({ file: opts.out, type, publicKey: json.publicKey, address: json.address, encrypted: !!json.crypto }, null, 2)}\n`,
  )
}

export async function keysShow(file: string): Promise<void> {
  const key = await readKeyFile(file, { passphrase: passphrase() })
  process.stdout.write(`${JSON.stringify({ file, ...key.toJSON() }, null, 2)}\n`)
}

export async function keysImport(
  secret: string,
  opts: { out: string; type: string; force?: boolean },
): Promise<void> {
  const type = keyType(opts.type)
  const secretKey = hexToBytes(secret)
  const json = await writeKeyFile(opts.out, {
    type,
    secretKey,
    passphrase: passphrase(),
    overwrite: opts.force,
  })
  process.stdout.write(
    `${JSON.stringify({ file: opts.out, type, publicKey: json.publicKey, address: json.address }, null, 2)}\n`,
  )
}
