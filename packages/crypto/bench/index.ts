/**
 * Crypto benchmarks (figures, not timed tests). Every figure is a median of repeated runs in ops/s.
 * - ed25519.verify.noble: @noble/curves' ed25519.verify (strict, zip215: false), with the native
 *   figure of the same run as its baseline.
 * - ed25519.verify.native: this package's ed25519.verify (pinned-rule pre-checks + node:crypto).
 * - ed25519.verify.pool: signatures/s of one large batch on createWorkerPoolVerifier (one worker
 *   per core), baseline the single-thread native figure.
 * - bls.*: @chainsafe/bls on blst; ecvrf.*: RFC 9381 TAI on @noble/curves.
 * - bls.verify.blstRaw: @chainsafe/blst's verify on a pre-decoded key and signature (one pairing
 *   check plus the signature subgroup check): the floor for the wrapper's figures.
 * - bls.verifyDecoded: verify against a key from bls.decodePublicKey (signature bytes decoded on
 *   each call), baseline bls.verify.blstRaw.
 * - bls.fastAggregateVerify.100.decoded: aggregateDecodedPublicKeys over 100 cached handles plus
 *   verifyDecoded, baseline bls.fastAggregateVerify.100 (serialized keys).
 */

import { availableParallelism, loadavg } from 'node:os'
import blst from '@chainsafe/blst'
import { ed25519 as nobleEd25519 } from '@noble/curves/ed25519.js'
import { BenchReport, opsPerSec, timeMedian } from '../../../bench/harness.js'
import { bls, createWorkerPoolVerifier, ecvrf, ed25519, utf8ToBytes } from '../src/index.js'

const report = new BenchReport('crypto')
const cores = availableParallelism()
// Figures are only comparable on an idle machine: record how busy it was.
const load = () => `load average ${loadavg()[0].toFixed(1)} on ${cores} cores`
const add = (r: Parameters<typeof report.add>[0]) =>
  report.add({ ...r, note: r.note ? `${r.note}; ${load()}` : load() })

// ed25519: a pool of distinct (key, message, signature) triples, cycled.
const N = 256
const edItems = Array.from({ length: N }, (_, i) => {
  const sk = ed25519.randomSecretKey()
  const message = utf8ToBytes(`transfer ${i}`)
  return { publicKey: ed25519.getPublicKey(sk), message, signature: ed25519.sign(message, sk) }
})
let k = 0
const next = () => edItems[k++ % N]

const native = await opsPerSec(() => {
  const it = next()
  if (!ed25519.verify(it.signature, it.message, it.publicKey)) throw new Error('bad')
}, 3000)
const noble = await opsPerSec(() => {
  const it = next()
  if (!nobleEd25519.verify(it.signature, it.message, it.publicKey, { zip215: false }))
    throw new Error('bad')
}, 200)
add({
  name: 'ed25519.verify.noble',
  value: noble,
  unit: 'ops/s',
  baseline: 'ed25519.verify.native',
  baselineValue: native,
})
add({
  name: 'ed25519.verify.native',
  value: native,
  unit: 'ops/s',
  note: 'pinned-rule pre-checks + node:crypto verify, one thread',
})

const pool = createWorkerPoolVerifier({ workers: cores })
const batch = Array.from({ length: 4096 }, () => next())
const poolMs = await timeMedian(async () => {
  const r = await pool.verifyEd25519(batch)
  if (!r.valid) throw new Error('bad')
}, 5)
await pool.close()
add({
  name: 'ed25519.verify.pool',
  value: (batch.length * 1000) / poolMs,
  unit: 'ops/s',
  baseline: 'ed25519.verify.native',
  baselineValue: native,
  note: `batch of ${batch.length}, ${cores} worker threads on ${cores} cores`,
})

// BLS
const blsSks = Array.from({ length: 100 }, () => bls.randomSecretKey())
const blsPks = blsSks.map((sk) => bls.getPublicKey(sk))
const blockHash = utf8ToBytes('block hash 0123456789abcdef0123456')
const sig0 = bls.sign(blockHash, blsSks[0])
add({
  name: 'bls.verify',
  value: await opsPerSec(() => {
    if (!bls.verify(sig0, blockHash, blsPks[0])) throw new Error('bad')
  }, 200),
  unit: 'ops/s',
  note: `backend ${bls.implementation}`,
})
const agg = bls.aggregateSignatures(blsSks.map((sk) => bls.sign(blockHash, sk)))
const fastBytes = await opsPerSec(() => {
  if (!bls.fastAggregateVerify(agg, blockHash, blsPks)) throw new Error('bad')
}, 50)
add({
  name: 'bls.fastAggregateVerify.100',
  value: fastBytes,
  unit: 'ops/s',
  note: '100 serialized public keys, decoded and validated each time',
})
const blsHandles = blsPks.map((pk) => bls.decodePublicKey(pk))
const fastDecoded = await opsPerSec(() => {
  if (!bls.verifyDecoded(agg, blockHash, bls.aggregateDecodedPublicKeys(blsHandles))) {
    throw new Error('bad')
  }
}, 50)
add({
  name: 'bls.fastAggregateVerify.100.decoded',
  value: fastDecoded,
  unit: 'ops/s',
  baseline: 'bls.fastAggregateVerify.100',
  baselineValue: fastBytes,
  note: '100 keys decoded once (bls.decodePublicKey), aggregated and checked each time',
})
const rawPk = blst.PublicKey.fromBytes(blsPks[0], true)
const rawSig = blst.Signature.fromBytes(sig0, true)
const raw = await opsPerSec(() => {
  if (!blst.verify(blockHash, rawPk, rawSig, false, true)) throw new Error('bad')
}, 200)
add({
  name: 'bls.verify.blstRaw',
  value: raw,
  unit: 'ops/s',
  note: 'pre-decoded key and signature',
})
add({
  name: 'bls.verifyDecoded',
  value: await opsPerSec(() => {
    if (!bls.verifyDecoded(sig0, blockHash, blsHandles[0])) throw new Error('bad')
  }, 200),
  unit: 'ops/s',
  baseline: 'bls.verify.blstRaw',
  baselineValue: raw,
  note: 'key decoded once; signature bytes decoded each call',
})
add({
  name: 'bls.aggregatePublicKeys.100',
  value: await opsPerSec(() => bls.aggregatePublicKeys(blsPks), 50),
  unit: 'ops/s',
  note: '100 serialized public keys, decoded and validated each time',
})

// ECVRF
const vrfSk = ed25519.randomSecretKey()
const vrfPk = ed25519.getPublicKey(vrfSk)
const alpha = utf8ToBytes('round 42')
const proof = ecvrf.prove(vrfSk, alpha)
add({
  name: 'ecvrf.prove',
  value: await opsPerSec(() => ecvrf.prove(vrfSk, alpha), 50),
  unit: 'ops/s',
})
add({
  name: 'ecvrf.verify',
  value: await opsPerSec(() => {
    if (!ecvrf.verify(vrfPk, proof, alpha).valid) throw new Error('bad')
  }, 50),
  unit: 'ops/s',
})

report.write()
