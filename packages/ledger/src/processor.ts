/**
 * StateProcessor: applies transactions and blocks to a WorldState, producing receipts.
 *
 * Per transaction: the fee reservation (gasLimit x gasPrice) and the nonce increment happen
 * first; everything else runs inside a checkpoint, reverted unless the transaction succeeds. So
 * a failed transaction keeps only its fee and its nonce. Unused gas is refunded; the fee for the
 * gas used goes to the block's proposer. See docs/ledger.md.
 */
import { bls } from '@aureon/crypto'
import { cloneAccount, contractAddress, emptyAccount } from './account.js'
import { blockHash, encodeReceipt, receiptsRoot, transactionsRoot } from './block.js'
import {
  bigintToBytes,
  compareBytesFast,
  equalBytesFast,
  expectAnyList,
  expectBytes,
  fromHexKey,
  rlpDecodeStrict,
  rlpEncode,
  toHexKey,
} from './codec.js'
import { isLedgerError, LedgerError, LedgerErrorCode } from './errors.js'
import { EMPTY_CODE_HASH } from './hash.js'
import { defaultLedgerParams, MAX_U128 } from './params.js'
import { LedgerWorldState } from './state.js'
import { orderedTrieRoot } from './trie-root.js'
import {
  encodeTransaction,
  intrinsicGas,
  maxCost,
  transactionHash,
  transactionSender,
  validateTransactionStateless,
} from './tx.js'
import type {
  Account,
  ApplyBlockOptions,
  ApplyBlockResult,
  BalanceChange,
  BatchVerifier,
  Block,
  BlockEnv,
  BlockHeader,
  BuildBlockOptions,
  BuildBlockResult,
  ContractExecutor,
  ExecutionResult,
  LedgerParams,
  Receipt,
  ReceiptError,
  StateProcessorOptions,
  Transaction,
  ValidatorSet,
  WorldState,
} from './types.js'
import { TxKind } from './types.js'
import { mainThreadVerifier, verifyTransactionSignatures } from './verify.js'

/** Reserved trie key prefix of the unbonding index: prefix || RLP(height) -> [address...]. */
export const UNBONDING_INDEX_PREFIX: Uint8Array = new TextEncoder().encode('aureon/unbonding/')

/** Trie key of the unbonding index entry of a height. */
export function unbondingIndexKey(height: bigint): Uint8Array {
  const h = rlpEncode(bigintToBytes(height))
  const k = new Uint8Array(UNBONDING_INDEX_PREFIX.length + h.length)
  k.set(UNBONDING_INDEX_PREFIX)
  k.set(h, UNBONDING_INDEX_PREFIX.length)
  return k
}

/** Access to reserved raw records (LedgerWorldState has them; kept off the public interface). */
interface RawAccess {
  readRawRecord(key: Uint8Array): Promise<Uint8Array | null>
  writeRawRecord(key: Uint8Array, value: Uint8Array | null): Promise<void>
}

/** Tracks balances touched by one transaction (first balance seen per address). */
class BalanceTracker {
  readonly before = new Map<string, bigint>()
  note(address: Uint8Array, balance: bigint): void {
    const k = toHexKey(address)
    if (!this.before.has(k)) this.before.set(k, balance)
  }
}

function fail(code: string, message: string): ReceiptError {
  return { code, message }
}

/**
 * Applies transactions and blocks.
 * @example
 * const processor = new StateProcessor({ params: { blockGasLimit: 30_000_000n } })
 * const { receipts, stateRoot } = await processor.applyBlock(state, block)
 */
export class StateProcessor {
  readonly params: LedgerParams
  readonly executor?: ContractExecutor
  readonly verifier: BatchVerifier

  constructor(opts: StateProcessorOptions = {}) {
    this.params = { ...defaultLedgerParams, ...opts.params }
    this.executor = opts.executor
    this.verifier = opts.verifier ?? mainThreadVerifier
  }

  private async acc(state: WorldState, a: Uint8Array): Promise<Account> {
    if (state instanceof LedgerWorldState) {
      const r = await state.readAccount(a)
      return r ? cloneAccount(r) : emptyAccount()
    }
    return state.getAccount(a)
  }

  private async put(state: WorldState, a: Uint8Array, acc: Account): Promise<void> {
    if (state instanceof LedgerWorldState) state.setAccountOwned(a, acc)
    else await state.putAccount(a, acc)
  }

  private async addBalance(
    state: WorldState,
    a: Uint8Array,
    delta: bigint,
    t?: BalanceTracker,
  ): Promise<Account> {
    const acc = await this.acc(state, a)
    t?.note(a, acc.balance)
    acc.balance += delta
    if (acc.balance < 0n || acc.balance > MAX_U128) {
      throw new LedgerError(
        LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
        `balance of ${toHexKey(a)} would leave u128 range`,
      )
    }
    await this.put(state, a, acc)
    return acc
  }

  /**
   * Checks a transaction against state without changing it (nonce, balance, stateless rules).
   * Throws a LedgerError with the reason.
   */
  async validateTransaction(
    state: WorldState,
    tx: Transaction,
    env: { chainId: bigint; gasLimit?: bigint },
  ): Promise<void> {
    validateTransactionStateless(tx, {
      chainId: env.chainId,
      blockGasLimit: env.gasLimit ?? this.params.blockGasLimit,
      minGasPrice: this.params.minGasPrice,
    })
    const sender = await this.acc(state, transactionSender(tx))
    checkNonceAndBalance(tx, sender)
  }

  /**
   * Applies one transaction whose signature was already checked. Throws a LedgerError if the
   * transaction cannot be included at all (state is then unchanged); otherwise returns its
   * receipt (status may be Failed / OutOfGas / Reverted).
   * @example
   * const receipt = await processor.applyTransaction(state, tx, env, 0)
   */
  async applyTransaction(
    state: WorldState,
    tx: Transaction,
    env: BlockEnv,
    index: number,
  ): Promise<Receipt> {
    validateTransactionStateless(tx, {
      chainId: env.chainId,
      blockGasLimit: env.gasLimit,
      minGasPrice: this.params.minGasPrice,
    })
    if (tx.kind === TxKind.Transfer && state instanceof LedgerWorldState) {
      return this.applyTransfer(state, tx, env, index)
    }
    const senderAddr = transactionSender(tx)
    const sender = await this.acc(state, senderAddr)
    checkNonceAndBalance(tx, sender)
    const txHash = transactionHash(tx)
    const tracker = new BalanceTracker()
    tracker.note(senderAddr, sender.balance)
    if (state instanceof LedgerWorldState) state.startBalanceTracking()
    const reserved = tx.gasLimit * tx.gasPrice
    sender.balance -= reserved
    sender.nonce += 1n
    await this.put(state, senderAddr, sender)
    const intrinsic = intrinsicGas(tx)

    let status: Receipt['status'] = 'Success'
    let gasUsed = intrinsic
    let error: ReceiptError | undefined
    let exec: ExecutionResult | undefined
    let created: Uint8Array | undefined
    state.checkpoint()
    try {
      switch (tx.kind) {
        case TxKind.Transfer: {
          await this.addBalance(state, senderAddr, -tx.amount, tracker)
          await this.addBalance(state, tx.to, tx.amount, tracker)
          break
        }
        case TxKind.Stake:
          error = await this.stake(state, tx, senderAddr, tracker)
          break
        case TxKind.Unstake:
          error = await this.unstake(state, tx, senderAddr, env)
          break
        default: {
          const r = await this.execute(state, tx, senderAddr, env, txHash, intrinsic, tracker)
          exec = r.result
          created = r.address
          if (exec) {
            status = exec.status
            error = exec.error
            gasUsed =
              exec.status === 'OutOfGas'
                ? tx.gasLimit
                : minBig(intrinsic + exec.gasUsed, tx.gasLimit)
          } else {
            error = r.error
          }
        }
      }
    } catch (e) {
      if (!isLedgerError(e)) throw e
      error = fail(e.code, e.message)
    }
    if (error && status === 'Success') status = 'Failed'
    if (status === 'Success') await state.commit()
    else await state.revert()

    // refund unused gas, pay the proposer
    const fee = gasUsed * tx.gasPrice
    await this.addBalance(state, senderAddr, reserved - fee, tracker)
    if (fee > 0n) await this.addBalance(state, env.proposer, fee, tracker)

    if (state instanceof LedgerWorldState) {
      // contracts may have moved funds anywhere: every account written during the tx counts
      for (const [k, b] of state.stopBalanceTracking()) {
        if (!tracker.before.has(k)) tracker.before.set(k, b)
      }
    }
    const balanceChanges: BalanceChange[] = []
    for (const [k, before] of tracker.before) {
      const address = fromHexKey(k)
      const after = (await this.acc(state, address)).balance
      if (after !== before) balanceChanges.push({ address, balance: after })
    }
    balanceChanges.sort((a, b) => compareBytesFast(a.address, b.address))
    const receipt: Receipt = {
      txHash,
      blockHeight: env.height,
      index,
      status,
      gasUsed,
      gasPrice: tx.gasPrice,
      fee,
      output:
        status === 'Success' || status === 'Reverted'
          ? (exec?.output ?? new Uint8Array(0))
          : new Uint8Array(0),
      logs: status === 'Success' ? (exec?.logs ?? []) : [],
      debugLogs: exec?.debugLogs ?? [],
      balanceChanges,
    }
    if (error) receipt.error = error
    if (status === 'Success' && created) receipt.contractAddress = created
    return receipt
  }

  /**
   * A value transfer on a LedgerWorldState, in one step: each account involved (sender,
   * recipient, proposer; any may coincide) is read and copied once, changed in memory, and
   * written once. Same receipt and state as the general path (tested against it): fee
   * reservation and nonce first; the move is undone (status Failed) if it would leave u128 range;
   * then the unused gas is refunded and the fee paid to the proposer.
   */
  private async applyTransfer(
    state: LedgerWorldState,
    tx: Transaction & { kind: typeof TxKind.Transfer },
    env: BlockEnv,
    index: number,
  ): Promise<Receipt> {
    const senderAddr = transactionSender(tx)
    const addrs = [senderAddr, tx.to, env.proposer]
    const keys = addrs.map(toHexKey)
    // distinct accounts, in first-seen order; slot[i] = index of addrs[i]'s account
    const accs: Account[] = []
    const before: bigint[] = []
    const slot = [0, 0, 0]
    for (let i = 0; i < 3; i++) {
      const j = keys.indexOf(keys[i])
      if (j < i) {
        slot[i] = slot[j]
        continue
      }
      const r = await state.readAccount(addrs[i])
      const a = r ? cloneAccount(r) : emptyAccount()
      slot[i] = accs.length
      accs.push(a)
      before.push(a.balance)
    }
    const sender = accs[slot[0]]
    const recipient = accs[slot[1]]
    checkNonceAndBalance(tx, sender)
    const txHash = transactionHash(tx)
    const reserved = tx.gasLimit * tx.gasPrice
    sender.balance -= reserved
    sender.nonce += 1n
    let error: ReceiptError | undefined
    // the move (a checkpoint in the general path): undone if any balance leaves u128 range
    const senderAfterMove = sender.balance - tx.amount
    if (senderAfterMove < 0n || senderAfterMove > MAX_U128) {
      error = fail(
        LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
        `balance of ${keys[0]} would leave u128 range`,
      )
    } else {
      const saved = sender.balance
      sender.balance = senderAfterMove
      const to = recipient.balance + tx.amount
      if (to < 0n || to > MAX_U128) {
        sender.balance = saved
        error = fail(
          LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
          `balance of ${keys[1]} would leave u128 range`,
        )
      } else recipient.balance = to
    }
    const gasUsed = intrinsicGas(tx)
    const fee = gasUsed * tx.gasPrice
    const refunded = sender.balance + (reserved - fee)
    if (refunded < 0n || refunded > MAX_U128) {
      throw new LedgerError(
        LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
        `balance of ${keys[0]} would leave u128 range`,
      )
    }
    sender.balance = refunded
    if (fee > 0n) {
      const proposer = accs[slot[2]]
      const paid = proposer.balance + fee
      if (paid > MAX_U128) {
        throw new LedgerError(
          LedgerErrorCode.AMOUNT_OUT_OF_RANGE,
          `balance of ${keys[2]} would leave u128 range`,
        )
      }
      proposer.balance = paid
    }
    // written as in the general path: the sender always, the recipient if the move stands, the
    // proposer if paid (an account playing several roles is one record, written once)
    const written = [true, error === undefined, fee > 0n]
    const balanceChanges: BalanceChange[] = []
    for (let d = 0; d < accs.length; d++) {
      const first = slot.indexOf(d)
      let write = false
      for (let i = 0; i < 3; i++) if (slot[i] === d && written[i]) write = true
      if (!write) continue // untouched: its balance did not change either
      const a = accs[d]
      state.setAccountOwned(addrs[first], a)
      if (a.balance !== before[d])
        balanceChanges.push({ address: addrs[first], balance: a.balance })
    }
    balanceChanges.sort((a, b) => compareBytesFast(a.address, b.address))
    const receipt: Receipt = {
      txHash,
      blockHeight: env.height,
      index,
      status: error ? 'Failed' : 'Success',
      gasUsed,
      gasPrice: tx.gasPrice,
      fee,
      output: new Uint8Array(0),
      logs: [],
      debugLogs: [],
      balanceChanges,
    }
    if (error) receipt.error = error
    return receipt
  }

  private async stake(
    state: WorldState,
    tx: Transaction & { kind: typeof TxKind.Stake },
    senderAddr: Uint8Array,
    tracker: BalanceTracker,
  ): Promise<ReceiptError | undefined> {
    const candidates = await state.getValidatorCandidates()
    const known = candidates.some((c) => equalBytesFast(c.address, senderAddr))
    if (tx.blsPublicKey && tx.blsPop) {
      if (known) {
        return fail(
          LedgerErrorCode.BAD_BLS_KEY,
          'already a validator candidate: send Stake without a BLS key',
        )
      }
      let ok = false
      try {
        ok = bls.popVerify(tx.blsPublicKey, tx.blsPop)
      } catch {
        ok = false
      }
      if (!ok)
        return fail(LedgerErrorCode.BAD_BLS_POP, 'the BLS proof of possession does not verify')
      candidates.push({
        address: senderAddr,
        publicKey: tx.senderPublicKey,
        blsPublicKey: tx.blsPublicKey,
      })
      await state.putValidatorCandidates(candidates)
    } else if (!known) {
      return fail(
        LedgerErrorCode.BAD_BLS_KEY,
        'first Stake of an account must carry blsPublicKey and blsPop',
      )
    }
    const acc = await this.acc(state, senderAddr)
    tracker.note(senderAddr, acc.balance)
    acc.balance -= tx.amount
    acc.stake += tx.amount
    if (acc.stake > MAX_U128) {
      return fail(LedgerErrorCode.AMOUNT_OUT_OF_RANGE, 'stake would leave u128 range')
    }
    await this.put(state, senderAddr, acc)
    return undefined
  }

  private async unstake(
    state: WorldState,
    tx: Transaction & { kind: typeof TxKind.Unstake },
    senderAddr: Uint8Array,
    env: BlockEnv,
  ): Promise<ReceiptError | undefined> {
    const acc = await this.acc(state, senderAddr)
    if (acc.stake < tx.amount) {
      return fail(
        LedgerErrorCode.INSUFFICIENT_STAKE,
        `unstake of ${tx.amount} but the stake is ${acc.stake}`,
      )
    }
    if (tx.amount === 0n) return undefined
    const releaseHeight = env.height + this.params.unbondingPeriod
    acc.stake -= tx.amount
    acc.unbonding.push({ amount: tx.amount, releaseHeight })
    await this.put(state, senderAddr, acc)
    const raw = rawAccess(state)
    const key = unbondingIndexKey(releaseHeight)
    const list = decodeAddressList(await raw.readRawRecord(key))
    if (!list.some((a) => equalBytesFast(a, senderAddr))) {
      list.push(senderAddr)
      list.sort(compareBytesFast)
      await raw.writeRawRecord(key, rlpEncode(list))
    }
    return undefined
  }

  private async execute(
    state: WorldState,
    tx: Transaction & { kind: typeof TxKind.ContractDeploy | typeof TxKind.ContractCall },
    senderAddr: Uint8Array,
    env: BlockEnv,
    txHash: Uint8Array,
    intrinsic: bigint,
    tracker: BalanceTracker,
  ): Promise<{ result?: ExecutionResult; error?: ReceiptError; address?: Uint8Array }> {
    if (!this.executor) {
      return {
        error: fail(
          LedgerErrorCode.NO_EXECUTOR,
          'no contract executor is configured: contract transactions cannot run on this node',
        ),
      }
    }
    const ctx = {
      state,
      sender: senderAddr,
      senderNonce: tx.nonce,
      blockHeight: env.height,
      blockTimestamp: env.timestamp,
      gasLimit: tx.gasLimit - intrinsic,
      txHash,
      chainId: env.chainId,
      gasPrice: tx.gasPrice,
      proposer: env.proposer,
    }
    const target =
      tx.kind === TxKind.ContractDeploy ? contractAddress(senderAddr, tx.nonce) : tx.contract
    if (tx.kind === TxKind.ContractDeploy) {
      const existing = await this.acc(state, target)
      if (!equalBytesFast(existing.codeHash, EMPTY_CODE_HASH)) {
        return { error: fail(LedgerErrorCode.EXECUTOR_FAILED, 'a contract exists at the address') }
      }
    }
    if (tx.value > 0n) {
      await this.addBalance(state, senderAddr, -tx.value, tracker)
      await this.addBalance(state, target, tx.value, tracker)
    }
    let result: ExecutionResult
    try {
      result =
        tx.kind === TxKind.ContractDeploy
          ? await this.executor.deploy(ctx, {
              code: tx.code,
              args: tx.args,
              value: tx.value,
              address: target,
            })
          : await this.executor.call(ctx, {
              contract: tx.contract,
              function: tx.function,
              args: tx.args,
              value: tx.value,
            })
    } catch (e) {
      return {
        error: fail(
          isLedgerError(e) ? e.code : LedgerErrorCode.EXECUTOR_FAILED,
          `contract executor threw: ${e instanceof Error ? e.message : String(e)}`,
        ),
      }
    }
    return {
      result,
      address: tx.kind === TxKind.ContractDeploy ? (result.contractAddress ?? target) : undefined,
    }
  }

  /** Releases the unbonding entries that mature at `height`. */
  private async releaseUnbonding(state: WorldState, height: bigint): Promise<void> {
    const raw = rawAccess(state)
    const key = unbondingIndexKey(height)
    const rec = await raw.readRawRecord(key)
    if (!rec) return
    for (const a of decodeAddressList(rec)) {
      const acc = await this.acc(state, a)
      let released = 0n
      acc.unbonding = acc.unbonding.filter((u) => {
        if (u.releaseHeight <= height) {
          released += u.amount
          return false
        }
        return true
      })
      acc.balance += released
      await this.put(state, a, acc)
    }
    await raw.writeRawRecord(key, null)
  }

  /** Recomputes the active validator set after an epoch-boundary block. */
  private async updateValidatorSet(state: WorldState, height: bigint): Promise<void> {
    if (height === 0n || height % this.params.epochLength !== 0n) return
    const candidates = await state.getValidatorCandidates()
    const withStake: { c: (typeof candidates)[number]; stake: bigint }[] = []
    for (const c of candidates) {
      const stake = (await this.acc(state, c.address)).stake
      if (stake >= this.params.minValidatorStake && stake > 0n) withStake.push({ c, stake })
    }
    withStake.sort((a, b) =>
      a.stake === b.stake ? compareBytesFast(a.c.address, b.c.address) : a.stake > b.stake ? -1 : 1,
    )
    const chosen = withStake.slice(0, this.params.maxValidators)
    const set: ValidatorSet = {
      epoch: height / this.params.epochLength,
      validators: chosen.map((x) => ({ ...x.c, stake: x.stake })),
      totalStake: chosen.reduce((s, x) => s + x.stake, 0n),
    }
    await state.putValidatorSet(set)
  }

  /**
   * Checks the signatures of `txs` ahead of their block (e.g. the next block's while this one is
   * being stored); `applyBlock` and `buildBlock` then skip the ones accepted here. Returns the
   * indices of bad signatures.
   * @example
   * const pending = processor.verifySignatures(nextBlock.transactions)
   */
  verifySignatures(txs: Transaction[]): Promise<number[]> {
    return verifyTransactionSignatures(this.verifier, txs)
  }

  /** Work done before the block's transactions (unbonding release). */
  async beginBlock(state: WorldState, env: BlockEnv): Promise<void> {
    await this.releaseUnbonding(state, env.height)
  }

  /** Work done after the block's transactions (validator set at epoch boundaries). */
  async endBlock(state: WorldState, env: BlockEnv): Promise<void> {
    await this.updateValidatorSet(state, env.height)
  }

  /**
   * Applies a whole block: signatures (batched, overlapping execution), transactions, epoch
   * work; checks the header's roots and gas. On any error the state is left as it was.
   * @example
   * const result = await processor.applyBlock(state, block)
   */
  async applyBlock(
    state: WorldState,
    block: Block,
    opts: ApplyBlockOptions = {},
  ): Promise<ApplyBlockResult> {
    const h = block.header
    const env: BlockEnv = {
      chainId: h.chainId,
      height: h.height,
      timestamp: h.timestamp,
      proposer: h.proposer,
      gasLimit: h.gasLimit,
    }
    if (h.gasLimit > this.params.blockGasLimit) {
      throw new LedgerError(
        LedgerErrorCode.BLOCK_GAS_LIMIT,
        `block gas limit ${h.gasLimit} is above the chain's ${this.params.blockGasLimit}`,
      )
    }
    const sigCheck =
      opts.verifySignatures === false
        ? undefined
        : verifyTransactionSignatures(this.verifier, block.transactions)
    // keep a rejected promise from being reported as unhandled while we execute
    sigCheck?.catch(() => undefined)
    const badSignatures = (invalid: number[]) =>
      new LedgerError(
        LedgerErrorCode.BAD_SIGNATURE,
        `transaction ${invalid[0]} of block ${h.height} has a bad signature`,
        { details: { invalid } },
      )
    // a state with nothing pending can fold and hash the block's changes while signatures are
    // still being checked: a bad signature then resets it to this root
    const cleanRoot = state instanceof LedgerWorldState ? state.cleanRoot() : undefined
    const receipts: Receipt[] = []
    let gasUsed = 0n
    let stateRoot: Uint8Array | undefined
    state.checkpoint()
    let open = true
    try {
      if (state instanceof LedgerWorldState) {
        const addrs: Uint8Array[] = [h.proposer]
        for (const tx of block.transactions) {
          addrs.push(transactionSender(tx))
          if (tx.kind === TxKind.Transfer) addrs.push(tx.to)
        }
        await state.prefetch(addrs)
      }
      await this.beginBlock(state, env)
      for (let i = 0; i < block.transactions.length; i++) {
        const tx = block.transactions[i]
        if (gasUsed + tx.gasLimit > h.gasLimit) {
          throw new LedgerError(
            LedgerErrorCode.BLOCK_GAS_LIMIT,
            `transaction ${i} does not fit the block gas limit ${h.gasLimit}`,
          )
        }
        const r = await this.applyTransaction(state, tx, env, i)
        gasUsed += r.gasUsed
        receipts.push(r)
      }
      await this.endBlock(state, env)
      if (sigCheck && cleanRoot !== undefined) {
        await state.commit()
        open = false
        stateRoot = await state.root()
      }
      if (sigCheck) {
        const invalid = await sigCheck
        if (invalid.length > 0) throw badSignatures(invalid)
      }
      if (open) {
        await state.commit()
        open = false
      }
    } catch (e) {
      if (open) await state.revert()
      else await (state as LedgerWorldState).setRoot(cleanRoot as Uint8Array)
      throw e
    }
    const result: ApplyBlockResult = {
      receipts,
      stateRoot: stateRoot ?? (await state.root()),
      txRoot: transactionsRoot(block.transactions),
      receiptsRoot: receiptsRoot(receipts),
      gasUsed,
    }
    if (opts.verifyHeader !== false) checkHeader(h, result)
    return result
  }

  /**
   * Builds a block on `parent` from candidate transactions (in the order given), skipping the
   * ones that cannot be included, and fills in the header's roots. Leaves `state` at the new
   * block's state (uncommitted to disk: flush it with ChainStore.commitBlock).
   * @example
   * const { block, receipts } = await processor.buildBlock(state, { parent, timestamp, proposer,
   *   transactions: pool.select() })
   */
  async buildBlock(state: WorldState, opts: BuildBlockOptions): Promise<BuildBlockResult> {
    const gasLimit = opts.gasLimit ?? this.params.blockGasLimit
    const env: BlockEnv = {
      chainId: opts.parent.chainId,
      height: opts.parent.height + 1n,
      timestamp: opts.timestamp,
      proposer: opts.proposer,
      gasLimit,
    }
    const skipped: BuildBlockResult['skipped'] = []
    const bad = new Set(await verifyTransactionSignatures(this.verifier, opts.transactions))
    const included: Transaction[] = []
    const receipts: Receipt[] = []
    let gasUsed = 0n
    let bytes = 0
    const max = opts.maxTransactions ?? Number.POSITIVE_INFINITY
    if (state instanceof LedgerWorldState) {
      await state.prefetch([
        opts.proposer,
        ...opts.transactions.map(transactionSender),
        ...opts.transactions.flatMap((t) => (t.kind === TxKind.Transfer ? [t.to] : [])),
      ])
    }
    await this.beginBlock(state, env)
    for (let i = 0; i < opts.transactions.length && included.length < max; i++) {
      const tx = opts.transactions[i]
      const hash = transactionHash(tx)
      if (bad.has(i)) {
        skipped.push({ tx, hash, error: fail(LedgerErrorCode.BAD_SIGNATURE, 'bad signature') })
        continue
      }
      if (gasUsed + tx.gasLimit > gasLimit) {
        skipped.push({
          tx,
          hash,
          error: fail(LedgerErrorCode.BLOCK_GAS_LIMIT, 'does not fit the block gas limit'),
        })
        continue
      }
      const size = encodeTransaction(tx).length
      if (bytes + size > 30 * 1024 * 1024) {
        skipped.push({ tx, hash, error: fail(LedgerErrorCode.OVERSIZE, 'block is full') })
        continue
      }
      // a checkpoint per candidate: one refused midway leaves nothing behind
      state.checkpoint()
      try {
        const r = await this.applyTransaction(state, tx, env, included.length)
        await state.commit()
        included.push(tx)
        receipts.push(r)
        gasUsed += r.gasUsed
        bytes += size
      } catch (e) {
        await state.revert()
        if (!isLedgerError(e)) throw e
        skipped.push({ tx, hash, error: fail(e.code, e.message) })
      }
    }
    await this.endBlock(state, env)
    const header: BlockHeader = {
      chainId: env.chainId,
      height: env.height,
      parentHash: blockHash(opts.parent),
      timestamp: env.timestamp,
      proposer: env.proposer,
      stateRoot: await state.root(),
      txRoot: transactionsRoot(included),
      receiptsRoot: orderedTrieRoot(receipts.map(encodeReceipt)),
      gasUsed,
      gasLimit,
      consensus: opts.consensus ?? new Uint8Array(0),
    }
    return { block: { header, transactions: included }, receipts, skipped }
  }
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

function checkNonceAndBalance(tx: Transaction, sender: Account): void {
  if (tx.nonce < sender.nonce) {
    throw new LedgerError(
      LedgerErrorCode.NONCE_TOO_LOW,
      `nonce ${tx.nonce} is below the account nonce ${sender.nonce}`,
      { details: { nonce: String(tx.nonce), expected: String(sender.nonce) } },
    )
  }
  if (tx.nonce > sender.nonce) {
    throw new LedgerError(
      LedgerErrorCode.NONCE_GAP,
      `nonce ${tx.nonce} is ahead of the account nonce ${sender.nonce}`,
      { details: { nonce: String(tx.nonce), expected: String(sender.nonce) } },
    )
  }
  const cost = maxCost(tx)
  if (sender.balance < cost) {
    throw new LedgerError(
      LedgerErrorCode.INSUFFICIENT_BALANCE,
      `balance ${sender.balance} does not cover value + gasLimit x gasPrice = ${cost}`,
      { details: { balance: String(sender.balance), required: String(cost) } },
    )
  }
}

function checkHeader(h: BlockHeader, r: ApplyBlockResult): void {
  const checks: [Uint8Array, Uint8Array, LedgerErrorCode, string][] = [
    [h.stateRoot, r.stateRoot, LedgerErrorCode.STATE_ROOT_MISMATCH, 'stateRoot'],
    [h.txRoot, r.txRoot, LedgerErrorCode.TX_ROOT_MISMATCH, 'txRoot'],
    [h.receiptsRoot, r.receiptsRoot, LedgerErrorCode.RECEIPTS_ROOT_MISMATCH, 'receiptsRoot'],
  ]
  for (const [want, got, code, name] of checks) {
    if (!equalBytesFast(want, got)) {
      throw new LedgerError(
        code,
        `block ${h.height}: header ${name} 0x${toHexKey(want)} but execution gives 0x${toHexKey(got)}`,
      )
    }
  }
  if (h.gasUsed !== r.gasUsed) {
    throw new LedgerError(
      LedgerErrorCode.GAS_USED_MISMATCH,
      `block ${h.height}: header gasUsed ${h.gasUsed} but execution gives ${r.gasUsed}`,
    )
  }
}

function rawAccess(state: WorldState): RawAccess {
  const s = state as unknown as Partial<RawAccess>
  if (typeof s.readRawRecord !== 'function' || typeof s.writeRawRecord !== 'function') {
    throw new LedgerError(
      LedgerErrorCode.STORE,
      'this WorldState has no raw records (needed for unbonding): use createWorldState',
    )
  }
  return s as RawAccess
}

function decodeAddressList(rec: Uint8Array | null): Uint8Array[] {
  if (!rec) return []
  return expectAnyList(rlpDecodeStrict(rec, 1 << 24, 'address list'), 'address list').map((a) =>
    expectBytes(a, 'address', { length: 20 }),
  )
}
