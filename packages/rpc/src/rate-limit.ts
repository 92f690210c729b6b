/**
 * Token buckets keyed by a string (a client IP for HTTP, a connection id for WebSocket messages):
 * `perSecond` refill, `burst` capacity. Idle buckets are swept when the table grows large.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {}

  /** Takes a token; returns 0 if allowed, else seconds to wait. */
  take(key: string, now = Date.now()): number {
    let b = this.buckets.get(key)
    if (!b) {
      if (this.buckets.size >= 100_000) this.sweep(now)
      b = { tokens: this.burst, at: now }
      this.buckets.set(key, b)
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond)
      b.at = now
    }
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond))
  }

  /** Drops a key's bucket (e.g. when its connection closes). */
  forget(key: string): void {
    this.buckets.delete(key)
  }

  private sweep(now: number): void {
    for (const [ip, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(ip)
    if (this.buckets.size >= 100_000) this.buckets.clear()
  }
}
