/**
 * SPEC §9 action token and crash safety: `POST /push/action` accepts only the token bound to the
 * call, the user and the invitation's deadline (forged, wrong user, wrong call, expired and replayed
 * tokens are refused), and a push committed but not yet delivered when the server is SIGKILLed
 * goes out after the restart, once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { RestartableServer, fastUser } from './fixtures/durabilityClients.js';
import { startTestServer } from './helpers/server.js';
import { LocalPushService } from './helpers/pushService.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { VAPID, pushAction, registerAndClose, stepsOf, trace, traceUntil } from './push-support.js';

const audio = CallMediaType.audio;

/**
 * A resent invite push carries the seconds left to ring (rounded up), not the full 30 s. The
 * resend happened between `earliest` and `latest` (ms after the call started): its TTL is what
 * was left then, with a second of slack for the server's own clock reading.
 */
function assertTtlCountsDown(ttl: number, earliest: number, latest: number): void {
  const most = Math.min(30, Math.ceil(30 - earliest / 1000) + 1);
  const least = Math.max(1, Math.ceil(30 - latest / 1000) - 1);
  assert.ok(ttl >= least && ttl <= most, `TTL is the time left to ring: ${ttl}, expected ${least}…${most}`);
  if (earliest >= 2000) assert.ok(ttl < 30, `TTL counts down: ${ttl}`);
}

describe('push actions (SPEC §9)', () => {
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
    server = await startTestServer({ defaultRingTimeoutSeconds: 30, push: { vapid: VAPID, allowHttpEndpoints: true } });
  });
  after(async () => {
    await cleanup(...live);
    await server.close();
    await push.close();
  });

  const inviteOf = async (callId: string): Promise<{ token: string; deadline: number }> => {
    const p = await push.waitFor((x) => x.payload['callId'] === callId && x.payload['type'] === 'call.invite');
    return { token: String(p.payload['actionToken']), deadline: Number(p.payload['deadline']) };
  };

  it('shown and reject with the right token; forged, wrong user, wrong call and replayed tokens are refused', async () => {
    const [alice, dave, bob] = await users('ka_alice', 'ka_dave', 'ka_bob');
    await registerAndClose(bob!, push.subscribe());
    const c1 = (await alice!.engine.calls([bob!.id], audio)).callId;
    const c2 = (await dave!.engine.calls([bob!.id], audio)).callId;
    const t1 = (await inviteOf(c1)).token;
    const t2 = (await inviteOf(c2)).token;
    assert.notEqual(t1, t2);

    const refused = (r: { status: number; body: { error?: { code: number } } }, what: string): void => {
      assert.equal(r.status, 403, what);
      assert.equal(r.body.error?.code, 4031, what);
    };
    refused(await pushAction(server, { callId: c1, userId: bob!.id, action: 'reject', token: 'A'.repeat(43) }), 'forged');
    refused(await pushAction(server, { callId: c1, userId: alice!.id, action: 'reject', token: t1 }), 'wrong user');
    refused(await pushAction(server, { callId: c2, userId: bob!.id, action: 'reject', token: t1 }), 'wrong call');
    refused(await pushAction(server, { callId: 'c_unknownunknownunknown', userId: bob!.id, action: 'reject', token: t1 }), 'unknown call');
    const bad = await pushAction(server, { callId: c1, userId: bob!.id, action: 'explode', token: t1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error?.code, -1202);
    assert.equal(alice!.rec.names().includes('onUserReject'), false, 'nothing refused changed the call');

    assert.deepEqual(await pushAction(server, { callId: c1, userId: bob!.id, action: 'shown', token: t1 }), { status: 200, body: { ok: true } });
    assert.deepEqual(await pushAction(server, { callId: c1, userId: bob!.id, action: 'reject', token: t1 }), { status: 200, body: { ok: true } });
    await alice!.rec.waitFor('onUserReject', (a) => a[0] === bob!.id);
    await alice!.rec.waitFor('onCallNotConnected');
    const w = await push.waitFor((x) => x.payload['callId'] === c1 && x.payload['type'] === 'call.withdraw');
    assert.equal(w.payload['reason'], 'rejected');

    const replay = await pushAction(server, { callId: c1, userId: bob!.id, action: 'reject', token: t1 });
    assert.equal(replay.status, 409, 'replayed after the call ended');
    assert.match(replay.body.error?.message ?? '', /ended/);
    const steps = await traceUntil(server.url, c1, (s) => s.filter((x) => x.Step === 'push.sent').length === 2);
    assert.deepEqual(stepsOf(steps, bob!.id), [
      'push.queued (invite)',
      'push.sent (invite webpush 201)',
      'notification.shown',
      'rejected',
      'push.queued (withdraw rejected)',
      'push.sent (withdraw webpush 201)',
    ]);
    // Dave's call to bob is untouched by all of this.
    assert.equal(dave!.rec.names().includes('onUserReject'), false);
    await dave!.engine.hangup();
  });

  it('a token is refused once its invitation deadline passed', async () => {
    const [alice, bob] = await users('kx_alice', 'kx_bob');
    await registerAndClose(bob!, push.subscribe());
    const c = (await alice!.engine.calls([bob!.id], audio, { timeout: 1 })).callId;
    const { token, deadline } = await inviteOf(c);
    await sleep(Math.max(0, deadline - Date.now()) + 100);
    for (const action of ['shown', 'reject']) {
      const r = await pushAction(server, { callId: c, userId: bob!.id, action, token });
      assert.equal(r.status, 403, action);
      assert.match(r.body.error?.message ?? '', /expired/);
    }
  });
});

describe('push crash safety (SPEC §9)', () => {
  let srv: RestartableServer;
  let push: LocalPushService;
  const live: TestUser[] = [];
  before(async () => {
    push = await new LocalPushService().start();
    srv = new RestartableServer({ defaultRingTimeoutSeconds: 30, push: { vapid: VAPID, allowHttpEndpoints: true, timeoutMs: 60_000 } });
    await srv.start();
  });
  after(async () => {
    await cleanup(...live);
    await srv.dispose();
    await push.close();
  });

  it('SIGKILL after the commit, before the push was acknowledged: sent again after restart, once', async () => {
    const alice = await fastUser(srv.url, 'kk_alice');
    const bob = await fastUser(srv.url, 'kk_bob');
    live.push(alice, bob);
    const sub = push.subscribe('hang');
    await registerAndClose(bob, sub);
    const started = Date.now();
    const { callId } = await alice.engine.calls([bob.id], audio);
    // The push is committed and its request is held open by the service: the row is not settled.
    await push.waitFor((p) => p.payload['callId'] === callId);
    await srv.kill();
    push.setMode(sub.endpoint, 'ok');
    const restarting = Date.now() - started;
    await srv.restart();
    await push.waitFor((p) => p.payload['callId'] === callId && push.for(sub.endpoint).length === 2, 10_000);
    const resent = Date.now() - started;
    await sleep(1500);
    const invites = push.for(sub.endpoint).filter((p) => p.payload['callId'] === callId);
    assert.equal(invites.length, 2, 'one unanswered attempt before the kill, exactly one after the restart');
    assert.equal(invites[1]!.payload['type'], 'call.invite');
    assertTtlCountsDown(invites[1]!.ttl, restarting, resent);
    const steps = await traceUntil(srv.url, callId, (s) => s.some((x) => x.Step === 'push.sent'));
    assert.deepEqual(stepsOf(steps, bob.id), ['push.queued (invite)', 'push.sent (invite webpush 201)']);
    await alice.engine.hangup().catch(() => undefined);
  });
});

describe('push crash safety: killed between the commit and the send (SPEC §9)', () => {
  let srv: RestartableServer;
  let push: LocalPushService;
  const live: TestUser[] = [];
  before(async () => {
    push = await new LocalPushService().start();
    srv = new RestartableServer({ defaultRingTimeoutSeconds: 30, push: { vapid: VAPID, allowHttpEndpoints: true } });
    // Test-only switch (docs/push.md): this incarnation commits push rows but never sends them, so
    // the kill lands in the window between the commit and the send every time.
    await srv.start({ OPENCALL_TEST_HOLD_PUSHES: '1' });
  });
  after(async () => {
    await cleanup(...live);
    await srv.dispose();
    await push.close();
  });

  it('SIGKILL after the invite committed its push row, before any send: the push goes out after restart, once', async () => {
    const alice = await fastUser(srv.url, 'kc_alice');
    const bob = await fastUser(srv.url, 'kc_bob');
    live.push(alice, bob);
    const sub = push.subscribe();
    await registerAndClose(bob, sub);
    const started = Date.now();
    const { callId } = await alice.engine.calls([bob.id], audio);
    // `push.queued` is written in the invite's transaction, with the queue row.
    const before = await traceUntil(srv.url, callId, (s) => s.some((x) => x.UserId === bob.id && x.Step === 'push.queued'));
    assert.deepEqual(stepsOf(before, bob.id), ['push.queued (invite)']);
    assert.equal(push.for(sub.endpoint).length, 0, 'nothing was sent before the kill');
    await srv.kill();
    const restarting = Date.now() - started;
    await srv.restart();
    const steps = await traceUntil(srv.url, callId, (s) => s.some((x) => x.Step === 'push.sent'), 15_000);
    const resent = Date.now() - started;
    // Three scan intervals (500 ms each) after the send: a second send would have happened by now.
    await sleep(1500);
    const invites = push.for(sub.endpoint).filter((p) => p.payload['callId'] === callId);
    assert.equal(invites.length, 1, 'exactly one push after the restart');
    assert.equal(invites[0]!.payload['type'], 'call.invite');
    assert.equal(invites[0]!.payload['userId'], bob.id);
    assertTtlCountsDown(invites[0]!.ttl, restarting, resent);
    assert.deepEqual(stepsOf(steps, bob.id), ['push.queued (invite)', 'push.sent (invite webpush 201)']);
    assert.deepEqual(stepsOf(await trace(srv.url, callId), bob.id), ['push.queued (invite)', 'push.sent (invite webpush 201)']);
    await alice.engine.hangup().catch(() => undefined);
  });
});
