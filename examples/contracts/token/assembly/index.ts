// A fungible token for Aureon, in AssemblyScript, with transfer events.
// Build: asc examples/contracts/token/assembly/index.ts --runtime stub --outFile token.wasm
//
// Exports (args and outputs are little-endian):
//   init(supply: u64)                 mints `supply` to the deployer
//   transfer(to: 20 bytes, amount: u64) moves tokens from the caller; emits Transfer
//   balance_of(owner: 20 bytes)       output: u64
//   total_supply()                    output: u64
import {
  ADDRESS_LENGTH,
  bytes,
  caller,
  concat,
  emit,
  eventTopic,
  input,
  outputU64,
  readU64,
  require,
  Storage,
  topic,
  u64Bytes,
} from '../../../../packages/contract-sdk/assembly/index'

function balanceKey(owner: Uint8Array): Uint8Array {
  return concat(bytes('balance:'), owner)
}

function emitTransfer(from: Uint8Array, to: Uint8Array, amount: u64): void {
  emit([eventTopic('Transfer(address,address,u64)'), topic(from), topic(to)], u64Bytes(amount))
}

export function init(): void {
  const args = input()
  const supply: u64 = args.length >= 8 ? readU64(args, 0) : 1_000_000
  const owner = caller()
  Storage.setU64(bytes('total_supply'), supply)
  Storage.setU64(balanceKey(owner), supply)
  emitTransfer(new Uint8Array(ADDRESS_LENGTH), owner, supply)
}

export function transfer(): void {
  const args = input()
  require(args.length == ADDRESS_LENGTH + 8, 'transfer: args are to (20 bytes) and amount (u64)')
  const to = args.slice(0, ADDRESS_LENGTH)
  const amount = readU64(args, ADDRESS_LENGTH)
  const from = caller()
  const fromKey = balanceKey(from)
  const fromBalance = Storage.getU64(fromKey)
  require(fromBalance >= amount, 'transfer: insufficient token balance')
  Storage.setU64(fromKey, fromBalance - amount)
  const toKey = balanceKey(to)
  Storage.setU64(toKey, Storage.getU64(toKey) + amount)
  emitTransfer(from, to, amount)
}

export function balance_of(): void {
  const args = input()
  require(args.length == ADDRESS_LENGTH, 'balance_of: args are the owner (20 bytes)')
  outputU64(Storage.getU64(balanceKey(args)))
}

export function total_supply(): void {
  outputU64(Storage.getU64(bytes('total_supply')))
}
