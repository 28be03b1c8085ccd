/**
 * Holds a named lease in the database for as long as this node lives (Synapse-style: a row with a
 * holder and an expiry, taken by an upsert only when expired). Cluster mode runs the webhook
 * dispatcher only while it holds `webhooks`, so exactly one node delivers at a time; a deliverer
 * that dies is replaced once its lease lapses. `valid()` is checked before each delivery.
 */
import type { Logger } from 'pino';

/** The storage side of leases (implemented by every storage adapter). */
export interface LeaseStore {
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  releaseLease(name: string, holder: string): Promise<void>;
}

/** Construction parameters of a keeper. */
export interface LeaseKeeperOptions {
  store: LeaseStore;
  name: string;
  holder: string;
  /** Lease length; renewed every third of it. */
  ttlMs: number;
  now(): number;
  log: Logger;
  /** Called when this node gains (true) or loses (false) the lease. */
  onChange(held: boolean): void;
}

/** Keeps (or keeps trying to take) one lease. */
export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  #validUntil = 0;
  #timer: NodeJS.Timeout | null = null;
  #held = false;
  #closed = false;

  constructor(o: LeaseKeeperOptions) {
    this.#o = o;
  }

  /** Starts trying; resolves after the first attempt. */
  async start(): Promise<void> {
    await this.#renew();
    this.#timer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(this.#o.ttlMs / 3)));
    this.#timer.unref();
  }

  /** True while the lease is held with a safety margin left. */
  valid(): boolean {
    return this.#held && this.#o.now() < this.#validUntil;
  }

  async #renew(): Promise<void> {
    if (this.#closed) return;
    const started = this.#o.now();
    let ok = false;
    try {
      ok = await this.#o.store.acquireLease(this.#o.name, this.#o.holder, this.#o.ttlMs, started);
    } catch (err) {
      this.#o.log.warn({ err, lease: this.#o.name }, 'lease renewal failed');
    }
    if (this.#closed) return;
    // Counted from before the request: the database may have stamped it earlier than we hear back.
    if (ok) this.#validUntil = started + this.#o.ttlMs - Math.floor(this.#o.ttlMs / 4);
    const held = ok || (this.#held && this.#o.now() < this.#validUntil);
    if (held !== this.#held) {
      this.#held = held;
      this.#o.log.info({ lease: this.#o.name, held }, held ? 'lease taken' : 'lease lost');
      this.#o.onChange(held);
    }
  }

  /** Stops renewing and gives the lease up. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#held) await this.#o.store.releaseLease(this.#o.name, this.#o.holder).catch(() => undefined);
    this.#held = false;
  }
}
