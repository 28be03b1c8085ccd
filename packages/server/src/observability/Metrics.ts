/**
 * Prometheus metrics (`/metrics`, prom-client) on a registry of our own, so several servers in
 * one process (tests) never share counters. Gauges are collected at scrape time from the live
 * objects; counters and histograms are fed from committed call states.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { tencentCallResult } from '../call/tencent.js';
import type { CallState, Effect } from '../call/types.js';

/** What the scrape-time gauges read. */
export interface MetricsSources {
  users(): number;
  devices(): number;
  connections(): number;
  activeCalls(): Promise<number>;
  webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }>;
  refusals(): ReadonlyMap<number, number>;
}

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** The server's metrics. */
export class Metrics {
  /** The registry `/metrics` renders. */
  readonly registry = new Registry();
  readonly #calls: Counter<'result' | 'type'>;
  readonly #setup: Histogram<'phase'>;
  readonly #webhooksEnqueued: Counter;

  constructor(src: MetricsSources) {
    const r = this.registry;
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
      help: 'Webhooks waiting in the durable outbox',
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
    new Gauge({
      name: 'opencall_refused_messages',
      help: 'Client messages refused, by error code (limits, malformed input)',
      labelNames: ['code'],
      registers: [r],
      collect() {
        this.reset();
        for (const [code, n] of src.refusals()) this.set({ code: String(code) }, n);
      },
    });
    this.#calls = new Counter({ name: 'opencall_calls_total', help: 'Ended calls by Tencent CallResult and type', labelNames: ['result', 'type'], registers: [r] });
    this.#setup = new Histogram({
      name: 'opencall_call_setup_seconds',
      help: 'Call setup latency from record timings: invite→ring (per callee), invite→accept, accept→media',
      labelNames: ['phase'],
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.#webhooksEnqueued = new Counter({ name: 'opencall_webhooks_enqueued_total', help: 'Webhooks written to the outbox', registers: [r] });
  }

  /** Feeds a committed transition. */
  onCommitted(state: CallState, effects: readonly Effect[], endedNow: boolean): void {
    const hooks = effects.filter((e) => e.kind === 'webhook').length;
    if (hooks) this.#webhooksEnqueued.inc(hooks);
    if (!endedNow) return;
    this.#calls.inc({ result: tencentCallResult(state.endReason), type: state.scene === 'single' ? 'SingleCall' : 'MultiCall' });
    for (const at of Object.values(state.ringingAt)) this.#setup.observe({ phase: 'invite_to_ring' }, (at - state.createdAt) / 1000);
    if (state.acceptedAt !== null) this.#setup.observe({ phase: 'invite_to_accept' }, (state.acceptedAt - state.createdAt) / 1000);
    if (state.acceptedAt !== null && state.mediaConnectedAt !== null) {
      this.#setup.observe({ phase: 'accept_to_media' }, Math.max(0, state.mediaConnectedAt - state.acceptedAt) / 1000);
    }
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
