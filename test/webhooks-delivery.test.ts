/**
 * Webhook delivery when things go wrong (SPEC §6.3 "at least once, in order per call, retried,
 * surviving restarts"), with real calls, a real server and a real receiver: a receiver that fails
 * with 500s, then hangs past `webhookRetry.timeoutMs`, then recovers; a receiver that hangs must
 * not slow calls down; and a server process killed with SIGKILL while deliveries are pending
 * delivers them after a restart on the same SQLite file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { CallMediaType } from '@opencall/client';
import { verifyWebhook } from '@opencall/server';
import type { RunningServer } from '@opencall/server';
import { startServerProcess } from './helpers/processServer.js';
import { TEST_APP_ID, TEST_SECRET, startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder, checkDeliveries } from './webhooks-support.js';
import type { Hit } from './webhooks-support.js';

/** Polls `check` until it holds. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One sample of a Prometheus series from `/metrics`, e.g. `opencall_webhook_queue_depth`. */
async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** A→B, B accepts, A hangs up: five webhooks. Resolves with the call id. */
async function fullCall(a: TestUser, b: TestUser): Promise<string> {
  const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
  await b.rec.waitFor('onCallReceived', (args) => args[0] === callId);
  await b.engine.accept();
  await a.engine.hangup();
  await b.rec.waitFor('onCallEnd', (args) => args[0] === callId);
  return callId;
}

/**
 * Every failed request was a try of an event that was later acknowledged with the same id,
 * sequence, bytes and signature; and no request of a call came before its predecessor's 2xx.
 */
function assertStableAndOrdered(hits: Hit[]): void {
  for (const f of hits.filter((h) => h.status !== 200)) {
    const ok = hits.find((h) => h.eventId === f.eventId && h.status === 200);
    assert.ok(ok, `${f.eventId} was finally delivered`);
    assert.ok(ok.raw.equals(f.raw), `${f.eventId}: same bytes on retry`);
    assert.equal(ok.seq, f.seq);
    // Each try is signed afresh with its own send time; every one verifies.
    assert.equal(verifyWebhook(f.raw, f.headers, HOOK_SECRET), true, `${f.eventId}: a retry's signature verifies`);
  }
  const acked = new Set<string>();
  for (const h of hits) {
    if (h.seq > 1) assert.ok(acked.has(`${h.callId}.${h.seq - 1}`), `${h.eventId} sent before ${h.callId}.${h.seq - 1} was acknowledged`);
    if (h.status === 200) acked.add(h.eventId);
  }
}

describe('webhook delivery under failure (SPEC §6.3)', () => {
  it('through 500s, hangs past timeoutMs and recovery every event arrives once acknowledged, signed, in order per call, with stable ids — and calls stay fast meanwhile', async (t) => {
    const hooks = await HookRecorder.start();
    t.after(() => hooks.close());
    let phase: 'fail' | 'hang' | 'ok' = 'fail';
    hooks.reply = () => (phase === 'fail' ? 500 : phase === 'hang' ? 'hang' : 200);
    const timeoutMs = 1000;
    const server = await startTestServer({
      webhookUrl: hooks.url,
      webhookSecret: HOOK_SECRET,
      webhookRetry: { initialDelayMs: 50, maxDelayMs: 200, maxAgeMs: 60_000, timeoutMs },
    });
    t.after(() => server.close());
    const since = Date.now();
    const [a, b, c, d] = (await Promise.all(['wd1_a', 'wd1_b', 'wd1_c', 'wd1_d'].map((id) => user(server, id)))) as [TestUser, TestUser, TestUser, TestUser];

    const first = await fullCall(a, b);
    await until(() => hooks.hits.filter((h) => h.status === 500).length >= 3, 'three 500 answers');
    phase = 'hang';
    await until(() => hooks.hits.some((h) => h.status === 'hang'), 'a hung request');

    // Calls while every webhook request hangs: accept → onCallBegin on both sides.
    const calls: string[] = [];
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { callId } = await c.engine.calls([d.id], CallMediaType.video);
      calls.push(callId);
      await d.rec.waitFor('onCallReceived', (args) => args[0] === callId);
      const callerBegin = c.rec.waitFor('onCallBegin', (args) => args[0] === callId);
      const t0 = performance.now();
      await d.engine.accept(); // the callee's onCallBegin fires before accept() resolves (SPEC §4)
      await callerBegin;
      latencies.push(performance.now() - t0);
      await c.engine.hangup();
      await d.rec.waitFor('onCallEnd', (args) => args[0] === callId);
    }
    const hungNow = hooks.hits.filter((h) => h.status === 'hang').length;
    assert.ok(hungNow >= 2, `requests were hanging while calls ran (${hungNow})`);
    assert.equal(hooks.acked().length, 0, 'nothing was acknowledged during the failures');
    const sorted = [...latencies].sort((x, y) => x - y);
    t.diagnostic(`accept→onCallBegin while the receiver hangs: median ${sorted[2]!.toFixed(1)} ms, max ${sorted[4]!.toFixed(1)} ms`);
    // One call waiting for one hung delivery would take timeoutMs; calls never wait for webhooks.
    assert.ok(sorted[4]! < timeoutMs / 4, `accept→onCallBegin ${sorted[4]!.toFixed(1)} ms`);

    phase = 'ok';
    const all: Hit[] = [];
    for (const callId of [first, ...calls]) all.push(...(await hooks.waitAcked(callId, 5, 10_000)));
    checkDeliveries(all, since, TEST_APP_ID);
    assert.equal(hooks.acked().length, 30, 'each of the 30 events acknowledged exactly once');
    assertStableAndOrdered(hooks.hits);
    const statuses = new Set(hooks.hits.map((h) => h.status));
    assert.ok(statuses.has(500) && statuses.has('hang'), 'both failure kinds were exercised');
    assert.equal(hooks.rejected, 0);
    await cleanup(a, b, c, d);
  });

  it('a server process SIGKILLed while deliveries are pending delivers them after restarting on the same SQLite file', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencall-wh-kill-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    // A port with nothing listening: the receiver is down until after the crash.
    const probe = await HookRecorder.start();
    const port = probe.port;
    await probe.close();
    const options = {
      port: 0,
      secretKey: TEST_SECRET,
      sdkAppId: TEST_APP_ID,
      storage: join(dir, 'opencall.db'),
      sfu: 'none' as const,
      webApp: false,
      logLevel: 'silent' as const,
      heartbeatTimeoutMs: 1500,
      defaultRingTimeoutSeconds: 5,
      webhookUrl: `http://127.0.0.1:${port}/opencall`,
      webhookSecret: HOOK_SECRET,
      webhookRetry: { initialDelayMs: 100, maxDelayMs: 300, maxAgeMs: 600_000, timeoutMs: 1000 },
    };
    const since = Date.now();
    const crashed = await startServerProcess(options);
    t.after(() => crashed.kill());
    // The helper signs users in against any server URL.
    const remote = { url: crashed.url } as RunningServer;
    const [a, b, c, d] = (await Promise.all(['wk_a', 'wk_b', 'wk_c', 'wk_d'].map((id) => user(remote, id)))) as [TestUser, TestUser, TestUser, TestUser];
    const ended = await fullCall(a, b);
    const { callId: live } = await c.engine.calls([d.id], CallMediaType.audio);
    await d.rec.waitFor('onCallReceived');
    await d.engine.accept();
    // The server has tried and failed; 5 + 3 events wait in its outbox.
    await until(async () => (await metric(crashed.url, 'opencall_webhook_deliveries_total{outcome="failed"}')) >= 2, 'failed attempts');
    assert.equal(await metric(crashed.url, 'opencall_webhook_queue_depth'), 8);

    await crashed.kill();
    // Once the engines noticed the lost connection, unInit signs them out locally without waiting
    // for a server that is not coming back.
    await sleep(500);
    await cleanup(a, b, c, d);
    const hooks = await HookRecorder.start(port);
    t.after(() => hooks.close());
    const restarted = await startServerProcess(options);
    t.after(() => restarted.stop());

    const got1 = await hooks.waitAcked(ended, 5, 10_000);
    assert.deepEqual(got1.map((h) => h.command), [
      'Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall',
    ]);
    // The live call survived the crash; nobody came back within heartbeatTimeoutMs, so it ended as Offline.
    const got2 = await hooks.waitAcked(live, 5, 10_000);
    const actions = got2.map((h) => (h.body.CallbackCommand === 'Call.CallbackAfterMemberChanged' ? h.body.ChangedUserList.map((x) => x.ActionType).join() : h.command));
    assert.deepEqual(actions, ['Call.CallbackAfterStartCall', 'Invite', 'Accept', 'Offline', 'Call.CallbackAfterEndCall']);
    const end = got2[4]!.body;
    assert.equal(end.CallbackCommand === 'Call.CallbackAfterEndCall' && end.CallRecord.CallResult, 'Offline');
    checkDeliveries([...got1, ...got2], since, TEST_APP_ID);
    await sleep(200);
    assert.equal(hooks.hits.length, 10, 'nothing delivered twice: none of them had been acknowledged before the crash');
    assert.equal(await metric(restarted.url, 'opencall_webhook_queue_depth'), 0);
  });
});
