/**
 * `historyRetentionDays`: ended calls and call records older than the retention are deleted in
 * bounded batches, at start-up and then every `intervalMs`, so the history (which any signed-in
 * user adds to with every call they start) cannot grow without end. Live calls are never touched.
 */
import type { Logger } from 'pino';
import type { Storage } from './Storage.js';

/** Rows per purge statement: one batch never holds the (synchronous) database for long. */
const BATCH = 1000;
/** Batches per run; a larger backlog is continued at the next run. */
const BATCHES = 20;
const DAY_MS = 86_400_000;

/** Options of {@link HistoryRetention}. */
export interface HistoryRetentionOptions {
  storage: Storage;
  retentionDays: number;
  log: Logger;
  /** Time between runs (default one hour). */
  intervalMs?: number;
  now?: () => number;
}

/** The periodic purge of old history. */
export class HistoryRetention {
  readonly #o: HistoryRetentionOptions;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;

  constructor(options: HistoryRetentionOptions) {
    this.#o = options;
  }

  /** Runs once now, then every interval. */
  start(): void {
    this.#kick();
    this.#timer = setInterval(() => this.#kick(), this.#o.intervalMs ?? 3_600_000);
    this.#timer.unref();
  }

  #kick(): void {
    this.#running ??= this.runOnce()
      .then(() => undefined)
      .catch((err: unknown) => this.#o.log.error({ err }, 'history retention failed'))
      .finally(() => (this.#running = null));
  }

  /** One purge run; resolves with what it deleted. */
  async runOnce(): Promise<{ calls: number; records: number }> {
    const before = (this.#o.now?.() ?? Date.now()) - this.#o.retentionDays * DAY_MS;
    const total = { calls: 0, records: 0 };
    for (let i = 0; i < BATCHES; i++) {
      const n = await this.#o.storage.purgeHistory(before, BATCH);
      total.calls += n.calls;
      total.records += n.records;
      if (n.calls < BATCH && n.records < BATCH) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (total.calls || total.records) this.#o.log.info({ ...total, retentionDays: this.#o.retentionDays }, 'purged old call history');
    return total;
  }

  /** Stops the schedule and waits for a running purge. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }
}
