/** SPEC §5.3: multi/group calls with real clients. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer({ defaultRingTimeoutSeconds: 1, maxParticipants: 4 });
});
after(() => server.close());

let n = 0;
async function users(k: number): Promise<TestUser[]> {
  n++;
  const out: TestUser[] = [];
  for (let i = 0; i < k; i++) out.push(await user(server, `m${n}_${String.fromCharCode(97 + i)}`));
  return out;
}

/** A calls B and C; B accepts. */
async function abcWithB(): Promise<TestUser[]> {
  const [a, b, c, ...rest] = await users(4);
  await a!.engine.calls([b!.id, c!.id], CallMediaType.audio);
  await b!.rec.waitFor('onCallReceived');
  await c!.rec.waitFor('onCallReceived');
  await b!.engine.accept();
  await a!.rec.waitFor('onUserJoin');
  return [a!, b!, c!, ...rest];
}

describe('multi calls (SPEC §5.3)', () => {
  it('every invitee gets onCallReceived with the full callee list; no onUserInviting for the initial calls()', async () => {
    const [a, b, c, d] = await users(4);
    const { callId } = await a!.engine.calls([b!.id, c!.id], CallMediaType.video);
    for (const u of [b!, c!]) {
      const ev = await u.rec.waitFor('onCallReceived');
      assert.deepEqual(ev.args.slice(0, 4), [callId, a!.id, [b!.id, c!.id], CallMediaType.video]);
    }
    assert.ok(!a!.rec.names().includes('onUserInviting'));
    await a!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('a reject goes to the caller and every other participant, ringing ones included', async () => {
    const [a, b, c, d] = await users(4);
    await a!.engine.calls([b!.id, c!.id, d!.id], CallMediaType.audio);
    await b!.rec.waitFor('onCallReceived');
    await c!.rec.waitFor('onCallReceived');
    await d!.rec.waitFor('onCallReceived');
    await b!.engine.accept();
    await c!.engine.reject();
    for (const u of [a!, b!, d!]) await u.rec.waitFor('onUserReject', (args) => args[0] === c!.id);
    await a!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('a late joiner gets onCallBegin then onUserJoin for each connected user; the others get onUserJoin(joiner)', async () => {
    const [a, b, c, d] = await abcWithB();
    c!.rec.clear();
    a!.rec.clear();
    b!.rec.clear();
    await c!.engine.accept();
    assert.deepEqual(c!.rec.names(), ['onCallBegin', 'onUserJoin', 'onUserJoin']);
    assert.deepEqual(c!.rec.events.slice(1).map((e) => e.args[0]).sort(), [a!.id, b!.id].sort());
    await a!.rec.waitFor('onUserJoin');
    await b!.rec.waitFor('onUserJoin');
    assert.deepEqual(a!.rec.lines(), [`onUserJoin(${c!.id})`]);
    assert.deepEqual(b!.rec.lines(), [`onUserJoin(${c!.id})`]);
    await a!.engine.hangup();
    await b!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('three connected, caller hangs up: the call continues for the other two', async () => {
    const [a, b, c, d] = await abcWithB();
    await c!.engine.accept();
    await a!.rec.waitFor('onUserJoin', (args) => args[0] === c!.id);
    await b!.rec.waitFor('onUserJoin', (args) => args[0] === c!.id);
    b!.rec.clear();
    c!.rec.clear();
    a!.rec.clear();
    await a!.engine.hangup();
    assert.deepEqual(a!.rec.lines().map((l) => l.split(',').slice(0, 4).join(',')), [`onCallEnd(callId,1,${CallEndReason.hangup},${a!.id}`]);
    await b!.rec.waitFor('onUserLeave');
    await c!.rec.waitFor('onUserLeave');
    await sleep(50);
    assert.deepEqual(b!.rec.lines(), [`onUserLeave(${a!.id})`]);
    assert.deepEqual(c!.rec.lines(), [`onUserLeave(${a!.id})`]);
    await b!.engine.hangup();
    await c!.rec.waitFor('onCallEnd');
    await cleanup(a!, b!, c!, d!);
  });

  it('two connected and one ringing, caller hangs up: B gets onUserLeave then onCallEnd, C gets onCallNotConnected(canceled, A)', async () => {
    const [a, b, c, d] = await abcWithB();
    b!.rec.clear();
    c!.rec.clear();
    await a!.engine.hangup();
    await b!.rec.waitFor('onCallEnd');
    assert.deepEqual(b!.rec.names(), ['onUserLeave', 'onCallEnd']);
    assert.deepEqual(b!.rec.events[1]!.args.slice(2, 4), [CallEndReason.hangup, a!.id]);
    await c!.rec.waitFor('onCallCancelled');
    assert.deepEqual(c!.rec.lines(), [`onCallNotConnected(callId,1,${CallEndReason.canceled},${a!.id},info(2))`, `onCallCancelled(${a!.id})`]);
    await cleanup(a!, b!, c!, d!);
  });

  it('nobody connected and the last invitee rejects: the caller gets onUserReject then onCallNotConnected(reject, last)', async () => {
    const [a, b, c, d] = await users(4);
    await a!.engine.calls([b!.id, c!.id], CallMediaType.audio);
    await b!.rec.waitFor('onCallReceived');
    await c!.rec.waitFor('onCallReceived');
    await b!.engine.reject();
    await a!.rec.waitFor('onUserReject');
    a!.rec.clear();
    await c!.engine.reject();
    await a!.rec.waitFor('onCallCancelled');
    assert.deepEqual(a!.rec.lines(), [
      `onUserReject(${c!.id})`,
      `onCallNotConnected(callId,1,${CallEndReason.reject},${c!.id},info(1))`,
      `onCallCancelled(${a!.id})`,
    ]);
    await cleanup(a!, b!, c!, d!);
  });

  it('inviteUser: everyone gets onUserInviting, the invitee gets onCallReceived with callerId = original caller', async () => {
    const [a, b, c, d] = await abcWithB();
    a!.rec.clear();
    c!.rec.clear();
    b!.rec.clear();
    const invited = await b!.engine.inviteUser([d!.id, d!.id, a!.id]);
    assert.deepEqual(invited, [d!.id]);
    assert.deepEqual(b!.rec.lines(), [`onUserInviting(${d!.id})`]);
    const ev = await d!.rec.waitFor('onCallReceived');
    assert.deepEqual(ev.args.slice(1, 3), [a!.id, [b!.id, c!.id, d!.id]]);
    await a!.rec.waitFor('onUserInviting');
    await c!.rec.waitFor('onUserInviting');
    await a!.engine.hangup();
    await b!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('inviteUser over maxParticipants rejects the whole request with -1202', async () => {
    const [a, b, c, d] = await abcWithB();
    await assert.rejects(b!.engine.inviteUser([d!.id, 'zz_extra']), { code: -1202 });
    assert.ok(!d!.rec.names().includes('onCallReceived'));
    await a!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('inviteUser by a ringing participant is refused with -1203', async () => {
    const [a, b, c, d] = await abcWithB();
    await assert.rejects(c!.engine.inviteUser([d!.id]), { code: -1203 });
    await a!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('join(): a user who rejected joins the running call later', async () => {
    const [a, b, c, d] = await abcWithB();
    const callId = (a!.rec.events.find((e) => e.name === 'onCallBegin')!.args[0]) as string;
    await c!.engine.reject();
    c!.rec.clear();
    await c!.engine.join(callId);
    assert.deepEqual(c!.rec.names(), ['onCallBegin', 'onUserJoin', 'onUserJoin']);
    await a!.rec.waitFor('onUserJoin', (args) => args[0] === c!.id);
    await assert.rejects(d!.engine.join(callId), { code: -1203 });
    await assert.rejects(d!.engine.join('not a call id!'), { code: -1202 });
    await a!.engine.hangup();
    await b!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });

  it('switchCallMediaType in a multi call is refused with -1205', async () => {
    const [a, b, c, d] = await abcWithB();
    await assert.rejects(a!.engine.switchCallMediaType(CallMediaType.video), { code: -1205 });
    await a!.engine.hangup();
    await cleanup(a!, b!, c!, d!);
  });
});
