/**
 * SPEC §9 Web Push end to end, without the internet: a local push service decrypts every push
 * with the subscription's own keys and verifies VAPID, TTL, Urgency and Topic. Invites reach a
 * signed-out user, withdrawals follow cancel / timeout / answered on another device, 410 drops the
 * registration, and a hanging push service never delays the call for anyone else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { startTestServer } from './helpers/server.js';
import { LocalPushService } from './helpers/pushService.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { VAPID, registerAndClose, stepsOf, trace, traceUntil } from './push-support.js';

const video = CallMediaType.video;

describe('Web Push (SPEC §9)', () => {
  let server: RunningServer;
  let push: LocalPushService;
  const live: TestUser[] = [];
  const users = async (...ids: string[]): Promise<TestUser[]> => {
    const us = await Promise.all(ids.map((id) => user(server, id)));
    live.push(...us);
    return us;
  };
  before(async () => {
    push = await new LocalPushService().start();
    server = await startTestServer({ defaultRingTimeoutSeconds: 30, push: { vapid: VAPID, allowHttpEndpoints: true, timeoutMs: 800 } });
  });
  after(async () => {
    await cleanup(...live);
    await server.close();
    await push.close();
  });

  it('GET /push/vapid-public-key answers the configured key', async () => {
    const r = await fetch(`${server.url}/push/vapid-public-key`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { publicKey: VAPID.publicKey });
  });

  it('a call to a signed-out user pushes call.invite (encrypted, VAPID, TTL = seconds left, Urgency high, Topic = callId); cancel withdraws it', async () => {
    const [alice, bob] = await users('pa_alice', 'pa_bob');
    await alice!.engine.setSelfInfo('Alice A.', '');
    const sub = push.subscribe();
    await registerAndClose(bob!, sub);
    const t0 = Date.now();
    const { callId } = await alice!.engine.calls([bob!.id], video, { offlinePushInfo: { title: 'Alice calling' } });
    const invite = await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.invite');
    const { actionToken, deadline, ...rest } = invite.payload;
    assert.deepEqual(rest, {
      type: 'call.invite',
      callId,
      userId: 'pa_bob',
      callerId: 'pa_alice',
      callerProfile: { userId: 'pa_alice', nickname: 'Alice A.', avatar: '' },
      mediaType: video,
      scene: 'single',
      offlinePushInfo: { title: 'Alice calling' },
    });
    assert.equal(typeof actionToken, 'string');
    assert.ok(typeof deadline === 'number' && deadline >= t0 + 30_000 && deadline <= Date.now() + 30_000, `deadline ${String(deadline)}`);
    assert.ok(invite.ttl <= 30 && invite.ttl >= 28, `TTL ${invite.ttl}`);
    assert.equal(invite.urgency, 'high');
    assert.equal(invite.topic, callId);
    assert.equal(invite.vapidKey, VAPID.publicKey);
    assert.equal(invite.claims.sub, VAPID.subject);

    await alice!.engine.hangup();
    const withdraw = await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.withdraw');
    assert.equal(withdraw.payload['reason'], 'canceled');
    assert.equal(withdraw.payload['deadline'], deadline);
    assert.equal(withdraw.topic, callId, 'same topic: the service replaces an undelivered invite');
    assert.deepEqual(push.rejected, []);
  });

  it('ring timeout withdraws with noResponse', async () => {
    const [alice, bob] = await users('pt_alice', 'pt_bob');
    const sub = push.subscribe();
    await registerAndClose(bob!, sub);
    const { callId } = await alice!.engine.calls([bob!.id], video, { timeout: 1 });
    await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.invite');
    const w = await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.withdraw', 4000);
    assert.equal(w.payload['reason'], 'noResponse');
  });

  it('answered on another device: the app opens, rings, is accepted, and the push is withdrawn with accepted', async () => {
    const [alice, bob] = await users('pe_alice', 'pe_bob');
    await registerAndClose(bob!, push.subscribe());
    const { callId } = await alice!.engine.calls([bob!.id], video);
    await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.invite');
    const [bob2] = await users('pe_bob');
    await bob2!.rec.waitFor('onCallReceived');
    await bob2!.engine.accept();
    const w = await push.waitFor((p) => p.payload['callId'] === callId && p.payload['type'] === 'call.withdraw');
    assert.equal(w.payload['reason'], 'accepted');
    await alice!.engine.hangup();
  });

  it('410 from the push service drops the registration; the next call finds none', async () => {
    const [alice, bob] = await users('pg_alice', 'pg_bob');
    const sub = push.subscribe('gone');
    await registerAndClose(bob!, sub);
    const first = (await alice!.engine.calls([bob!.id], video)).callId;
    const steps = await traceUntil(server.url, first, (s) => s.some((x) => x.Step === 'push.gone'));
    const gone = steps.find((x) => x.Step === 'push.gone')!;
    assert.equal(gone.Detail?.['provider'], 'webpush');
    assert.equal(gone.Detail?.['status'], 410);
    await alice!.engine.hangup();
    const second = (await alice!.engine.calls([bob!.id], video)).callId;
    await traceUntil(server.url, second, (s) => s.some((x) => x.Step === 'push.none'));
    assert.equal(push.for(sub.endpoint).length, 1, 'the gone subscription was pushed once, never again');
    await alice!.engine.hangup();
  });

  it('a push service that hangs never delays the call: the other invitee rings and connects while the push is still unanswered', async () => {
    const [alice, bob, carol] = await users('ph_alice', 'ph_bob', 'ph_carol');
    const sub = push.subscribe('hang');
    await registerAndClose(bob!, sub);
    const hangingBefore = push.hanging.length;
    const t0 = performance.now();
    const { callId } = await alice!.engine.calls([bob!.id, carol!.id], video);
    await carol!.rec.waitFor('onCallReceived');
    const ringMs = performance.now() - t0;
    await carol!.engine.accept();
    await alice!.rec.waitFor('onUserJoin', (a) => a[0] === carol!.id);
    // The push request reached the service and is still held open right now.
    await push.waitFor((p) => p.subscription === sub.endpoint && p.payload['callId'] === callId);
    assert.ok(push.hanging.length > hangingBefore && !push.hanging.at(-1)!.writableEnded, 'the push request is still hanging');
    process.stdout.write(`# invite → onCallReceived for the other invitee with a hanging push service: ${ringMs.toFixed(1)} ms\n`);
    // The provider's deadline (800 ms here) turns the hang into push.failed; the call went on regardless.
    const steps = await traceUntil(server.url, callId, (s) => s.some((x) => x.UserId === bob!.id && x.Step === 'push.failed'));
    assert.match(String(steps.find((x) => x.Step === 'push.failed')!.Detail?.['error']), /timed out/);
    await alice!.engine.hangup();
  });

  it('registration input: http endpoints are refused unless allowed; bad keys are -1202', async () => {
    const strict = await startTestServer({ push: { vapid: VAPID } });
    const [u] = [await user(strict, 'pr_user')];
    live.push(u);
    await assert.rejects(u.engine.registerPush({ type: 'webpush', subscription: push.subscribe() }), (e: { code: number; message: string }) => e.code === -1202 && /https/.test(e.message));
    await assert.rejects(
      u.engine.registerPush({ type: 'webpush', subscription: { endpoint: 'https://push.example/x', keys: { p256dh: 'short', auth: 'x' } } }),
      (e: { code: number }) => e.code === -1202,
    );
    await u.engine.registerPush({ type: 'webpush', subscription: { ...push.subscribe(), endpoint: 'https://push.example/ok' } });
    assert.equal(await u.engine.unregisterPush({ type: 'webpush', subscription: { ...push.subscribe(), endpoint: 'https://push.example/ok' } }), true);
    assert.equal(await u.engine.unregisterPush({ type: 'webpush', subscription: { ...push.subscribe(), endpoint: 'https://push.example/ok' } }), false);
    await u.engine.unInit();
    await strict.close();
  });

  it('trace: one open device, one closed app with push, one failing provider — exact steps in order', async () => {
    const [alice, open, closed, failing] = await users('px_alice', 'px_open', 'px_closed', 'px_fail');
    await registerAndClose(closed!, push.subscribe());
    await registerAndClose(failing!, push.subscribe('forbidden'));
    const { callId } = await alice!.engine.calls([open!.id, closed!.id, failing!.id], video);
    await open!.rec.waitFor('onCallReceived');
    await traceUntil(server.url, callId, (s) => s.some((x) => x.UserId === open!.id && x.Step === 'received') && s.filter((x) => /^push\.(sent|failed)$/.test(x.Step)).length === 2);
    await open!.engine.accept();
    await alice!.rec.waitFor('onUserJoin');
    await sleep(50);
    await alice!.engine.hangup();
    await open!.rec.waitFor('onCallEnd');
    const steps = await traceUntil(server.url, callId, (s) => s.filter((x) => /^push\.(sent|failed)$/.test(x.Step)).length === 4);
    const dev = steps.find((x) => x.UserId === open!.id && x.Step === 'rung')?.DeviceId;
    assert.ok(dev, 'the open device was rung');
    assert.deepEqual(stepsOf(steps, open!.id), [`rung @${dev}`, `received @${dev}`, `accepted @${dev}`]);
    assert.deepEqual(stepsOf(steps, closed!.id), ['push.queued (invite)', 'push.sent (invite webpush 201)', 'canceled', 'push.queued (withdraw canceled)', 'push.sent (withdraw webpush 201)']);
    assert.deepEqual(stepsOf(steps, failing!.id), ['push.queued (invite)', 'push.failed (invite webpush 403)', 'canceled', 'push.queued (withdraw canceled)', 'push.failed (withdraw webpush 403)']);
    for (const s of steps.filter((x) => x.Step === 'push.sent')) assert.equal(typeof s.Detail?.['ms'], 'number');
    const times = steps.map((s) => s.Time);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'steps are in time order');
    assert.deepEqual(await trace(server.url, callId), steps, 'the trace is stable once the call is over');

    // engine.getCallTrace (the web app's Details): the same steps, for anyone who was in the call.
    const wire = steps.map((x) => ({ userId: x.UserId, ...(x.DeviceId ? { deviceId: x.DeviceId } : {}), step: x.Step, time: x.Time, ...(x.Detail ? { detail: x.Detail } : {}) }));
    assert.deepEqual(await alice!.engine.getCallTrace(callId), wire, 'the caller reads it');
    assert.deepEqual(await open!.engine.getCallTrace(callId), wire, 'an invitee reads it');
    const [stranger] = await users('px_stranger');
    await assert.rejects(stranger!.engine.getCallTrace(callId), (e: { code?: number }) => e.code === -1203, 'someone who was not in the call is refused');
    await assert.rejects(alice!.engine.getCallTrace('not a call id'), (e: { code?: number }) => e.code === -1202);
  });
});
