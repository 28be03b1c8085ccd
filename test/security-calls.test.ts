/**
 * Issue 16, call-level findings, each attacked on a real server the way the review did, then
 * checked to do no harm: the ~7 KB deeply nested `offlinePushInfo` that wedged a call (#1, via
 * call.start and call.invite, and a database poisoned before the fix: timers, admin end_call,
 * sign-in and hangup all still work), the reserved `sfu` id and forged SFU signals (#6), rights
 * after UserSig expiry (#7), a timer tick that fails (#8), field injection through
 * `offlinePushInfo` (#10), call floods (#13) and the call-id existence oracle (#15).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { genUserSig } from '@opencall/server';
import { rawSocket } from './helpers/rawSocket.js';
import type { Raw } from './helpers/rawSocket.js';
import { TEST_APP_ID, TEST_SECRET, sig, startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';
import { assertNotWedged } from './helpers/wedge.js';
import { HOOK_SECRET, HookRecorder } from './webhooks-support.js';

/** Arrays nested `depth` deep around 0: ~2 bytes per level (the review used ~3,000). */
function nested(depth: number): unknown {
  let x: unknown = 0;
  for (let i = 0; i < depth; i++) x = [x];
  return x;
}

/** A raw socket signed in as `userId` (with `userSig`, default a valid one). */
async function signedIn(server: RunningServer, userId: string, userSig = sig(userId)): Promise<Raw> {
  const r = await rawSocket(server);
  const res = await r.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId, userSig, deviceId: `dev_${userId}` });
  assert.equal(res.ok, true, `sign-in of ${userId}: ${JSON.stringify(res.error)}`);
  return r;
}

let server: RunningServer;
let hooks: HookRecorder;
before(async () => {
  hooks = await HookRecorder.start();
  server = await startTestServer({ webhookUrl: hooks.url, webhookSecret: HOOK_SECRET, limits: { messagesPerSecondPerConnection: 1000 }, heartbeatTimeoutMs: 30_000 });
});
after(async () => {
  await server.close();
  await hooks.close();
});

describe('#1 a deeply nested offlinePushInfo cannot wedge a call', () => {
  it('call.start and call.invite carrying 3,000 nested arrays are refused whole (4001); nobody is left busy', async () => {
    const a = await signedIn(server, 'n1_a');
    const poison = { title: 'hi', x: nested(3000) };
    const start = await a.request(2, 'call.start', { userIds: ['n1_b'], mediaType: 1, params: { offlinePushInfo: poison } });
    assert.equal(start.error?.code, 4001);
    assert.match(start.error?.message ?? '', /nested deeper than 8/);
    // Deep nesting anywhere in a frame, even in a field no schema reads, is refused the same way.
    const junk = await a.request(3, 'call.start', { userIds: ['n1_b'], mediaType: 1, junk: nested(50) });
    assert.equal(junk.error?.code, 4001);

    const ok = await a.request(4, 'call.start', { userIds: ['n1_b', 'n1_c'], mediaType: 1 });
    const callId = (ok.data as { callId: string }).callId;
    const invite = await a.request(5, 'call.invite', { callId, userIds: ['n1_d'], params: { offlinePushInfo: poison } });
    assert.equal(invite.error?.code, 4001);
    // The call still answers every command: hang up ends it.
    assert.equal((await a.request(6, 'call.hangup', { callId })).ok, true);
    a.close();
    await assertNotWedged(server, ['n1_a', 'n1_b']);
  });
});

describe('#10 offlinePushInfo carries only the documented fields into webhooks', () => {
  it('extra fields are stripped, documented ones kept, oversized ones refused', async () => {
    const a = await signedIn(server, 'p10_a');
    const info = { title: 'Alice calling', desc: 'video', ext: '{"k":1}', iOSSound: 'ring.caf', injected: 'x', apnsTopic: 'evil', nested: { a: [1] } };
    const res = await a.request(2, 'call.start', { userIds: ['p10_offline'], mediaType: 2, params: { offlinePushInfo: info } });
    const callId = (res.data as { callId: string }).callId;
    const [, invite] = await hooks.waitAcked(callId, 2);
    assert.equal(invite!.command, 'Call.CallbackAfterMemberChanged');
    assert.deepEqual((invite!.body as unknown as Record<string, unknown>)['OfflinePushInfo'], { title: 'Alice calling', desc: 'video', ext: '{"k":1}', iOSSound: 'ring.caf' });
    await a.request(3, 'call.hangup', { callId });
    const big = await a.request(4, 'call.start', { userIds: ['p10_offline'], mediaType: 2, params: { offlinePushInfo: { title: 't'.repeat(257) } } });
    assert.equal(big.error?.code, -1202);
    a.close();
  });
});

describe('#6 the reserved id sfu', () => {
  it('cannot sign in, be called, or forge SFU signals; user signals reach peers with only p2p fields', async () => {
    const r = await rawSocket(server);
    const auth = await r.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'sfu', userSig: sig('sfu'), deviceId: 'dev_sfu' });
    assert.equal(auth.error?.code, -1202);
    assert.match(auth.error?.message ?? '', /reserved/);
    r.close();

    const a = await signedIn(server, 's6_a');
    assert.equal((await a.request(2, 'call.start', { userIds: ['sfu'], mediaType: 1 })).error?.code, -1202);
    const b = await signedIn(server, 's6_b');
    const callId = ((await a.request(3, 'call.start', { userIds: ['s6_b'], mediaType: 1 })).data as { callId: string }).callId;
    await b.next((f) => f.event?.name === 'onCallReceived');
    assert.equal((await b.request(2, 'call.accept', { callId })).ok, true);
    // SFU-only shapes sent to a peer: refused, or relayed as a plain peer-to-peer signal.
    const sub = await a.request(4, 'media.signal', { callId, to: 's6_b', signal: { kind: 'subscribe' } });
    assert.equal(sub.error?.code, -1202);
    const forged = { kind: 'offer', sdp: 'v=0\r\n', pc: 'sub', fresh: true, feeds: [1, 2] };
    assert.equal((await a.request(5, 'media.signal', { callId, to: 's6_b', signal: forged })).ok, true);
    const got = await b.next((f) => f.event?.name === 'media.signal');
    assert.deepEqual([got.event!['from'], got.event!['signal']], ['s6_a', { kind: 'offer', sdp: 'v=0\r\n', pc: 'p2p' }]);
    await a.request(6, 'call.hangup', { callId });
    a.close();
    b.close();
  });
});

describe('#7 after the UserSig expires nothing new starts (70001) until re-auth; the current call goes on', () => {
  it('call.start, call.invite, call.join and profile.set answer 70001; hangup works; init with a fresh sig restores rights', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    // Valid until the end of second nowS + 4: expires within 3–4 s (time to set the call up under load).
    const shortSig = genUserSig({ sdkAppId: TEST_APP_ID, secretKey: TEST_SECRET, userId: 'e7_a', expireSeconds: 4, now: nowS * 1000 });
    const a = await signedIn(server, 'e7_a', shortSig);
    const b = await signedIn(server, 'e7_b');
    const callId = ((await a.request(2, 'call.start', { userIds: ['e7_b'], mediaType: 1 })).data as { callId: string }).callId;
    await b.next((f) => f.event?.name === 'onCallReceived');
    await b.request(2, 'call.accept', { callId });
    await a.next((f) => f.event?.name === 'onUserSigExpired', 8000);

    const refused = await Promise.all([
      a.request(3, 'call.start', { userIds: ['e7_c'], mediaType: 1 }),
      a.request(4, 'call.invite', { callId, userIds: ['e7_c'] }),
      a.request(5, 'call.join', { callId }),
      a.request(6, 'profile.set', { nickname: 'mallory', avatar: '' }),
    ]);
    assert.deepEqual(refused.map((f) => f.error?.code), [70001, 70001, 70001, 70001]);
    // The current call goes on: media state relays, hang up ends it for both.
    assert.equal((await a.request(7, 'media.state', { callId, audio: true, video: false })).ok, true);
    assert.equal((await a.request(8, 'call.hangup', { callId })).ok, true);
    await b.next((f) => f.event?.name === 'onCallEnd');

    const reauth = await a.request(9, 'auth', { sdkAppId: TEST_APP_ID, userId: 'e7_a', userSig: sig('e7_a'), deviceId: 'dev_e7_a' });
    assert.equal(reauth.ok, true);
    assert.equal((await a.request(10, 'profile.set', { nickname: 'Alice', avatar: '' })).ok, true);
    a.close();
    b.close();
  });
});

describe('#15 one answer for "no such call" and "not in this call"', () => {
  it('a stranger cannot tell whether a call id exists', async () => {
    const a = await signedIn(server, 'o15_a');
    const x = await signedIn(server, 'o15_x');
    const endedId = ((await a.request(2, 'call.start', { userIds: ['o15_b'], mediaType: 1 })).data as { callId: string }).callId;
    await a.request(3, 'call.hangup', { callId: endedId });
    const callId = ((await a.request(4, 'call.start', { userIds: ['o15_b'], mediaType: 1 })).data as { callId: string }).callId;
    const ask = async (id: string): Promise<string[]> => {
      const out: string[] = [];
      for (const type of ['call.hangup', 'call.accept', 'call.reject', 'call.join']) out.push(JSON.stringify((await x.request(next++, type, { callId: id })).error));
      out.push(JSON.stringify((await x.request(next++, 'media.signal', { callId: id, to: 'o15_a', signal: { kind: 'restart' } })).error));
      return out;
    };
    let next = 10;
    const live = await ask(callId);
    assert.deepEqual(await ask('c_AAAAAAAAAAAAAAAAAAAAAA'), live, 'a live and an unknown id answer alike');
    assert.deepEqual(await ask(endedId), live, 'an ended and an unknown id answer alike');
    assert.match(live[0]!, /no such call, or you are not in it/);
    await a.request(3, 'call.hangup', { callId });
    a.close();
    x.close();
  });

  it('a fresh sign-in reports when its UserSig expires', async () => {
    const r = await rawSocket(server);
    const res = await r.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'o15_e', userSig: sig('o15_e', 3600), deviceId: 'dev_o15_e' });
    const expireAt = (res.data as { expireAt: number }).expireAt;
    assert.ok(Math.abs(expireAt - (Date.now() + 3_600_000)) < 3000, `expireAt ${expireAt}`);
    r.close();
  });
});

describe('#13 call floods', () => {
  it('call starts per user are rate limited (4029); pending invitations per signed-out user are capped (busy)', async (t) => {
    const s = await startTestServer({ limits: { callsPerMinutePerUser: 6, maxPendingInvitesPerUser: 2, messagesPerSecondPerConnection: 1000 } });
    t.after(() => s.close());
    const a = await signedIn(s, 'f13_a');
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      const f = await a.request(2 + i * 2, 'call.start', { userIds: [`ghost${i}`], mediaType: 1 });
      codes.push(f.error?.code);
      if (f.ok) await a.request(3 + i * 2, 'call.hangup', { callId: (f.data as { callId: string }).callId });
    }
    // Burst of 3 (half of 6 per minute), then refused.
    assert.deepEqual(codes, [undefined, undefined, undefined, 4029, 4029]);
    a.close();

    // Three callers ring one signed-out victim: the third finds them busy.
    const callers = await Promise.all(['f13_c1', 'f13_c2', 'f13_c3'].map((u) => user(s, u)));
    for (const c of callers.slice(0, 2)) await c.engine.calls(['f13_victim'], CallMediaType.audio);
    await callers[2]!.engine.calls(['f13_victim'], CallMediaType.audio);
    await callers[2]!.rec.waitFor('onUserLineBusy', (x) => x[0] === 'f13_victim');
    await cleanup(...callers);
  });
});

/** A ringing call saved straight into a SQLite file, its offlinePushInfo nested 3,000 deep. */
function poisonedCall(callId: string, caller: string, callee: string, deadline: number, now: number): object {
  const member = (userId: string, state: string) => ({
    userId, attempt: 1, state, ringingDevices: [], ignoredDevices: [], deviceId: state === 'calling' ? `dev_${userId}` : null,
    ringDeadline: state === 'invited' ? deadline : null, joinedAt: null, connectedMs: 0, everJoined: false, endReason: null,
  });
  return {
    callId, version: 1, phase: 'ringing', scene: 'single', mediaType: 1, callerId: caller, inviteList: [callee],
    roomId: { intRoomId: 7 }, userData: '', chatGroupId: '', isEphemeralCall: false,
    offlinePushInfo: { title: 'x', evil: nested(3000) }, callerProfile: null, ringTimeoutMs: 30_000,
    members: { [caller]: member(caller, 'calling'), [callee]: member(callee, 'invited') },
    createdAt: now, acceptedAt: null, mediaConnectedAt: null, endedAt: null, endReason: null, endedBy: null, ringingAt: {}, webhookSeq: 0,
  };
}

describe('#1/#8 a database poisoned before the fix: every way out still works', () => {
  it('the ring timer, admin end_call, the callee signing in and hanging up all end poisoned calls; nobody stays busy', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencall-poison-'));
    const file = join(dir, 'opencall.db');
    // The schema, created by a server that then stops.
    await (await startTestServer({ storage: file })).close();
    const now = Date.now();
    const db = new Database(file);
    const insert = (state: object, caller: string, callee: string, deadline: number): void => {
      const id = (state as { callId: string }).callId;
      db.prepare('INSERT INTO calls (call_id, version, phase, scene, created_at, state) VALUES (?, 1, ?, ?, ?, ?)').run(id, 'ringing', 'single', now, JSON.stringify(state));
      db.prepare('INSERT INTO memberships (user_id, call_id, state) VALUES (?, ?, ?), (?, ?, ?)').run(caller, id, 'calling', callee, id, 'invited');
      db.prepare('INSERT INTO timers (call_id, due_at) VALUES (?, ?)').run(id, deadline);
    };
    const calls = {
      timer: ['c_poisonTimer0000000000', 'pz_a1', 'pz_b1', now + 1500],
      admin: ['c_poisonAdmin0000000000', 'pz_a2', 'pz_b2', now + 3_600_000],
      signIn: ['c_poisonSignIn000000000', 'pz_a3', 'pz_b3', now + 3_600_000],
    } as const;
    for (const [id, caller, callee, deadline] of Object.values(calls)) insert(poisonedCall(id, caller, callee, deadline, now), caller, callee, deadline);
    db.close();

    // A long heartbeat window: the restored callers' sessions must not end the calls for us.
    const s = await startTestServer({ storage: file, heartbeatTimeoutMs: 60_000 });
    t.after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const phase = async (callId: string): Promise<unknown> => {
      const q = `sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&contenttype=json`;
      const res = await fetch(`${s.url}/v4/call_record_http_srv/get_record_by_callid?${q}`, { method: 'POST', body: JSON.stringify({ CallId: callId }) });
      return ((await res.json()) as { Response?: { CallRecord: { CallResult: string } } }).Response?.CallRecord.CallResult ?? 'running';
    };

    // Admin end_call answers OK and ends it.
    const q = `sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&contenttype=json`;
    const end = await fetch(`${s.url}/v4/call_engine_http_srv/end_call?${q}`, { method: 'POST', body: JSON.stringify({ CallId: calls.admin[0] }) });
    assert.deepEqual(((await end.json()) as { ErrorCode: number }).ErrorCode, 0);
    assert.equal(await phase(calls.admin[0]), 'Interrupt');

    // The callee of another signs in: answered, rung, and can reject it.
    const b3 = await signedIn(s, 'pz_b3');
    await b3.next((f) => f.event?.name === 'onCallReceived' && f.event['callId'] === calls.signIn[0]);
    assert.equal((await b3.request(2, 'call.reject', { callId: calls.signIn[0] })).ok, true);
    assert.equal(await phase(calls.signIn[0]), 'Reject');
    b3.close();

    // The ring timer of the third fires and ends it as not answered.
    const deadline = Date.now() + 5000;
    while ((await phase(calls.timer[0])) === 'running' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await phase(calls.timer[0]), 'NotAnswer');

    await assertNotWedged(s, ['pz_a1', 'pz_b1', 'pz_b2', 'pz_b3']);
  });
});
