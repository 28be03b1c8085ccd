/**
 * SPEC §6.2 over real HTTP with real calls: the CallResult of every end reason, the exact
 * TencentCallRecord, get_record_by_filter (filters, paging, defaults) and end_call with what each
 * participant sees.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { rawDevice, restPost } from './fixtures/durabilityClients.js';
import type { RestEnvelope } from './fixtures/durabilityClients.js';
import { startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const BY_ID = '/v4/call_record_http_srv/get_record_by_callid';
const BY_FILTER = '/v4/call_record_http_srv/get_record_by_filter';
const END_CALL = '/v4/call_engine_http_srv/end_call';
const audio = CallMediaType.audio;
const ADMIN = 'administrator';

/** The TencentCallRecord fields this file reads. */
interface TRecord {
  CallId: string;
  Caller_Account: string;
  CalleeList_Account: string[];
  MediaType: string;
  CallType: string;
  StartTime: number;
  AcceptTime: number;
  EndTime: number;
  CallResult: string;
  RoomId: string;
  RoomIdType: number;
  Timings: { invitedAt: number; ringingAt: Record<string, number>; acceptedAt: number | null; mediaConnectedAt: number | null; endedAt: number | null };
}

const ok = (r: { body: RestEnvelope }): Record<string, unknown> => {
  assert.equal(r.body.ErrorCode, 0, r.body.ErrorInfo);
  return r.body.Response ?? {};
};
const byId = async (url: string, callId: string): Promise<TRecord> => ok(await restPost(url, BY_ID, { CallId: callId })).CallRecord as TRecord;
const filter = async (url: string, body: Record<string, unknown>): Promise<{ TotalNum: number; Page: number; CallRecordList: TRecord[] }> =>
  ok(await restPost(url, BY_FILTER, body)) as { TotalNum: number; Page: number; CallRecordList: TRecord[] };

describe('records through REST (SPEC §6.2)', () => {
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), 'opencall-rest-'));
  const users: TestUser[] = [];
  const ids: Record<string, string> = {};
  let startedAt = 0;
  let finishedAt = 0;
  const u = async (id: string): Promise<TestUser> => {
    const t = await user(server, id);
    users.push(t);
    return t;
  };
  /** `a` calls `b`; resolves once `b` is ringing. */
  const ring = async (a: TestUser, b: TestUser, params: Parameters<TestUser['engine']['calls']>[2] = {}, type = audio): Promise<string> => {
    const { callId } = await a.engine.calls([b.id], type, params);
    await b.rec.waitFor('onCallReceived', (args) => args[0] === callId);
    return callId;
  };

  before(async () => {
    server = await startTestServer({ storage: join(dir, 'opencall.db'), defaultRingTimeoutSeconds: 30 });
    startedAt = Date.now();
    // One call per end reason (SPEC §6.2's CallResult table), oldest first.
    const [a1, b1] = [await u('r1a'), await u('r1b')];
    ids.cancel = await ring(a1, b1);
    await a1.engine.hangup();
    const [a2, b2] = [await u('r2a'), await u('r2b')];
    ids.reject = await ring(a2, b2);
    await b2.engine.reject();
    const [a3, b3] = [await u('r3a'), await u('r3b')];
    ids.notAnswer = await ring(a3, b3, { timeout: 1 });
    await a3.rec.waitFor('onCallNotConnected');
    const [a4, b4] = [await u('r4a'), await u('r4b')];
    ids.normal = await ring(a4, b4, { roomId: { intRoomId: 4242 } }, CallMediaType.video);
    await b4.engine.accept();
    await sleep(150);
    await b4.engine.hangup();
    await a4.rec.waitFor('onCallEnd');
    const [a5, c5, d5] = [await u('r5a'), await u('r5c'), await u('r5d')];
    ids.busyCause = await ring(d5, c5);
    const busy = await a5.engine.calls([c5.id], audio);
    ids.busy = busy.callId;
    await a5.rec.waitFor('onCallNotConnected');
    await d5.engine.hangup();
    // unInit() would cancel first: a device that signs out with the protocol's logout mid-call drops.
    const [a6, b6] = [await rawDevice(server.url, 'r6a'), await u('r6b')];
    ids.offline = String((await a6.request('call.start', { userIds: [b6.id], mediaType: audio })).data?.callId);
    await b6.rec.waitFor('onCallReceived');
    await a6.request('logout', {});
    await b6.rec.waitFor('onCallNotConnected');
    const [a7, b7] = [await u('r7a'), await u('r7b')];
    ids.interrupt = await ring(a7, b7);
    await b7.engine.accept();
    ok(await restPost(server.url, END_CALL, { CallId: ids.interrupt }));
    const [a8, b8, c8] = [await u('r8a'), await u('r8b'), await u('r8c')];
    ids.multi = (await a8.engine.calls([b8.id, c8.id], audio)).callId;
    await b8.rec.waitFor('onCallReceived');
    await c8.rec.waitFor('onCallReceived');
    await b8.engine.accept();
    await c8.engine.reject();
    await a8.engine.hangup();
    await b8.rec.waitFor('onCallEnd');
    const [a9, b9] = [await u('r9a'), await u('r9b')];
    ids.ephemeral = await ring(a9, b9, { isEphemeralCall: true });
    await b9.engine.accept();
    await b9.engine.hangup();
    await a9.rec.waitFor('onCallEnd');
    finishedAt = Date.now();
    const [a10, b10] = [await u('r10a'), await u('r10b')];
    ids.running = await ring(a10, b10);
  });
  after(async () => {
    await cleanup(...users);
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('CallResult of each end reason: Cancel, Reject, NotAnswer, NormalEnd, CallBusy, Offline, Interrupt', async () => {
    const expected: [string, string][] = [
      ['cancel', 'Cancel'],
      ['reject', 'Reject'],
      ['notAnswer', 'NotAnswer'],
      ['normal', 'NormalEnd'],
      ['busy', 'CallBusy'],
      ['offline', 'Offline'],
      ['interrupt', 'Interrupt'],
      ['multi', 'NormalEnd'],
    ];
    const got = await Promise.all(expected.map(async ([k]) => [k, (await byId(server.url, ids[k]!)).CallResult]));
    assert.deepEqual(got, expected);
  });

  it('get_record_by_callid answers the exact TencentCallRecord: Unix seconds outside, ms Timings inside', async () => {
    const r = await byId(server.url, ids.normal!);
    const t = r.Timings;
    const s = (ms: number | null): number => Math.floor((ms ?? 0) / 1000);
    assert.deepEqual(r, {
      CallId: ids.normal,
      Caller_Account: 'r4a',
      CalleeList_Account: ['r4b'],
      MediaType: 'Video',
      CallType: 'SingleCall',
      StartTime: s(t.invitedAt),
      AcceptTime: s(t.acceptedAt),
      EndTime: s(t.endedAt),
      CallResult: 'NormalEnd',
      RoomId: '4242',
      RoomIdType: 1,
      Timings: { invitedAt: t.invitedAt, ringingAt: { r4b: t.ringingAt.r4b }, acceptedAt: t.acceptedAt, mediaConnectedAt: null, endedAt: t.endedAt },
    });
    // ms epoch inside the test's own window, in the order things happened.
    assert.ok(t.invitedAt >= startedAt && t.endedAt! <= finishedAt, 'Timings are ms epoch');
    assert.ok(t.invitedAt <= t.ringingAt.r4b! && t.ringingAt.r4b! <= t.acceptedAt! && t.acceptedAt! + 150 <= t.endedAt!, `timings in order: ${JSON.stringify(t)}`);
    assert.ok(Math.abs(r.StartTime - startedAt / 1000) < 60, 'StartTime is Unix seconds');
  });

  it('a call never accepted has AcceptTime 0 and a null acceptedAt; a multi call is MultiCall with every invitee', async () => {
    const r = await byId(server.url, ids.reject!);
    assert.equal(r.AcceptTime, 0);
    assert.equal(r.Timings.acceptedAt, null);
    assert.ok(r.EndTime >= r.StartTime, 'EndTime is not before StartTime');
    const m = await byId(server.url, ids.multi!);
    assert.equal(m.CallType, 'MultiCall');
    assert.deepEqual(m.CalleeList_Account, ['r8b', 'r8c']);
  });

  it('running and ephemeral calls have no record (101002) and are not listed', async () => {
    for (const k of ['running', 'ephemeral']) {
      const r = await restPost(server.url, BY_ID, { CallId: ids[k] });
      assert.equal(r.body.ErrorCode, 101002, k);
    }
    const listed = (await filter(server.url, { NumberPerPage: 100 })).CallRecordList.map((x) => x.CallId);
    assert.ok(!listed.includes(ids.running!), 'the running call is not listed');
    assert.ok(!listed.includes(ids.ephemeral!), 'the ephemeral call is not listed');
  });

  it('get_record_by_filter with defaults lists every ended call of the last 7 days, newest first, 10 per page', async () => {
    const all = await filter(server.url, {});
    const endedIds = ['cancel', 'reject', 'notAnswer', 'normal', 'busyCause', 'busy', 'offline', 'interrupt', 'multi'].map((k) => ids[k]!);
    assert.equal(all.TotalNum, endedIds.length);
    assert.equal(all.Page, 1);
    // busyCause ended (canceled) after busy, but started before it: the order is by start.
    assert.deepEqual(all.CallRecordList.map((x) => x.CallId), [...endedIds].reverse());
    const invited = all.CallRecordList.map((x) => x.Timings.invitedAt);
    assert.deepEqual(invited, [...invited].sort((x, y) => y - x));
  });

  it('get_record_by_filter pages with NumberPerPage and Page, TotalNum counting every match', async () => {
    const pages = await Promise.all([1, 2, 3, 4].map((Page) => filter(server.url, { NumberPerPage: 4, Page })));
    assert.deepEqual(pages.map((p) => [p.TotalNum, p.Page, p.CallRecordList.length]), [[9, 1, 4], [9, 2, 4], [9, 3, 1], [9, 4, 0]]);
    const flat = pages.flatMap((p) => p.CallRecordList.map((x) => x.CallId));
    assert.deepEqual(flat, (await filter(server.url, { NumberPerPage: 100 })).CallRecordList.map((x) => x.CallId));
  });

  it('get_record_by_filter by CallResult and CallType, alone and together', async () => {
    const q = async (body: Record<string, unknown>): Promise<[number, string[]]> => {
      const r = await filter(server.url, body);
      return [r.TotalNum, r.CallRecordList.map((x) => x.CallId)];
    };
    assert.deepEqual(await q({ CallResult: 'Cancel' }), [2, [ids.busyCause, ids.cancel]]);
    assert.deepEqual(await q({ CallResult: 'NormalEnd' }), [2, [ids.multi, ids.normal]]);
    assert.deepEqual(await q({ CallResult: 'Interrupt' }), [1, [ids.interrupt]]);
    assert.deepEqual(await q({ CallResult: 'Offline' }), [1, [ids.offline]]);
    assert.deepEqual(await q({ CallResult: 'CallBusy' }), [1, [ids.busy]]);
    assert.deepEqual(await q({ CallType: 'MultiCall' }), [1, [ids.multi]]);
    assert.equal((await q({ CallType: 'SingleCall' }))[0], 8);
    assert.deepEqual(await q({ CallType: 'SingleCall', CallResult: 'NormalEnd' }), [1, [ids.normal]]);
  });

  it('get_record_by_filter by StartTime/EndTime (Unix seconds, inclusive, on the start of the call)', async () => {
    const first = Math.floor((await byId(server.url, ids.cancel!)).Timings.invitedAt / 1000);
    const last = Math.floor((await byId(server.url, ids.multi!)).Timings.invitedAt / 1000);
    assert.equal((await filter(server.url, { StartTime: first, EndTime: last })).TotalNum, 9);
    assert.equal((await filter(server.url, { EndTime: first - 1 })).TotalNum, 0);
    assert.equal((await filter(server.url, { StartTime: last + 1, EndTime: last + 3600 })).TotalNum, 0);
    const lastSecond = await filter(server.url, { StartTime: last, EndTime: last });
    assert.ok(lastSecond.CallRecordList.some((x) => x.CallId === ids.multi), 'EndTime covers its whole second');
  });
});

describe('end_call (SPEC §5.1, §6.2)', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ defaultRingTimeoutSeconds: 30 });
  });
  after(() => server.close());

  it('a connected 1-to-1 call: both get onCallEnd(endByServer, admin) with the same totalTime; the record says Interrupt', async () => {
    const [a, b] = [await user(server, 'e1a'), await user(server, 'e1b')];
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    await sleep(100);
    a.rec.clear();
    b.rec.clear();
    const r = await restPost(server.url, END_CALL, { CallId: callId });
    assert.deepEqual([r.body.ActionStatus, r.body.ErrorCode, 'Response' in r.body], ['OK', 0, false]);
    await a.rec.waitFor('onCallEnd');
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual([a.rec.names(), b.rec.names()], [['onCallEnd'], ['onCallEnd']]);
    const [ea, eb] = [a.rec.events[0]!.args, b.rec.events[0]!.args];
    assert.deepEqual(ea.slice(0, 4), [callId, audio, CallEndReason.endByServer, ADMIN]);
    assert.deepEqual(eb.slice(0, 4), [callId, audio, CallEndReason.endByServer, ADMIN]);
    assert.equal(ea[4], eb[4]);
    assert.ok((ea[4] as number) >= 100, `totalTime ${String(ea[4])}`);
    assert.equal((await byId(server.url, callId)).CallResult, 'Interrupt');
    const [ra] = await a.engine.queryRecentCalls();
    assert.deepEqual([ra?.callId, ra?.endReason, ra?.result], [callId, CallEndReason.endByServer, 'outgoing']);
    await cleanup(a, b);
  });

  it('a multi call with one invitee still ringing: connected users get onCallEnd, the ringing one onCallNotConnected (endByServer, admin)', async () => {
    const [a, b, c] = [await user(server, 'e2a'), await user(server, 'e2b'), await user(server, 'e2c')];
    const { callId } = await a.engine.calls([b.id, c.id], audio);
    await b.rec.waitFor('onCallReceived');
    await c.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    for (const x of [a, b, c]) x.rec.clear();
    assert.equal((await restPost(server.url, END_CALL, { CallId: callId })).body.ErrorCode, 0);
    await c.rec.waitFor('onCallCancelled');
    await a.rec.waitFor('onCallEnd');
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(c.rec.lines(), [`onCallNotConnected(callId,1,9,${ADMIN},info(2))`, `onCallCancelled(${c.id})`]);
    for (const x of [a, b]) {
      assert.deepEqual(x.rec.names(), ['onCallEnd'], x.id);
      assert.deepEqual(x.rec.events[0]!.args.slice(0, 4), [callId, audio, CallEndReason.endByServer, ADMIN]);
    }
    const [rc] = await c.engine.queryRecentCalls();
    assert.deepEqual([rc?.result, rc?.endReason], ['missed', CallEndReason.endByServer]);
    await cleanup(a, b, c);
  });

  it('a call still ringing: caller and callee both get onCallNotConnected(endByServer, admin)', async () => {
    const [a, b] = [await user(server, 'e3a'), await user(server, 'e3b')];
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    assert.equal((await restPost(server.url, END_CALL, { CallId: callId })).body.ErrorCode, 0);
    await a.rec.waitFor('onCallCancelled');
    await b.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.lines(), [`onCallNotConnected(callId,1,9,${ADMIN},info(1))`, `onCallCancelled(${a.id})`]);
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,1,9,${ADMIN},info(2))`, `onCallCancelled(${b.id})`]);
    await cleanup(a, b);
  });

  it('end_call of a call that already ended is 101004, and nobody sees anything more', async () => {
    const [a, b] = [await user(server, 'e4a'), await user(server, 'e4b')];
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await a.engine.hangup();
    await b.rec.waitFor('onCallCancelled');
    a.rec.clear();
    b.rec.clear();
    const r = await restPost(server.url, END_CALL, { CallId: callId });
    assert.equal(r.body.ErrorCode, 101004);
    assert.equal(r.body.ActionStatus, 'FAIL');
    await sleep(100);
    assert.deepEqual([a.rec.lines(), b.rec.lines()], [[], []]);
    await cleanup(a, b);
  });
});

describe('get_record_by_filter default window (SPEC §6.2)', () => {
  it('without StartTime only the last 7 days are listed; an explicit StartTime reaches older calls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opencall-rest-age-'));
    const file = join(dir, 'opencall.db');
    try {
      let server = await startTestServer({ storage: file });
      const [a, b] = [await user(server, 'w1a'), await user(server, 'w1b')];
      const old = (await a.engine.calls([b.id], audio)).callId;
      await b.rec.waitFor('onCallReceived');
      await a.engine.hangup();
      const recent = (await a.engine.calls([b.id], audio)).callId;
      await b.rec.waitFor('onCallReceived', (args) => args[0] === recent);
      await a.engine.hangup();
      await cleanup(a, b);
      await server.close();
      // Move the first call 8 days into the past, as if it had been made then.
      const db = new Database(file);
      const shift = 8 * 86_400_000;
      const row = db.prepare<[string], { state: string }>('SELECT state FROM calls WHERE call_id = ?').get(old)!;
      const state = JSON.parse(row.state) as { createdAt: number; endedAt: number };
      state.createdAt -= shift;
      state.endedAt -= shift;
      db.prepare('UPDATE calls SET created_at = ?, ended_at = ?, state = ? WHERE call_id = ?').run(state.createdAt, state.endedAt, JSON.stringify(state), old);
      db.close();
      server = await startTestServer({ storage: file });
      try {
        const def = await filter(server.url, {});
        assert.deepEqual([def.TotalNum, def.CallRecordList.map((x) => x.CallId)], [1, [recent]]);
        const nowS = Math.floor(Date.now() / 1000);
        const wide = await filter(server.url, { StartTime: nowS - 9 * 86_400 });
        assert.deepEqual(wide.CallRecordList.map((x) => x.CallId), [recent, old]);
        assert.equal(wide.CallRecordList[1]!.StartTime, Math.floor(state.createdAt / 1000));
      } finally {
        await server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
