/**
 * `limits.requestsPerSecondPerIp` (SPEC §2): one token bucket per client IP on the REST and dev
 * endpoints (http/app.ts answers a refusal with HTTP 429 and code 4029). Buckets hold `rate`
 * tokens per second with a burst of two seconds' worth, and are forgotten once full again, so the
 * map only holds IPs that were active in the last two seconds.
 */

/** Buckets kept before a prune is considered (a prune is a full scan, so it is also time-gated). */
const PRUNE_ABOVE = 10_000;
/** Least time between two prunes: under a many-IP flood a scan per request would be the attack. */
const PRUNE_EVERY_MS = 1000;

/** Per-IP token buckets. */
export class IpRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; last: number }>();
  #lastPrune = 0;

  readonly #burst: number;

  /**
   * @param ratePerSecond - Sustained requests per second per key (an IP, or a user id).
   * @param burst - Bucket size; default twice the rate.
   */
  constructor(
    private readonly ratePerSecond: number,
    burst?: number,
  ) {
    this.#burst = Math.max(1, burst ?? ratePerSecond * 2);
  }

  /** Takes one token for `ip`; false when the IP is over its rate. */
  take(ip: string, now = Date.now()): boolean {
    const cap = this.#burst;
    let b = this.#buckets.get(ip);
    if (!b) {
      if (this.#buckets.size >= PRUNE_ABOVE && now - this.#lastPrune >= PRUNE_EVERY_MS) this.#prune(now);
      b = { tokens: cap, last: now };
      this.#buckets.set(ip, b);
    }
    b.tokens = Math.min(cap, b.tokens + (Math.max(0, now - b.last) / 1000) * this.ratePerSecond);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** IPs currently tracked (for tests and diagnostics). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Drops buckets that are full again: they carry no information. */
  #prune(now: number): void {
    this.#lastPrune = now;
    const refillSeconds = this.#burst / this.ratePerSecond;
    for (const [ip, b] of this.#buckets) if ((now - b.last) / 1000 >= refillSeconds) this.#buckets.delete(ip);
  }
}
