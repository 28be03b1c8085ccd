/**
 * Offline push decisions of the machine (SPEC §9): who gets a `call.invite` push, that every way an
 * invitation ends withdraws it exactly once with the right reason, the decline-from-notification
 * command, and the trace steps the machine records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason } from '@opencall/protocol/wire';
import { transition } from './machine.js';
import { RING_MS, T0, begin, inviteCommand, request, startCommand, step } from './scenarios.js';
import type { Command, Effect, TransitionResult } from './types.js';
import type { Situation } from './scenarios.js';

/** `user kind reason?` for each push effect. */
function pushes(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'push' ? [`${e.userId} ${e.payload.type}${e.payload.reason ? ` ${e.payload.reason}` : ''}`] : []));
}

/** `user device? step` for each trace effect. */
function traces(effects: readonly Effect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'trace' ? [[e.userId, e.deviceId, e.step].filter(Boolean).join(' ')] : []));
}

function run(sit: Situation, cmd: Command, dt = 0): TransitionResult {
  return transition(sit.state, cmd, sit.now + dt);
}

/** alice calls bob (signed out) and carol (on c1). */
const offlineBob = (): Situation => begin(startCommand('alice', ['bob', 'carol'], { devices: { bob: [] } }));

test('start: only the invitee with no device gets an invite push, with the §9 payload', () => {
  const r = transition(null, startCommand('alice', ['bob', 'carol'], { devices: { bob: [] }, params: { offlinePushInfo: { title: 'Hi' } } }), T0);
  assert.deepEqual(pushes(r.effects), ['bob call.invite']);
  const p = r.effects.find((e) => e.kind === 'push');
  assert.ok(p?.kind === 'push');
  assert.deepEqual(p.payload, {
    type: 'call.invite',
    callId: 'call-1',
    callerId: 'alice',
    callerProfile: null,
    mediaType: r.state.mediaType,
    scene: 'multi',
    deadline: T0 + RING_MS,
    offlinePushInfo: { title: 'Hi' },
  });
  assert.deepEqual(traces(r.effects), ['carol c1 rung', 'bob push.queued']);
  assert.equal(r.state.members['bob']?.pushDeadline, T0 + RING_MS);
});

test('busy invitees and calls with isDisablePush get no push', () => {
  const busy = transition(null, startCommand('alice', ['bob', 'carol'], { devices: { bob: [] }, busy: ['bob'] }), T0);
  assert.deepEqual(pushes(busy.effects), []);
  const off = transition(null, startCommand('alice', ['bob'], { devices: { bob: [] }, params: { offlinePushInfo: { isDisablePush: true } } }), T0);
  assert.deepEqual(pushes(off.effects), []);
});

test('every end of a pushed invitation withdraws it once, with its reason', () => {
  const cases: [string, () => TransitionResult, string][] = [
    ['caller cancels', () => run(offlineBob(), request('hangup', 'alice', 'a1')), 'bob call.withdraw canceled'],
    ['ring timeout', () => run(offlineBob(), { type: 'tick' }, RING_MS), 'bob call.withdraw noResponse'],
    ['declined from the notification', () => run(offlineBob(), { type: 'pushReject', userId: 'bob' }), 'bob call.withdraw rejected'],
    ['admin end_call', () => run(offlineBob(), { type: 'endByServer', adminId: 'administrator' }), 'bob call.withdraw endByServer'],
    ['caller drops', () => run(offlineBob(), { type: 'deviceOffline', userId: 'alice', deviceId: 'a1' }), 'bob call.withdraw offline'],
    ['app opened and accepted', () => run(step(offlineBob(), { type: 'deviceOnline', userId: 'bob', deviceId: 'b1', busyElsewhere: false }), request('accept', 'bob', 'b1')), 'bob call.withdraw accepted'],
    ['app opened while busy elsewhere', () => run(offlineBob(), { type: 'deviceOnline', userId: 'bob', deviceId: 'b1', busyElsewhere: true }), 'bob call.withdraw busy'],
  ];
  for (const [name, act, want] of cases) assert.deepEqual(pushes(act().effects), [want], name);
});

test('a device signing in rings but does not withdraw; the later end does, once', () => {
  const online = step(offlineBob(), { type: 'deviceOnline', userId: 'bob', deviceId: 'b1', busyElsewhere: false });
  const r1 = run(offlineBob(), { type: 'deviceOnline', userId: 'bob', deviceId: 'b1', busyElsewhere: false });
  assert.deepEqual(pushes(r1.effects), []);
  assert.deepEqual(traces(r1.effects), ['bob b1 rung']);
  const r2 = run(online, request('reject', 'bob', 'b1'));
  assert.deepEqual(pushes(r2.effects), ['bob call.withdraw rejected']);
  const after = step(online, request('reject', 'bob', 'b1'));
  assert.deepEqual(pushes(run(after, request('hangup', 'alice', 'a1')).effects), [], 'no second withdraw');
});

test('withdraw on answered elsewhere: carol accepts in a 1-to-many call, bob stays pending; the call ending withdraws', () => {
  const accepted = step(offlineBob(), request('accept', 'carol', 'c1'));
  const hangup = run(accepted, request('hangup', 'carol', 'c1'));
  assert.deepEqual(pushes(hangup.effects), ['bob call.withdraw canceled']);
});

test('pushReject: refused when nothing rings; devices still ringing hear otherDeviceReject', () => {
  const done = step(offlineBob(), request('hangup', 'alice', 'a1'));
  assert.throws(() => run(done, { type: 'pushReject', userId: 'bob' }), /ended/);
  const ringing = begin(startCommand('alice', ['bob']));
  const r = run(ringing, { type: 'pushReject', userId: 'bob' });
  const bobSends = r.effects.filter((e) => e.kind === 'send' && e.to.userId === 'bob');
  assert.ok(bobSends.some((e) => e.kind === 'send' && e.event.name === 'onCallNotConnected' && e.event.reason === CallEndReason.otherDeviceReject));
  assert.deepEqual(pushes(r.effects), [], 'bob had a device ringing, so nothing was pushed or withdrawn');
  assert.deepEqual(traces(r.effects), ['bob rejected']);
});

test('invite() of a signed-out user during a connected call pushes them', () => {
  const active = step(begin(startCommand('alice', ['bob'])), request('accept', 'bob', 'b1'));
  const r = run(active, inviteCommand('alice', 'a1', ['dave'], { devices: { dave: [] } }));
  assert.deepEqual(pushes(r.effects), ['dave call.invite']);
});
