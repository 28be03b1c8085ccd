/**
 * Retention of stored requests and device events (call/requests.ts): both only matter for as
 * long as a client may re-send a request or resume after a crash, so rows older than
 * {@link REPLAY_TTL_MS} are deleted every minute in bounded batches.
 */
import type { Logger } from 'pino';
import type { Storage } from './Storage.js';

/**
 * How long a stored outcome answers a re-sent request: well past a client's wait for the
 * reconnection plus the longest server restart seen (a client gives up on a request long before).
 */
export const REPLAY_TTL_MS = 15 * 60_000;
/** Rows per purge statement, per table. */
const BATCH = 1000;
/** Batches per run; a larger backlog is continued at the next run. */
const BATCHES = 20;

/** The periodic purge. */
export class ReplayRetention {
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly intervalMs = 60_000,
  ) {}

  /** Runs every interval (the first run one interval after start: nothing is old at start-up). */
  start(): void {
    this.#timer = setInterval(() => {
      this.#running ??= this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.log.error({ err }, 'request/event retention failed'))
        .finally(() => (this.#running = null));
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** One purge run; resolves with what it deleted. */
  async runOnce(): Promise<{ requests: number; events: number }> {
    const before = this.now() - REPLAY_TTL_MS;
    const total = { requests: 0, events: 0 };
    for (let i = 0; i < BATCHES; i++) {
      const n = await this.storage.purgeReplay(before, BATCH);
      total.requests += n.requests;
      total.events += n.events;
      if (n.requests < BATCH && n.events < BATCH) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return total;
  }

  /** Stops the schedule and waits for a running purge. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
