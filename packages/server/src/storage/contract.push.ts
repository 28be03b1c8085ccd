/**
 * The offline-push part of the storage contract (registrations, push queue, delivery trace), run by
 * `runStorageContract` for every adapter.
 */
import assert from 'node:assert/strict';
import { it, type TestContext } from 'node:test';
import { CallMediaType } from '@opencall/protocol/wire';
import type { CallState } from '../call/types.js';
import { VersionConflictError, type CallChange, type Storage } from './Storage.js';
import type { NewPushRow, PushTargetRow, TraceRow } from './push.js';

/** What the contract's factory returns. */
interface Made {
  storage: Storage;
  reopen?: () => Promise<Storage>;
}

function target(userId: string, key: string, createdAt: number): PushTargetRow {
  return { userId, provider: 'webpush', key, target: JSON.stringify({ type: 'webpush', subscription: { endpoint: key } }), createdAt };
}

function minimalCall(callId: string, version: number): CallState {
  return {
    callId,
    version,
    phase: 'ringing',
    scene: 'single',
    mediaType: CallMediaType.audio,
    callerId: 'alice',
    inviteList: ['bob'],
    roomId: { intRoomId: 1 },
    userData: '',
    chatGroupId: '',
    isEphemeralCall: false,
    offlinePushInfo: null,
    callerProfile: null,
    ringTimeoutMs: 30_000,
    members: {},
    createdAt: 1_000,
    acceptedAt: null,
    mediaConnectedAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    ringingAt: {},
    webhookSeq: 0,
  };
}

function push(callId: string, userId: string, kind: 'invite' | 'withdraw', createdAt: number): NewPushRow {
  return { callId, userId, kind, payload: `{"type":"call.${kind}"}`, createdAt, expiresAt: createdAt + 30_000 };
}

function step(callId: string, userId: string, s: string, time: number, deviceId: string | null = null): TraceRow {
  return { callId, userId, deviceId, step: s, time, detail: null };
}

function change(state: CallState, over: Partial<CallChange> = {}): CallChange {
  return { state, expectedVersion: state.version - 1, memberships: [], timerDueAt: null, records: [], webhooks: [], ...over };
}

/** Registers the push tests inside the adapter's contract `describe`. */
export function pushContract(open: (t: TestContext) => Promise<Made>): void {
  it('push registrations: per user, replaced by key, capped oldest-first, removable', async (t) => {
    const { storage: s } = await open(t);
    await s.savePushTarget(target('bob', 'https://p/1', 1), 3);
    await s.savePushTarget(target('bob', 'https://p/2', 2), 3);
    await s.savePushTarget(target('carol', 'https://p/1', 3), 3);
    // Same key again: replaced, and it becomes the newest.
    await s.savePushTarget({ ...target('bob', 'https://p/1', 4), target: '{"again":true}' }, 3);
    assert.deepEqual((await s.pushTargets('bob')).map((r) => [r.key, r.createdAt, r.target]), [
      ['https://p/2', 2, target('bob', 'https://p/2', 2).target],
      ['https://p/1', 4, '{"again":true}'],
    ]);
    await s.savePushTarget(target('bob', 'https://p/3', 5), 3);
    await s.savePushTarget(target('bob', 'https://p/4', 6), 3);
    assert.deepEqual((await s.pushTargets('bob')).map((r) => r.key), ['https://p/1', 'https://p/3', 'https://p/4']);
    assert.equal(await s.removePushTarget('bob', 'https://p/3'), true);
    assert.equal(await s.removePushTarget('bob', 'https://p/3'), false);
    assert.equal(await s.removePushTarget('carol', 'https://p/4'), false);
    assert.deepEqual((await s.pushTargets('bob')).map((r) => r.key), ['https://p/1', 'https://p/4']);
    assert.deepEqual(await s.pushTargets('carol'), [target('carol', 'https://p/1', 3)]);
    assert.deepEqual(await s.pushTargets('nobody'), []);
  });

  it('push queue rows and trace steps land with the commit, never with a refused one', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(change(minimalCall('c1', 1), { pushes: [push('c1', 'bob', 'invite', 100)], trace: [step('c1', 'bob', 'rung', 100, 'd1')] }));
    await assert.rejects(
      s.commit(change(minimalCall('c1', 1), { pushes: [push('c1', 'carol', 'invite', 100)], trace: [step('c1', 'carol', 'rung', 100)] })),
      VersionConflictError,
    );
    const due = await s.duePushes(1e12, 10);
    assert.deepEqual(due.map((r) => [r.callId, r.userId, r.kind, r.payload, r.createdAt, r.expiresAt, r.attempts, r.nextAttemptAt, r.settledAt, r.lastError]), [
      ['c1', 'bob', 'invite', '{"type":"call.invite"}', 100, 30_100, 0, 100, null, null],
    ]);
    assert.deepEqual(await s.callTrace('c1'), [step('c1', 'bob', 'rung', 100, 'd1')]);
  });

  it('push queue: due by time in id order, retried and settled', async (t) => {
    const { storage: s } = await open(t);
    await s.commit(change(minimalCall('c1', 1), { pushes: [push('c1', 'bob', 'invite', 100), push('c1', 'carol', 'invite', 100)] }));
    await s.commit(change(minimalCall('c1', 2), { pushes: [push('c1', 'bob', 'withdraw', 200)] }));
    assert.deepEqual((await s.duePushes(150, 10)).map((r) => [r.userId, r.kind]), [['bob', 'invite'], ['carol', 'invite']]);
    const [a, b, c] = await s.duePushes(1e12, 10);
    assert.ok(a && b && c && a.id < b.id && b.id < c.id);
    await s.retryPush(a.id, 5_000, 'HTTP 503');
    await s.settlePush(b.id, 300, null);
    assert.deepEqual((await s.duePushes(4_999, 10)).map((r) => r.id), [c.id]);
    const again = await s.duePushes(5_000, 1);
    assert.deepEqual(again.map((r) => [r.id, r.attempts, r.lastError, r.nextAttemptAt]), [[a.id, 1, 'HTTP 503', 5_000]]);
    await s.settlePush(a.id, 5_100, 'gave up');
    await s.settlePush(c.id, 5_100, null);
    assert.deepEqual(await s.duePushes(1e12, 10), []);
  });

  it('trace: steps in time order, insertion order on ties, per call', async (t) => {
    const { storage: s } = await open(t);
    await s.appendTrace([step('c1', 'bob', 'push.sent', 300), step('c2', 'bob', 'rung', 50)]);
    await s.commit(change(minimalCall('c1', 1), { trace: [step('c1', 'bob', 'rung', 100, 'd1'), step('c1', 'carol', 'rung', 100, 'd9')] }));
    await s.appendTrace([step('c1', 'bob', 'received', 300, 'd1')]);
    assert.deepEqual((await s.callTrace('c1')).map((r) => [r.userId, r.step, r.time, r.deviceId]), [
      ['bob', 'rung', 100, 'd1'],
      ['carol', 'rung', 100, 'd9'],
      ['bob', 'push.sent', 300, null],
      ['bob', 'received', 300, 'd1'],
    ]);
    assert.deepEqual(await s.callTrace('c2'), [step('c2', 'bob', 'rung', 50)]);
    assert.deepEqual(await s.callTrace('none'), []);
  });

  it('history retention takes a purged call’s trace with it and never a pending push', async (t) => {
    const { storage: s } = await open(t);
    const ended = (callId: string, endedAt: number): CallState => ({ ...minimalCall(callId, 1), phase: 'ended', createdAt: endedAt - 100, endedAt });
    await s.commit(change(ended('old', 1_000), { pushes: [push('old', 'bob', 'invite', 900), push('old', 'carol', 'invite', 900)], trace: [step('old', 'bob', 'rung', 900)] }));
    await s.commit(change(ended('new', 9_000), { trace: [step('new', 'bob', 'rung', 8_900)] }));
    await s.appendTrace([step('old', 'bob', 'push.sent', 950)]);
    const [settled, pending] = await s.duePushes(1e12, 10);
    assert.ok(settled && pending);
    await s.settlePush(settled.id, 950, null);
    assert.deepEqual(await s.purgeHistory(5_000, 100), { calls: 1, records: 0 });
    assert.deepEqual(await s.callTrace('old'), []);
    assert.deepEqual((await s.callTrace('new')).map((r) => r.step), ['rung']);
    assert.deepEqual((await s.duePushes(1e12, 10)).map((r) => r.id), [pending.id], 'a push still waiting is kept');
  });

  it('push rows, registrations and trace survive a reopen', async (t) => {
    const made = await open(t);
    if (!made.reopen) return t.skip('adapter keeps nothing across a reopen');
    const s = made.storage;
    await s.savePushTarget(target('bob', 'https://p/1', 1), 10);
    await s.commit(change(minimalCall('c1', 1), { pushes: [push('c1', 'bob', 'invite', 100)], trace: [step('c1', 'bob', 'rung', 100)] }));
    await s.close();
    const r = await made.reopen();
    t.after(() => r.close());
    assert.deepEqual(await r.pushTargets('bob'), [target('bob', 'https://p/1', 1)]);
    assert.deepEqual((await r.duePushes(1e12, 10)).map((x) => x.kind), ['invite']);
    assert.deepEqual(await r.callTrace('c1'), [step('c1', 'bob', 'rung', 100)]);
  });
}
