// A contract that exercises every SDK helper; test/sdk.test.ts calls each export.
import {
  Amount,
  balanceOf,
  blockHeight,
  blockTimestamp,
  bytes,
  caller,
  callValue,
  concat,
  emit,
  eventTopic,
  gasLeft,
  input,
  log,
  output,
  outputU64,
  readU64,
  require,
  revert,
  selfAddress,
  selfBalance,
  sha256,
  Storage,
  topic,
  transfer,
  u64Bytes,
} from '../../assembly/index'

export function storage(): void {
  const k = bytes('k')
  Storage.setString(k, 'value')
  const s = Storage.getString(k)
  Storage.setU64(bytes('n'), 41)
  const n = Storage.getU64(bytes('n')) + 1
  const had = Storage.has(k)
  const removed = Storage.remove(k)
  const gone = !Storage.has(k) && Storage.get(k) == null && Storage.getString(k, 'dflt') == 'dflt'
  log(s)
  require(had && removed && gone, 'storage helpers')
  outputU64(n)
}

export function context(): void {
  const out = new Uint8Array(20 + 20 + 8 + 8 + 16 + 16)
  out.set(caller(), 0)
  out.set(selfAddress(), 20)
  out.set(u64Bytes(blockHeight()), 40)
  out.set(u64Bytes(blockTimestamp()), 48)
  const v = callValue()
  v.write(out.dataStart + 56)
  selfBalance().write(out.dataStart + 72)
  require(gasLeft() > 0, 'gas')
  output(out)
}

export function pay(): void {
  const args = input()
  const to = args.slice(0, 20)
  const amount = new Amount(readU64(args, 20), 0)
  const r = transfer(to, amount)
  const b = balanceOf(to)
  require(b.compare(Amount.fromU64(0)) >= 0 && !Amount.fromU64(1).isZero(), 'amounts')
  outputU64(<u64>r)
}

export function event(): void {
  const data = concat(bytes('ab'), bytes('cd'))
  emit([eventTopic('Ping()'), topic(caller()), sha256(data)], data)
}

export function fail(): void {
  Storage.setU64(bytes('x'), 1)
  revert('no way')
}
