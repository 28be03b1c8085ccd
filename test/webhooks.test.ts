/**
 * SPEC §6.3 end to end: real calls between real CallEngine clients on a real server produce
 * exactly the Tencent callbacks, with exact bodies, query parameters and headers, delivered to a
 * real node:http receiver (examples/webhook-receiver.ts, which checks every signature with the
 * exported `verifyWebhook`). Delivery under failure and restarts is in webhooks-delivery.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CallMediaType } from '@opencall/client';
import { signWebhook, verifyWebhook } from '@opencall/server';
import type { MemberChangedWebhook, RunningServer, WebhookBody } from '@opencall/server';
import { startWebhookReceiver } from '../examples/webhook-receiver.js';
import { TEST_APP_ID, startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder, adminRecord, checkDeliveries } from './webhooks-support.js';

let server: RunningServer;
let hooks: HookRecorder;
before(async () => {
  hooks = await HookRecorder.start();
  server = await startTestServer({
    webhookUrl: hooks.url,
    webhookSecret: HOOK_SECRET,
    webhookRetry: { initialDelayMs: 50, maxDelayMs: 200, maxAgeMs: 60_000, timeoutMs: 2000 },
  });
});
after(async () => {
  await server.close();
  await hooks.close();
});

/** A body without its EventTime (checked apart, since it is a clock reading). */
function timeless(b: WebhookBody): Record<string, unknown> {
  const rest: Record<string, unknown> = { ...b };
  delete rest['EventTime'];
  return rest;
}

const calling = (u: string) => ({ User_Account: u, Status: 'Calling' });
const waiting = (u: string) => ({ User_Account: u, Status: 'Waiting' });

/** The expected `Call.CallbackAfterMemberChanged` body (EventTime aside). */
function changed(
  callId: string,
  users: { User_Account: string; Status: string }[],
  changes: [string, MemberChangedWebhook['ChangedUserList'][number]['ActionType']][],
  push?: object,
): Record<string, unknown> {
  return {
    CallbackCommand: 'Call.CallbackAfterMemberChanged',
    CallId: callId,
    UserList: users,
    ChangedUserList: changes.map(([u, a]) => ({ User_Account: u, ActionType: a })),
    ...(push ? { OfflinePushInfo: push } : {}),
  };
}

describe('webhooks of real calls (SPEC §6.3)', () => {
  it('a 1-to-1 call: StartCall, Invite, Accept, Hangup, EndCall with exact bodies, query, headers and valid signatures', async () => {
    const since = Date.now();
    const a = await user(server, 'wh1_a');
    const b = await user(server, 'wh1_b');
    // offlinePushInfo is only sent when an invitee is signed out; b is online.
    const { callId } = await a.engine.calls([b.id], CallMediaType.video, { roomId: { intRoomId: 4242 }, offlinePushInfo: { title: 'unused' } });
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await hooks.waitAcked(callId, 3);
    await a.engine.hangup();
    const got = await hooks.waitAcked(callId, 5);
    const record = await adminRecord(server, callId);

    assert.deepEqual(got.map((h) => timeless(h.body)), [
      {
        CallbackCommand: 'Call.CallbackAfterStartCall',
        CallInfo: { CallId: callId, CallMediaType: 'Video', ChatGroupId: '', RoomId: '4242', RoomIdType: 1 },
        UserList: [calling(a.id), waiting(b.id)],
      },
      changed(callId, [calling(a.id), waiting(b.id)], [[b.id, 'Invite']]),
      changed(callId, [calling(a.id), calling(b.id)], [[b.id, 'Accept']]),
      changed(callId, [calling(b.id)], [[a.id, 'Hangup']]),
      { CallbackCommand: 'Call.CallbackAfterEndCall', CallRecord: record },
    ]);
    // The end-call record is the REST record, and it says what happened.
    assert.equal(record.CallResult, 'NormalEnd');
    assert.deepEqual([record.CallType, record.MediaType, record.Caller_Account, record.CalleeList_Account], ['SingleCall', 'Video', a.id, [b.id]]);
    assert.equal(record.StartTime, Math.floor(record.Timings.invitedAt / 1000));
    assert.ok(record.AcceptTime >= record.StartTime && record.EndTime >= record.AcceptTime);
    assert.deepEqual(Object.keys(record.Timings.ringingAt), [b.id]);
    checkDeliveries(got, since, TEST_APP_ID);
    assert.equal(hooks.rejected, 0, 'every request carried a valid signature');
    await cleanup(a, b);
  });

  it('a 1-to-1 call canceled by the caller ends with Cancel_Invite and CallResult Cancel; a rejected one with Reject', async () => {
    const since = Date.now();
    const [a, b, c] = await Promise.all(['wh2_a', 'wh2_b', 'wh2_c'].map((id) => user(server, id)));
    const canceled = await a!.engine.calls([b!.id], CallMediaType.audio);
    await b!.rec.waitFor('onCallReceived');
    await a!.engine.hangup();
    const got1 = await hooks.waitAcked(canceled.callId, 4);
    assert.deepEqual(got1.slice(2).map((h) => timeless(h.body)), [
      // Decision: UserList still names whom the caller was ringing, so the app can withdraw their pushes.
      changed(canceled.callId, [calling(a!.id), waiting(b!.id)], [[a!.id, 'Cancel_Invite']]),
      { CallbackCommand: 'Call.CallbackAfterEndCall', CallRecord: await adminRecord(server, canceled.callId) },
    ]);
    assert.equal((got1[3]!.body as { CallRecord: { CallResult: string } }).CallRecord.CallResult, 'Cancel');

    const rejected = await a!.engine.calls([c!.id], CallMediaType.audio);
    await c!.rec.waitFor('onCallReceived');
    await c!.engine.reject();
    const got2 = await hooks.waitAcked(rejected.callId, 4);
    assert.deepEqual(got2.slice(2).map((h) => timeless(h.body)), [
      // The list at the moment of the change: c is out, the caller has not left yet (EndCall follows).
      changed(rejected.callId, [calling(a!.id)], [[c!.id, 'Reject']]),
      { CallbackCommand: 'Call.CallbackAfterEndCall', CallRecord: await adminRecord(server, rejected.callId) },
    ]);
    assert.equal((got2[3]!.body as { CallRecord: { CallResult: string } }).CallRecord.CallResult, 'Reject');
    checkDeliveries([...got1, ...got2], since, TEST_APP_ID);
    await cleanup(a!, b!, c!);
  });

  it('a multi call reports Accept, Reject, Invite (with OfflinePushInfo for signed-out invitees), Join, NotAnswer, Offline and Hangup as they happen', async () => {
    const since = Date.now();
    const [a, b, c, e] = await Promise.all(['wh3_a', 'wh3_b', 'wh3_c', 'wh3_e'].map((id) => user(server, id))) as [TestUser, TestUser, TestUser, TestUser];
    const d = 'wh3_d'; // never signs in
    const f = 'wh3_f'; // signed out when invited, signs in later (as after a push) and answers
    const push1 = { title: 'Call from wh3_a', desc: 'tap to answer', androidFCMChannelID: 'calls' };
    const push2 = { title: 'wh3_a invites you', isDisablePush: false };
    const { callId } = await a.engine.calls([b.id, c.id, d], CallMediaType.audio, { timeout: 2, offlinePushInfo: push1 });
    await hooks.waitAcked(callId, 2);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await hooks.waitAcked(callId, 3);
    await c.rec.waitFor('onCallReceived');
    await c.engine.reject();
    await hooks.waitAcked(callId, 4);
    assert.deepEqual(await a.engine.inviteUser([e.id, f], { timeout: 30, offlinePushInfo: push2 }), [e.id, f]);
    await hooks.waitAcked(callId, 5);
    await c.engine.join(callId);
    await hooks.waitAcked(callId, 6);
    await e.rec.waitFor('onCallReceived');
    await e.engine.accept();
    await hooks.waitAcked(callId, 7);
    // d's ring timeout (2 s) runs out on the server.
    await hooks.waitAcked(callId, 8, 5000);
    const late = await user(server, f);
    await late.rec.waitFor('onCallReceived');
    await late.engine.accept();
    await hooks.waitAcked(callId, 9);
    // b signs in on another device (policy kick): the first device drops out of the call as offline.
    const b2 = await user(server, b.id);
    await hooks.waitAcked(callId, 10);
    await e.engine.hangup();
    await hooks.waitAcked(callId, 11);
    await a.engine.hangup();
    await hooks.waitAcked(callId, 12);
    await c.engine.hangup();
    const got = await hooks.waitAcked(callId, 14);
    const record = await adminRecord(server, callId);

    const [A, B, C, E, F] = [a.id, b.id, c.id, e.id, f];
    assert.deepEqual(got.map((h) => timeless(h.body)), [
      {
        CallbackCommand: 'Call.CallbackAfterStartCall',
        // No roomId given: the server picked a numeric one.
        CallInfo: { CallId: callId, CallMediaType: 'Audio', ChatGroupId: '', RoomId: record.RoomId, RoomIdType: 1 },
        UserList: [calling(A), waiting(B), waiting(C), waiting(d)],
      },
      changed(callId, [calling(A), waiting(B), waiting(C), waiting(d)], [[B, 'Invite'], [C, 'Invite'], [d, 'Invite']], push1),
      changed(callId, [calling(A), calling(B), waiting(C), waiting(d)], [[B, 'Accept']]),
      changed(callId, [calling(A), calling(B), waiting(d)], [[C, 'Reject']]),
      changed(callId, [calling(A), calling(B), waiting(d), waiting(E), waiting(F)], [[E, 'Invite'], [F, 'Invite']], push2),
      changed(callId, [calling(A), calling(B), calling(C), waiting(d), waiting(E), waiting(F)], [[C, 'Join']]),
      changed(callId, [calling(A), calling(B), calling(C), waiting(d), calling(E), waiting(F)], [[E, 'Accept']]),
      changed(callId, [calling(A), calling(B), calling(C), calling(E), waiting(F)], [[d, 'NotAnswer']]),
      changed(callId, [calling(A), calling(B), calling(C), calling(E), calling(F)], [[F, 'Accept']]),
      changed(callId, [calling(A), calling(C), calling(E), calling(F)], [[B, 'Offline']]),
      changed(callId, [calling(A), calling(C), calling(F)], [[E, 'Hangup']]),
      changed(callId, [calling(C), calling(F)], [[A, 'Hangup']]),
      changed(callId, [calling(F)], [[C, 'Hangup']]),
      { CallbackCommand: 'Call.CallbackAfterEndCall', CallRecord: record },
    ]);
    assert.match(record.RoomId, /^[1-9][0-9]*$/);
    assert.deepEqual([record.CallType, record.CallResult, record.CalleeList_Account], ['MultiCall', 'NormalEnd', [B, C, d, E, F]]);
    checkDeliveries(got, since, TEST_APP_ID);
    assert.equal(hooks.rejected, 0);
    await cleanup(a, c, e, late, b2);
  });
});

describe('the example receiver (examples/webhook-receiver.ts)', () => {
  it('refuses forged, tampered and unsigned requests with 401 before parsing; accepts a correctly signed one', async (t) => {
    const seen: string[] = [];
    const refused: number[] = [];
    const r = await startWebhookReceiver({ secret: HOOK_SECRET, port: 0, onEvent: (e) => void seen.push(e.eventId), onRejected: (s) => void refused.push(s) });
    t.after(() => r.close());
    const body = '{"CallbackCommand":"Call.CallbackAfterEndCall","CallRecord":{}}';
    const nowS = Math.floor(Date.now() / 1000);
    const sign = (raw: string, secret: string, eventId = 'c_x.1', timestamp = nowS): Record<string, string> => ({
      'x-opencall-event-id': eventId,
      'x-opencall-sequence': eventId.split('.')[1]!,
      'x-opencall-timestamp': String(timestamp),
      'x-opencall-signature': signWebhook(raw, secret, { timestamp, eventId, sequence: Number(eventId.split('.')[1]) }),
    });
    const post = (raw: string, headers: Record<string, string> = { 'x-opencall-event-id': 'c_x.1', 'x-opencall-sequence': '1' }) =>
      fetch(`${r.url}?SdkAppid=1&CallbackCommand=Call.CallbackAfterEndCall&contenttype=json`, {
        method: 'POST',
        body: raw,
        headers: { 'content-type': 'application/json', ...headers },
      }).then((res) => res.status);
    assert.equal(await post(body, sign(body, 'another secret')), 401);
    assert.equal(await post(`${body} `, sign(body, HOOK_SECRET)), 401, 'one extra byte breaks the signature');
    assert.equal(await post(body), 401);
    assert.equal(await post('not json', sign('not json', HOOK_SECRET)), 400);
    // A captured delivery replayed under a fresh event id, or long after it was sent.
    assert.equal(await post(body, { ...sign(body, HOOK_SECRET), 'x-opencall-event-id': 'c_x.2', 'x-opencall-sequence': '2' }), 401);
    assert.equal(await post(body, sign(body, HOOK_SECRET, 'c_x.1', nowS - 3600)), 401);
    assert.deepEqual(refused, [401, 401, 401, 400, 401, 401]);
    assert.deepEqual(seen, []);
    const good = sign(body, HOOK_SECRET);
    assert.equal(await post(body, good), 200);
    assert.deepEqual(seen, ['c_x.1']);
    // What the example checks is exactly the exported verifier's verdict.
    assert.equal(verifyWebhook(body, good, HOOK_SECRET), true);
  });
});
