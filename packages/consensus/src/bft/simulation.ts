/**
 * A BFT network on SimNetwork: N validators with real BLS and ECVRF keys, MemoryChain ledgers,
 * crash/restart, partitions and Byzantine equivocators, plus the safety check. Used by the
 * seeded test suites and the benchmarks; handy for experiments.
 */
import { addressFromPublicKey, bls, ed25519, sha256 } from '@aureon/crypto'
import { VirtualClock } from '../clock.js'
import { MemoryChain } from '../memory-chain.js'
import { SimNetwork, type SimNetworkOptions } from '../sim-network.js'
import type { CommitEvent, ConsensusValidator, ConsensusValidatorSet, PeerId } from '../types.js'
import { BftEngine, type BftKeys } from './engine.js'
import type { ConsensusStore } from './safety.js'

/** A Map-backed store for simulations (survives an engine restart, like a disk). */
export class MapStore implements ConsensusStore {
  private readonly map = new Map<string, Uint8Array>()
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.map.get(Buffer.from(key).toString('hex'))
  }
  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.map.set(Buffer.from(key).toString('hex'), value.slice())
  }
}

const te = new TextEncoder()

/**
 * Deterministic validator keys for index `i` (tests and simulations only).
 * @example
 * const { keys, validator } = simValidatorKeys(0)
 */
export function simValidatorKeys(
  i: number,
  stake = 100n,
): { keys: BftKeys; validator: ConsensusValidator } {
  const secretKey = sha256(te.encode(`aureon/sim/ed25519/${i}`))
  const blsSecretKey = sha256(te.encode(`aureon/sim/bls/${i}`))
  blsSecretKey[0] &= 0x3f
  const publicKey = ed25519.getPublicKey(secretKey)
  return {
    keys: { secretKey, blsSecretKey },
    validator: {
      address: addressFromPublicKey(publicKey),
      publicKey,
      blsPublicKey: bls.getPublicKey(blsSecretKey),
      stake,
    },
  }
}

const keyCache = new Map<string, ReturnType<typeof simValidatorKeys>>()
function cachedKeys(i: number, stake: bigint) {
  const k = `${i}:${stake}`
  let v = keyCache.get(k)
  if (!v) {
    v = simValidatorKeys(i, stake)
    keyCache.set(k, v)
  }
  return v
}

export interface BftSimulationOptions {
  validators: number
  seed: number
  /** Stake per validator (default 100 each). */
  stakes?: bigint[]
  network?: Omit<SimNetworkOptions, 'seed' | 'clock'>
  baseTimeout?: number
  /** Indices of Byzantine validators that equivocate. */
  byzantine?: number[]
  /** Blocks per epoch (default: one epoch). */
  epochLength?: bigint
  /** Validator set recorded for each epoch (default: all validators, always). */
  validatorSetAt?: (epoch: bigint, all: ConsensusValidator[]) => ConsensusValidatorSet
}

export interface SimNode {
  id: PeerId
  index: number
  chain: MemoryChain
  store: MapStore
  keys: BftKeys
  engine: BftEngine
  up: boolean
  byzantine: boolean
  commits: CommitEvent[]
}

/**
 * The simulation.
 * @example
 * const sim = new BftSimulation({ validators: 4, seed: 1 })
 * await sim.start()
 * await sim.runUntil(() => sim.minCommittedHeight() >= 5n, 60_000)
 * sim.assertSafety()
 */
export class BftSimulation {
  readonly clock = new VirtualClock()
  readonly net: SimNetwork
  readonly nodes: SimNode[] = []
  readonly validators: ConsensusValidator[]
  private readonly opts: BftSimulationOptions

  constructor(opts: BftSimulationOptions) {
    this.opts = opts
    this.net = new SimNetwork({ ...opts.network, seed: opts.seed, clock: this.clock })
    const all = Array.from({ length: opts.validators }, (_, i) =>
      cachedKeys(i, opts.stakes?.[i] ?? 100n),
    )
    this.validators = all.map((k) => k.validator)
    for (let i = 0; i < opts.validators; i++) {
      const id = `v${i}`
      const transport = this.net.addNode(id)
      const setAt = opts.validatorSetAt
      const chain = new MemoryChain({
        validators: this.validators,
        epochLength: opts.epochLength,
        ...(setAt ? { validatorSetAt: (e: bigint) => setAt(e, this.validators) } : {}),
      })
      const store = new MapStore()
      const node: SimNode = {
        id,
        index: i,
        chain,
        store,
        keys: all[i].keys,
        engine: undefined as unknown as BftEngine,
        up: true,
        byzantine: opts.byzantine?.includes(i) ?? false,
        commits: [],
      }
      node.engine = this.makeEngine(node, transport)
      this.nodes.push(node)
    }
  }

  private makeEngine(node: SimNode, transport: ReturnType<SimNetwork['addNode']>): BftEngine {
    const engine = new BftEngine({
      chain: node.chain,
      transport,
      store: node.store,
      keys: node.keys,
      clock: this.clock,
      baseTimeout: this.opts.baseTimeout ?? 1000,
      byzantine: node.byzantine ? { equivocate: true } : undefined,
    })
    engine.on('commit', (ev) => node.commits.push(ev))
    engine.on('error', (e) => {
      throw e
    })
    return engine
  }

  async start(): Promise<void> {
    for (const n of this.nodes) await n.engine.start()
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) if (n.up) await n.engine.stop()
  }

  /** Crashes a node: engine stopped, network endpoint gone, uncommitted work lost. */
  async crash(i: number): Promise<void> {
    const n = this.nodes[i]
    if (!n.up) return
    n.up = false
    this.net.crash(n.id)
    await n.engine.stop()
    n.chain.dropPending()
  }

  /** Restarts a crashed node from its own store (committed chain + safety rules). */
  async restart(i: number): Promise<void> {
    const n = this.nodes[i]
    if (n.up) return
    n.up = true
    n.engine = this.makeEngine(n, this.net.restart(n.id))
    await n.engine.start()
  }

  /** Runs the virtual clock until `pred` holds or `maxTime` virtual ms pass. */
  runUntil(pred: () => boolean, maxTime: number): Promise<boolean> {
    return this.clock.runUntil(pred, this.clock.now() + maxTime)
  }

  honest(): SimNode[] {
    return this.nodes.filter((n) => !n.byzantine)
  }

  /** Lowest committed height among honest nodes that are up. */
  minCommittedHeight(nodes = this.honest().filter((n) => n.up)): bigint {
    let min: bigint | undefined
    for (const n of nodes) {
      const h = n.chain.head().height
      if (min === undefined || h < min) min = h
    }
    return min ?? 0n
  }

  /**
   * Safety: no two honest nodes committed different blocks (or state roots) at one height.
   * Throws an Error naming the seed, height and nodes.
   */
  assertSafety(): void {
    const honest = this.honest()
    let max = 0n
    for (const n of honest) if (n.chain.head().height > max) max = n.chain.head().height
    for (let h = 1n; h <= max; h++) {
      let ref: { id: string; hash: string; root: string } | undefined
      for (const n of honest) {
        if (n.chain.head().height < h) continue
        const hash = Buffer.from(n.chain.hashAt(h) as Uint8Array).toString('hex')
        const root = Buffer.from(n.chain.committedRoot(h)).toString('hex')
        if (!ref) ref = { id: n.id, hash, root }
        else if (ref.hash !== hash || ref.root !== root) {
          throw new Error(
            `SAFETY VIOLATION seed=${this.opts.seed}: height ${h}: ${ref.id} has ${ref.hash.slice(0, 12)} (root ${ref.root.slice(0, 12)}), ${n.id} has ${hash.slice(0, 12)} (root ${root.slice(0, 12)})`,
          )
        }
      }
    }
  }
}
