/**
 * Per-peer rate limits (token buckets) and application scores with temporary bans. Wall-clock
 * time is fine here: none of this is consensus-critical.
 */
import type { BanInfo, PeerId, RateLimit, ScoringOptions } from './types.js'

/**
 * A token bucket per key.
 * @example
 * const rl = new RateLimiter({ perSecond: 10, burst: 20 })
 * if (!rl.take(peer)) dropIt()
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; false if none is left. */
  take(key: string): boolean {
    const t = this.now()
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: t }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((t - b.at) / 1000) * this.limit.perSecond)
    b.at = t
    const ok = b.tokens >= 1
    if (ok) b.tokens -= 1
    this.buckets.set(key, b)
    return ok
  }

  forget(key: string): void {
    this.buckets.delete(key)
  }
}

/**
 * Application peer scores: penalties push a score down, it recovers toward 0 over time, and at
 * `banThreshold` the peer is banned for `banDurationMs`.
 * @example
 * const scores = new PeerScores(defaultScoringOptions)
 * const ban = scores.penalize(peer, 25, 'invalid block')  // a BanInfo once the threshold is hit
 */
export class PeerScores {
  private readonly scores = new Map<PeerId, { score: number; at: number }>()
  private readonly banned = new Map<PeerId, BanInfo>()
  constructor(
    private readonly opts: ScoringOptions,
    private readonly now: () => number = Date.now,
  ) {}

  score(peer: PeerId): number {
    const s = this.scores.get(peer)
    if (!s) return 0
    const t = this.now()
    s.score = Math.min(0, s.score + ((t - s.at) / 1000) * this.opts.recoveryPerSecond)
    s.at = t
    return s.score
  }

  /** Lowers the score; returns the ban if this penalty caused one. */
  penalize(peer: PeerId, penalty: number, reason: string): BanInfo | undefined {
    const score = this.score(peer) - Math.abs(penalty)
    this.scores.set(peer, { score, at: this.now() })
    if (score <= this.opts.banThreshold && !this.isBanned(peer)) {
      return this.ban(peer, `score ${Math.round(score)} after ${reason}`)
    }
    return undefined
  }

  ban(peer: PeerId, reason: string, ms = this.opts.banDurationMs): BanInfo {
    const info = { id: peer, reason, until: this.now() + ms }
    this.banned.set(peer, info)
    this.scores.delete(peer)
    return info
  }

  isBanned(peer: PeerId): boolean {
    const b = this.banned.get(peer)
    if (!b) return false
    if (b.until <= this.now()) {
      this.banned.delete(peer)
      return false
    }
    return true
  }

  bans(): BanInfo[] {
    return [...this.banned.keys()]
      .filter((p) => this.isBanned(p))
      .sort()
      .map((p) => ({ ...(this.banned.get(p) as BanInfo) }))
  }
}
