/**
 * The storage contract on a real PostgreSQL, plus what only a shared server can show: two nodes'
 * storages racing the same busy user, racing for due timers, and ten nodes migrating one fresh
 * database at once. Every test gets its own database (`helpers/pg.ts`) and drops it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { runStorageContract } from '../packages/server/src/storage/contract.js';
import { callState, change, leg, member } from '../packages/server/src/storage/contractFixtures.js';
import { BusyConflictError, openStorage, type Storage } from '../packages/server/src/storage/index.js';
import { PostgresStorage } from '../packages/server/src/storage/postgres/PostgresStorage.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../packages/server/src/storage/postgres/schema.js';
import { createTestDatabase, pgUnavailable, type TestDatabase } from './helpers/pg.js';

const unavailable = await pgUnavailable();

if (unavailable) {
  it('PostgreSQL storage', { skip: unavailable }, () => {});
} else {
  runStorageContract('postgres', async () => {
    const db = await createTestDatabase();
    return { storage: await PostgresStorage.open(db.url), reopen: () => PostgresStorage.open(db.url), dispose: () => db.drop() };
  });

  describe('PostgresStorage, several nodes on one database', () => {
    let db: TestDatabase;
    let a: Storage;
    let b: Storage;
    before(async () => {
      db = await createTestDatabase();
      [a, b] = [await PostgresStorage.open(db.url), await PostgresStorage.open(db.url)];
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await db?.drop();
    });

    it('openStorage opens a postgres:// URL, migrated and ready', async () => {
      const s = await openStorage(db.url.replace(/^postgres:/, 'postgresql:'));
      try {
        assert.equal(s.kind, 'postgres');
        await s.commit(change(callState('open-check')));
        assert.equal((await a.getCall('open-check'))?.callId, 'open-check', 'the other node reads it');
      } finally {
        await s.close();
      }
    });

    it('lets exactly one of two calls ring the same user when both commit at the same instant (50 rounds)', async () => {
      const winners = { a: 0, b: 0 };
      for (let i = 0; i < 50; i++) {
        const callee = `bob${i}`;
        const from = (node: 'a' | 'b') => {
          const callId = `race-${node}-${i}`;
          const caller = `${node}caller${i}`;
          const state = callState(callId, { callerId: caller, inviteList: [callee], members: { [caller]: member(caller, 'calling'), [callee]: member(callee, 'ringing') } });
          return change(state, { memberships: [leg(caller, callId, 'calling'), leg(callee, callId, 'ringing')], timerDueAt: 30_000 + i });
        };
        const results = await Promise.allSettled([a.commit(from('a')), b.commit(from('b'))]);
        const won = results.map((r) => r.status === 'fulfilled');
        assert.equal(won.filter(Boolean).length, 1, `round ${i}: exactly one commit wins`);
        const loser = results.find((r) => r.status === 'rejected');
        assert.ok(loser?.reason instanceof BusyConflictError && loser.reason.userId === callee, `round ${i}: the loser is told ${callee} is busy`);
        const winner = won[0] ? 'a' : 'b';
        const other = won[0] ? 'b' : 'a';
        winners[winner] += 1;
        assert.deepEqual(await a.membershipsOf(callee), [leg(callee, `race-${winner}-${i}`, 'ringing')]);
        assert.equal(await b.getCall(`race-${other}-${i}`), null, `round ${i}: nothing of the losing call is stored`);
        assert.deepEqual(await a.membershipsOf(`${other}caller${i}`), []);
      }
      assert.equal(winners.a + winners.b, 50);
    });

    it('lets crossed calls (A→B on one node, B→A on the other) resolve to one, without a deadlock (20 rounds)', async () => {
      for (let i = 0; i < 20; i++) {
        const [x, y] = [`x${i}`, `y${i}`];
        const call = (callId: string, caller: string, callee: string) =>
          change(callState(callId, { callerId: caller, inviteList: [callee], members: { [caller]: member(caller, 'calling'), [callee]: member(callee, 'ringing') } }), {
            memberships: [leg(caller, callId, 'calling'), leg(callee, callId, 'ringing')],
          });
        const started = Date.now();
        const results = await Promise.allSettled([a.commit(call(`xy${i}`, x, y)), b.commit(call(`yx${i}`, y, x))]);
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, `round ${i}`);
        const loser = results.find((r) => r.status === 'rejected');
        assert.ok(loser?.reason instanceof BusyConflictError, `round ${i}: ${String(loser?.reason)}`);
        // A deadlock would only be broken after deadlock_timeout (1 s) and surface as a version conflict.
        assert.ok(Date.now() - started < 900, `round ${i} took ${Date.now() - started} ms`);
      }
    });

    it('never hands one due timer to both nodes claiming at the same time', async () => {
      for (let i = 0; i < 60; i++) await a.commit(change(callState(`t${String(i).padStart(2, '0')}`), { timerDueAt: 1_000 + i }));
      const got: Record<string, string[]> = { a: [], b: [] };
      for (;;) {
        const [ca, cb] = await Promise.all([a.claimDueTimers('a', 5_000, 60_000, 7), b.claimDueTimers('b', 5_000, 60_000, 7)]);
        got.a!.push(...ca.map((c) => c.callId));
        got.b!.push(...cb.map((c) => c.callId));
        if (ca.length === 0 && cb.length === 0) break;
      }
      const all = [...got.a!, ...got.b!];
      assert.equal(new Set(all).size, all.length, 'no timer claimed twice');
      assert.equal(all.length, 60, 'every due timer claimed');
      assert.ok(got.a!.length > 0 && got.b!.length > 0, `both nodes got work (${got.a!.length}/${got.b!.length})`);
    });
  });

  describe('PostgresStorage schema', () => {
    it('builds the schema once when ten nodes start on a fresh database together', async (t) => {
      const db = await createTestDatabase();
      t.after(() => db.drop());
      const nodes = await Promise.all(Array.from({ length: 10 }, () => PostgresStorage.open(db.url)));
      t.after(() => Promise.all(nodes.map((n) => n.close())));
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      t.after(() => sql.end());
      const rows = await sql<{ version: number; n: number }[]>`SELECT version, count(*)::int AS n FROM opencall_migrations GROUP BY version ORDER BY version`;
      assert.deepEqual(
        rows.map((r) => [r.version, r.n]),
        Array.from({ length: SCHEMA_VERSION }, (_, i) => [i + 1, 1]),
      );
      await nodes[3]!.commit(change(callState('m1')));
      assert.equal((await nodes[7]!.getCall('m1'))?.version, 1);
    });

    it('upgrades a migration-3 database: stored device events move to per-commit rows, in order, still forgettable', async (t) => {
      const db = await createTestDatabase();
      t.after(() => db.drop());
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      t.after(() => sql.end());
      await sql.unsafe('CREATE TABLE opencall_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
        for (const statement of m.statements) await sql.unsafe(statement);
        await sql`INSERT INTO opencall_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      }
      await sql`INSERT INTO device_events (user_id, device_id, eid, event, created_at) VALUES
        ('bob', 'b1', 'c1:1:0', '{"name":"onCallReceived"}', 100),
        ('alice', 'a1', 'c1:2:0', '{"name":"onCallBegin"}', 200),
        ('bob', 'b1', 'c1:2:1', '{"name":"onCallBegin"}', 200)`;
      const s = await PostgresStorage.open(db.url);
      t.after(() => s.close());
      assert.deepEqual(await s.recentDeviceEvents(150), [
        { userId: 'alice', deviceId: 'a1', eid: 'c1:2:0', event: '{"name":"onCallBegin"}', createdAt: 200 },
        { userId: 'bob', deviceId: 'b1', eid: 'c1:2:1', event: '{"name":"onCallBegin"}', createdAt: 200 },
      ]);
      await s.forgetDevice('bob', 'b1');
      assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:2:0']);
    });

    it('refuses a database migrated by newer code', async (t) => {
      const db = await createTestDatabase();
      t.after(() => db.drop());
      await (await PostgresStorage.open(db.url)).close();
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      t.after(() => sql.end());
      await sql`INSERT INTO opencall_migrations (version, name) VALUES (${SCHEMA_VERSION + 1}, 'from the future')`;
      await assert.rejects(PostgresStorage.open(db.url), new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`));
    });

    it('fails to open with a clear error when the server does not answer', async () => {
      await assert.rejects(openStorage('postgres://root@127.0.0.1:1/opencall'), /ECONNREFUSED|connect/);
    });
  });
}
