import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

/** The node's Prometheus metrics, named aureon_<subsystem>_<name>. */
export interface NodeMetrics {
  registry: Registry
  headHeight: Gauge
  peers: Gauge
  poolSize: Gauge
  blockTime: Histogram
  gasUsed: Counter
  txCommitted: Counter
  txPerSecond: Gauge
}

export function createNodeMetrics(): NodeMetrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'aureon_process_' })
  const m = {
    registry,
    headHeight: new Gauge({
      name: 'aureon_chain_head_height',
      help: 'Height of the head block',
      registers: [registry],
    }),
    peers: new Gauge({ name: 'aureon_p2p_peers', help: 'Connected peers', registers: [registry] }),
    poolSize: new Gauge({
      name: 'aureon_txpool_size',
      help: 'Pending transactions in the pool',
      registers: [registry],
    }),
    blockTime: new Histogram({
      name: 'aureon_chain_block_time_seconds',
      help: 'Time between committed blocks',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    }),
    gasUsed: new Counter({
      name: 'aureon_chain_gas_used_total',
      help: 'Gas used by committed blocks',
      registers: [registry],
    }),
    txCommitted: new Counter({
      name: 'aureon_chain_tx_committed_total',
      help: 'Committed transactions',
      registers: [registry],
    }),
    txPerSecond: new Gauge({
      name: 'aureon_chain_tx_per_second',
      help: 'Transactions per second over the last block interval',
      registers: [registry],
    }),
  }
  return m
}
