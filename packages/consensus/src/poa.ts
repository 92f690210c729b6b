/**
 * Proof of authority: authorities (ed25519 keys, from genesis) take turns by height. The
 * in-turn authority for height h is authorities[h mod n]; it seals at parent.timestamp +
 * period. Any other authority may seal after an extra `outOfTurnDelay` x (its distance from the
 * turn). header.consensus = RLP([signerIndex, signature]); the signature covers
 * tag || blockHash(header with consensus = RLP([signerIndex])). In-turn blocks weigh 2, others
 * 1; the heaviest chain wins.
 */
import { ed25519 } from '@aureon/crypto'
import { systemClock } from './clock.js'
import { ConsensusError, ConsensusErrorCode } from './errors.js'
import { ForkChoiceEngine, type ForkNode } from './fork-choice.js'
import { POA_OUT_OF_TURN_DELAY_MS } from './params.js'
import { asBigint, asBytes, asList, bigintToBytes, rlpDecode, rlpEncode } from './rlp.js'
import type {
  Block,
  BlockHeader,
  Clock,
  ConsensusChain,
  ConsensusEngine,
  Transport,
} from './types.js'

const TAG = new TextEncoder().encode('aureon/poa/seal/v1')

export interface PoAEngineOptions {
  chain: ConsensusChain
  transport?: Transport
  clock?: Clock
  /** Authorities' ed25519 public keys in turn order (from genesis). */
  authorities: Uint8Array[]
  /** This node's ed25519 secret key if it is an authority. */
  secretKey?: Uint8Array
  /** Fee recipient of sealed blocks. */
  coinbase?: Uint8Array
  /** Block period (ms, default 1000). */
  period?: number
  /** Extra wait per step of distance from the turn for out-of-turn sealing (ms). */
  outOfTurnDelay?: number
}

/** Reads the signer index and signature from a PoA header. */
export function decodePoASeal(header: BlockHeader): { signer: number; signature: Uint8Array } {
  const l = asList(rlpDecode(header.consensus), 'PoA seal')
  if (l.length !== 2) throw new ConsensusError(ConsensusErrorCode.INVALID_BLOCK, 'bad PoA seal')
  return { signer: Number(asBigint(l[0], 'signer')), signature: asBytes(l[1], 'signature') }
}

/**
 * The PoA engine.
 * @example
 * const engine = new PoAEngine({ chain, transport, authorities, secretKey })
 * await engine.start()
 */
export class PoAEngine extends ForkChoiceEngine implements ConsensusEngine {
  readonly name = 'poa' as const
  private readonly opts: PoAEngineOptions
  private readonly myIndex: number
  private timer?: { cancel(): void }

  constructor(opts: PoAEngineOptions) {
    super(opts.chain, opts.transport, opts.clock ?? systemClock)
    if (opts.authorities.length === 0) {
      throw new ConsensusError(
        ConsensusErrorCode.INVALID_CONFIG,
        'PoA needs at least one authority',
      )
    }
    this.opts = opts
    const pk = opts.secretKey ? ed25519.getPublicKey(opts.secretKey) : undefined
    this.myIndex = pk ? opts.authorities.findIndex((a) => Buffer.compare(a, pk) === 0) : -1
    if (opts.secretKey && this.myIndex < 0) {
      throw new ConsensusError(
        ConsensusErrorCode.NOT_AUTHORITY,
        'the secret key is not an authority',
      )
    }
  }

  private get period(): number {
    return this.opts.period ?? 1000
  }

  /** Distance of authority `i` from the turn at `height` (0 = in turn). */
  distance(i: number, height: bigint): number {
    const n = this.opts.authorities.length
    return (i - Number(height % BigInt(n)) + n) % n
  }

  /** Earliest timestamp authority `i` may seal at on `parent`. */
  earliest(i: number, parent: BlockHeader): bigint {
    const d = this.distance(i, parent.height + 1n)
    const extra = d === 0 ? 0 : (this.opts.outOfTurnDelay ?? POA_OUT_OF_TURN_DELAY_MS) * d
    return parent.timestamp + BigInt(this.period + extra)
  }

  static signingHash(chain: ConsensusChain, header: BlockHeader, signer: number): Uint8Array {
    const unsigned = { ...header, consensus: rlpEncode([bigintToBytes(signer)]) }
    const h = chain.blockHash(unsigned)
    const out = new Uint8Array(TAG.length + h.length)
    out.set(TAG)
    out.set(h, TAG.length)
    return out
  }

  protected weightOf(block: Block): bigint {
    const { signer } = decodePoASeal(block.header)
    return this.distance(signer, block.header.height) === 0 ? 2n : 1n
  }

  protected async checkRules(block: Block, parent: ForkNode): Promise<bigint> {
    const { signer, signature } = decodePoASeal(block.header)
    const pk = this.opts.authorities[signer]
    if (!pk)
      throw new ConsensusError(
        ConsensusErrorCode.NOT_AUTHORITY,
        `signer ${signer} is not an authority`,
      )
    const msg = PoAEngine.signingHash(this.chain, block.header, signer)
    if (!ed25519.verify(signature, msg, pk)) {
      throw new ConsensusError(ConsensusErrorCode.INVALID_SIGNATURE, 'bad PoA seal signature')
    }
    if (block.header.timestamp < this.earliest(signer, parent.block.header)) {
      throw new ConsensusError(
        ConsensusErrorCode.WRONG_PROPOSER,
        `authority ${signer} sealed height ${block.header.height} before its turn allows`,
      )
    }
    await this.chain.executeBlock(block)
    return this.weightOf(block)
  }

  async validateBlock(block: Block): Promise<void> {
    const parent = this.tree.get(Buffer.from(block.header.parentHash).toString('hex'))
    if (!parent) throw new ConsensusError(ConsensusErrorCode.UNKNOWN_PARENT, 'unknown parent')
    await this.checkRules(block, parent)
  }

  async start(): Promise<void> {
    await this.initTree()
    this.startCommon()
    this.events.on('commit', () => this.schedule())
    this.schedule()
  }

  override async stop(): Promise<void> {
    this.timer?.cancel()
    await super.stop()
  }

  private schedule(): void {
    this.timer?.cancel()
    if (!this.running || this.myIndex < 0) return
    const parent = this.parentHeader()
    const at = Number(this.earliest(this.myIndex, parent))
    const height = parent.height
    this.timer = this.clock.setTimeout(
      () => {
        void this.serial(async () => {
          if (this.parentHeader().height === height) await this.seal()
        })
      },
      Math.max(0, at - this.clock.now()),
    )
  }

  /** Seals a block now if this node is an authority and its turn rules allow. */
  async propose(): Promise<Block | undefined> {
    let out: Block | undefined
    await this.serial(async () => {
      out = await this.seal()
    })
    return out
  }

  private async seal(): Promise<Block | undefined> {
    if (this.myIndex < 0 || !this.opts.secretKey) return undefined
    const parent = this.parentHeader()
    const earliest = this.earliest(this.myIndex, parent)
    const now = BigInt(Math.floor(this.clock.now()))
    const timestamp = now > earliest ? now : earliest
    const ex = await this.chain.buildBlock({
      parent,
      timestamp,
      proposer: this.opts.coinbase ?? new Uint8Array(20),
      consensus: rlpEncode([bigintToBytes(this.myIndex)]),
    })
    const header = ex.block.header
    const sig = ed25519.sign(
      PoAEngine.signingHash(this.chain, header, this.myIndex),
      this.opts.secretKey,
    )
    const block = {
      ...ex.block,
      header: { ...header, consensus: rlpEncode([bigintToBytes(this.myIndex), sig]) },
    }
    await this.importBlock(block)
    this.broadcastBlock(block)
    return block
  }
}
