/**
 * SPEC §5.4 "Server restart": a server process killed with SIGKILL and started again on the same
 * SQLite file and port. Devices that come back resume with nothing visible; devices that do not
 * leave as `offline` one heartbeat window after the restart; ring deadlines keep their original
 * time; every record survives the kill.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { CallRecord } from '@opencall/client';
import { RestartableServer, fastUser, rawDevice, restPost } from './fixtures/durabilityClients.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import { cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const HEARTBEAT_MS = 2000;
const audio = CallMediaType.audio;

/** The Tencent record of one call through REST. */
async function tencentRecord(url: string, callId: string): Promise<{ CallResult: string; StartTime: number; EndTime: number; AcceptTime: number }> {
  const { body: r } = await restPost(url, '/v4/call_record_http_srv/get_record_by_callid', { CallId: callId });
  assert.equal(r.ErrorCode, 0, `get_record_by_callid ${callId}`);
  return r.Response!.CallRecord as { CallResult: string; StartTime: number; EndTime: number; AcceptTime: number };
}

/** SQLite's header says WAL when bytes 18 and 19 (write and read format versions) are 2. */
function isWalFile(file: string): boolean {
  const header = readFileSync(file).subarray(0, 20);
  return header[18] === 2 && header[19] === 2;
}

/** Runs `fn` until it stops failing with -1401 (the engine is still reconnecting), for up to 3 s. */
async function retrySignaling<T>(fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + 3000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if ((err as { code?: number }).code !== -1401 || Date.now() > until) throw err;
      await sleep(50);
    }
  }
}

const at = (u: TestUser, name: string): number => {
  const i = u.rec.events.findIndex((e) => e.name === name);
  assert.ok(i >= 0, `${u.id} saw no ${name}`);
  return i;
};

describe('server restart (SPEC §5.4)', () => {
  let srv: RestartableServer;
  before(async () => {
    srv = new RestartableServer({ heartbeatTimeoutMs: HEARTBEAT_MS, defaultRingTimeoutSeconds: 30 });
    await srv.start();
  });
  /** Every engine a test created, signed out at the end even when an assertion failed. */
  const live: TestUser[] = [];
  const users = async <const T extends readonly string[]>(...ids: T): Promise<{ [K in keyof T]: TestUser }> => {
    const us = await Promise.all(ids.map((id) => fastUser(srv.url, id)));
    live.push(...us);
    // Promise.all keeps one entry per id, in order.
    return us as { [K in keyof T]: TestUser };
  };
  after(async () => {
    await cleanup(...live);
    await srv.dispose();
  });

  it('SIGKILL with calls ringing and connected: returning devices resume silently, vanished ones leave as offline, deadlines keep their time, records survive', async (t) => {
    const [a, b, c, d, f, h, i, j, p, q] = await users('a1', 'b1', 'c1', 'd1', 'f1', 'h1', 'i1', 'j1', 'p1', 'q1');
    const e = await rawDevice(srv.url, 'e1');
    const g = await rawDevice(srv.url, 'g1');

    // A ↔ B connected (both come back).
    const ab = (await a.engine.calls([b.id], audio)).callId;
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    const abAcceptedAt = Date.now();
    // F ↔ E connected; E is a raw device that never comes back.
    const fe = (await f.engine.calls([e.userId], audio)).callId;
    assert.equal((await e.request('call.accept', { callId: fe })).ok, true);
    await f.rec.waitFor('onUserJoin');
    // G (never comes back) rings H.
    const gStart = await g.request('call.start', { userIds: [h.id], mediaType: audio });
    const gh = String(gStart.data?.callId);
    await h.rec.waitFor('onCallReceived');
    // C rings D for 6 s: the deadline must not move with the restart.
    const cdBefore = Date.now();
    const cd = (await c.engine.calls([d.id], audio, { timeout: 6 })).callId;
    await d.rec.waitFor('onCallReceived');
    // I rings J for 1 s: the deadline passes while the server is down.
    const ijBefore = Date.now();
    const ij = (await i.engine.calls([j.id], audio, { timeout: 1 })).callId;
    await j.rec.waitFor('onCallReceived');

    // P rings Q (30 s): both come back and Q answers after the restart.
    const pq = (await p.engine.calls([q.id], audio)).callId;
    await q.rec.waitFor('onCallReceived');

    for (const u of [a, b, c, d, f, h, i, j, p, q]) u.rec.clear();
    const killedAt = Date.now();
    await srv.kill();
    assert.ok(isWalFile(srv.dbFile), 'the database is in WAL mode');
    assert.ok(existsSync(`${srv.dbFile}-wal`), 'a killed process leaves its WAL behind');
    // Stay down past I→J's deadline.
    await sleep(Math.max(0, ijBefore + 1300 - Date.now()));
    await srv.restart();
    const restartedAt = Date.now();
    t.diagnostic(`down for ${restartedAt - killedAt} ms (kill → listening)`);

    // The overdue timer fired at start-up, before I and J were back: they get it on resume.
    await j.rec.waitFor('onCallCancelled', () => true, 3000);
    await i.rec.waitFor('onCallCancelled', () => true, 3000);
    assert.deepEqual(i.rec.lines(), [`onUserNoResponse(${j.id})`, `onCallNotConnected(callId,1,3,${j.id},info(1))`, `onCallCancelled(${i.id})`]);
    assert.deepEqual(j.rec.lines(), [`onCallNotConnected(callId,1,3,${j.id},info(2))`, `onCallCancelled(${j.id})`]);

    // E and G never came back: one heartbeat window after the restart they leave as offline.
    await f.rec.waitFor('onCallEnd', () => true, HEARTBEAT_MS + 3000);
    const fEndAt = Date.now();
    await h.rec.waitFor('onCallCancelled', () => true, 2000);
    assert.ok(fEndAt - restartedAt >= HEARTBEAT_MS - 300, `F saw E leave ${fEndAt - restartedAt} ms after the restart`);
    assert.ok(fEndAt - restartedAt <= HEARTBEAT_MS + 1500, `F saw E leave ${fEndAt - restartedAt} ms after the restart`);
    t.diagnostic(`vanished devices left ${fEndAt - restartedAt} ms after the restart (heartbeat window ${HEARTBEAT_MS} ms)`);
    assert.deepEqual(f.rec.names(), ['onUserLeave', 'onCallEnd']);
    assert.equal(f.rec.events[0]!.args[0], e.userId);
    assert.deepEqual(f.rec.events[1]!.args.slice(0, 4), [fe, audio, CallEndReason.offline, e.userId]);
    assert.deepEqual(h.rec.lines(), [`onCallNotConnected(callId,1,4,${g.userId},info(2))`, `onCallCancelled(${g.userId})`]);

    // C→D times out at its original deadline, not 6 s after the restart.
    await d.rec.waitFor('onCallNotConnected', () => true, 8000);
    const dEndAt = Date.now();
    assert.ok(dEndAt >= cdBefore + 6000 - 50, `timed out ${dEndAt - cdBefore} ms after the invite`);
    assert.ok(dEndAt <= cdBefore + 6000 + 1000, `timed out ${dEndAt - cdBefore} ms after the invite (restart at ${restartedAt - cdBefore})`);
    assert.ok(dEndAt < restartedAt + 6000 - 1000, 'the deadline did not restart with the server');
    t.diagnostic(`6 s ring timeout fired ${dEndAt - cdBefore} ms after the invite, ${dEndAt - restartedAt} ms after the restart`);
    await c.rec.waitFor('onCallCancelled');
    assert.deepEqual(c.rec.lines(), [`onUserNoResponse(${d.id})`, `onCallNotConnected(callId,1,3,${d.id},info(1))`, `onCallCancelled(${c.id})`]);
    assert.deepEqual(d.rec.lines(), [`onCallNotConnected(callId,1,3,${d.id},info(2))`, `onCallCancelled(${d.id})`]);

    // Q's invitation is still ringing: answering it connects both.
    assert.deepEqual([p.rec.lines(), q.rec.lines()], [[], []]);
    await q.engine.accept();
    assert.deepEqual(q.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${p.id})`]);
    await p.rec.waitFor('onUserJoin');
    assert.deepEqual(p.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${q.id})`]);
    await q.engine.hangup();
    await p.rec.waitFor('onCallEnd');

    // A and B saw nothing at all, and their call still works.
    assert.deepEqual(a.rec.lines(), []);
    assert.deepEqual(b.rec.lines(), []);
    await a.engine.hangup();
    const hungUpAt = Date.now();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(b.rec.lines().slice(0, 1), [`onUserLeave(${a.id})`]);
    assert.deepEqual(b.rec.events[1]!.args.slice(0, 4), [ab, audio, CallEndReason.hangup, a.id]);

    // Records: every call, with end time and result; A's connected time spans the restart.
    const [aRecord] = (await a.engine.queryRecentCalls({ limit: 1 })) as [CallRecord];
    assert.equal(aRecord.callId, ab);
    assert.equal(aRecord.result, 'outgoing');
    assert.ok(aRecord.totalTime >= hungUpAt - abAcceptedAt - 300, `totalTime ${aRecord.totalTime}`);
    const expected: [string, string][] = [
      [ab, 'NormalEnd'],
      [fe, 'Offline'],
      [gh, 'Offline'],
      [cd, 'NotAnswer'],
      [ij, 'NotAnswer'],
      [pq, 'NormalEnd'],
    ];
    for (const [callId, result] of expected) {
      const r = await tencentRecord(srv.url, callId);
      assert.equal(r.CallResult, result, callId);
      assert.ok(r.EndTime >= r.StartTime && r.EndTime > 0, `${callId} has an end time`);
    }
    assert.equal((await f.engine.queryRecentCalls())[0]?.endReason, CallEndReason.offline);
    assert.equal((await h.engine.queryRecentCalls())[0]?.result, 'missed');
    assert.ok(at(b, 'onUserLeave') < at(b, 'onCallEnd'), 'onUserLeave before onCallEnd');
  });

  it('a device whose call ended just before SIGKILL is rung for a call made before it came back', async (t) => {
    // L reaches the server through a proxy, so it comes back only when the test lets it.
    const proxy = await startTcpProxy(srv.port);
    t.after(() => proxy.close());
    const [k] = await users('k3');
    const l = await fastUser(proxy.url, 'l3');
    live.push(l);
    const first = await k.engine.calls([l.id], audio);
    await l.rec.waitFor('onCallReceived');
    await l.engine.accept();
    await k.engine.hangup();
    await l.rec.waitFor('onCallEnd', (a) => a[0] === first.callId);
    // Both are idle: after the restart each has only the events of that last call to resume.
    proxy.sever();
    await srv.kill();
    await srv.restart();
    const { callId } = await retrySignaling(() => k.engine.calls([l.id], audio));
    await sleep(300);
    assert.equal(l.rec.events.filter((e) => e.name === 'onCallReceived').length, 1, 'L is still away');
    proxy.restore();
    // L resumes its session (no onKickedOffline, no second sign-in) and the call rings it.
    await l.rec.waitFor('onCallReceived', (a) => a[0] === callId, 5000);
    await l.engine.accept();
    await k.rec.waitFor('onCallBegin', (a) => a[0] === callId);
    await l.engine.hangup();
    await k.rec.waitFor('onCallEnd', (a) => a[0] === callId);
    assert.ok(!l.rec.names().includes('onKickedOffline'));
  });

  it('a record committed just before SIGKILL is there after the restart', async () => {
    const [k, l] = await users('k2', 'l2');
    const { callId } = await k.engine.calls([l.id], audio);
    await l.rec.waitFor('onCallReceived');
    await l.engine.accept();
    await l.engine.hangup();
    await srv.kill();
    await srv.restart();
    const r = await tencentRecord(srv.url, callId);
    assert.equal(r.CallResult, 'NormalEnd');
    assert.ok(r.AcceptTime > 0, 'AcceptTime is set');
    await k.rec.waitFor('onCallEnd');
    // L was in no call when the server died, so it gets a new session (nothing to resume); a
    // request made while it reconnects fails with -1401 and is retried once it is back.
    const records = await retrySignaling(() => l.engine.queryRecentCalls());
    assert.deepEqual(
      records.map((x) => [x.callId, x.result, x.endReason]),
      [[callId, 'incoming', CallEndReason.hangup]],
    );
  });
});
