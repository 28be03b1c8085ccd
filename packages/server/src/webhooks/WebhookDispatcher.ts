/**
 * Delivers the durable webhook outbox (SPEC §6.3). The CallService writes rows in the same
 * transaction as the state change; this class only reads due rows, POSTs them and records the
 * outcome, so everything it needs survives a restart and a new dispatcher on the same database
 * simply carries on. Delivery is at-least-once: a row is marked delivered only after a 2xx.
 *
 * Order per call: a row is sent only when no earlier undelivered, live row of its call exists, and
 * at most one request per call is in flight. Different calls proceed in parallel up to
 * `concurrency`. Nothing here runs on the call path: a slow receiver delays webhooks, never calls.
 *
 * Retention: settled rows (delivered, or dead) are deleted `retentionMs` after they settled, by a
 * bounded purge at most every `purgeIntervalMs`, so the outbox table does not grow forever.
 */
import type { Logger } from 'pino';
import type { OutboxRow, Storage } from '../storage/Storage.js';
import { OutboxPump } from '../util/OutboxPump.js';
import { describeError, readCapped } from './response.js';
import { signWebhook } from './sign.js';

/** Retry policy (`webhookRetry`, SPEC §2). */
export interface WebhookRetry {
  /** Delay after the first failed attempt; doubles per attempt. */
  readonly initialDelayMs: number;
  /** Cap of the delay between attempts. */
  readonly maxDelayMs: number;
  /** A row still failing this long after it was created is given up (`dead`). */
  readonly maxAgeMs: number;
  /** Per-attempt deadline covering connect, headers and the (capped) response body. */
  readonly timeoutMs: number;
}

/** Construction parameters of {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** The outbox. Must stay open until `close()` has resolved. */
  storage: Storage;
  /** `webhookUrl`; its own query string is kept and the Tencent parameters are appended. */
  url: string;
  /** `webhookSecret`; undefined or empty → no `X-OpenCall-Signature` header. */
  secret?: string | undefined;
  /** Sent as `SdkAppid` in the query. */
  sdkAppId: number;
  retry: WebhookRetry;
  log: Logger;
  /** Clock, ms epoch (the same clock that stamps `createdAt`). */
  now?: () => number;
  /** HTTP client; the global `fetch` by default. */
  fetch?: typeof fetch;
  /** Deliveries in flight at once across all calls (default 8). */
  concurrency?: number;
  /** How often the outbox is scanned without a `kick()` (default 200 ms). */
  pollIntervalMs?: number;
  /** Random source in [0, 1) for retry jitter (tests pin it). */
  random?: () => number;
  /**
   * How long delivered and dead rows stay in the outbox before the retention purge deletes them
   * (default 24 h): long enough to inspect what was sent, short enough that the table stays small.
   */
  retentionMs?: number;
  /** Least time between two retention purges (default 60 s). */
  purgeIntervalMs?: number;
  /**
   * Cluster mode: deliver only while this returns true (this node holds the `webhooks` lease), so
   * one node delivers at a time and a call's events keep their order. Checked before each POST.
   */
  gate?: () => boolean;
}

/** Counters since this dispatcher started, for metrics. */
export interface WebhookStats {
  /** Rows acknowledged with a 2xx. */
  delivered: number;
  /** Failed attempts (each retry counts), including the final one of a dead row. */
  failed: number;
  /** Rows given up after `maxAgeMs`. */
  dead: number;
  /** Requests running now. */
  inFlight: number;
  /** Settled rows deleted by the retention purge. */
  purged: number;
}

/** Response bytes read at most: enough for an error message, never enough to hurt. */
export const MAX_RESPONSE_BYTES = 64 * 1024;
/** Rows fetched per scan unless head-of-line blocking forces a wider look. */
const SCAN_LIMIT = 100;
/** Widest scan, so one call with a huge blocked backlog cannot hide every other call. */
const MAX_SCAN_LIMIT = 1600;
/** Characters of a failing response kept in `lastError`. */
const ERROR_SNIPPET = 200;
/** Default retention of settled rows. */
export const DEFAULT_RETENTION_MS = 24 * 3600 * 1000;
/** Default least time between purges. */
const DEFAULT_PURGE_INTERVAL_MS = 60_000;
/** Rows deleted per statement, and statements per purge: bounded work on the event loop. */
const PURGE_BATCH = 1000;
const PURGE_BATCHES = 10;

/**
 * Delay before the next attempt after `attempts` earlier failed attempts:
 * `min(maxDelayMs, initialDelayMs * 2^attempts)` with ±20 % jitter, so receivers that fail
 * together are not hammered in lockstep when they recover.
 *
 * @param attempts - Failed attempts before this one (0 for the first failure).
 * @param random - A number in [0, 1).
 */
export function retryDelayMs(attempts: number, retry: Pick<WebhookRetry, 'initialDelayMs' | 'maxDelayMs'>, random: number): number {
  // Cap the exponent: 2^1024 is Infinity, and anything past ~40 doublings is above any sane cap.
  const base = Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(attempts, 40));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random)));
}

/** Outcome of one HTTP attempt. */
type Attempt = { ok: true } | { ok: false; error: string; aborted: boolean };

/** Delivers the webhook outbox; see the file comment. */
export class WebhookDispatcher {
  readonly #o: WebhookDispatcherOptions;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #concurrency: number;
  /** Kick/poll loop: one pass (scan + purge) at a time. */
  readonly #pump: OutboxPump;
  readonly #random: () => number;
  readonly #retentionMs: number;
  readonly #purgeMs: number;
  /** When the last purge ran (0: never, so the first scan purges what a previous process left). */
  #lastPurge = 0;
  /** The webhook URL with `SdkAppid` appended, ready for `&CallbackCommand=...`. */
  readonly #baseUrl: string;
  /**
   * One controller per request in flight, aborted by `close()`. Simpler than `AbortSignal.any`
   * over a long-lived close signal, which would register a dependent signal per request on it.
   */
  readonly #controllers = new Set<AbortController>();
  /** Delivery promise per row id. */
  readonly #inFlight = new Map<number, Promise<void>>();
  /** Calls with a request in flight (one per call keeps order). */
  readonly #busyCalls = new Set<string>();
  /**
   * Rows settled since the current scan began: the scan's snapshot may still list them as due,
   * and starting one again would deliver it twice.
   */
  readonly #settledDuringScan = new Set<number>();
  readonly #stats = { delivered: 0, failed: 0, dead: 0, purged: 0 };
  #closed = false;
  #closing: Promise<void> | null = null;
  #scanLimit = SCAN_LIMIT;

  /** Validates the URL at once, so a bad `webhookUrl` fails start-up rather than every delivery. */
  constructor(options: WebhookDispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
    this.#pump = new OutboxPump({
      pass: async () => {
        await this.#scan();
        await this.#purge();
      },
      pollIntervalMs: options.pollIntervalMs ?? 200,
      onError: (err) => this.#o.log.error({ err }, 'webhook outbox scan failed'),
    });
    this.#random = options.random ?? Math.random;
    this.#retentionMs = Math.max(0, options.retentionMs ?? DEFAULT_RETENTION_MS);
    this.#purgeMs = Math.max(1, options.purgeIntervalMs ?? DEFAULT_PURGE_INTERVAL_MS);
    const url = new URL(options.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`webhook url must be http(s): ${url.protocol}`);
    // Appending by hand keeps the existing query byte for byte (URLSearchParams would re-encode it,
    // and receivers sometimes put a token there).
    const added = `SdkAppid=${encodeURIComponent(String(options.sdkAppId))}`;
    url.hash = '';
    url.search = url.search.length > 1 ? `${url.search.slice(1)}&${added}` : added;
    this.#baseUrl = url.toString();
  }

  /** Starts polling. Idempotent; does nothing after `close()`. */
  start(): void {
    if (this.#closed) return;
    this.#pump.start();
  }

  /**
   * Scans now instead of at the next poll. Call after each commit that enqueued rows; cheap and
   * safe to call often (concurrent kicks coalesce into one extra scan).
   */
  kick(): void {
    this.#pump.kick();
  }

  /**
   * Stops polling, aborts requests in flight (they count as no attempt and are retried by the
   * next dispatcher) and resolves once nothing touches storage any more. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      for (const c of this.#controllers) c.abort();
      await this.#pump.close();
      await Promise.allSettled([...this.#inFlight.values()]);
    })();
    return this.#closing;
  }

  /** Counters since start. */
  stats(): WebhookStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  /** Undelivered, live rows in storage and the oldest one's `createdAt` (for a backlog-age gauge). */
  backlog(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    return this.#o.storage.webhookBacklog();
  }

  /** False while another node holds the delivery lease. */
  #open(): boolean {
    return this.#o.gate ? this.#o.gate() : true;
  }

  /** Starts deliveries for due rows whose call has nothing earlier pending. */
  async #scan(): Promise<void> {
    const free = this.#concurrency - this.#inFlight.size;
    if (free <= 0 || this.#closed || !this.#open()) return;
    this.#settledDuringScan.clear();
    const limit = this.#scanLimit;
    const rows = await this.#o.storage.dueWebhooks(this.#now(), limit);
    const seenCalls = new Set<string>();
    let started = 0;
    for (const row of rows) {
      if (started >= free || this.#closed || !this.#open()) break;
      // Only a call's oldest due row can be next; later ones wait for it whatever happens to it.
      if (seenCalls.has(row.callId)) continue;
      seenCalls.add(row.callId);
      if (this.#busyCalls.has(row.callId) || this.#settledDuringScan.has(row.id)) continue;
      // An earlier row of this call may be waiting for its retry (not due, so not in `rows`).
      if ((await this.#o.storage.pendingBefore(row.callId, row.id)) > 0) continue;
      // Re-check after the await: a delivery of this call may have started or settled meanwhile.
      if (this.#closed || this.#busyCalls.has(row.callId) || this.#settledDuringScan.has(row.id)) continue;
      this.#startDelivery(row);
      started += 1;
    }
    // A full page that left slots idle means blocked rows crowd out deliverable ones: look wider.
    if (rows.length === limit && started < free && limit < MAX_SCAN_LIMIT) {
      this.#scanLimit = Math.min(MAX_SCAN_LIMIT, limit * 4);
      this.#pump.again();
    } else if (rows.length < limit) {
      this.#scanLimit = SCAN_LIMIT;
    }
  }

  /**
   * Deletes settled rows older than the retention, at most every `purgeIntervalMs` and in bounded
   * batches; a backlog larger than one run's share is continued at the next scan, not in one go.
   */
  async #purge(): Promise<void> {
    const now = this.#now();
    if (this.#closed || !this.#open() || now - this.#lastPurge < this.#purgeMs) return;
    this.#lastPurge = now;
    let total = 0;
    for (let i = 0; i < PURGE_BATCHES && !this.#closed; i++) {
      const n = await this.#o.storage.purgeWebhooks(now - this.#retentionMs, PURGE_BATCH);
      total += n;
      if (n < PURGE_BATCH) break;
      // Let deliveries and calls run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
      // The last batch was full: more remains, so the next scan carries on.
      if (i === PURGE_BATCHES - 1) this.#lastPurge = 0;
    }
    this.#stats.purged += total;
    if (total > 0) this.#o.log.debug({ purged: total, retentionMs: this.#retentionMs }, 'purged settled webhooks');
  }

  /** Tracks one delivery so `close()` can wait for it. */
  #startDelivery(row: OutboxRow): void {
    this.#busyCalls.add(row.callId);
    const p = this.#deliver(row).finally(() => {
      this.#inFlight.delete(row.id);
      this.#busyCalls.delete(row.callId);
      this.#settledDuringScan.add(row.id);
      // The call's next row (and any call waiting for a slot) can go now, not at the next poll.
      this.kick();
    });
    this.#inFlight.set(row.id, p);
  }

  /** One attempt and its bookkeeping. Never rejects. */
  async #deliver(row: OutboxRow): Promise<void> {
    const result = await this.#attempt(row);
    try {
      if (result.ok) {
        await this.#o.storage.markWebhookDelivered(row.id, this.#now());
        this.#stats.delivered += 1;
        return;
      }
      // Cut short by close(): not the receiver's fault, so no attempt is counted.
      if (result.aborted) return;
      const now = this.#now();
      const dead = now - row.createdAt > this.#o.retry.maxAgeMs;
      const next = now + retryDelayMs(row.attempts, this.#o.retry, this.#random());
      // A dead row is never retried; its nextAttemptAt records when it was given up (retention counts from there).
      await this.#o.storage.markWebhookFailed(row.id, dead ? now : next, result.error, dead);
      this.#stats.failed += 1;
      const fields = { eventId: row.eventId, command: row.command, attempts: row.attempts + 1, error: result.error };
      if (dead) {
        this.#stats.dead += 1;
        this.#o.log.error({ ...fields, ageMs: now - row.createdAt }, 'webhook given up after maxAgeMs');
      } else {
        this.#o.log.warn({ ...fields, retryInMs: next - now }, 'webhook delivery failed; will retry');
      }
    } catch (err) {
      // The row stays pending and is retried: at-least-once beats losing it.
      this.#o.log.error({ err, eventId: row.eventId }, 'recording webhook outcome failed');
    }
  }

  /** POSTs one row with a deadline; resolves with the outcome, never rejects. */
  async #attempt(row: OutboxRow): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#o.retry.timeoutMs);
    this.#controllers.add(controller);
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'OpenCall-Webhooks',
      'X-OpenCall-Event-Id': row.eventId,
      'X-OpenCall-Sequence': String(row.seq),
    };
    if (this.#o.secret) {
      // Signed per attempt with its send time, so receivers can refuse stale replays.
      const timestamp = Math.floor(this.#now() / 1000);
      headers['X-OpenCall-Timestamp'] = String(timestamp);
      headers['X-OpenCall-Signature'] = signWebhook(row.body, this.#o.secret, { timestamp, eventId: row.eventId, sequence: row.seq });
    }
    const url = `${this.#baseUrl}&CallbackCommand=${encodeURIComponent(row.command)}&contenttype=json`;
    const failure = (err: unknown): Attempt => {
      if (timedOut) return { ok: false, error: `timed out after ${this.#o.retry.timeoutMs} ms`, aborted: false };
      // Checked after the timeout: close() aborting a request is not the receiver's failure.
      if (this.#closed) return { ok: false, error: 'dispatcher closed', aborted: true };
      return { ok: false, error: describeError(err), aborted: false };
    };
    try {
      // A redirect is not an acknowledgement, and following it would turn the POST into a GET.
      const res = await this.#fetch(url, { method: 'POST', headers, body: row.body, signal: controller.signal, redirect: 'manual' });
      const ok = res.status >= 200 && res.status < 300;
      let text = '';
      try {
        text = await readCapped(res, MAX_RESPONSE_BYTES);
      } catch (err) {
        // The status already answered; a body cut off by the deadline only matters for failures.
        if (!ok) return failure(err);
      }
      if (ok) return { ok: true };
      const snippet = text.length > ERROR_SNIPPET ? `${text.slice(0, ERROR_SNIPPET)}…` : text;
      return { ok: false, error: `HTTP ${res.status}${snippet ? `: ${snippet}` : ''}`, aborted: false };
    } catch (err) {
      return failure(err);
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(controller);
    }
  }
}
