/**
 * The behaviour every Storage adapter must show, as a node:test suite. Adapters are swappable only
 * if they agree on the edge cases too (version races, partial writes, ordering, soft deletes), so
 * each adapter's test file runs this same suite instead of writing its own.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { CallEndReason, CallRole } from '@opencall/protocol/wire';
import type { CallState } from '../call/types.js';
import { runClusterContract } from './contractCluster.js';
import { callState, change, hook, ids, member, next, record, type Made } from './contractFixtures.js';
import { VersionConflictError, type Storage } from './Storage.js';
import { pushContract } from './contract.push.js';
import { replayContract } from './contract.replay.js';

/**
 * Registers the contract suite under `name`. `make` is called once per test and must return a
 * fresh, empty storage; `reopen`, when given, closes nothing itself and opens the same data again.
 */
export function runStorageContract(name: string, make: () => Promise<Made>): void {
  /** A fresh storage closed when the test ends. */
  async function open(t: TestContext): Promise<Made> {
    const made = await make();
    t.after(async () => {
      await made.storage.close();
      await made.dispose?.();
    });
    return made;
  }

  describe(`Storage contract: ${name}`, () => {
    it('inserts a new call and returns private copies', async (t) => {
      const { storage: s } = await open(t);
      const c1 = callState('c1');
      await s.commit(change(c1));
      c1.members.alice!.state = 'left'; // mutating the written object must not reach storage
      const got = await s.getCall('c1');
      assert.deepEqual(got, callState('c1'));
      got.inviteList.push('mallory');
      got.members.bob!.state = 'joined';
      assert.deepEqual(await s.getCall('c1'), callState('c1'));
      assert.equal(await s.getCall('missing'), null);
    });

    it('updates with the right version and refuses a version that does not follow', async (t) => {
      const { storage: s } = await open(t);
      const v1 = callState('c1');
      await s.commit(change(v1));
      const v2 = next(v1, { phase: 'active', acceptedAt: 2_000 });
      await s.commit(change(v2));
      assert.deepEqual(await s.getCall('c1'), v2);
      const skip = { ...next(v2), version: 9 };
      await assert.rejects(s.commit({ ...change(skip), expectedVersion: 2 }), (e: Error) => !(e instanceof VersionConflictError));
      assert.deepEqual(await s.getCall('c1'), v2);
    });

    it('refuses a stale version with no partial writes', async (t) => {
      const { storage: s } = await open(t);
      const v1 = callState('c1');
      const ms = [{ userId: 'alice', callId: 'c1', state: 'calling' as const }, { userId: 'bob', callId: 'c1', state: 'ringing' as const }];
      await s.commit(change(v1, { memberships: ms, timerDueAt: 31_000, webhooks: [hook('c1', 'e1', 1, 100)] }));
      const v2 = next(v1, { phase: 'active' });
      await s.commit(change(v2, { memberships: ms, timerDueAt: 40_000 }));
      const stale = next(v1, { phase: 'ended', endReason: CallEndReason.hangup });
      await assert.rejects(
        s.commit(
          change(stale, {
            memberships: [{ userId: 'carol', callId: 'c1', state: 'joined' }],
            timerDueAt: null,
            records: [{ userId: 'alice', record: record('c1') }],
            webhooks: [hook('c1', 'e2', 2, 200)],
          }),
        ),
        VersionConflictError,
      );
      assert.deepEqual(await s.getCall('c1'), v2);
      assert.deepEqual(await s.membershipsOf('alice'), [ms[0]]);
      assert.deepEqual(await s.membershipsOf('carol'), []);
      assert.deepEqual(await s.timers(), [{ callId: 'c1', dueAt: 40_000 }]);
      assert.deepEqual(await s.queryRecords('alice', {}), []);
      assert.deepEqual((await s.dueWebhooks(1e12, 10)).map((r) => r.eventId), ['e1']);
      assert.deepEqual(await s.webhookBacklog(), { depth: 1, oldestCreatedAt: 100 });
    });

    it('refuses a duplicate insert of a new call', async (t) => {
      const { storage: s } = await open(t);
      await s.commit(change(callState('c1')));
      await assert.rejects(s.commit(change(callState('c1', { userData: 'second' }))), VersionConflictError);
      assert.equal((await s.getCall('c1'))?.userData, 'hello');
    });

    it('rolls back everything when a commit fails after the version check', async (t) => {
      const { storage: s } = await open(t);
      const v1 = callState('c1');
      await s.commit(change(v1, { memberships: [{ userId: 'alice', callId: 'c1', state: 'calling' }], webhooks: [hook('c1', 'e1', 1, 100)] }));
      // The reused event id violates outbox uniqueness only after the call row was written.
      const bad = change(next(v1, { phase: 'ended' }), { records: [{ userId: 'alice', record: record('c1') }], webhooks: [hook('c1', 'e1', 2, 200)] });
      await assert.rejects(s.commit(bad));
      assert.deepEqual(await s.getCall('c1'), v1);
      assert.deepEqual(await s.membershipsOf('alice'), [{ userId: 'alice', callId: 'c1', state: 'calling' }]);
      assert.deepEqual(await s.queryRecords('alice', {}), []);
      assert.equal((await s.webhookBacklog()).depth, 1);
      await s.commit(change(next(v1))); // the failed commit did not consume the version
    });

    it('replaces memberships per commit and lists them per user', async (t) => {
      const { storage: s } = await open(t);
      const c1 = callState('c1');
      await s.commit(change(c1, { memberships: [{ userId: 'alice', callId: 'c1', state: 'calling' }, { userId: 'bob', callId: 'c1', state: 'invited' }] }));
      const c1b = next(c1, { phase: 'active' });
      await s.commit(change(c1b, { memberships: [{ userId: 'alice', callId: 'c1', state: 'joined' }, { userId: 'bob', callId: 'c1', state: 'joined' }] }));
      // Pending (not busy) in a second call: a user's busy legs are limited to one (contractCluster).
      await s.commit(change(callState('c0', { callerId: 'carol' }), { memberships: [{ userId: 'bob', callId: 'c0', state: 'invited' }] }));
      assert.deepEqual(await s.membershipsOf('alice'), [{ userId: 'alice', callId: 'c1', state: 'joined' }]);
      assert.deepEqual(await s.membershipsOf('bob'), [
        { userId: 'bob', callId: 'c0', state: 'invited' },
        { userId: 'bob', callId: 'c1', state: 'joined' },
      ]);
      await s.commit(change(next(c1b, { phase: 'ended' })));
      assert.deepEqual(await s.membershipsOf('alice'), []);
      assert.deepEqual(ids(await s.membershipsOf('bob')), ['c0']);
    });

    it('lists active calls only', async (t) => {
      const { storage: s } = await open(t);
      await s.commit(change(callState('c2', { phase: 'active', createdAt: 2_000 })));
      await s.commit(change(callState('c1', { createdAt: 1_000 })));
      await s.commit(change(callState('c3', { phase: 'ended', createdAt: 500, endReason: CallEndReason.hangup })));
      assert.deepEqual(ids(await s.activeCalls()), ['c1', 'c2']);
    });

    it('replaces and clears timers', async (t) => {
      const { storage: s } = await open(t);
      const c1 = callState('c1');
      const c2 = callState('c2');
      await s.commit(change(c1, { timerDueAt: 5_000 }));
      await s.commit(change(c2, { timerDueAt: 3_000 }));
      assert.deepEqual(await s.timers(), [{ callId: 'c2', dueAt: 3_000 }, { callId: 'c1', dueAt: 5_000 }]);
      await s.commit(change(next(c1), { timerDueAt: 7_000 }));
      await s.commit(change(next(c2), { timerDueAt: null }));
      assert.deepEqual(await s.timers(), [{ callId: 'c1', dueAt: 7_000 }]);
    });

    it('filters, orders and pages records; deletes only own copies', async (t) => {
      const { storage: s } = await open(t);
      const plan = [
        { id: 'r1', begin: 100, alice: 'outgoing', bob: 'missed' },
        { id: 'r2', begin: 200, alice: 'missed', bob: 'outgoing' },
        { id: 'r3', begin: 300, alice: 'incoming', bob: 'outgoing' },
        { id: 'r4', begin: 400, alice: 'missed', bob: 'incoming' },
      ] as const;
      for (const p of plan) {
        await s.commit(
          change(callState(p.id, { phase: 'ended', createdAt: p.begin }), {
            records: [
              { userId: 'alice', record: record(p.id, { beginTime: p.begin, result: p.alice }) },
              { userId: 'bob', record: record(p.id, { beginTime: p.begin, result: p.bob, role: CallRole.called }) },
            ],
          }),
        );
      }
      assert.deepEqual(await s.queryRecords('alice', {}), plan.map((p) => record(p.id, { beginTime: p.begin, result: p.alice })).reverse());
      assert.deepEqual(ids(await s.queryRecords('alice', { begin: 200, end: 300 })), ['r3', 'r2']);
      assert.deepEqual(ids(await s.queryRecords('alice', { result: 'missed' })), ['r4', 'r2']);
      assert.deepEqual(ids(await s.queryRecords('alice', { limit: 2, offset: 1 })), ['r3', 'r2']);
      assert.deepEqual(ids(await s.queryRecords('alice', { begin: 150, result: 'missed', limit: 1 })), ['r4']);
      assert.deepEqual(await s.queryRecords('carol', {}), []);

      assert.deepEqual(await s.deleteRecords('alice', ['r1', 'r2', 'r1', 'nope']), ['r1', 'r2']);
      assert.deepEqual(await s.deleteRecords('alice', ['r2', 'r3']), ['r3']);
      assert.deepEqual(ids(await s.queryRecords('alice', {})), ['r4']);
      assert.deepEqual(ids(await s.queryRecords('bob', {})), ['r4', 'r3', 'r2', 'r1']);
      assert.deepEqual(await s.deleteRecords('carol', ['r4']), []);
    });

    it('returns at most 100 records by default', async (t) => {
      const { storage: s } = await open(t);
      const records = Array.from({ length: 105 }, (_, i) => ({ userId: 'alice', record: record(`b${String(i).padStart(3, '0')}`, { beginTime: i }) }));
      await s.commit(change(callState('c1', { phase: 'ended' }), { records }));
      const got = await s.queryRecords('alice', {});
      assert.equal(got.length, 100);
      assert.equal(got[0]?.callId, 'b104');
      assert.equal(got[99]?.callId, 'b005');
    });

    it('upserts and reads profiles', async (t) => {
      const { storage: s } = await open(t);
      await s.setProfile({ userId: 'alice', nickname: 'Alice', avatar: 'a.png' });
      await s.setProfile({ userId: 'bob', nickname: 'Bob', avatar: '' });
      await s.setProfile({ userId: 'alice', nickname: 'Alicia', avatar: 'b.png' });
      assert.deepEqual(await s.getProfiles(['bob', 'carol', 'alice', 'bob']), [
        { userId: 'bob', nickname: 'Bob', avatar: '' },
        { userId: 'alice', nickname: 'Alicia', avatar: 'b.png' },
      ]);
      assert.deepEqual(await s.getProfiles([]), []);
    });

    it('runs the webhook outbox: due order, retries, delivery, dead rows, backlog', async (t) => {
      const { storage: s } = await open(t);
      await s.commit(change(callState('c1'), { webhooks: [hook('c1', 'e1', 1, 100), hook('c1', 'e2', 2, 200)] }));
      await s.commit(change(callState('c2'), { webhooks: [hook('c2', 'e3', 1, 300)] }));
      const due = await s.dueWebhooks(150, 10);
      assert.equal(due.length, 1);
      const id1 = due[0]!.id;
      assert.deepEqual(due[0], { ...hook('c1', 'e1', 1, 100), id: id1, attempts: 0, nextAttemptAt: 100, lastError: null, deliveredAt: null, dead: false });
      assert.deepEqual((await s.dueWebhooks(1_000, 2)).map((r) => r.eventId), ['e1', 'e2']);
      const all = await s.dueWebhooks(1_000, 10);
      assert.deepEqual(all.map((r) => r.eventId), ['e1', 'e2', 'e3']);
      const [, id2, id3] = all.map((r) => r.id) as [number, number, number];
      assert.ok(id1 < id2 && id2 < id3);
      assert.equal(await s.pendingBefore('c1', id2), 1);
      assert.equal(await s.pendingBefore('c1', id1), 0);
      assert.equal(await s.pendingBefore('c2', id3), 0);
      assert.deepEqual(await s.webhookBacklog(), { depth: 3, oldestCreatedAt: 100 });

      await s.markWebhookFailed(id1, 5_000, 'boom', false);
      assert.deepEqual((await s.dueWebhooks(1_000, 10)).map((r) => r.eventId), ['e2', 'e3']);
      await s.markWebhookFailed(id1, 6_000, 'boom again', false);
      const retried = (await s.dueWebhooks(6_000, 10))[0];
      assert.deepEqual([retried?.id, retried?.attempts, retried?.nextAttemptAt, retried?.lastError], [id1, 2, 6_000, 'boom again']);
      assert.equal(await s.pendingBefore('c1', id2), 1, 'a failed row still blocks later rows of its call');

      await s.markWebhookDelivered(id2, 1_500);
      assert.deepEqual((await s.dueWebhooks(10_000, 10)).map((r) => r.eventId), ['e1', 'e3']);
      assert.equal(await s.pendingBefore('c1', id2 + 1), 1);
      assert.deepEqual(await s.webhookBacklog(), { depth: 2, oldestCreatedAt: 100 });

      await s.markWebhookFailed(id3, 9_000, 'gone', true);
      assert.deepEqual((await s.dueWebhooks(1e12, 10)).map((r) => r.eventId), ['e1']);
      assert.equal(await s.pendingBefore('c2', id3 + 1), 0);
      assert.deepEqual(await s.webhookBacklog(), { depth: 1, oldestCreatedAt: 100 });

      await s.markWebhookDelivered(id1, 7_000);
      assert.deepEqual(await s.dueWebhooks(1e12, 10), []);
      assert.deepEqual(await s.webhookBacklog(), { depth: 0, oldestCreatedAt: null });
    });

    it('purges ended calls and records past retention, in bounded batches, never a live call', async (t) => {
      const { storage: s } = await open(t);
      const ended = (id: string, at: number): CallState =>
        callState(id, { phase: 'ended', createdAt: at - 100, endedAt: at, endReason: CallEndReason.hangup, members: { alice: member('alice', 'left'), bob: member('bob', 'left') } });
      await s.commit(change(ended('old1', 1_000), { records: [{ userId: 'alice', record: record('old1', { beginTime: 900 }) }] }));
      await s.commit(change(ended('old2', 2_000), { records: [{ userId: 'bob', record: record('old2', { beginTime: 1_900 }) }] }));
      await s.commit(change(ended('new', 9_000), { records: [{ userId: 'alice', record: record('new', { beginTime: 8_900 }) }] }));
      // A call that is still ringing, created long ago: retention never ends or drops a live call.
      await s.commit(change(callState('live', { createdAt: 10 }), { memberships: [{ userId: 'bob', callId: 'live', state: 'ringing' }] }));
      assert.deepEqual(await s.purgeHistory(5_000, 1), { calls: 1, records: 1 }, 'the batch limit holds');
      assert.deepEqual(await s.purgeHistory(5_000, 100), { calls: 1, records: 1 });
      assert.deepEqual(await s.purgeHistory(5_000, 100), { calls: 0, records: 0 });
      assert.equal(await s.getCall('old1'), null);
      assert.equal(await s.getCall('old2'), null);
      assert.equal((await s.getCall('new'))?.phase, 'ended');
      assert.equal((await s.getCall('live'))?.phase, 'ringing');
      assert.deepEqual(ids(await s.queryRecords('alice', {})), ['new']);
      assert.deepEqual(ids(await s.queryRecords('bob', {})), []);
      assert.deepEqual(await s.membershipsOf('bob'), [{ userId: 'bob', callId: 'live', state: 'ringing' }]);
    });

    it('purges settled outbox rows past retention, in bounded batches, never a pending one', async (t) => {
      const { storage: s } = await open(t);
      const rows = [1, 2, 3, 4, 5].map((n) => hook('p', `p${n}`, n, 100 * n));
      await s.commit(change(callState('p'), { webhooks: rows }));
      const [r1, r2, r3, r4] = (await s.dueWebhooks(1e12, 10)).map((r) => r.id) as [number, number, number, number];
      await s.markWebhookDelivered(r1, 1_000);
      await s.markWebhookDelivered(r2, 3_000);
      // Dead at 1_500 (the dispatcher stamps nextAttemptAt with the time it gave up).
      await s.markWebhookFailed(r3, 1_500, 'gone', true);
      // Failing but live: retention never drops a row that still waits for delivery.
      await s.markWebhookFailed(r4, 1_200, 'boom', false);
      assert.equal(await s.purgeWebhooks(2_000, 1), 1, 'the batch limit holds');
      assert.equal(await s.purgeWebhooks(2_000, 100), 1, 'the dead row, given up before 2_000');
      assert.equal(await s.purgeWebhooks(2_000, 100), 0, 'the row delivered at 3_000 is kept');
      assert.deepEqual((await s.dueWebhooks(1e12, 10)).map((r) => r.eventId), ['p4', 'p5']);
      assert.deepEqual(await s.webhookBacklog(), { depth: 2, oldestCreatedAt: 400 });
      assert.equal(await s.purgeWebhooks(1e12, 100), 1);
      assert.deepEqual((await s.dueWebhooks(1e12, 10)).map((r) => r.eventId), ['p4', 'p5'], 'pending rows survive any purge');
      // A purge never reopens ids: the next row still sorts after every earlier one.
      await s.commit(change(next(callState('p'), {}), { webhooks: [hook('p', 'p6', 6, 600)] }));
      const after = await s.dueWebhooks(1e12, 10);
      assert.deepEqual(after.map((r) => r.eventId), ['p4', 'p5', 'p6']);
      assert.ok(after[2]!.id > after[1]!.id);
    });

    it('filters and pages ended calls with a total', async (t) => {
      const { storage: s } = await open(t);
      const ended = (callId: string, createdAt: number, scene: CallState['scene'], endReason: CallEndReason | null) =>
        callState(callId, { phase: 'ended', createdAt, scene, endReason, endedAt: createdAt + 500 });
      await s.commit(change(ended('e1', 1_000, 'single', CallEndReason.hangup)));
      await s.commit(change(ended('e2', 2_000, 'multi', CallEndReason.reject)));
      await s.commit(change(ended('e3', 3_000, 'group', CallEndReason.hangup)));
      await s.commit(change(ended('e4', 4_000, 'single', CallEndReason.canceled)));
      await s.commit(change(ended('e5', 5_000, 'single', CallEndReason.endByServer)));
      await s.commit(change(callState('live', { createdAt: 2_500 })));
      // Ephemeral calls leave no records (SPEC §6.1): never listed, whatever the filter.
      await s.commit(change({ ...ended('eph', 3_500, 'single', CallEndReason.hangup), isEphemeralCall: true }));
      const q = (over: Partial<Parameters<Storage['endedCalls']>[0]>) =>
        s.endedCalls({ startTime: 0, endTime: 10_000, limit: 10, offset: 0, ...over }).then((r) => ({ total: r.total, ids: ids(r.calls) }));
      assert.deepEqual(await q({}), { total: 5, ids: ['e5', 'e4', 'e3', 'e2', 'e1'] });
      assert.deepEqual(await q({ startTime: 2_000, endTime: 4_000 }), { total: 3, ids: ['e4', 'e3', 'e2'] });
      assert.deepEqual(await q({ callResult: 'NormalEnd' }), { total: 2, ids: ['e3', 'e1'] });
      assert.deepEqual(await q({ callResult: 'Interrupt' }), { total: 1, ids: ['e5'] });
      assert.deepEqual(await q({ scene: 'single' }), { total: 3, ids: ['e5', 'e4', 'e1'] });
      assert.deepEqual(await q({ scene: 'multi' }), { total: 2, ids: ['e3', 'e2'] });
      assert.deepEqual(await q({ scene: 'single', callResult: 'Cancel' }), { total: 1, ids: ['e4'] });
      assert.deepEqual(await q({ limit: 2, offset: 1 }), { total: 5, ids: ['e4', 'e3'] });
      assert.deepEqual(await q({ offset: 10 }), { total: 5, ids: [] });
      const full = await s.endedCalls({ startTime: 1_000, endTime: 1_000, limit: 1, offset: 0 });
      assert.deepEqual(full.calls, [ended('e1', 1_000, 'single', CallEndReason.hangup)]);
    });

    it('keeps everything committed across close and reopen', async (t) => {
      const made = await open(t);
      if (!made.reopen) return t.skip('adapter is not persistent');
      const s = made.storage;
      const c1 = next(callState('c1'), { phase: 'active' });
      await s.commit(change(callState('c1'), { webhooks: [hook('c1', 'e1', 1, 100), hook('c1', 'e2', 2, 200)] }));
      await s.commit(change(c1, { memberships: [{ userId: 'alice', callId: 'c1', state: 'joined' }], timerDueAt: 9_000 }));
      const done = callState('c2', { phase: 'ended', endReason: CallEndReason.hangup });
      await s.commit(change(done, { records: [{ userId: 'alice', record: record('c2') }, { userId: 'bob', record: record('c2') }] }));
      await s.deleteRecords('bob', ['c2']);
      await s.setProfile({ userId: 'alice', nickname: 'Alice', avatar: '' });
      const [w1, w2] = (await s.dueWebhooks(1_000, 10)).map((r) => r.id) as [number, number];
      await s.markWebhookFailed(w1, 5_000, 'boom', false);
      await s.markWebhookDelivered(w2, 300);
      await s.close();
      await s.close(); // idempotent

      const r = await made.reopen();
      t.after(() => r.close());
      assert.deepEqual(await r.getCall('c1'), c1);
      assert.deepEqual(ids(await r.activeCalls()), ['c1']);
      assert.deepEqual(await r.membershipsOf('alice'), [{ userId: 'alice', callId: 'c1', state: 'joined' }]);
      assert.deepEqual(await r.timers(), [{ callId: 'c1', dueAt: 9_000 }]);
      assert.deepEqual(await r.queryRecords('alice', {}), [record('c2')]);
      assert.deepEqual(await r.queryRecords('bob', {}), []);
      assert.deepEqual(await r.getProfiles(['alice']), [{ userId: 'alice', nickname: 'Alice', avatar: '' }]);
      assert.deepEqual(await r.endedCalls({ startTime: 0, endTime: 1e12, limit: 10, offset: 0 }), { total: 1, calls: [done] });
      const due = await r.dueWebhooks(5_000, 10);
      assert.deepEqual(due.map((w) => [w.id, w.attempts, w.lastError]), [[w1, 1, 'boom']]);
      assert.deepEqual(await r.webhookBacklog(), { depth: 1, oldestCreatedAt: 100 });
      // A new call committed after reopening continues the outbox ids.
      await r.commit(change(callState('c3'), { webhooks: [hook('c3', 'e3', 1, 400)] }));
      assert.ok((await r.dueWebhooks(1e12, 10)).every((w) => w.id !== w2));
    });

    runClusterContract(open);
    pushContract(open);
    replayContract(open);
  });
}
