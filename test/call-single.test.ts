/**
 * SPEC §5.2: who receives what in a 1-to-1 call, one test per row, against a real server with
 * real CallEngine clients. Assertions name every event each side sees, in order, with arguments.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType, CallRole } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

let server: RunningServer;
before(async () => {
  server = await startTestServer({ defaultRingTimeoutSeconds: 1 });
});
after(() => server.close());

let n = 0;
/** Two fresh users per test so tests never see each other's calls. */
async function pair(): Promise<[TestUser, TestUser]> {
  n++;
  return [await user(server, `a${n}`), await user(server, `b${n}`)];
}

describe('1-to-1 calls (SPEC §5.2)', () => {
  it('calls() resolves with the callId and the callee gets onCallReceived with role called', async () => {
    const [a, b] = await pair();
    const { callId } = await a.engine.calls([b.id], CallMediaType.video, { userData: 'hello' });
    assert.match(callId, /^c_/);
    const ev = await b.rec.waitFor('onCallReceived');
    const [id, caller, callees, type, info] = ev.args as [string, string, string[], number, { role: number; userData: string }];
    assert.deepEqual([id, caller, callees, type], [callId, a.id, [b.id], CallMediaType.video]);
    assert.equal(info.role, CallRole.called);
    assert.equal(info.userData, 'hello');
    assert.deepEqual(a.rec.lines(), []);
    await a.engine.hangup();
    await cleanup(a, b);
  });

  it('accept(): both get onCallBegin then onUserJoin(other), before accept() resolves', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    await b.engine.accept();
    assert.deepEqual(b.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${b.id})`]);
    await a.engine.hangup();
    await cleanup(a, b);
  });

  it('hangup while connected: the other side gets onUserLeave then onCallEnd(hangup), both with the same totalTime', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await sleep(120);
    a.rec.clear();
    b.rec.clear();
    await b.engine.hangup();
    const bEnd = b.rec.events.find((e) => e.name === 'onCallEnd')!;
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(a.rec.names(), ['onUserLeave', 'onCallEnd']);
    assert.equal(a.rec.events[0]!.args[0], b.id);
    const aEnd = a.rec.events[1]!.args;
    assert.deepEqual([aEnd[2], aEnd[3]], [CallEndReason.hangup, b.id]);
    assert.deepEqual([bEnd.args[2], bEnd.args[3]], [CallEndReason.hangup, b.id]);
    assert.equal(aEnd[4], bEnd.args[4]);
    assert.ok((aEnd[4] as number) >= 100, `totalTime ${String(aEnd[4])}`);
    await cleanup(a, b);
  });

  it('caller cancels: both get onCallNotConnected(canceled, caller) then onCallCancelled(caller)', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    await a.engine.hangup();
    assert.deepEqual(a.rec.lines(), [`onCallNotConnected(callId,1,${CallEndReason.canceled},${a.id},info(1))`, `onCallCancelled(${a.id})`]);
    await b.rec.waitFor('onCallCancelled');
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,1,${CallEndReason.canceled},${a.id},info(2))`, `onCallCancelled(${a.id})`]);
    await cleanup(a, b);
  });

  it('callee rejects: caller gets onUserReject, onCallNotConnected(reject, callee), onCallCancelled(caller)', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.video);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    await b.engine.reject();
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,2,${CallEndReason.reject},${b.id},info(2))`, `onCallCancelled(${b.id})`]);
    await a.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.lines(), [
      `onUserReject(${b.id})`,
      `onCallNotConnected(callId,2,${CallEndReason.reject},${b.id},info(1))`,
      `onCallCancelled(${a.id})`,
    ]);
    await cleanup(a, b);
  });

  it('no answer within the ring timeout: both sides see noResponse; the server decides', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await a.rec.waitFor('onCallCancelled', () => true, 4000);
    assert.deepEqual(a.rec.lines(), [
      `onUserNoResponse(${b.id})`,
      `onCallNotConnected(callId,1,${CallEndReason.noResponse},${b.id},info(1))`,
      `onCallCancelled(${a.id})`,
    ]);
    await b.rec.waitFor('onCallCancelled');
    assert.deepEqual(b.rec.lines().slice(1), [`onCallNotConnected(callId,1,${CallEndReason.noResponse},${b.id},info(2))`, `onCallCancelled(${b.id})`]);
    await cleanup(a, b);
  });

  it('busy callee: caller gets onUserLineBusy, onCallNotConnected(lineBusy); the busy user sees nothing and has a missed record', async () => {
    const [a, b] = await pair();
    const c = await user(server, `c${n}`);
    await c.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    await a.engine.calls([b.id], CallMediaType.audio);
    assert.deepEqual(a.rec.lines(), [
      `onUserLineBusy(${b.id})`,
      `onCallNotConnected(callId,1,${CallEndReason.lineBusy},${b.id},info(1))`,
      `onCallCancelled(${a.id})`,
    ]);
    await sleep(100);
    assert.deepEqual(b.rec.lines(), []);
    const records = await b.engine.queryRecentCalls();
    assert.equal(records.find((r) => r.inviter === a.id)?.result, 'missed');
    await c.engine.hangup();
    await cleanup(a, b, c);
  });

  it('ignore(): callee gets lineBusy for itself, caller sees busy, history shows missed', async () => {
    const [a, b] = await pair();
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    await b.engine.ignore();
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,1,${CallEndReason.lineBusy},${b.id},info(2))`, `onCallCancelled(${b.id})`]);
    await a.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.names(), ['onUserLineBusy', 'onCallNotConnected', 'onCallCancelled']);
    const records = await b.engine.queryRecentCalls();
    assert.equal(records[0]?.result, 'missed');
    await cleanup(a, b);
  });
});
