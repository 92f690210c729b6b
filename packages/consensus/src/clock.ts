import type { Clock } from './types.js'

interface Timer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * A virtual clock: time moves only when `advance`/`runUntil` are called, and timers fire in
 * (time, creation order). Drives SimNetwork so a seed reproduces a run exactly.
 * @example
 * const clock = new VirtualClock()
 * clock.setTimeout(() => console.log('tick', clock.now()), 100)
 * await clock.advance(100)
 */
export class VirtualClock implements Clock {
  private time = 0
  private seq = 0
  private queue: Timer[] = []

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const t: Timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    // keep the queue sorted by (at, seq): binary insertion
    let lo = 0
    let hi = this.queue.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const q = this.queue[mid]
      if (q.at < t.at || (q.at === t.at && q.seq < t.seq)) lo = mid + 1
      else hi = mid
    }
    this.queue.splice(lo, 0, t)
    return {
      cancel: () => {
        t.cancelled = true
      },
    }
  }

  /** Number of timers still pending. */
  pending(): number {
    return this.queue.filter((t) => !t.cancelled).length
  }

  /**
   * Runs timers in order until `until()` is true, virtual time passes `maxTime`, or no timer is
   * left. Awaits the microtask queue after each timer so async handlers settle.
   */
  async runUntil(until: () => boolean, maxTime = Number.POSITIVE_INFINITY): Promise<boolean> {
    while (!until()) {
      const t = this.queue[0]
      if (!t || t.at > maxTime) {
        if (Number.isFinite(maxTime)) this.time = Math.max(this.time, maxTime)
        return until()
      }
      this.queue.shift()
      if (t.cancelled) continue
      this.time = t.at
      t.fn()
      await settle()
    }
    return true
  }

  /** Advances virtual time by `ms`, firing due timers. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(() => false, this.time + ms)
  }
}

/** Lets pending promise chains and in-memory I/O settle (one macrotask turn). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The real clock (Date.now / setTimeout) for production nodes. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms)
    return { cancel: () => clearTimeout(h) }
  },
}
