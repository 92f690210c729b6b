import { readFileSync } from 'node:fs'
import {
  addressToHex,
  bls,
  bytesToHex,
  hexToBytes,
  parseAddress,
  readKeyFile,
} from '@aureon/crypto'
import {
  contractAddress,
  encodeTransaction,
  intrinsicGas,
  signTransaction,
  TxKind,
  type UnsignedTransaction,
} from '@aureon/ledger'
import { createClient, type RPCClient } from '@aureon/rpc'
import { ConfigError } from '../../config.js'
import { passphrase } from '../keys/handler.js'
import type { TxCommonOptions } from './options.js'

type KindFields = Record<string, unknown> & { kind: number }

function amount(s: string, what: string): bigint {
  if (!/^[0-9]+$/.test(s))
    throw new ConfigError(`${what} must be a whole number of base units, got ${s}`)
  return BigInt(s)
}

function bytesArg(s: string | undefined): Uint8Array {
  return s ? hexToBytes(s) : new Uint8Array()
}

/** Signs a transaction locally, sends it, waits for its receipt and prints it. */
export async function sendTx(
  opts: TxCommonOptions,
  fields: KindFields,
  client?: RPCClient,
): Promise<unknown> {
  const key = await readKeyFile(opts.key, { passphrase: passphrase() })
  if (key.type !== 'ed25519')
    throw new ConfigError(`${opts.key} is a ${key.type} key; transactions are signed with ed25519`)
  const rpc = client ?? createClient({ url: opts.rpc })
  const head = await rpc.getHead()
  const from = addressToHex(key.address!)
  const nonce =
    opts.nonce !== undefined
      ? amount(opts.nonce, '--nonce')
      : BigInt((await rpc.getAccount({ address: from })).nonce)
  const gasPrice = opts.gasPrice !== undefined ? amount(opts.gasPrice, '--gas-price') : 1n
  const base = { chainId: BigInt(head.chainId), nonce, gasPrice, gasLimit: 0n }
  let unsigned = { ...base, ...fields } as unknown as UnsignedTransaction
  let gasLimit: bigint
  if (opts.gasLimit !== undefined) gasLimit = amount(opts.gasLimit, '--gas-limit')
  else if (fields.kind === TxKind.ContractDeploy || fields.kind === TxKind.ContractCall) {
    const est = await rpc.estimateTx({
      from,
      kind: fields.kind === TxKind.ContractDeploy ? 'contract_deploy' : 'contract_call',
      code: fields.code ? bytesToHex(fields.code as Uint8Array) : undefined,
      args: fields.args ? bytesToHex(fields.args as Uint8Array) : undefined,
      contract: fields.contract ? bytesToHex(fields.contract as Uint8Array) : undefined,
      function: fields.function as string | undefined,
      value: fields.value !== undefined ? String(fields.value) : undefined,
      nonce: String(nonce),
    } as never)
    gasLimit = (BigInt(est.gas) * 13n) / 10n + 10_000n
  } else gasLimit = intrinsicGas(unsigned)
  unsigned = { ...unsigned, gasLimit }
  const tx = signTransaction(unsigned, key.secretKey)
  const sent = await rpc.sendTx({ tx: bytesToHex(encodeTransaction(tx)) })
  const out: Record<string, unknown> = { hash: sent.hash, status: sent.status }
  if (fields.kind === TxKind.ContractDeploy)
    out.contractAddress = addressToHex(contractAddress(key.address!, nonce))
  if (opts.wait) {
    const deadline = Date.now() + Number(opts.timeout) * 1000
    for (;;) {
      const r = await rpc.getTx({ hash: sent.hash }).catch(() => undefined)
      if (r && r.status !== 'pending') {
        out.status = r.status
        out.blockHeight = r.blockHeight
        out.receipt = r.receipt
        break
      }
      if (Date.now() > deadline) {
        out.status = 'pending'
        out.note = `no receipt within ${opts.timeout} s`
        break
      }
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
  return out
}

export const txTransfer = (opts: TxCommonOptions & { to: string; amount: string }) =>
  sendTx(opts, {
    kind: TxKind.Transfer,
    to: parseAddress(opts.to),
    amount: amount(opts.amount, '--amount'),
  })

export const txDeploy = (opts: TxCommonOptions & { code: string; args?: string; value: string }) =>
  sendTx(opts, {
    kind: TxKind.ContractDeploy,
    code: new Uint8Array(readFileSync(opts.code)),
    args: bytesArg(opts.args),
    value: amount(opts.value, '--value'),
  })

export const txCall = (
  opts: TxCommonOptions & { contract: string; function: string; args?: string; value: string },
) =>
  sendTx(opts, {
    kind: TxKind.ContractCall,
    contract: parseAddress(opts.contract),
    function: opts.function,
    args: bytesArg(opts.args),
    value: amount(opts.value, '--value'),
  })

export async function txStake(opts: TxCommonOptions & { amount: string; blsKey?: string }) {
  const fields: KindFields = { kind: TxKind.Stake, amount: amount(opts.amount, '--amount') }
  if (opts.blsKey) {
    const k = await readKeyFile(opts.blsKey, { passphrase: passphrase() })
    if (k.type !== 'bls') throw new ConfigError(`${opts.blsKey} is not a BLS key file`)
    fields.blsPublicKey = k.publicKey
    fields.blsPop = bls.popProve(k.secretKey)
  }
  return sendTx(opts, fields)
}

export const txUnstake = (opts: TxCommonOptions & { amount: string }) =>
  sendTx(opts, { kind: TxKind.Unstake, amount: amount(opts.amount, '--amount') })
