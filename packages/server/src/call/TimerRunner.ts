/**
 * Fires call deadlines (ring timeouts). Each node arms an in-process timer for the deadlines it
 * commits, so they fire on time; in cluster mode it also claims overdue timers of any node from the
 * database (a short lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so the deadline of a call whose
 * node died still fires within about a second. A double fire is harmless: `tick` is a no-op when
 * nothing is due. A tick that fails is retried with backoff, so a deadline is never dropped.
 */
import type { Logger } from 'pino';
import { MAX_TIMEOUT_MS } from '../util/timers.js';

/** The storage side of cluster timers (implemented by every storage adapter). */
export interface TimerClaims {
  claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): Promise<{ callId: string; dueAt: number }[]>;
}

/** Construction parameters of the runner. */
export interface TimerRunnerOptions {
  /** Runs the `tick` command of a call. */
  tick(callId: string): Promise<void>;
  now(): number;
  log: Logger;
  /** Cluster mode: claim overdue timers of every node as `holder`. */
  claims?: { store: TimerClaims; holder: string; pollMs?: number; leaseMs?: number } | null;
}

/** Grace before another node's deadline is claimed here (its own node fires it on time). */
const CLAIM_GRACE_MS = 250;
/** Retry delays of a failing tick (then every 30 s). */
const RETRY_MS = [100, 500, 2000, 5000, 30_000];

/** The timer runner of one node. */
export class TimerRunner {
  readonly #o: TimerRunnerOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #poll: NodeJS.Timeout | null = null;
  #polling = false;
  #closed = false;

  constructor(o: TimerRunnerOptions) {
    this.#o = o;
  }

  /** Starts claiming overdue timers (cluster mode). */
  start(): void {
    const c = this.#o.claims;
    if (!c || this.#poll) return;
    this.#poll = setInterval(() => void this.#claim(), c.pollMs ?? 250);
    this.#poll.unref();
  }

  /** Arms (or clears, with null) the in-process timer of a call. */
  arm(callId: string, dueAt: number | null, attempt = 0): void {
    const old = this.#timers.get(callId);
    if (old) clearTimeout(old);
    this.#timers.delete(callId);
    if (dueAt === null || this.#closed) return;
    // +1 ms: a timer fires on the loop's cached time, which can be a millisecond behind the clock.
    const delay = Math.min(Math.max(0, dueAt - this.#o.now() + 1), MAX_TIMEOUT_MS);
    const t = setTimeout(() => {
      this.#timers.delete(callId);
      this.#fire(callId, attempt);
    }, delay);
    t.unref();
    this.#timers.set(callId, t);
  }

  #fire(callId: string, attempt: number): void {
    this.#o.tick(callId).catch((err: unknown) => {
      // A storage error (busy, disk full, a lost connection) must not drop the deadline: the call
      // would ring forever. Try again, backing off.
      const delay = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!;
      this.#o.log.error({ err, callId, attempt, retryInMs: delay }, 'timer failed; retrying');
      if (!this.#timers.has(callId)) this.arm(callId, this.#o.now() + delay, attempt + 1);
    });
  }

  async #claim(): Promise<void> {
    const c = this.#o.claims;
    if (!c || this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      const due = await c.store.claimDueTimers(c.holder, this.#o.now() - CLAIM_GRACE_MS, (c.leaseMs ?? 2000) + CLAIM_GRACE_MS, 50);
      for (const t of due) this.#fire(t.callId, 0);
    } catch (err) {
      this.#o.log.warn({ err }, 'timer claim failed');
    } finally {
      this.#polling = false;
    }
  }

  /** Armed timers (tests, metrics). */
  get size(): number {
    return this.#timers.size;
  }

  /** Stops every timer. */
  close(): void {
    this.#closed = true;
    if (this.#poll) clearInterval(this.#poll);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
