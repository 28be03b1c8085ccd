/**
 * `/metrics`, `/healthz` and `/readyz` after real calls between real clients: the numbers must be
 * what happened (users and devices signed in, calls by result and type, setup latencies, the
 * webhook backlog while the receiver is down and after it recovers, refusals by code).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { rawSocket } from './helpers/rawSocket.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder } from './webhooks-support.js';

/** A scrape: series (name plus labels sorted by name) → value. */
type Scrape = Map<string, number>;

/** Scrapes `/metrics` into a map keyed like `name{a="1",b="2"}` with labels in name order. */
async function scrape(server: RunningServer): Promise<Scrape> {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const out: Scrape = new Map();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = (m[2] ?? '').split(/,(?=[a-z_]+=")/).filter(Boolean).sort().join(',');
    out.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return out;
}

/** A series' value, 0 when absent (counters without samples are not rendered). */
function v(s: Scrape, series: string): number {
  return s.get(series) ?? 0;
}

let server: RunningServer;
let hookPort: number;
let since: number;
const users: TestUser[] = [];
before(async () => {
  // The webhook receiver is down at first: reserve a port and leave it closed.
  const probe = await HookRecorder.start();
  hookPort = probe.port;
  await probe.close();
  server = await startTestServer({
    devicePolicy: 'multi',
    defaultRingTimeoutSeconds: 1,
    webhookUrl: `http://127.0.0.1:${hookPort}/opencall`,
    webhookSecret: HOOK_SECRET,
    webhookRetry: { initialDelayMs: 100, maxDelayMs: 300, maxAgeMs: 600_000, timeoutMs: 1000 },
    limits: { maxMessageBytes: 2048, messagesPerSecondPerConnection: 20, requestsPerSecondPerIp: 5, maxDevicesPerUser: 2 },
  });
});
after(async () => {
  await cleanup(...users);
  await server.close();
});

describe('metrics after real calls', () => {
  it('/healthz and /readyz answer while the server runs', async () => {
    const h = await fetch(`${server.url}/healthz`);
    assert.equal(h.status, 200);
    const body = (await h.json()) as Record<string, unknown>;
    const storage = process.env.OPENCALL_TEST_STORAGE === 'memory' ? 'memory' : 'sqlite';
    assert.deepEqual([body['ok'], body['storage'], body['sfu']], [true, storage, 'mesh']);
    const r = await fetch(`${server.url}/readyz`);
    assert.deepEqual([r.status, await r.json()], [200, { ready: true }]);
  });

  it('counts users, devices, active calls, calls by result and type, setup latencies and the webhook backlog', async () => {
    since = Date.now();
    const [a, b, c, d, e] = await Promise.all(['m_a', 'm_b', 'm_c', 'm_d', 'm_e'].map((id) => user(server, id)));
    users.push(a!, b!, c!, d!, e!);
    // A second device of m_a (policy multi).
    const a2 = await user(server, 'm_a');
    users.push(a2);

    // 1. 1-to-1 accepted then hung up: NormalEnd / SingleCall.
    const c1 = await a!.engine.calls([b!.id], CallMediaType.audio);
    await b!.rec.waitFor('onCallReceived', (x) => x[0] === c1.callId);
    await b!.engine.accept();
    await a!.engine.hangup();
    // 2. rejected: Reject / SingleCall.
    const c2 = await a!.engine.calls([c!.id], CallMediaType.audio);
    await c!.rec.waitFor('onCallReceived', (x) => x[0] === c2.callId);
    await c!.engine.reject();
    // 3. multi: b accepts, c does not answer (1 s), a hangs up: NormalEnd / MultiCall.
    const c3 = await a!.engine.calls([b!.id, c!.id], CallMediaType.video);
    await b!.rec.waitFor('onCallReceived', (x) => x[0] === c3.callId);
    await b!.engine.accept();
    await a!.rec.waitFor('onUserNoResponse', (x) => x[0] === c!.id, 4000);
    await a!.engine.hangup();
    // 4. canceled by the caller: Cancel / SingleCall.
    const c4 = await a!.engine.calls([b!.id], CallMediaType.audio);
    await b!.rec.waitFor('onCallReceived', (x) => x[0] === c4.callId);
    await a!.engine.hangup();
    // 5. still ringing when scraped.
    const c5 = await d!.engine.calls([e!.id], CallMediaType.audio, { timeout: 60 });
    await e!.rec.waitFor('onCallReceived', (x) => x[0] === c5.callId);
    await sleep(300);

    const s = await scrape(server);
    assert.equal(v(s, 'opencall_signed_in_users'), 5);
    assert.equal(v(s, 'opencall_signed_in_devices'), 6);
    assert.equal(v(s, 'opencall_ws_connections'), 6);
    assert.equal(v(s, 'opencall_active_calls'), 1);
    assert.equal(v(s, 'opencall_calls_total{result="NormalEnd",type="SingleCall"}'), 1);
    assert.equal(v(s, 'opencall_calls_total{result="Reject",type="SingleCall"}'), 1);
    assert.equal(v(s, 'opencall_calls_total{result="NormalEnd",type="MultiCall"}'), 1);
    assert.equal(v(s, 'opencall_calls_total{result="Cancel",type="SingleCall"}'), 1);
    assert.equal(v(s, 'opencall_calls_started_total{type="SingleCall"}'), 4);
    assert.equal(v(s, 'opencall_calls_started_total{type="MultiCall"}'), 1);
    // Rings: b, c, b+c, b, e (and a2 never rings: it is not the latest device nor multi-device).
    assert.equal(v(s, 'opencall_call_setup_seconds_count{phase="invite_to_ring"}'), 6);
    assert.equal(v(s, 'opencall_call_setup_seconds_bucket{le="0.25",phase="invite_to_ring"}'), 6, 'rings within 250 ms on loopback');
    assert.equal(v(s, 'opencall_call_setup_seconds_count{phase="invite_to_accept"}'), 2);
    assert.equal(v(s, 'opencall_call_setup_seconds_count{phase="accept_to_media"}'), 0, 'signaling-only clients never connect media');
    // Webhooks: 5 + 4 + 6 + 4 + 2 events, none delivered (the receiver is down).
    assert.equal(v(s, 'opencall_webhooks_enqueued_total'), 21);
    assert.equal(v(s, 'opencall_webhook_queue_depth'), 21);
    const lag = v(s, 'opencall_webhook_delivery_lag_seconds');
    assert.ok(lag >= 0.3 && lag <= (Date.now() - since) / 1000 + 0.05, `lag ${lag} s is the age of the oldest event`);
    assert.ok(v(s, 'opencall_webhook_deliveries_total{outcome="failed"}') >= 1);
    assert.equal(v(s, 'opencall_webhook_deliveries_total{outcome="delivered"}'), 0);

    // The receiver comes back: the backlog drains to zero and every event counts as delivered.
    const hooks = await HookRecorder.start(hookPort);
    try {
      await hooks.waitAcked(c5.callId, 2, 5000);
      for (const id of [c1, c2, c3, c4].map((x) => x.callId)) await hooks.waitAcked(id, 1, 5000);
      let after = await scrape(server);
      for (let i = 0; i < 100 && v(after, 'opencall_webhook_queue_depth') > 0; i++) {
        await sleep(50);
        after = await scrape(server);
      }
      assert.equal(v(after, 'opencall_webhook_queue_depth'), 0);
      assert.equal(v(after, 'opencall_webhook_delivery_lag_seconds'), 0);
      assert.equal(v(after, 'opencall_webhook_deliveries_total{outcome="delivered"}'), 21);
      assert.equal(hooks.hits.filter((h) => h.status === 200).length, 21);
    } finally {
      await hooks.close();
    }

    // Sign-outs show at once.
    await d!.engine.hangup();
    await cleanup(a2);
    const gone = await scrape(server);
    assert.equal(v(gone, 'opencall_signed_in_devices'), 5);
    assert.equal(v(gone, 'opencall_signed_in_users'), 5);
    assert.equal(v(gone, 'opencall_active_calls'), 0);
    assert.equal(v(gone, 'opencall_calls_total{result="Cancel",type="SingleCall"}'), 2);
  });

  it('counts refusals by code and transport: 4003 oversized frame, 4029 flood, 4030 devices, 429 HTTP', async () => {
    const before = await scrape(server);
    const raw = await rawSocket(server);
    const auth = await raw.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'm_raw', userSig: sig('m_raw'), deviceId: 'dev_raw' });
    assert.equal(auth.ok, true);
    raw.send(JSON.stringify({ v: 1, id: 2, type: 'ping', data: { pad: 'x'.repeat(3000) } }));
    assert.equal((await raw.next((f) => f.id === 2)).error?.code, 4003);
    for (let i = 0; i < 100; i++) raw.send({ v: 1, id: 100 + i, type: 'ping', data: {} });
    await raw.next((f) => f.id === 199);
    const flooded = raw.frames.filter((f) => f.error?.code === 4029).length;
    assert.ok(flooded >= 50, `${flooded} pings refused`);
    raw.close();

    // Third device of one user with maxDevicesPerUser 2.
    const devices = [new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID }), new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID }), new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID })];
    await devices[0]!.init('m_dev', sig('m_dev'));
    await devices[1]!.init('m_dev', sig('m_dev'));
    await assert.rejects(devices[2]!.init('m_dev', sig('m_dev')), { code: 4030 });
    await Promise.all(devices.map((x) => x.unInit()));

    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${server.url}/v4/call_engine_http_srv/end_call?sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&random=1&contenttype=json`, { method: 'POST', body: '{"CallId":"c_none"}', headers: { 'content-type': 'application/json' } }).then((r) => r.status)),
    );
    const http429 = statuses.filter((x) => x === 429).length;
    assert.ok(http429 >= 5, `${http429} HTTP refusals`);

    const s = await scrape(server);
    const grew = (series: string): number => v(s, series) - v(before, series);
    assert.equal(grew('opencall_refusals_total{code="4003",transport="ws"}'), 1);
    assert.equal(grew('opencall_refusals_total{code="4029",transport="ws"}'), flooded);
    assert.equal(grew('opencall_refusals_total{code="4030",transport="ws"}'), 1);
    assert.equal(grew('opencall_refusals_total{code="4029",transport="http"}'), http429);
  });
});
