/**
 * Runs the storage contract against every adapter, plus the SQLite-only proof that two processes
 * sharing one database file cannot both win a race on the same call.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CallEndReason, CallMediaType } from '@opencall/protocol/wire';
import type { CallState } from '../call/types.js';
import { tencentCallResult } from './callResult.js';
import { runStorageContract } from './contract.js';
import { BusyConflictError, MemoryStorage, SqliteStorage, VersionConflictError, openStorage } from './index.js';
import Database from 'better-sqlite3';
import { SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6 } from './sqlite/schema.js';

/** One temp directory for every file-backed test; removed when the file's tests end. */
const dir = mkdtempSync(join(tmpdir(), 'opencall-storage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

runStorageContract('memory', async () => ({ storage: new MemoryStorage() }));
runStorageContract('sqlite :memory:', async () => ({ storage: new SqliteStorage(':memory:') }));
runStorageContract('sqlite file', async () => {
  // A nested path also proves the parent directory is created.
  const path = join(dir, `db-${fileSeq++}`, 'opencall.db');
  return { storage: new SqliteStorage(path), reopen: async () => new SqliteStorage(path) };
});

/** A minimal call state at `version`. */
function state(version: number, userData: string): CallState {
  return {
    callId: 'race',
    version,
    phase: 'ringing',
    scene: 'single',
    mediaType: CallMediaType.audio,
    callerId: 'alice',
    inviteList: ['bob'],
    roomId: { intRoomId: 7 },
    userData,
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

describe('SqliteStorage on one shared file', () => {
  it('lets only one of two racing writers commit version N+1', async (t) => {
    const path = join(dir, 'shared.db');
    const a = new SqliteStorage(path);
    const b = new SqliteStorage(path);
    t.after(async () => {
      await a.close();
      await b.close();
    });
    const empty = { memberships: [], timerDueAt: null, records: [], webhooks: [] };
    await a.commit({ ...empty, state: state(1, 'v1'), expectedVersion: 0 });

    const readA = await a.getCall('race');
    const readB = await b.getCall('race');
    assert.equal(readA?.version, 1);
    assert.equal(readB?.version, 1);

    await a.commit({ ...empty, state: state(2, 'from A'), expectedVersion: 1 });
    await assert.rejects(b.commit({ ...empty, state: state(2, 'from B'), expectedVersion: 1 }), VersionConflictError);
    assert.deepEqual(await a.getCall('race'), state(2, 'from A'));
    assert.deepEqual(await b.getCall('race'), state(2, 'from A'));
  });
});

describe('SqliteStorage schema migration', () => {
  it('upgrades a version-1 file: ephemeral calls already stored drop out of the admin listing', async (t) => {
    const path = join(dir, 'v1.db');
    const v1 = new Database(path);
    for (const sql of SCHEMA_V1) v1.exec(sql);
    v1.pragma('user_version = 1');
    const insert = v1.prepare('INSERT INTO calls (call_id, version, phase, scene, created_at, ended_at, call_result, state) VALUES (?, 1, ?, ?, ?, ?, ?, ?)');
    for (const [callId, isEphemeralCall] of [['kept', false], ['eph', true]] as const) {
      const s = { ...state(1, ''), callId, phase: 'ended' as const, isEphemeralCall, endReason: CallEndReason.hangup, endedAt: 2_000 };
      insert.run(callId, 'ended', 'single', 1_000, 2_000, 'NormalEnd', JSON.stringify(s));
    }
    v1.close();
    const s = new SqliteStorage(path);
    t.after(() => s.close());
    const listed = await s.endedCalls({ startTime: 0, endTime: 1e12, limit: 10, offset: 0 });
    assert.deepEqual([listed.total, listed.calls.map((c) => c.callId)], [1, ['kept']]);
    assert.equal((await s.getCall('eph'))?.isEphemeralCall, true, 'the call itself is still there');
  });
});

describe('SqliteStorage schema 2 → 3', () => {
  /** A version-2 file at `path` holding call 'live' with the given membership rows and a timer. */
  function v2File(path: string, memberships: [string, string, string][]): void {
    const v2 = new Database(path);
    for (const sql of [...SCHEMA_V1, ...SCHEMA_V2]) v2.exec(sql);
    v2.pragma('user_version = 2');
    for (const callId of new Set(memberships.map((m) => m[1]))) {
      v2.prepare('INSERT INTO calls (call_id, version, phase, scene, created_at, state) VALUES (?, 1, ?, ?, 1000, ?)').run(
        callId, 'ringing', 'single', JSON.stringify({ ...state(1, ''), callId }),
      );
      v2.prepare('INSERT INTO timers (call_id, due_at) VALUES (?, 31000)').run(callId);
    }
    for (const m of memberships) v2.prepare('INSERT INTO memberships (user_id, call_id, state) VALUES (?, ?, ?)').run(...m);
    v2.close();
  }

  it('upgrades a version-2 file in place: timers become claimable, a second busy leg is refused', async (t) => {
    const path = join(dir, 'v2.db');
    v2File(path, [['alice', 'live', 'calling'], ['bob', 'live', 'ringing']]);
    const s = new SqliteStorage(path);
    t.after(() => s.close());
    assert.deepEqual(await s.timers(), [{ callId: 'live', dueAt: 31_000 }]);
    assert.deepEqual(await s.claimDueTimers('n1', 31_000, 1_000, 10), [{ callId: 'live', dueAt: 31_000 }]);
    const other = { ...state(1, ''), callId: 'other' };
    await assert.rejects(
      s.commit({ state: other, expectedVersion: 0, memberships: [{ userId: 'bob', callId: 'other', state: 'ringing' }], timerDueAt: null, records: [], webhooks: [] }),
      BusyConflictError,
    );
    assert.equal(await s.acquireLease('webhooks', 'n1', 1_000, 0), true);
  });

  it('refuses, naming them, to upgrade a file where a user is busy in two calls', () => {
    const path = join(dir, 'v2-double.db');
    v2File(path, [['bob', 'one', 'joined'], ['bob', 'two', 'ringing'], ['carol', 'two', 'calling']]);
    assert.throws(() => new SqliteStorage(path), /users bob are busy in two calls/);
    const db = new Database(path);
    assert.equal(db.pragma('user_version', { simple: true }), 2, 'the file is left as it was');
    db.close();
  });
});

describe('SqliteStorage schema 6 → 7', () => {
  it('moves stored device events into per-commit rows, in order, still replayable and forgettable', async (t) => {
    const path = join(dir, 'v6.db');
    const v6 = new Database(path);
    for (const sql of [...SCHEMA_V1, ...SCHEMA_V2, ...SCHEMA_V3, ...SCHEMA_V4, ...SCHEMA_V5, ...SCHEMA_V6]) v6.exec(sql);
    v6.pragma('user_version = 6');
    const insert = v6.prepare('INSERT INTO device_events (user_id, device_id, eid, event, created_at) VALUES (?, ?, ?, ?, ?)');
    insert.run('bob', 'b1', 'c1:1:0', '{"name":"onCallReceived","n":1}', 100);
    insert.run('alice', 'a1', 'c1:2:0', '{"name":"onCallBegin"}', 200);
    insert.run('bob', 'b1', 'c1:2:1', '{"name":"onCallBegin"}', 200);
    v6.close();
    const s = new SqliteStorage(path);
    t.after(() => s.close());
    assert.deepEqual(await s.recentDeviceEvents(150), [
      { userId: 'alice', deviceId: 'a1', eid: 'c1:2:0', event: '{"name":"onCallBegin"}', createdAt: 200 },
      { userId: 'bob', deviceId: 'b1', eid: 'c1:2:1', event: '{"name":"onCallBegin"}', createdAt: 200 },
    ]);
    await s.forgetDevice('bob', 'b1');
    assert.deepEqual((await s.recentDeviceEvents(0)).map((e) => e.eid), ['c1:2:0']);
  });
});

describe('SqliteStorage history retention', () => {
  it('deletes push rows settled before the cutoff, keeps later and pending ones', async (t) => {
    const path = join(dir, 'retention-push.db');
    const s = new SqliteStorage(path);
    t.after(() => s.close());
    const rows = [100, 200, 300].map((at) => ({ callId: 'c', userId: `u${at}`, kind: 'invite' as const, payload: '{}', createdAt: at, expiresAt: at + 30_000 }));
    await s.commit({ state: { ...state(1, ''), callId: 'c' }, expectedVersion: 0, memberships: [], timerDueAt: null, records: [], webhooks: [], pushes: rows });
    const [a, b] = await s.duePushes(1e12, 10);
    await s.settlePush(a!.id, 1_000, null);
    await s.settlePush(b!.id, 9_000, null);
    await s.purgeHistory(5_000, 100);
    const db = new Database(path, { readonly: true });
    t.after(() => db.close());
    const left = db.prepare<[], { user_id: string }>('SELECT user_id FROM push_queue ORDER BY id').all().map((r) => r.user_id);
    assert.deepEqual(left, ['u200', 'u300']);
  });
});

describe('SqliteStorage stored requests and group commit', () => {
  it('answers a re-sent request from its stored outcome only once that outcome is durable', async (t) => {
    const path = join(dir, 'staged-request.db');
    const s = new SqliteStorage(path);
    t.after(() => s.close());
    const request = { userId: 'bob', deviceId: 'b1', requestId: 7, result: '{}', events: '[]', createdAt: 1 };
    s.stage({ state: { ...state(1, ''), callId: 'c' }, expectedVersion: 0, memberships: [], timerDueAt: null, records: [], webhooks: [], request });
    const reader = new Database(path, { readonly: true });
    t.after(() => reader.close());
    const stored = (): number => reader.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM requests').get()!.n;
    assert.equal(stored(), 0, 'staged, not durable yet');
    assert.deepEqual(await s.requestResult('bob', 'b1', 7), request);
    assert.equal(stored(), 1, 'the answer came after the commit');
  });
});

describe('tencentCallResult', () => {
  it('maps end reasons to Tencent CallResult names', () => {
    const cases: [CallEndReason | null, string][] = [
      [CallEndReason.canceled, 'Cancel'],
      [CallEndReason.reject, 'Reject'],
      [CallEndReason.noResponse, 'NotAnswer'],
      [CallEndReason.hangup, 'NormalEnd'],
      [CallEndReason.lineBusy, 'CallBusy'],
      [CallEndReason.offline, 'Offline'],
      [CallEndReason.endByServer, 'Interrupt'],
      [CallEndReason.unknown, 'Interrupt'],
      [CallEndReason.otherDeviceAccepted, 'Interrupt'],
      [CallEndReason.otherDeviceReject, 'Interrupt'],
      [null, 'Interrupt'],
    ];
    for (const [reason, name] of cases) assert.equal(tencentCallResult(reason), name, String(reason));
  });
});

describe('openStorage', () => {
  it('picks the adapter from the spec', async () => {
    const opened = [await openStorage(':memory:'), await openStorage('sqlite::memory:'), await openStorage(join(dir, 'spec', 'x.db'))];
    assert.deepEqual(
      opened.map((s) => s.kind),
      ['memory', 'sqlite', 'sqlite'],
    );
    for (const s of opened) await s.close();
  });

  it('refuses a scheme it does not know instead of making a file of that name', async () => {
    for (const spec of ['mysql://db.example/opencall', 'postgres:opencall', 'redis://127.0.0.1:6379', 'file:x.db', 'postgres:/x']) {
      await assert.rejects(openStorage(spec), (e: Error) => e.message.includes(`'${spec}' is not supported`) && e.message.includes('postgres://'), spec);
    }
    await assert.rejects(openStorage('mysql://u:hunter2@db/x'), (e: Error) => !e.message.includes('hunter2'), 'the password is not echoed');
  });
});
