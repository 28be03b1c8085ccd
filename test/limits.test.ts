/**
 * Every limit of SPEC §2 provoked with a real flood on loopback: oversized frames (4003, and
 * 1009 past four times the limit), messages per second per connection (4029), HTTP requests per
 * second per IP on REST and dev endpoints (429 with code 4029) and devices per user (4030). Each
 * refusal is a clear error with a code, hits only the offender, and the documented defaults are
 * the real ones.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { signedInRaw } from './helpers/rawSocket.js';
import type { Raw } from './helpers/rawSocket.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const LIMITS = { maxMessageBytes: 1024, messagesPerSecondPerConnection: 20, requestsPerSecondPerIp: 5, maxDevicesPerUser: 2 };

let server: RunningServer;
before(async () => {
  server = await startTestServer({ devicePolicy: 'multi', limits: LIMITS });
});
after(() => server.close());

/** A raw socket signed in as `userId`. */
const signedIn = (userId: string): Promise<Raw> => signedInRaw(server, userId);

/** A→B accepted then hung up; resolves with accept → caller's onCallBegin in ms. */
async function quickCall(a: TestUser, b: TestUser): Promise<number> {
  const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
  await b.rec.waitFor('onCallReceived', (x) => x[0] === callId);
  const begin = a.rec.waitFor('onCallBegin', (x) => x[0] === callId);
  const t0 = performance.now();
  await b.engine.accept();
  await begin;
  const ms = performance.now() - t0;
  await a.engine.hangup();
  await b.rec.waitFor('onCallEnd', (x) => x[0] === callId);
  return ms;
}

/** A REST call as the administrator; resolves with the HTTP status and the body. */
async function rest(target: RunningServer): Promise<{ status: number; body: Record<string, unknown> }> {
  const q = `sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&random=1&contenttype=json`;
  const res = await fetch(`${target.url}/v4/call_record_http_srv/get_record_by_filter?${q}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('limits (SPEC §2)', () => {
  it('a frame over maxMessageBytes gets 4003 naming the limit for its request id; the socket stays usable', async () => {
    const r = await signedIn('lim_raw');
    r.send(JSON.stringify({ v: 1, id: 2, type: 'call.start', data: { userIds: ['lim_b'], mediaType: 1, params: { userData: 'x'.repeat(1500) } } }));
    const refused = await r.next((f) => f.type === 'response' && f.id === 2);
    assert.equal(refused.error?.code, 4003);
    assert.match(refused.error?.message ?? '', /message too large: limit 1024 bytes/);
    const pong = await r.request(3, 'ping');
    assert.equal(pong.ok, true, 'the same socket carries on');
    r.close();
  });

  it('the SDK refuses a request over the limit itself with -1202, and the engine carries on', async () => {
    const [a, b] = [await user(server, 'lim_a'), await user(server, 'lim_b')];
    await assert.rejects(a.engine.calls([b.id], CallMediaType.audio, { userData: 'x'.repeat(1500) }), { code: -1202 });
    assert.deepEqual(b.rec.names(), [], 'nothing reached the callee');
    assert.ok((await quickCall(a, b)) < 1000);
    await cleanup(a, b);
  });

  it('a frame over four times maxMessageBytes closes only that socket with 1009', async () => {
    const [a, b] = [await user(server, 'lim_c'), await user(server, 'lim_d')];
    const r = await signedIn('lim_huge');
    const closed = new Promise<number>((res) => r.ws.once('close', (code) => res(code)));
    r.send(JSON.stringify({ v: 1, id: 2, type: 'ping', data: { pad: 'y'.repeat(4 * 1024) } }));
    assert.equal(await closed, 1009);
    assert.ok((await quickCall(a, b)) < 1000, 'other users call as usual');
    await cleanup(a, b);
  });

  it('a flood over messagesPerSecondPerConnection gets 4029 for each refused frame while other connections keep working', async () => {
    const [a, b] = [await user(server, 'lim_e'), await user(server, 'lim_f')];
    const flooder = await signedIn('lim_flood');
    const t0 = performance.now();
    const n = 400;
    for (let i = 0; i < n; i++) flooder.send({ v: 1, id: 10 + i, type: 'ping', data: {} });
    // A real call while the flood is being refused.
    const callMs = await quickCall(a, b);
    await flooder.next((f) => f.id === 10 + n - 1);
    await sleep(100);
    const elapsed = (performance.now() - t0) / 1000;
    const answers = flooder.frames.filter((f) => f.type === 'response' && f.id !== undefined && f.id >= 10);
    const refused = answers.filter((f) => f.error?.code === 4029);
    const served = answers.filter((f) => f.ok === true);
    assert.equal(answers.length, n, 'every frame got an answer with its id');
    assert.equal(refused.length + served.length, n);
    // Burst of two seconds' worth (40; the auth took one) plus the refill while flooding.
    assert.ok(served.length >= 39 && served.length <= 40 + Math.ceil(20 * elapsed), `${served.length} served in ${elapsed.toFixed(2)} s`);
    assert.equal(refused[0]!.error!.message, 'rate limited: at most 20/s');
    assert.ok(callMs < 500, `accept → onCallBegin ${callMs.toFixed(1)} ms during the flood`);
    // A limit, not a ban: after a pause the connection is served again.
    await sleep(1100);
    assert.equal((await flooder.request(9999, 'ping')).ok, true);
    flooder.close();
    await cleanup(a, b);
  });

  it('REST requests over requestsPerSecondPerIp get HTTP 429 with ErrorCode 4029; health, metrics and signaling stay open', async () => {
    await sleep(2100); // a full bucket, whatever ran before
    const t0 = performance.now();
    const results = await Promise.all(Array.from({ length: 30 }, () => rest(server)));
    const elapsed = (performance.now() - t0) / 1000;
    const ok = results.filter((r) => r.status === 200);
    const limited = results.filter((r) => r.status === 429);
    assert.equal(ok.length + limited.length, 30);
    // Burst of two seconds' worth (10) plus the refill while the requests ran.
    assert.ok(ok.length >= 10 && ok.length <= 10 + Math.ceil(5 * elapsed), `${ok.length} served in ${elapsed.toFixed(2)} s`);
    assert.deepEqual(limited[0]!.body, { ActionStatus: 'FAIL', ErrorCode: 4029, ErrorInfo: 'rate limited', RequestId: '' });
    assert.equal(ok[0]!.body['ActionStatus'], 'OK');
    // Not limited: probes, metrics, and signing in over the WebSocket.
    const probes = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${server.url}/${i % 2 ? 'healthz' : 'metrics'}`).then((r) => r.status)));
    assert.deepEqual(new Set(probes), new Set([200]));
    const c = await user(server, 'lim_g');
    await cleanup(c);
    await sleep(1100);
    assert.equal((await rest(server)).status, 200, 'served again after the refill');
  });

  it('the development UserSig endpoint is limited the same way, with a JSON error carrying 4029', async (t) => {
    const dev = await startTestServer({ secretKey: undefined, limits: { requestsPerSecondPerIp: 3 } });
    t.after(() => dev.close());
    assert.equal(dev.config.devMode, true);
    const post = () =>
      fetch(`${dev.url}/dev/usersig`, { method: 'POST', body: '{"userId":"lim_dev"}', headers: { 'content-type': 'application/json' } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> }));
    const results = await Promise.all(Array.from({ length: 15 }, post));
    const limited = results.filter((r) => r.status === 429);
    assert.ok(results.filter((r) => r.status === 200).length >= 6);
    assert.ok(limited.length >= 5);
    assert.deepEqual(limited[0]!.body, { error: { code: 4029, message: 'rate limited' } });
  });

  it('a device over maxDevicesPerUser (policy multi) is refused with 4030; after a sign-out a new one gets in', async () => {
    const engines = [0, 1, 2].map(() => new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID }));
    await engines[0]!.init('lim_multi', sig('lim_multi'));
    await engines[1]!.init('lim_multi', sig('lim_multi'));
    await assert.rejects(engines[2]!.init('lim_multi', sig('lim_multi')), (err: { code: number; message: string }) => {
      assert.equal(err.code, 4030);
      assert.equal(err.message, 'too many devices signed in for this user: at most 2');
      return true;
    });
    // The two signed-in devices are untouched: one of them is rung.
    const ring = new Promise<void>((resolve) => engines.slice(0, 2).forEach((e) => e.addObserver({ onCallReceived: () => resolve() })));
    const caller = await user(server, 'lim_caller');
    await caller.engine.calls(['lim_multi'], CallMediaType.audio);
    await ring;
    await caller.engine.hangup();
    await engines[0]!.unInit();
    await engines[2]!.init('lim_multi', sig('lim_multi'));
    await Promise.all(engines.map((e) => e.unInit()));
    await cleanup(caller);
  });

  it('the defaults are the ones docs/operations.md documents', async (t) => {
    const plain = await startTestServer();
    t.after(() => plain.close());
    const doc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    const documented = (name: string): number => {
      const m = new RegExp(`\\| \`${name.replace('.', '\\.')}\` \\| ([0-9_]+) `).exec(doc);
      assert.ok(m, `${name} is in the limits table`);
      return Number(m[1]!.replaceAll('_', ''));
    };
    for (const [key, value] of Object.entries(plain.config.limits)) assert.equal(documented(`limits.${key}`), value, `limits.${key}`);
    for (const [key, value] of Object.entries(plain.config.webhookRetry)) assert.equal(documented(`webhookRetry.${key}`), value, `webhookRetry.${key}`);
  });
});
