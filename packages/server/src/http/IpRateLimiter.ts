/** Per-IP token buckets (rate per second, burst of two seconds' worth), pruned as they refill. */
export class IpRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; last: number }>();

  constructor(private readonly ratePerSecond: number) {}

  /** Takes one token for `ip`; false when the IP is over its rate. */
  take(ip: string, now = Date.now()): boolean {
    const cap = this.ratePerSecond * 2;
    const b = this.#buckets.get(ip) ?? { tokens: cap, last: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.last) / 1000) * this.ratePerSecond);
    b.last = now;
    if (this.#buckets.size > 10_000) this.#prune(now);
    this.#buckets.set(ip, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Drops buckets that are full again (they carry no information). */
  #prune(now: number): void {
    for (const [ip, b] of this.#buckets) if ((now - b.last) / 1000 >= 2) this.#buckets.delete(ip);
  }
}
