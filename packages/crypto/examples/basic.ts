import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  addressFromPublicKey,
  addressToHex,
  bls,
  createWorkerPoolVerifier,
  ecvrf,
  ed25519,
  readKeyFile,
  utf8ToBytes,
  writeKeyFile,
} from '@aureon/crypto'

export async function main(): Promise<string[]> {
  const out: string[] = []

  // An account: ed25519 key, its address, a signature checked under the pinned rule.
  const sk = ed25519.randomSecretKey()
  const pk = ed25519.getPublicKey(sk)
  const msg = utf8ToBytes('transfer 10 to bob')
  const sig = ed25519.sign(msg, sk)
  out.push(`address: ${addressToHex(addressFromPublicKey(pk))}`)
  out.push(`ed25519 valid: ${ed25519.verify(sig, msg, pk)}`)

  // The same key is the VRF key: a verifiable random output for a round.
  const alpha = utf8ToBytes('round 42')
  const proof = ecvrf.prove(sk, alpha)
  const r = ecvrf.verify(pk, proof, alpha)
  out.push(`vrf valid: ${r.valid}, beta is ${r.valid ? r.beta.length : 0} bytes`)

  // BLS: three validators sign one block hash; one aggregate signature proves all three.
  const blsKeys = [bls.randomSecretKey(), bls.randomSecretKey(), bls.randomSecretKey()]
  const blockHash = utf8ToBytes('block 7')
  const aggregate = bls.aggregateSignatures(blsKeys.map((k) => bls.sign(blockHash, k)))
  const blsPks = blsKeys.map((k) => bls.getPublicKey(k))
  out.push(`quorum certificate valid: ${bls.fastAggregateVerify(aggregate, blockHash, blsPks)}`)

  // Batches on worker threads: the verifier names the bad signature.
  const verifier = createWorkerPoolVerifier({ workers: 2 })
  const items = Array.from({ length: 100 }, (_, i) => {
    const m = utf8ToBytes(`tx ${i}`)
    return { publicKey: pk, message: m, signature: ed25519.sign(i === 13 ? msg : m, sk) }
  })
  const batch = await verifier.verifyEd25519(items)
  await verifier.close()
  out.push(`batch valid: ${batch.valid}, invalid: ${batch.invalid.join(',')}`)

  // A passphrase-protected key file (mode 0600); the secret never shows in logs.
  const file = join(tmpdir(), `aureon-example-${process.pid}-${Date.now()}.json`)
  await writeKeyFile(file, { type: 'ed25519', secretKey: sk, passphrase: 'correct horse' })
  const key = await readKeyFile(file, { passphrase: 'correct horse' })
  out.push(`key file: ${JSON.stringify(key)}`)

  for (const line of out) console.log(line)
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
