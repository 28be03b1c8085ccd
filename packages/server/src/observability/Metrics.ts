/**
 * Prometheus metrics (`/metrics`, prom-client) on a registry of our own, so several servers in
 * one process (tests) never share counters. Gauges are collected at scrape time from the live
 * objects; counters kept by other components (gateway refusals, webhook deliveries) are synced at
 * scrape time too, so those components stay free of metrics code. Call counters and setup
 * latencies are fed from committed call states. Every metric is listed in docs/operations.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { tencentCallResult } from '../call/tencent.js';
import type { CallState, Effect } from '../call/types.js';
import type { WebhookStats } from '../webhooks/WebhookDispatcher.js';

/** What the scrape-time gauges and synced counters read. */
export interface MetricsSources {
  /** Users with at least one signed-in device. */
  users(): number;
  /** Signed-in device sessions. */
  devices(): number;
  /** Open signaling WebSockets. */
  connections(): number;
  /** Calls ringing or connected (from storage: includes calls recovered after a restart). */
  activeCalls(): Promise<number>;
  /** Undelivered webhooks in the outbox. */
  webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }>;
  /** Signaling refusals by error code since start (the gateway's running totals). */
  refusals(): ReadonlyMap<number, number>;
  /** The dispatcher's counters, or null when no `webhookUrl` is configured. */
  webhookStats: (() => WebhookStats) | null;
}

/** Histogram buckets of the setup latencies, seconds. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Tencent's call type label of a scene. */
function callType(s: CallState): 'SingleCall' | 'MultiCall' {
  return s.scene === 'single' ? 'SingleCall' : 'MultiCall';
}

/** Setup phases already observed for a running call (each is observed once, when it happens). */
interface Observed {
  rung: Set<string>;
  accepted: boolean;
  media: boolean;
}

/**
 * Turns a running total kept elsewhere into counter increments: prom-client counters only go up,
 * so each scrape adds what grew since the previous one.
 */
class Deltas {
  readonly #last = new Map<string, number>();
  /** The growth of `key` since the last call (never negative). */
  take(key: string, total: number): number {
    const grown = total - (this.#last.get(key) ?? 0);
    this.#last.set(key, total);
    return Math.max(0, grown);
  }
}

/** The server's metrics. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  readonly #calls: Counter<'result' | 'type'>;
  readonly #started: Counter<'type'>;
  readonly #setup: Histogram<'phase'>;
  readonly #webhooksEnqueued: Counter;
  readonly #refusals: Counter<'code' | 'transport'>;
  readonly #observed = new Map<string, Observed>();
  readonly #webhooksEnabled: boolean;

  /** Registers every metric on a fresh registry. */
  constructor(src: MetricsSources) {
    const r = this.registry;
    this.#webhooksEnabled = src.webhookStats !== null;
    collectDefaultMetrics({ register: r, prefix: 'opencall_process_' });
    new Gauge({ name: 'opencall_signed_in_users', help: 'Users with at least one signed-in device', registers: [r], collect() { this.set(src.users()); } });
    new Gauge({ name: 'opencall_signed_in_devices', help: 'Signed-in device sessions (including ones inside their reconnect window)', registers: [r], collect() { this.set(src.devices()); } });
    new Gauge({ name: 'opencall_ws_connections', help: 'Open signaling WebSocket connections', registers: [r], collect() { this.set(src.connections()); } });
    new Gauge({
      name: 'opencall_active_calls',
      help: 'Calls ringing or connected',
      registers: [r],
      async collect() {
        this.set(await src.activeCalls());
      },
    });
    new Gauge({
      name: 'opencall_webhook_queue_depth',
      help: 'Webhooks waiting in the durable outbox (undelivered, not given up)',
      registers: [r],
      async collect() {
        this.set((await src.webhookBacklog()).depth);
      },
    });
    new Gauge({
      name: 'opencall_webhook_delivery_lag_seconds',
      help: 'Age of the oldest undelivered webhook (0 when none)',
      registers: [r],
      async collect() {
        const b = await src.webhookBacklog();
        this.set(b.oldestCreatedAt === null ? 0 : Math.max(0, (Date.now() - b.oldestCreatedAt) / 1000));
      },
    });
    const refusalDeltas = new Deltas();
    this.#refusals = new Counter({
      name: 'opencall_refusals_total',
      help: 'Requests refused, by error code and transport (ws: signaling frames and sign-ins; http: REST and dev endpoints)',
      labelNames: ['code', 'transport'],
      registers: [r],
      collect() {
        for (const [code, n] of src.refusals()) {
          const grown = refusalDeltas.take(String(code), n);
          if (grown > 0) this.inc({ code: String(code), transport: 'ws' }, grown);
        }
      },
    });
    const webhookStats = src.webhookStats;
    if (webhookStats) {
      const deliveryDeltas = new Deltas();
      new Counter({
        name: 'opencall_webhook_deliveries_total',
        help: 'Webhook attempts by outcome: delivered (2xx), failed (will retry), dead (given up after maxAgeMs)',
        labelNames: ['outcome'],
        registers: [r],
        collect() {
          const s = webhookStats();
          // `failed` counts every failed attempt including a dead row's last one; report retries apart.
          const outcomes = { delivered: s.delivered, failed: s.failed - s.dead, dead: s.dead };
          for (const [outcome, total] of Object.entries(outcomes)) {
            const grown = deliveryDeltas.take(outcome, total);
            if (grown > 0) this.inc({ outcome }, grown);
          }
        },
      });
      new Gauge({ name: 'opencall_webhook_in_flight', help: 'Webhook requests running now', registers: [r], collect() { this.set(webhookStats().inFlight); } });
      const purgeDeltas = new Deltas();
      new Counter({
        name: 'opencall_webhook_purged_total',
        help: 'Settled outbox rows deleted by the retention purge',
        registers: [r],
        collect() {
          const grown = purgeDeltas.take('purged', webhookStats().purged);
          if (grown > 0) this.inc(grown);
        },
      });
    }
    this.#calls = new Counter({ name: 'opencall_calls_total', help: 'Ended calls by Tencent CallResult and type', labelNames: ['result', 'type'], registers: [r] });
    this.#started = new Counter({ name: 'opencall_calls_started_total', help: 'Calls started, by type at start', labelNames: ['type'], registers: [r] });
    this.#setup = new Histogram({
      name: 'opencall_call_setup_seconds',
      help: 'Call setup latency, observed when it happens: invite→ring (per callee), invite→accept, accept→media',
      labelNames: ['phase'],
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.#webhooksEnqueued = new Counter({ name: 'opencall_webhooks_enqueued_total', help: 'Webhooks written to the outbox', registers: [r] });
  }

  /** Counts an HTTP refusal (429 from the per-IP limiter is code 4029). */
  refusedHttp(code: number): void {
    this.#refusals.inc({ code: String(code), transport: 'http' });
  }

  /** Feeds a committed transition. `endedNow` is true on the commit that ended the call. */
  onCommitted(state: CallState, effects: readonly Effect[], endedNow: boolean): void {
    if (this.#webhooksEnabled) {
      const hooks = effects.filter((e) => e.kind === 'webhook').length;
      if (hooks) this.#webhooksEnqueued.inc(hooks);
    }
    if (state.version === 1) this.#started.inc({ type: callType(state) });
    // Nothing to observe after the end (and no per-call entry to re-create and leak).
    if (state.phase === 'ended' && !endedNow) return;
    this.#observeSetup(state);
    if (!endedNow) return;
    this.#observed.delete(state.callId);
    this.#calls.inc({ result: tencentCallResult(state.endReason), type: callType(state) });
  }

  /** Observes each setup phase of a call once, on the commit where its timestamp first appears. */
  #observeSetup(s: CallState): void {
    let seen = this.#observed.get(s.callId);
    if (!seen) this.#observed.set(s.callId, (seen = { rung: new Set(), accepted: false, media: false }));
    for (const [userId, at] of Object.entries(s.ringingAt)) {
      if (seen.rung.has(userId)) continue;
      seen.rung.add(userId);
      this.#setup.observe({ phase: 'invite_to_ring' }, Math.max(0, at - s.createdAt) / 1000);
    }
    if (!seen.accepted && s.acceptedAt !== null) {
      seen.accepted = true;
      this.#setup.observe({ phase: 'invite_to_accept' }, Math.max(0, s.acceptedAt - s.createdAt) / 1000);
    }
    if (!seen.media && s.acceptedAt !== null && s.mediaConnectedAt !== null) {
      seen.media = true;
      this.#setup.observe({ phase: 'accept_to_media' }, Math.max(0, s.mediaConnectedAt - s.acceptedAt) / 1000);
    }
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
