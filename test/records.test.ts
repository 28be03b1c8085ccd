/**
 * SPEC §6.1 through the client API: queryRecentCalls(filter) and deleteRecordCalls(callIds) with
 * real calls on a real server. One record per user per call, written when the call ends.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallEngine, CallMediaType, CallRole } from '@opencall/client';
import type { CallRecord } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { Recorder, cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const audio = CallMediaType.audio;

let server: RunningServer;
before(async () => {
  server = await startTestServer({ defaultRingTimeoutSeconds: 1, devicePolicy: 'multi' });
});
after(() => server.close());

let n = 0;
/** Fresh users per test so records never mix. */
async function users<const T extends readonly string[]>(...names: T): Promise<{ [K in keyof T]: TestUser }> {
  n++;
  // Promise.all keeps one entry per name, in order.
  return (await Promise.all(names.map((x) => user(server, `${x}${n}`)))) as { [K in keyof T]: TestUser };
}

/** `a` calls `b` and `b` answers; resolves with the call id once both are connected. */
async function connected(a: TestUser, b: TestUser, params = {}): Promise<string> {
  const { callId } = await a.engine.calls([b.id], audio, params);
  await b.rec.waitFor('onCallReceived', (x) => x[0] === callId);
  await b.engine.accept();
  await a.rec.waitFor('onUserJoin', (x) => x[0] === b.id);
  return callId;
}

/** `[callId, result, endReason]` of each record, newest first. */
const summary = (rs: CallRecord[]): [string, string, number][] => rs.map((r) => [r.callId, r.result, r.endReason]);

describe('queryRecentCalls (SPEC §6.1)', () => {
  it('caller gets outgoing, callee incoming, with the same totalTime and timings of the call', async () => {
    const [a, b] = await users('ra', 'rb');
    const before = Date.now();
    const callId = await connected(a, b, { userData: 'x' });
    await sleep(200);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const [ra] = await a.engine.queryRecentCalls();
    const [rb] = await b.engine.queryRecentCalls();
    assert.ok(ra && rb, 'both have a record');
    const t = ra.timings;
    assert.deepEqual(ra, {
      callId,
      inviter: a.id,
      inviteList: [b.id],
      chatGroupId: '',
      scene: 'single',
      mediaType: audio,
      role: CallRole.caller,
      result: 'outgoing',
      beginTime: t.invitedAt,
      totalTime: ra.totalTime,
      endReason: CallEndReason.hangup,
      timings: { invitedAt: t.invitedAt, ringingAt: { [b.id]: t.ringingAt[b.id]! }, acceptedAt: t.acceptedAt, mediaConnectedAt: null, endedAt: t.endedAt },
    });
    assert.deepEqual(rb, { ...ra, role: CallRole.called, result: 'incoming' });
    assert.ok(t.invitedAt >= before && t.invitedAt <= t.ringingAt[b.id]! && t.ringingAt[b.id]! <= t.acceptedAt!, `timings ${JSON.stringify(t)}`);
    assert.equal(ra.totalTime, t.endedAt! - t.acceptedAt!, 'totalTime is the connected time');
    assert.ok(ra.totalTime >= 200, `totalTime ${ra.totalTime}`);
    // The same as the onCallEnd both sides saw.
    assert.equal(b.rec.events.find((e) => e.name === 'onCallEnd')?.args[4], ra.totalTime);
    await cleanup(a, b);
  });

  it('a callee who never connected has a missed record with their own outcome: reject, no answer, cancel', async () => {
    const [a, b] = await users('ma', 'mb');
    const rejected = (await a.engine.calls([b.id], audio)).callId;
    await b.rec.waitFor('onCallReceived');
    await b.engine.reject();
    const unanswered = (await a.engine.calls([b.id], audio)).callId;
    await a.rec.waitFor('onCallNotConnected', (x) => x[0] === unanswered, 3000);
    const canceled = (await a.engine.calls([b.id], audio)).callId;
    await b.rec.waitFor('onCallReceived', (x) => x[0] === canceled);
    await a.engine.hangup();
    assert.deepEqual(summary(await b.engine.queryRecentCalls()), [
      [canceled, 'missed', CallEndReason.canceled],
      [unanswered, 'missed', CallEndReason.noResponse],
      [rejected, 'missed', CallEndReason.reject],
    ]);
    assert.deepEqual(summary(await a.engine.queryRecentCalls()), [
      [canceled, 'outgoing', CallEndReason.canceled],
      [unanswered, 'outgoing', CallEndReason.noResponse],
      [rejected, 'outgoing', CallEndReason.reject],
    ]);
    for (const r of await b.engine.queryRecentCalls()) assert.equal(r.totalTime, 0, 'never connected');
    await cleanup(a, b);
  });

  it('a busy callee is not rung but has a missed record (lineBusy); ignore() is missed too', async () => {
    const [a, b, c] = await users('ba', 'bb', 'bc');
    const cb = (await c.engine.calls([b.id], audio, { timeout: 10 })).callId;
    await b.rec.waitFor('onCallReceived');
    const busy = (await a.engine.calls([b.id], audio)).callId;
    await a.rec.waitFor('onUserLineBusy');
    assert.equal(b.rec.events.filter((e) => e.name === 'onCallReceived').length, 1, 'B was not rung for the busy call');
    await b.engine.ignore();
    await c.rec.waitFor('onCallNotConnected');
    // Both calls may start in the same millisecond, so compare without relying on their order.
    const byId = (x: unknown[], y: unknown[]): number => String(x[0]).localeCompare(String(y[0]));
    assert.deepEqual(summary(await b.engine.queryRecentCalls()).sort(byId), [
      [busy, 'missed', CallEndReason.lineBusy],
      [cb, 'missed', CallEndReason.lineBusy],
    ].sort(byId));
    assert.deepEqual(summary(await a.engine.queryRecentCalls()), [[busy, 'outgoing', CallEndReason.lineBusy]]);
    await cleanup(a, b, c);
  });

  it('an ephemeral call leaves no record for anyone', async () => {
    const [a, b] = await users('ea', 'eb');
    const normal = await connected(a, b);
    await a.engine.hangup();
    await connected(a, b, { isEphemeralCall: true });
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd', (x) => x[0] !== normal);
    assert.deepEqual((await a.engine.queryRecentCalls()).map((r) => r.callId), [normal]);
    assert.deepEqual((await b.engine.queryRecentCalls()).map((r) => r.callId), [normal]);
    await cleanup(a, b);
  });

  it('one record per user per call, not per device: two ringing devices of the callee share one record', async () => {
    const [a, b] = await users('da', 'db');
    const b2 = { engine: new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID }), rec: new Recorder(), id: b.id };
    b2.engine.addObserver(b2.rec.observer);
    await b.engine.enableMultiDeviceAbility(true);
    await b2.engine.init(b.id, sig(b.id));
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await b2.rec.waitFor('onCallReceived');
    await b2.engine.accept();
    await b.rec.waitFor('onCallNotConnected');
    await a.engine.hangup();
    await b2.rec.waitFor('onCallEnd');
    for (const device of [b, b2]) assert.deepEqual(summary(await device.engine.queryRecentCalls()), [[callId, 'incoming', CallEndReason.hangup]]);
    await cleanup(a, b, b2);
  });

  it('multi call: each user has their own totalTime; a user who leaves gets their record then, the rest when the call ends', async () => {
    const [a, b, c] = await users('xa', 'xb', 'xc');
    const { callId } = await a.engine.calls([b.id, c.id], audio);
    await b.rec.waitFor('onCallReceived');
    await c.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await c.engine.accept();
    await sleep(150);
    await c.engine.hangup();
    // C's part is over (issue 15): their record is there at once, ending with their own hangup;
    // A and B are still in the call and have none yet.
    const [early] = await c.engine.queryRecentCalls();
    assert.deepEqual([early?.callId, early?.result, early?.endReason], [callId, 'incoming', CallEndReason.hangup]);
    assert.ok(early!.totalTime >= 150 && early!.timings.endedAt !== null, `C ${early!.totalTime}`);
    assert.deepEqual(await a.engine.queryRecentCalls(), [], 'no record for A while the call goes on');
    assert.deepEqual(await b.engine.queryRecentCalls(), [], 'no record for B while the call goes on');
    await sleep(250);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const [ra, rb, rc] = await Promise.all([a, b, c].map(async (u) => (await u.engine.queryRecentCalls())[0]!));
    assert.deepEqual([ra!.result, rb!.result, rc!.result], ['outgoing', 'incoming', 'incoming']);
    for (const r of [ra!, rb!, rc!]) assert.deepEqual([r.callId, r.scene, r.inviteList], [callId, 'multi', [b.id, c.id]]);
    assert.ok(rc!.totalTime >= 150 && rc!.totalTime < rb!.totalTime, `C ${rc!.totalTime} < B ${rb!.totalTime}`);
    assert.ok(rb!.totalTime >= 400, `B ${rb!.totalTime}`);
    await cleanup(a, b, c);
  });

  it('totalTime sums every time the user was connected: leave, join() again, leave', async () => {
    const [a, b, c] = await users('ja', 'jb', 'jc');
    const { callId } = await a.engine.calls([b.id, c.id], audio);
    await b.rec.waitFor('onCallReceived');
    await c.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await c.engine.accept();
    await sleep(150);
    await c.engine.hangup();
    await sleep(200);
    await c.engine.join(callId);
    await sleep(150);
    await c.engine.hangup();
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const ends = c.rec.events.filter((e) => e.name === 'onCallEnd').map((e) => e.args[4] as number);
    const [rc] = await c.engine.queryRecentCalls();
    const [rb] = await b.engine.queryRecentCalls();
    assert.equal(ends.length, 2);
    assert.ok(rc!.totalTime >= 300 && rc!.totalTime < rb!.totalTime - 150, `C ${rc!.totalTime}, B ${rb!.totalTime}`);
    assert.equal(rc!.totalTime, ends[1], 'the last onCallEnd carried the running total');
    await cleanup(a, b, c);
  });

  it('a group call (chatGroupId) is recorded with scene group and its chatGroupId', async () => {
    const [a, b] = await users('ga', 'gb');
    const callId = await connected(a, b, { chatGroupId: 'team-1' });
    await b.engine.hangup();
    const [r] = await a.engine.queryRecentCalls();
    assert.deepEqual([r?.callId, r?.scene, r?.chatGroupId], [callId, 'group', 'team-1']);
    await cleanup(a, b);
  });
});

describe('queryRecentCalls filter (SPEC §4 RecentCallsFilter)', () => {
  it('begin/end (ms, on beginTime), result, limit and offset; newest first', async () => {
    const [a, b] = await users('fa', 'fb');
    const made: { callId: string; begin: number }[] = [];
    for (const answer of [true, false, true, false]) {
      const { callId } = await a.engine.calls([b.id], audio);
      await b.rec.waitFor('onCallReceived', (x) => x[0] === callId);
      if (answer) await b.engine.accept();
      else await b.engine.reject();
      if (answer) await a.engine.hangup();
      await b.rec.waitFor(answer ? 'onCallEnd' : 'onCallNotConnected', (x) => x[0] === callId);
      const [r] = await b.engine.queryRecentCalls({ limit: 1 });
      made.push({ callId, begin: r!.beginTime });
      await sleep(5);
    }
    const ids = (rs: CallRecord[]): string[] => rs.map((r) => r.callId);
    const [c0, c1, c2, c3] = made.map((m) => m.callId) as [string, string, string, string];
    const q = async (f: Parameters<CallEngine['queryRecentCalls']>[0]): Promise<string[]> => ids(await b.engine.queryRecentCalls(f));
    assert.deepEqual(await q({}), [c3, c2, c1, c0]);
    assert.deepEqual(await q({ result: 'incoming' }), [c2, c0]);
    assert.deepEqual(await q({ result: 'missed' }), [c3, c1]);
    assert.deepEqual(await q({ result: 'outgoing' }), []);
    assert.deepEqual(ids(await a.engine.queryRecentCalls({ result: 'outgoing' })), [c3, c2, c1, c0]);
    assert.deepEqual(await q({ begin: made[1]!.begin }), [c3, c2, c1]);
    assert.deepEqual(await q({ end: made[2]!.begin }), [c2, c1, c0]);
    assert.deepEqual(await q({ begin: made[1]!.begin, end: made[2]!.begin }), [c2, c1]);
    assert.deepEqual(await q({ limit: 2 }), [c3, c2]);
    assert.deepEqual(await q({ limit: 2, offset: 2 }), [c1, c0]);
    assert.deepEqual(await q({ offset: 4 }), []);
    assert.deepEqual(await q({ result: 'missed', limit: 1, offset: 1 }), [c1]);
    await cleanup(a, b);
  });

  it('an invalid filter rejects with -1202', async () => {
    const [a] = await users('va');
    for (const f of [{ limit: 0 }, { offset: -1 }, { result: 'lost' }, { begin: 'yesterday' }]) {
      await assert.rejects(a.engine.queryRecentCalls(f as never), { code: -1202 }, JSON.stringify(f));
    }
    await cleanup(a);
  });
});

describe('deleteRecordCalls (SPEC §4)', () => {
  it('deletes only this user’s copy and resolves with the ids actually deleted', async () => {
    const [a, b] = await users('xda', 'xdb');
    const first = await connected(a, b);
    await a.engine.hangup();
    const second = await connected(a, b);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd', (x) => x[0] === second);
    assert.deepEqual(await b.engine.deleteRecordCalls([first, 'c_unknown']), [first]);
    assert.deepEqual((await b.engine.queryRecentCalls()).map((r) => r.callId), [second]);
    assert.deepEqual((await a.engine.queryRecentCalls()).map((r) => r.callId), [second, first], 'the other party keeps theirs');
    assert.deepEqual(await b.engine.deleteRecordCalls([first]), [], 'already deleted');
    assert.deepEqual(await a.engine.deleteRecordCalls([first, second]), [first, second]);
    assert.deepEqual(await a.engine.queryRecentCalls(), []);
    assert.deepEqual((await b.engine.queryRecentCalls()).map((r) => r.callId), [second]);
    await assert.rejects(b.engine.deleteRecordCalls([]), { code: -1202 });
    await cleanup(a, b);
  });
});
