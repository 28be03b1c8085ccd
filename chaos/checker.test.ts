/**
 * The checker against hand-made histories: a clean run passes, and each kind of broken promise is
 * reported with its slice of history and the seed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { check, formatViolation } from './checker.js';
import type { Action, Entry, Fault, Hook, RecordView, RunHistory, SeenEvent } from './types.js';

const T0 = 1_700_000_000_000;
let n = 0;
const ev = (t: number, device: string, name: string, ...args: unknown[]): SeenEvent => ({
  kind: 'event', t: T0 + t, n: ++n, user: device.split('-')[0]!, device, name, args,
});
const act = (t: number, device: string, name: string, extra: Partial<Action> = {}): Action => ({
  kind: 'action', t: T0 + t, n: ++n, end: T0 + t + 5, user: device.split('-')[0]!, device, name, args: [], ok: true, ...extra,
});
const hook = (t: number, callId: string, seq: number, command: string, status: number | 'hang' = 200, callResult?: string): Hook => ({
  t: T0 + t, eventId: `${callId}.${seq}`, callId, seq, command, status, ...(callResult ? { callResult } : {}),
});
const START = 'Call.CallbackAfterStartCall';
const MEMBER = 'Call.CallbackAfterMemberChanged';
const END = 'Call.CallbackAfterEndCall';
const rec = (CallId: string, over: Partial<RecordView> = {}): RecordView => ({
  CallId, Caller_Account: 'a', AcceptTime: 1, CallResult: 'NormalEnd', CallType: 'SingleCall', ...over,
});

/** A 1-to-1 call c_1: a calls b, b accepts, a hangs up after 1 s. */
function callEntries(callId = 'c_1', at = 0): Entry[] {
  return [
    act(at, 'a-d1', 'calls', { callId, args: [['b'], 1] }),
    ev(at + 10, 'b-d1', 'onCallReceived', callId, 'a', ['b'], 1, { role: 2 }),
    act(at + 500, 'b-d1', 'accept'),
    ev(at + 510, 'a-d1', 'onCallBegin', callId, 1, { role: 1 }),
    ev(at + 511, 'a-d1', 'onUserJoin', 'b'),
    ev(at + 510, 'b-d1', 'onCallBegin', callId, 1, { role: 2 }),
    ev(at + 511, 'b-d1', 'onUserJoin', 'a'),
    act(at + 1500, 'a-d1', 'hangup'),
    ev(at + 1505, 'a-d1', 'onCallEnd', callId, 1, 1, 'a', 995, {}),
    ev(at + 1506, 'b-d1', 'onUserLeave', 'a'),
    ev(at + 1507, 'b-d1', 'onCallEnd', callId, 1, 1, 'a', 995, {}),
  ];
}
const callHooks = (callId = 'c_1', at = 0): Hook[] => [
  hook(at + 20, callId, 1, START), hook(at + 520, callId, 2, MEMBER), hook(at + 1510, callId, 3, END, 200, 'NormalEnd'),
];

function run(over: Partial<RunHistory> = {}): RunHistory {
  return {
    seed: 42,
    promises: { ringTimeoutMs: 5000, heartbeatMs: 3000, slackMs: 1000, webhooks: true, webhookTimeoutMs: 3000 },
    startedAt: T0,
    endedAt: T0 + 60_000,
    entries: callEntries(),
    faults: [],
    hooks: callHooks(),
    records: { c_1: rec('c_1') },
    ...over,
  };
}

/** Checks `h`, asserts exactly the kinds `kinds` were reported, and that the print names the seed. */
function expectKinds(h: RunHistory, kinds: string[]): void {
  const v = check(h);
  assert.deepEqual(v.map((x) => x.kind).sort(), [...kinds].sort(), v.map((x) => x.message).join('\n'));
  for (const x of v) {
    assert.ok(x.slice.length > 0 || x.kind === 'webhook-gap', `${x.kind} has a slice`);
    assert.match(formatViolation(x, h), /\(seed 42\)/);
  }
}

/** c_1 between media users a and b, connected at +510 ms and hung up at `hangAt`, with `media` entries added. */
function mediaRun(hangAt: number, media: Entry[], over: Partial<RunHistory> = {}): RunHistory {
  const entries = callEntries().map((e) => {
    if (e.t < T0 + 1500) return e;
    const shifted = { ...e, t: e.t - 1500 + hangAt };
    return e.kind === 'action' ? { ...shifted, end: shifted.t + 5 } : shifted;
  });
  return run({
    entries: [...entries, ...media],
    mediaUsers: ['a', 'b'],
    promises: { ...run().promises, mediaSlackMs: 4000 },
    ...over,
  });
}
const flowing = (t: number, device: string, callId = 'c_1'): SeenEvent => ev(t, device, 'media:flowing', callId, device.startsWith('a') ? 'b' : 'a');
const stalled = (t: number, device: string, callId = 'c_1'): SeenEvent => ev(t, device, 'media:stalled', callId, device.startsWith('a') ? 'b' : 'a');

describe('chaos checker', () => {
  it('a clean history has no violation', () => {
    expectKinds(run(), []);
  });

  it('a second terminal event for a leg that already ended', () => {
    const entries = [...callEntries(), ev(1600, 'b-d1', 'onCallEnd', 'c_1', 1, 4, 'b', 0, {})];
    const v = check(run({ entries }));
    assert.deepEqual(v.map((x) => x.kind), ['terminal-count']);
    assert.match(formatViolation(v[0]!, run({ entries })), /b-d1 onCallEnd\(c_1, 1, 4, b/);
  });

  it('a leg that never ends', () => {
    const entries = callEntries().filter((e) => !(e.kind === 'event' && e.device === 'b-d1' && e.name === 'onCallEnd'));
    expectKinds(run({ entries }), ['leg-open']);
  });

  it('a leg abandoned by signing out is not left open', () => {
    const entries = [...callEntries().filter((e) => !(e.kind === 'event' && e.device === 'b-d1' && e.name === 'onCallEnd')), act(1600, 'b-d1', 'unInit')];
    expectKinds(run({ entries }), []);
  });

  it('a user connected in two calls at once', () => {
    const entries = [
      ...callEntries(),
      act(800, 'c-d1', 'calls', { callId: 'c_2', args: [['b'], 1] }),
      // b's second device (multi-device, no new sign-in) is connected while the first one is.
      ev(810, 'b-d2', 'onCallReceived', 'c_2', 'c', ['b'], 1, { role: 2 }),
      ev(900, 'b-d2', 'onCallBegin', 'c_2', 1, { role: 2 }),
      ev(900, 'c-d1', 'onCallBegin', 'c_2', 1, { role: 1 }),
      ev(2000, 'b-d2', 'onCallEnd', 'c_2', 1, 1, 'c', 100, {}),
      ev(2000, 'c-d1', 'onCallEnd', 'c_2', 1, 1, 'c', 100, {}),
    ];
    const records = { c_1: rec('c_1'), c_2: rec('c_2', { Caller_Account: 'c' }) };
    const v = check(run({ entries, records, hooks: [...callHooks(), ...callHooks('c_2', 800)] }));
    assert.deepEqual(v.map((x) => x.kind), ['busy-overlap']);
    assert.match(v[0]!.message, /b was connected in c_1 and c_2 at once/);
  });

  it('a sign-in on another device ends the old device\'s calls for the busy rule', () => {
    const entries = [
      ...callEntries(),
      act(700, 'b-d2', 'init'),
      ev(720, 'b-d2', 'onCallReceived', 'c_2', 'c', ['b'], 1, { role: 2 }),
      act(710, 'c-d1', 'calls', { callId: 'c_2', args: [['b'], 1] }),
      ev(900, 'b-d2', 'onCallBegin', 'c_2', 1, { role: 2 }),
      ev(900, 'c-d1', 'onCallBegin', 'c_2', 1, { role: 1 }),
      ev(2000, 'b-d2', 'onCallEnd', 'c_2', 1, 1, 'c', 100, {}),
      ev(2000, 'c-d1', 'onCallEnd', 'c_2', 1, 1, 'c', 100, {}),
    ];
    const records = { c_1: rec('c_1'), c_2: rec('c_2', { Caller_Account: 'c' }) };
    expectKinds(run({ entries, records, hooks: [...callHooks(), ...callHooks('c_2', 700)] }), []);
  });

  it('an invitation that rings past timeout + heartbeat + slack', () => {
    const entries = [
      act(0, 'a-d1', 'calls', { callId: 'c_1', args: [['b'], 1] }),
      ev(10, 'b-d1', 'onCallReceived', 'c_1', 'a', ['b'], 1, { role: 2 }),
      ev(12_000, 'b-d1', 'onCallNotConnected', 'c_1', 1, 3, 'b', {}),
      ev(12_000, 'a-d1', 'onCallNotConnected', 'c_1', 1, 3, 'b', {}),
    ];
    const records = { c_1: rec('c_1', { AcceptTime: 0, CallResult: 'NotAnswer' }) };
    const hooks = [hook(20, 'c_1', 1, START), hook(12_001, 'c_1', 2, END, 200, 'NotAnswer')];
    expectKinds(run({ entries, records, hooks }), ['invite-unresolved', 'invite-unresolved']);
    // The same history with the server down for 5 s in the middle keeps the promise.
    const faults: Fault[] = [{ kind: 'serverKill', t: T0 + 2000, end: T0 + 7000 }];
    expectKinds(run({ entries, records, hooks, faults }), []);
  });

  it('a call with no REST record', () => {
    expectKinds(run({ records: {} }), ['record-missing']);
  });

  it('glare: a calls() that resolved with the other user\'s call does not make its user the caller', () => {
    // a's calls() reaches the server late (a's network was down), after b's call to a rang at a:
    // it resolves with b's call (SPEC §5.1).
    const entries = [
      act(0, 'a-d1', 'calls', { callId: 'c_1', args: [['b'], 1] }),
      act(5, 'b-d1', 'calls', { callId: 'c_1', args: [['a'], 1] }),
      ev(10, 'a-d1', 'onCallReceived', 'c_1', 'b', ['a'], 1, { role: 2 }),
      ev(20, 'a-d1', 'onCallBegin', 'c_1', 1, { role: 2 }),
      ev(20, 'b-d1', 'onCallBegin', 'c_1', 1, { role: 1 }),
      ev(900, 'a-d1', 'onCallEnd', 'c_1', 1, 1, 'a', 880, {}),
      ev(900, 'b-d1', 'onCallEnd', 'c_1', 1, 1, 'a', 880, {}),
    ];
    expectKinds(run({ entries, records: { c_1: rec('c_1', { Caller_Account: 'b' }) } }), []);
    expectKinds(run({ entries, records: { c_1: rec('c_1', { Caller_Account: 'a' }) } }), ['record-mismatch']);
  });

  it('a record that disagrees with what users saw', () => {
    expectKinds(run({ records: { c_1: rec('c_1', { Caller_Account: 'b' }) } }), ['record-mismatch']);
    expectKinds(run({ records: { c_1: rec('c_1', { AcceptTime: 0 }) } }), ['record-mismatch']);
    expectKinds(run({ records: { c_1: rec('c_1', { CallResult: 'Reject' }) } }), ['record-mismatch', 'record-mismatch']);
    // A device's own `offline` verdict (a session it could not resume) says nothing about how the call ended.
    const entries = callEntries().map((e) => (e.kind === 'event' && e.device === 'b-d1' && e.name === 'onCallEnd' ? { ...e, args: ['c_1', 1, 4, 'b', 995, {}] } : e));
    expectKinds(run({ entries }), []);
    expectKinds(run({ entries, records: { c_1: rec('c_1', { CallResult: 'Reject' }) } }), ['record-mismatch', 'record-mismatch']);
  });

  it('a group call: an ending naming the device\'s own user says how that user left, not how the call ended', () => {
    // a calls b and c; all three connect; c hangs up and the call goes on; b drops and the call
    // ends Offline, which a, silent by then, never hears (its own verdict is `offline` naming a).
    const entries = [
      act(0, 'a-d1', 'calls', { callId: 'c_1', args: [['b', 'c'], 1] }),
      ev(10, 'b-d1', 'onCallReceived', 'c_1', 'a', ['b', 'c'], 1, { role: 2 }),
      ev(10, 'c-d1', 'onCallReceived', 'c_1', 'a', ['b', 'c'], 1, { role: 2 }),
      act(500, 'b-d1', 'accept'),
      ev(510, 'a-d1', 'onCallBegin', 'c_1', 1, { role: 1 }),
      ev(510, 'b-d1', 'onCallBegin', 'c_1', 1, { role: 2 }),
      act(600, 'c-d1', 'accept'),
      ev(610, 'c-d1', 'onCallBegin', 'c_1', 1, { role: 2 }),
      act(1500, 'c-d1', 'hangup'),
      ev(1505, 'c-d1', 'onCallEnd', 'c_1', 1, 1, 'c', 895, {}),
      ev(1506, 'a-d1', 'onUserLeave', 'c'),
      ev(1506, 'b-d1', 'onUserLeave', 'c'),
      ev(9000, 'b-d1', 'onCallEnd', 'c_1', 1, 4, 'b', 8490, {}),
      ev(9500, 'a-d1', 'onCallEnd', 'c_1', 1, 4, 'a', 8990, {}),
    ];
    const records = { c_1: rec('c_1', { CallResult: 'Offline', CallType: 'MultiCall' }) };
    const hooks = [...callHooks().slice(0, 2), hook(1510, 'c_1', 3, MEMBER), hook(6000, 'c_1', 4, END, 200, 'Offline')];
    const faults: Fault[] = [{ kind: 'silent', t: T0 + 2000, end: T0 + 9400, user: 'a' }, { kind: 'silent', t: T0 + 2000, end: T0 + 8900, user: 'b' }];
    const base = { entries, records, hooks, faults };
    const kinds = (h: RunHistory): string[] => check(h).map((v) => v.kind).filter((k) => k === 'record-mismatch');
    assert.deepEqual(kinds(run(base)), []);
    // Had a heard how the call ended, its ending is the call's result and must match the record.
    const heard = entries.map((e) => (e.device === 'a-d1' && e.kind === 'event' && e.name === 'onCallEnd' ? { ...e, args: ['c_1', 1, 4, 'b', 5490, {}] } : e));
    assert.deepEqual(kinds(run({ ...base, entries: heard })), []);
    assert.deepEqual(kinds(run({ ...base, entries: heard, records: { c_1: rec('c_1', { CallResult: 'NormalEnd', CallType: 'MultiCall' }) } })), ['record-mismatch', 'record-mismatch']);
    // With two connected, the hang-up ends the call: its own ending is the call's result.
    const pair = entries.filter((e) => e.device !== 'c-d1' && !(e.kind === 'event' && e.name === 'onUserLeave'));
    const pairEnd = [...pair.slice(0, -2), ev(1505, 'b-d1', 'onCallEnd', 'c_1', 1, 1, 'b', 995, {}), ev(1506, 'a-d1', 'onCallEnd', 'c_1', 1, 1, 'b', 995, {})];
    assert.deepEqual(kinds(run({ ...base, entries: pairEnd, records: { c_1: rec('c_1', { CallResult: 'Offline' }) } })).length, 1);
    // An invitee of a group call who ignores it (line busy, naming itself) while another one is
    // connected ends only its own part; the call ends Offline later, unseen by the other two.
    const ignored = [
      ...entries.slice(0, 6),
      act(600, 'c-d1', 'ignore'),
      ev(605, 'c-d1', 'onCallNotConnected', 'c_1', 1, 5, 'c', {}),
      ev(605, 'a-d1', 'onUserLineBusy', 'c'),
      ev(605, 'b-d1', 'onUserLineBusy', 'c'),
      ...entries.slice(-2),
    ];
    const ignoredHooks = [...callHooks().slice(0, 2), hook(610, 'c_1', 3, MEMBER), hook(6000, 'c_1', 4, END, 200, 'Offline')];
    assert.deepEqual(kinds(run({ ...base, entries: ignored, hooks: ignoredHooks })), []);
  });

  it('a webhook event id that never arrives, and a call with no webhook at all', () => {
    // seq 3 then also went out before seq 2 was acknowledged.
    expectKinds(run({ hooks: callHooks().filter((h) => h.seq !== 2) }), ['webhook-gap', 'webhook-order']);
    expectKinds(run({ hooks: [] }), ['webhook-gap']);
    expectKinds(run({ hooks: callHooks().filter((h) => h.seq !== 3) }), ['webhook-gap']);
  });

  it('a webhook sent before its predecessor was acknowledged', () => {
    const hooks = [hook(20, 'c_1', 1, START, 500), hook(520, 'c_1', 2, MEMBER), hook(600, 'c_1', 1, START), hook(1510, 'c_1', 3, END, 200, 'NormalEnd')];
    expectKinds(run({ hooks }), ['webhook-order']);
  });

  it('an acknowledged webhook delivered again: doubled without a crash, at-least-once with one', () => {
    const hooks = [...callHooks(), hook(1600, 'c_1', 3, END, 200, 'NormalEnd')];
    expectKinds(run({ hooks }), ['webhook-doubled']);
    expectKinds(run({ hooks, faults: [{ kind: 'serverKill', t: T0 + 1550, end: T0 + 1590 }] }), []);
    // The kill was logged a moment before the acknowledgement arrived: the server may have died
    // before it recorded it.
    expectKinds(run({ hooks, faults: [{ kind: 'serverKill', t: T0 + 1509, end: T0 + 1590 }] }), []);
    // A kill that was over before the acknowledgement says nothing about it.
    expectKinds(run({ hooks, faults: [{ kind: 'serverKill', t: T0 + 1400, end: T0 + 1505 }] }), ['webhook-doubled']);
    // The server may have missed the answer when its request timeout went by before the resend.
    expectKinds(run({ hooks: [...callHooks(), hook(4600, 'c_1', 3, END, 200, 'NormalEnd')] }), []);
    // Retries of a failed or hung delivery are not doubles.
    expectKinds(run({ hooks: [hook(20, 'c_1', 1, START, 'hang'), hook(900, 'c_1', 1, START), hook(920, 'c_1', 2, MEMBER), hook(1510, 'c_1', 3, END, 200, 'NormalEnd')] }), []);
  });

  it('two different end-call events for one call', () => {
    const hooks = [...callHooks(), hook(1600, 'c_1', 4, END, 200, 'NormalEnd')];
    expectKinds(run({ hooks }), ['webhook-doubled']);
  });

  it('a connected 1-to-1 call between media users that carries media keeps the promise', () => {
    expectKinds(mediaRun(20_000, [flowing(900, 'a-d1'), flowing(1200, 'b-d1')]), []);
    // A short stall that recovers within the slack is fine.
    expectKinds(mediaRun(20_000, [flowing(900, 'a-d1'), flowing(1200, 'b-d1'), stalled(6000, 'a-d1'), flowing(8000, 'a-d1')]), []);
  });

  it('a call that stays connected without media past the slack: media-missing', () => {
    const v = check(mediaRun(20_000, [flowing(900, 'b-d1')]));
    assert.deepEqual(v.map((x) => x.kind), ['media-missing']);
    assert.match(v[0]!.message, /a-d1 in c_1: connected with b but no media from them for 19\d{3} ms from the start/);
    // Media that stops for good is missing too, after its stall.
    const w = check(mediaRun(20_000, [flowing(900, 'a-d1'), flowing(1200, 'b-d1'), stalled(5000, 'b-d1')]));
    assert.deepEqual(w.map((x) => x.kind), ['media-missing']);
    assert.match(w[0]!.message, /b-d1 .* after a stall/);
    assert.match(formatViolation(w[0]!, mediaRun(20_000, [])), /b-d1 media:stalled\(c_1, a\)/);
  });

  it('media-missing is not reported where the promise does not apply', () => {
    // The call ended within the slack.
    expectKinds(mediaRun(3000, []), []);
    // Only one side has media.
    expectKinds(mediaRun(20_000, [], { mediaUsers: ['a', 'c'] }), []);
    // A group call (the run has no SFU).
    expectKinds(mediaRun(20_000, [ev(700, 'a-d1', 'onUserInviting', 'c')]), []);
    // Histories recorded before media users existed.
    expectKinds(mediaRun(20_000, [], { mediaUsers: undefined }), []);
  });

  it('a fault that keeps either user away extends the media slack', () => {
    const media = [flowing(900, 'b-d1'), flowing(9000, 'a-d1')];
    expectKinds(mediaRun(20_000, media), ['media-missing']);
    const faults: Fault[] = [{ kind: 'blackhole', user: 'b', t: T0 + 600, end: T0 + 5600 }];
    expectKinds(mediaRun(20_000, media, { faults }), []);
    // Another user's fault does not.
    expectKinds(mediaRun(20_000, media, { faults: [{ ...faults[0]!, user: 'c' }] }), ['media-missing']);
  });

  it('an event doubled within a leg', () => {
    const entries = [...callEntries()];
    entries.splice(5, 0, ev(512, 'a-d1', 'onUserJoin', 'b'));
    expectKinds(run({ entries }), ['event-doubled']);
    expectKinds(run({ entries: [...callEntries(), ev(515, 'b-d1', 'onCallBegin', 'c_1', 1, {})] }), ['event-doubled']);
  });
});
