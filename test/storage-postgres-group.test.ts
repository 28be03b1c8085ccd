/**
 * Group commit on a real PostgreSQL (storage/postgres/GroupCommit.ts, commitBatch.ts): the commits
 * of one event-loop turn go as one statement, yet each keeps its own outcome. The contract suite
 * commits one change at a time; these tests commit many at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { CallEndReason } from '@opencall/protocol/wire';
import { callState, change, hook, leg, member, next, record } from '../packages/server/src/storage/contractFixtures.js';
import type { CallState } from '../packages/server/src/call/types.js';
import { BusyConflictError, RequestCommittedError, VersionConflictError, type CallChange } from '../packages/server/src/storage/index.js';
import { PostgresStorage } from '../packages/server/src/storage/postgres/PostgresStorage.js';
import { createTestDatabase, pgUnavailable, type TestDatabase } from './helpers/pg.js';

const unavailable = await pgUnavailable();

/** A ringing call `id` from `caller` to `callee`, with one row of every derived kind. */
function ringing(id: string, caller: string, callee: string): CallChange {
  const state = callState(id, { callerId: caller, inviteList: [callee], members: { [caller]: member(caller, 'calling'), [callee]: member(callee, 'ringing') } });
  return change(state, {
    memberships: [leg(callee, id, 'ringing'), leg(caller, id, 'calling')],
    timerDueAt: 31_000,
    webhooks: [hook(id, `${id}.1`, 1, 1_000)],
    pushes: [{ callId: id, userId: callee, kind: 'invite', payload: '{}', createdAt: 1_000, expiresAt: 31_000 }],
    trace: [{ callId: id, userId: callee, deviceId: 'dev-1', step: 'rung', time: 1_000, detail: null }],
    request: { userId: caller, deviceId: 'dev-1', requestId: 7, result: JSON.stringify({ callId: id }), events: '[]', createdAt: 1_000 },
    deviceEvents: [{ userId: callee, deviceId: 'dev-1', eid: `${id}:1:0`, event: '{}', createdAt: 1_000 }],
  });
}

/** The change ending `prev` (hung up): no memberships, no timer, a record per user. */
function ended(prev: CallState): CallChange {
  const state = next(prev, { phase: 'ended', endedAt: 5_000, endReason: CallEndReason.hangup });
  return change(state, {
    records: Object.keys(prev.members).map((userId) => ({ userId, record: record(prev.callId, { beginTime: 1_000 }) })),
  });
}

if (unavailable) {
  it('PostgreSQL group commit', { skip: unavailable }, () => {});
} else {
  describe('PostgresStorage group commit', () => {
    let db: TestDatabase;
    let s: PostgresStorage;
    before(async () => {
      db = await createTestDatabase();
      s = await PostgresStorage.open(db.url);
    });
    after(async () => {
      await s?.close();
      await db?.drop();
    });

    it('stores every row of 20 calls committed in one turn, in far fewer statements than commits', async () => {
      const counter = postgres(db.url, { max: 1, onnotice: () => {} });
      const xacts = async (): Promise<number> => {
        await counter`SELECT pg_stat_clear_snapshot()`;
        const [r] = await counter<{ n: string }[]>`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()`;
        return Number(r!.n);
      };
      const writer = await PostgresStorage.open(db.url);
      const before = await xacts();
      await Promise.all(Array.from({ length: 20 }, (_, i) => writer.commit(ringing(`g${i}`, `ga${i}`, `gb${i}`))));
      // Backends report their counters when they exit.
      await writer.close();
      await new Promise((r) => setTimeout(r, 300));
      const statements = (await xacts()) - before - 1;
      await counter.end();
      assert.ok(statements <= 6, `20 commits took ${statements} statements`);
      for (let i = 0; i < 20; i++) {
        assert.equal((await s.getCall(`g${i}`))?.version, 1);
        assert.deepEqual(await s.membershipsOf(`gb${i}`), [leg(`gb${i}`, `g${i}`, 'ringing')]);
        assert.equal((await s.callTrace(`g${i}`)).length, 1);
        assert.equal((await s.requestResult(`ga${i}`, 'dev-1', 7))?.result, JSON.stringify({ callId: `g${i}` }));
      }
      assert.equal((await s.timers()).filter((t) => t.callId.startsWith('g')).length, 20);
      assert.equal((await s.dueWebhooks(10_000, 100)).filter((w) => w.callId.startsWith('g')).length, 20);
      assert.equal((await s.duePushes(10_000, 100)).filter((p) => p.callId.startsWith('g')).length, 20);
      assert.equal((await s.recentDeviceEvents(0)).filter((e) => e.eid.startsWith('g')).length, 20);
    });

    it('rejects only the stale change of a turn with VersionConflictError; the others and their rows land', async () => {
      const starts = Array.from({ length: 8 }, (_, i) => ringing(`v${i}`, `va${i}`, `vb${i}`));
      await Promise.all(starts.map((c) => s.commit(c)));
      // Another node moved v3 on meanwhile: this turn's end of v3 was computed from version 1.
      await s.commit(change(next(starts[3]!.state, { userData: 'moved' }), { memberships: starts[3]!.memberships, timerDueAt: 31_000 }));
      const ends = starts.map((c) => ended(c.state));
      const results = await Promise.allSettled(ends.map((c) => s.commit(c)));
      results.forEach((r, i) => {
        if (i === 3) assert.ok(r.status === 'rejected' && r.reason instanceof VersionConflictError, String((r as PromiseRejectedResult).reason));
        else assert.equal(r.status, 'fulfilled', `change ${i}`);
      });
      assert.equal((await s.getCall('v3'))?.phase, 'ringing', 'the loser wrote nothing');
      assert.deepEqual(await s.membershipsOf('vb3'), [leg('vb3', 'v3', 'ringing')]);
      assert.deepEqual(await s.queryRecords('va3', {}), []);
      assert.equal((await s.getCall('v5'))?.phase, 'ended');
      assert.deepEqual(await s.membershipsOf('vb5'), []);
      assert.equal((await s.queryRecords('va5', {})).length, 1);
      assert.ok(!(await s.timers()).some((t) => t.callId === 'v5'), 'the ended call has no timer');
    });

    it('refuses only the change ringing a busy user (BusyConflictError); the rest of the turn lands', async () => {
      await s.commit(ringing('busy0', 'bx', 'by'));
      const turn = [ringing('b1', 'b1a', 'b1b'), ringing('b2', 'b2a', 'by'), ringing('b3', 'b3a', 'b3b')];
      const results = await Promise.allSettled(turn.map((c) => s.commit(c)));
      assert.equal(results[0]!.status, 'fulfilled');
      const refused = results[1]!;
      assert.ok(refused.status === 'rejected' && refused.reason instanceof BusyConflictError && refused.reason.userId === 'by');
      assert.equal(results[2]!.status, 'fulfilled');
      assert.equal(await s.getCall('b2'), null);
      assert.deepEqual(await s.membershipsOf('b2a'), []);
      assert.equal((await s.getCall('b3'))?.version, 1);
    });

    it('appends trace steps reported in the same turn as commits, in order after the steps already stored', async () => {
      const start = ringing('tr', 'tra', 'trb');
      await s.commit(start);
      const received = { callId: 'tr', userId: 'trb', deviceId: 'dev-1', step: 'received', time: 1_001, detail: null };
      await Promise.all([s.appendTrace([received]), s.commit(ringing('tr2', 'tr2a', 'tr2b')), s.appendTrace([{ ...received, step: 'notification.shown', time: 1_002 }])]);
      assert.deepEqual((await s.callTrace('tr')).map((t) => t.step), ['rung', 'received', 'notification.shown']);
      assert.equal((await s.callTrace('tr2')).length, 1);
    });

    it('two nodes batching next versions of the same calls in opposite orders: one winner per call, no deadlock (10 rounds)', async () => {
      const other = await PostgresStorage.open(db.url);
      try {
        for (let round = 0; round < 10; round++) {
          const starts = Array.from({ length: 60 }, (_, i) => ringing(`o${round}_${String(i).padStart(2, '0')}`, `o${round}a${i}`, `o${round}b${i}`));
          await Promise.all(starts.map((c) => s.commit(c)));
          const bump = (c: CallChange, by: string) => change(next(c.state, { userData: by }), { memberships: c.memberships, timerDueAt: 31_000 });
          const started = Date.now();
          const results = await Promise.allSettled([
            ...starts.map((c) => s.commit(bump(c, 'a'))),
            ...[...starts].reverse().map((c) => other.commit(bump(c, 'b'))),
          ]);
          const won = results.filter((r) => r.status === 'fulfilled').length;
          assert.ok(results.every((r) => r.status === 'fulfilled' || r.reason instanceof VersionConflictError), `round ${round}`);
          assert.equal(won, 60, `round ${round}: exactly one winner per call`);
          // A deadlock would only be broken after deadlock_timeout (1 s).
          assert.ok(Date.now() - started < 900, `round ${round} took ${Date.now() - started} ms`);
          for (const c of starts) assert.equal((await s.getCall(c.state.callId))?.version, 2);
        }
      } finally {
        await other.close();
      }
    });

    it('commits two changes of one call queued in one turn in order: the second, stale, loses', async () => {
      const first = ringing('twice', 'ta', 'tb');
      await s.commit(first);
      const a = ended(first.state);
      const b = change(next(first.state, { userData: 'other' }), { memberships: first.memberships });
      const [ra, rb] = await Promise.allSettled([s.commit(a), s.commit(b)]);
      assert.equal(ra.status, 'fulfilled');
      assert.ok(rb.status === 'rejected' && rb.reason instanceof VersionConflictError);
      assert.equal((await s.getCall('twice'))?.phase, 'ended');
    });

    it('refuses only the change whose request committed already (RequestCommittedError); the rest of the turn lands', async () => {
      await s.commit(ringing('rq1', 'rqa', 'rqb'));
      // The same request id of the same device again (a re-sent call.start whose first run was
      // stalled), in one turn with an unrelated call.
      const [again, other] = await Promise.allSettled([s.commit(ringing('rq2', 'rqa', 'rqc')), s.commit(ringing('rq3', 'rqd', 'rqe'))]);
      assert.ok(again.status === 'rejected' && again.reason instanceof RequestCommittedError, String(again.status === 'rejected' ? again.reason : 'fulfilled'));
      assert.equal(other.status, 'fulfilled');
      assert.equal(await s.getCall('rq2'), null);
      assert.deepEqual(await s.membershipsOf('rqc'), []);
      assert.equal((await s.getCall('rq3'))?.version, 1);
      assert.equal((await s.requestResult('rqa', 'dev-1', 7))?.result, JSON.stringify({ callId: 'rq1' }));
    });
  });
}
