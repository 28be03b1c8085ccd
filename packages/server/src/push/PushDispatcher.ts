/**
 * Sends the durable push queue (SPEC §9). The CallService writes rows in the same transaction as the
 * state change; this class reads due rows after the commit, fans each out to the user's
 * registrations, records every outcome in the call's delivery trace and settles the row. Nothing
 * here is on the call path: a provider that hangs holds one of `concurrency` slots until its
 * deadline, never a call. Delivery is at least once: a row is settled only after its sends, so a
 * crash before that sends it again after restart (Topic/collapse id = callId lets services
 * replace a duplicate).
 */
import type { Logger } from 'pino';
import { PushTargetSchema, pushTargetKey, type PushTarget } from '@opencall/protocol';
import type { Storage } from '../storage/Storage.js';
import { OutboxPump } from '../util/OutboxPump.js';
import type { PushRow, TraceRow } from '../storage/push.js';
import type { PushPayload } from '../call/types.js';
import { actionToken } from './actionToken.js';
import type { PushResult, PushSender } from './providers/types.js';

/** Construction parameters. */
export interface PushDispatcherOptions {
  storage: Storage;
  /** Direct providers by target type; a type without one is traced as `push.failed`. */
  senders: Partial<Record<PushTarget['type'], PushSender>>;
  /** When set, every push goes to the app's backend instead of the providers. */
  webhook?: PushSender | null;
  /** Action-token key (see actionToken.ts). */
  tokenKey: Buffer;
  /** Deadline of one provider request, ms. */
  timeoutMs: number;
  log: Logger;
  now?: () => number;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** Scan interval without a kick (default 500 ms). */
  pollIntervalMs?: number;
  /** Cluster mode: scan only while this returns true (the node holds the push lease). */
  gate?: () => boolean;
}

/** Attempts of a row whose every send failed for a reason that may pass (5xx, network). */
const MAX_ATTEMPTS = 3;
/** Rows fetched per scan. */
const SCAN_LIMIT = 100;

/** Outcome of one send, for the trace. */
interface Sent {
  provider: string;
  result: PushResult;
  ms: number;
}

/** Sends the push queue; see the file comment. */
export class PushDispatcher {
  readonly #o: PushDispatcherOptions;
  readonly #now: () => number;
  readonly #inFlight = new Map<number, Promise<void>>();
  readonly #controllers = new Set<AbortController>();
  /** Kick/poll loop: one scan at a time. */
  readonly #pump: OutboxPump;
  #closed = false;

  constructor(options: PushDispatcherOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#pump = new OutboxPump({
      pass: () => this.#scan(),
      pollIntervalMs: options.pollIntervalMs ?? 500,
      onError: (err) => this.#o.log.error({ err }, 'push queue scan failed'),
    });
  }

  /** Starts scanning (what a previous process left is sent first). */
  start(): void {
    if (this.#closed) return;
    this.#pump.start();
  }

  /** Scans now (call after a commit that queued pushes). */
  kick(): void {
    this.#pump.kick();
  }

  /** Stops, aborts requests in flight (their rows stay pending for the next process). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const c of this.#controllers) c.abort();
    await this.#pump.close();
    await Promise.allSettled([...this.#inFlight.values()]);
    for (const sender of Object.values(this.#o.senders)) sender.close?.();
  }

  async #scan(): Promise<void> {
    const free = (this.#o.concurrency ?? 16) - this.#inFlight.size;
    if (free <= 0 || (this.#o.gate && !this.#o.gate())) return;
    const rows = await this.#o.storage.duePushes(this.#now(), SCAN_LIMIT);
    let started = 0;
    for (const row of rows) {
      if (started >= free || this.#closed) break;
      if (this.#inFlight.has(row.id)) continue;
      started += 1;
      const p = this.#deliver(row)
        .catch((err: unknown) => this.#o.log.error({ err, callId: row.callId }, 'push delivery failed'))
        .finally(() => {
          this.#inFlight.delete(row.id);
          this.kick();
        });
      this.#inFlight.set(row.id, p);
    }
  }

  /** One row: fan out, trace, settle or retry. */
  async #deliver(row: PushRow): Promise<void> {
    const s = this.#o.storage;
    const payload = JSON.parse(row.payload) as PushPayload;
    const trace = (step: string, detail: Record<string, unknown>): TraceRow => ({
      callId: row.callId,
      userId: row.userId,
      deviceId: null,
      step,
      time: this.#now(),
      detail: JSON.stringify({ kind: row.kind, ...detail }),
    });
    if (this.#now() >= row.expiresAt) {
      await s.appendTrace([trace('push.expired', {})]);
      return s.settlePush(row.id, this.#now(), 'expired before it could be sent');
    }
    if (row.kind === 'invite' && !(await this.#stillPending(row, payload))) {
      // The invitation ended before its push went out: the withdrawal row settles it.
      await s.appendTrace([trace('push.skipped', { reason: 'the invitation ended first' })]);
      return s.settlePush(row.id, this.#now(), null);
    }
    const targets = (await s.pushTargets(row.userId)).flatMap((t) => {
      const r = PushTargetSchema.safeParse(JSON.parse(t.target));
      return r.success ? [r.data] : [];
    });
    if (targets.length === 0) {
      await s.appendTrace([trace('push.none', { reason: 'no push registration' })]);
      return s.settlePush(row.id, this.#now(), null);
    }
    // `userId` (the recipient) lets a service worker post `/push/action` without any stored state.
    const body = { ...payload, userId: row.userId, actionToken: actionToken(this.#o.tokenKey, row.callId, row.userId, payload.deadline) };
    const ttlSeconds = Math.max(0, Math.ceil((row.expiresAt - this.#now()) / 1000));
    const sends: { target: PushTarget | null; sent: Sent }[] = [];
    if (this.#o.webhook) {
      sends.push({ target: null, sent: await this.#sendOne(this.#o.webhook, null, targets, body, row, ttlSeconds) });
    } else {
      await Promise.all(
        targets.map(async (target) => {
          const sender = this.#o.senders[target.type];
          const sent: Sent = sender
            ? await this.#sendOne(sender, target, targets, body, row, ttlSeconds)
            : { provider: target.type, result: { status: 0, gone: false, error: `no ${target.type} provider configured` }, ms: 0 };
          sends.push({ target, sent });
        }),
      );
    }
    const steps: TraceRow[] = [];
    let retry = false;
    for (const { target, sent } of sends) {
      const { provider, result, ms } = sent;
      const detail = { provider, status: result.status, ms, ...(result.error ? { error: result.error } : {}) };
      if (result.gone && target) {
        await s.removePushTarget(row.userId, pushTargetKey(target));
        steps.push(trace('push.gone', detail));
      } else if (result.error) {
        steps.push(trace('push.failed', detail));
        if (result.status === 0 || result.status >= 500 || result.status === 429) retry = true;
      } else steps.push(trace('push.sent', detail));
    }
    await s.appendTrace(steps);
    const anySent = sends.some((x) => !x.sent.result.error);
    const now = this.#now();
    if (retry && !anySent && row.attempts + 1 < MAX_ATTEMPTS && now < row.expiresAt) {
      return s.retryPush(row.id, now + 1000 * 2 ** row.attempts, sends.map((x) => x.sent.result.error).join('; '));
    }
    return s.settlePush(row.id, now, anySent ? null : (sends[0]?.sent.result.error ?? null));
  }

  /** True while the invitation this invite row announces is still pending. */
  async #stillPending(row: PushRow, payload: PushPayload): Promise<boolean> {
    const call = await this.#o.storage.getCall(row.callId);
    const m = call?.members[row.userId];
    return !!m && (m.state === 'invited' || m.state === 'ringing') && m.pushDeadline === payload.deadline;
  }

  /** One request with its deadline; a throw (network, timeout, abort) becomes a status-0 result. */
  async #sendOne(sender: PushSender, target: PushTarget | null, all: PushTarget[], payload: PushSendPayload, row: PushRow, ttlSeconds: number): Promise<Sent> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.#o.timeoutMs} ms`)), this.#o.timeoutMs);
    this.#controllers.add(controller);
    const started = performance.now();
    try {
      const result = await sender.send({ target, targets: all, payload, kind: row.kind, ttlSeconds, userId: row.userId, signal: controller.signal });
      return { provider: sender.name, result, ms: Math.round(performance.now() - started) };
    } catch (err) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : err;
      const error = reason instanceof Error ? reason.message : String(reason);
      return { provider: sender.name, result: { status: 0, gone: false, error }, ms: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
      this.#controllers.delete(controller);
    }
  }
}

/** The payload sent: the machine's plus the action token. */
type PushSendPayload = PushPayload & { userId: string; actionToken: string };
