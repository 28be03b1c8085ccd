/**
 * Table test of the call machine, 1-to-1 calls: one row per (situation, command), illegal ones
 * included, each asserting the exact ordered sends (or the refusal code). Rows follow SPEC §5.1 and
 * the §5.2 table (alice = A calls bob = B; erin is a stranger). Multi-party rows are in
 * machine.multi.test.ts, devices/timers/admin rows in machine.devices.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType, CallRole, ErrorCode } from '@opencall/protocol/wire';
import { nextDeadline } from './machine.js';
import { RING_MS, T0, begin, observeRow, recordsOf, request, situations, startCommand, step, webhooksOf } from './scenarios.js';
import type { Row } from './scenarios.js';

const { INVALID_PARAMETER: E1202, STATE_REFUSED: E1203 } = ErrorCode;

/** Runs each row as its own test: exact sends/refusal, then the row's extra checks. */
function table(rows: Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const { actual, expected, result, before } = observeRow(row);
      assert.deepEqual(actual, expected);
      if (row.check) {
        assert.ok(result, 'the row expects a transition');
        row.check(result, before);
      }
    });
  }
}

/** §5.2 row "B rejects", as seen by both sides (also what a ringing callee's hangup does). */
const B_REJECTS = [
  'bob/b1 onCallNotConnected reject bob',
  'bob/b1 onCallCancelled bob',
  'alice/a1 onUserReject bob',
  'alice/a1 onCallNotConnected reject bob',
  'alice/a1 onCallCancelled alice',
];

table([
  // ── start ────────────────────────────────────────────────────────────────────────────────
  {
    name: 'calls([bob]) replies {callId} and rings bob with onCallReceived(alice, [bob], video, role called); alice gets no event',
    given: 'none',
    when: startCommand('alice', ['bob']),
    sends: ['bob/b1 onCallReceived alice [bob] video'],
    phase: 'ringing',
    legs: { alice: 'calling', bob: 'ringing' },
    reply: { callId: 'call-1' },
    check: (r) => {
      const e = r.effects.find((x) => x.kind === 'send');
      assert.ok(e?.kind === 'send' && e.event.name === 'onCallReceived');
      assert.equal(e.event.info.role, CallRole.called);
      assert.equal(r.state.scene, 'single');
      assert.equal(nextDeadline(r.state), T0 + RING_MS);
      assert.deepEqual(webhooksOf(r), ['1 StartCall', '2 MemberChanged bob:Invite']);
    },
  },
  {
    name: 'calls([bob]) while bob is busy: alice gets onUserLineBusy(bob), onCallNotConnected(lineBusy, bob), onCallCancelled(alice); bob nothing, his history shows a missed call',
    given: 'none',
    when: startCommand('alice', ['bob'], { busy: ['bob'] }),
    sends: ['alice/a1 onUserLineBusy bob', 'alice/a1 onCallNotConnected lineBusy bob', 'alice/a1 onCallCancelled alice'],
    phase: 'ended',
    legs: { bob: 'busy' },
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  {
    name: 'calls([bob]) while bob is signed out: nothing rings, the invitation waits (leg invited) until the ring deadline',
    given: 'none',
    when: startCommand('alice', ['bob'], { devices: { bob: [] }, params: { offlinePushInfo: { title: 't' } } }),
    sends: [],
    phase: 'ringing',
    legs: { bob: 'invited' },
    check: (r) => {
      assert.equal(nextDeadline(r.state), T0 + RING_MS);
      const changed = r.effects.find((e) => e.kind === 'webhook' && e.command === 'Call.CallbackAfterMemberChanged');
      assert.deepEqual(changed?.kind === 'webhook' && changed.body['OfflinePushInfo'], { title: 't' }, 'member-changed webhook carries offlinePushInfo');
    },
  },
  {
    name: 'calls([bob, bob]) drops the duplicate: a 1-to-1 call ringing bob once',
    given: 'none',
    when: startCommand('alice', ['bob', 'bob']),
    sends: ['bob/b1 onCallReceived alice [bob] video'],
    check: (r) => assert.equal(r.state.scene, 'single'),
  },
  { name: 'calls([]) is refused with -1202', given: 'none', when: startCommand('alice', []), code: E1202 },
  { name: 'calls([self]) is refused with -1202', given: 'none', when: startCommand('alice', ['bob', 'alice']), code: E1202 },
  {
    name: 'calls() with more users than maxParticipants (caller included) is refused with -1202',
    given: 'none',
    when: startCommand('alice', ['bob', 'carol'], { maxParticipants: 2 }),
    code: E1202,
  },
  { name: 'start on an existing call is refused with -1203', given: 'ringing1to1', when: startCommand('alice', ['bob']), code: E1203 },

  // ── accept ───────────────────────────────────────────────────────────────────────────────
  {
    name: 'accept by the ringing callee starts the call: both get onCallBegin then onUserJoin(other)',
    given: 'ringing1to1',
    when: request('accept', 'bob', 'b1'),
    sends: ['alice/a1 onCallBegin video', 'alice/a1 onUserJoin bob', 'bob/b1 onCallBegin video', 'bob/b1 onUserJoin alice'],
    phase: 'active',
    legs: { alice: 'joined', bob: 'joined' },
    check: (r) => assert.deepEqual(webhooksOf(r), ['3 MemberChanged bob:Accept']),
  },
  { name: 'accept by the caller is refused with -1203', given: 'ringing1to1', when: request('accept', 'alice', 'a1'), code: E1203 },
  { name: 'accept by a stranger is refused with -1203', given: 'ringing1to1', when: request('accept', 'erin', 'e1'), code: E1203 },
  { name: 'accept from a device that is not ringing is refused with -1203', given: 'ringing1to1', when: request('accept', 'bob', 'b2'), code: E1203 },
  { name: 'accept by an invitee with no device reached (signed out) is refused with -1203', given: 'ringingSignedOut', when: request('accept', 'bob', 'b1'), code: E1203 },
  { name: 'accept by a connected callee (nothing ringing) is refused with -1203', given: 'active1to1', when: request('accept', 'bob', 'b1'), code: E1203 },
  { name: 'accept on an ended call is refused with -1203', given: 'ended', when: request('accept', 'bob', 'b1'), code: E1203 },

  // ── reject / ignore ──────────────────────────────────────────────────────────────────────
  {
    name: 'reject by the ringing callee ends the 1-to-1 call: bob onCallNotConnected(reject, bob) + onCallCancelled(bob); alice onUserReject(bob), onCallNotConnected(reject, bob), onCallCancelled(alice)',
    given: 'ringing1to1',
    when: request('reject', 'bob', 'b1'),
    sends: B_REJECTS,
    phase: 'ended',
    legs: { alice: 'canceled', bob: 'rejected' },
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  { name: 'reject by the caller is refused with -1203', given: 'ringing1to1', when: request('reject', 'alice', 'a1'), code: E1203 },
  { name: 'reject by a stranger is refused with -1203', given: 'ringing1to1', when: request('reject', 'erin', 'e1'), code: E1203 },
  { name: 'reject by a connected callee is refused with -1203', given: 'active1to1', when: request('reject', 'bob', 'b1'), code: E1203 },
  { name: 'reject on an ended call is refused with -1203', given: 'ended', when: request('reject', 'bob', 'b1'), code: E1203 },
  {
    name: 'ignore by the ringing callee: bob onCallNotConnected(lineBusy, bob) + onCallCancelled(bob); alice sees busy; bob history missed',
    given: 'ringing1to1',
    when: request('ignore', 'bob', 'b1'),
    sends: [
      'bob/b1 onCallNotConnected lineBusy bob',
      'bob/b1 onCallCancelled bob',
      'alice/a1 onUserLineBusy bob',
      'alice/a1 onCallNotConnected lineBusy bob',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
    legs: { bob: 'busy' },
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  { name: 'ignore by the caller is refused with -1203', given: 'ringing1to1', when: request('ignore', 'alice', 'a1'), code: E1203 },
  { name: 'ignore by a connected callee is refused with -1203', given: 'active1to1', when: request('ignore', 'bob', 'b1'), code: E1203 },
  { name: 'ignore on an ended call is refused with -1203', given: 'ended', when: request('ignore', 'bob', 'b1'), code: E1203 },

  // ── hangup ───────────────────────────────────────────────────────────────────────────────
  {
    name: 'hangup by the calling caller cancels: both get onCallNotConnected(canceled, alice) and onCallCancelled(alice)',
    given: 'ringing1to1',
    when: request('hangup', 'alice', 'a1'),
    sends: [
      'alice/a1 onCallNotConnected canceled alice',
      'alice/a1 onCallCancelled alice',
      'bob/b1 onCallNotConnected canceled alice',
      'bob/b1 onCallCancelled alice',
    ],
    phase: 'ended',
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  { name: 'hangup by the ringing callee = reject', given: 'ringing1to1', when: request('hangup', 'bob', 'b1'), sends: B_REJECTS, phase: 'ended', legs: { bob: 'rejected' } },
  {
    name: 'hangup by the caller while connected ends the 1-to-1 call: alice onCallEnd(hangup, alice, 3000); bob onUserLeave(alice) then onCallEnd(hangup, alice, 3000)',
    given: 'active1to1',
    when: request('hangup', 'alice', 'a1'),
    dt: 3000,
    sends: ['alice/a1 onCallEnd hangup alice 3000ms', 'bob/b1 onUserLeave alice', 'bob/b1 onCallEnd hangup alice 3000ms'],
    phase: 'ended',
    legs: { alice: 'left', bob: 'left' },
    check: (r) => {
      assert.deepEqual(recordsOf(r), { alice: 'outgoing 3000ms', bob: 'incoming 3000ms' });
      assert.deepEqual(webhooksOf(r), ['4 MemberChanged alice:Hangup', '5 EndCall']);
    },
  },
  {
    name: 'hangup by the callee while connected is mirrored: bob onCallEnd(hangup, bob); alice onUserLeave(bob) then onCallEnd(hangup, bob)',
    given: 'active1to1',
    when: request('hangup', 'bob', 'b1'),
    dt: 5000,
    sends: ['bob/b1 onCallEnd hangup bob 5000ms', 'alice/a1 onUserLeave bob', 'alice/a1 onCallEnd hangup bob 5000ms'],
    phase: 'ended',
  },
  { name: 'a second hangup after the call ended is a no-op', given: 'ended', when: request('hangup', 'bob', 'b1'), sends: [], unchanged: true },
  { name: 'hangup by the other party of an ended call is a no-op', given: 'ended', when: request('hangup', 'alice', 'a1'), sends: [], unchanged: true },
  {
    name: 'hangup by a user whose leg already ended (rejected) while the call goes on is a no-op',
    given: 'active2Rejected1',
    when: request('hangup', 'carol', 'c1'),
    sends: [],
    unchanged: true,
  },
  { name: 'hangup by a stranger is refused with -1203', given: 'active1to1', when: request('hangup', 'erin', 'e1'), code: E1203 },
  { name: 'hangup from another device of a connected user is refused with -1203', given: 'active1to1', when: request('hangup', 'bob', 'b2'), code: E1203 },
  { name: 'hangup by an invitee with no device reached is refused with -1203', given: 'ringingSignedOut', when: request('hangup', 'bob', 'b1'), code: E1203 },

  // ── tick (ring deadline) ─────────────────────────────────────────────────────────────────
  { name: 'tick before the ring deadline is a no-op', given: 'ringing1to1', when: { type: 'tick' }, dt: RING_MS - 1, sends: [], unchanged: true },
  {
    name: 'tick at the ring deadline: bob onCallNotConnected(noResponse, bob) + onCallCancelled(bob); alice onUserNoResponse(bob), onCallNotConnected(noResponse, bob), onCallCancelled(alice)',
    given: 'ringing1to1',
    when: { type: 'tick' },
    dt: RING_MS,
    sends: [
      'bob/b1 onCallNotConnected noResponse bob',
      'bob/b1 onCallCancelled bob',
      'alice/a1 onUserNoResponse bob',
      'alice/a1 onCallNotConnected noResponse bob',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
    legs: { bob: 'noResponse' },
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  {
    name: 'tick after the deadline of a signed-out invitee ends the call as noResponse; only alice is told',
    given: 'ringingSignedOut',
    when: { type: 'tick' },
    dt: RING_MS + 1,
    sends: ['alice/a1 onUserNoResponse bob', 'alice/a1 onCallNotConnected noResponse bob', 'alice/a1 onCallCancelled alice'],
    phase: 'ended',
    legs: { bob: 'noResponse' },
  },
  { name: 'tick on a connected 1-to-1 call is a no-op', given: 'active1to1', when: { type: 'tick' }, dt: 10 * RING_MS, sends: [], unchanged: true },
  { name: 'tick on an ended call is a no-op', given: 'ended', when: { type: 'tick' }, dt: 10 * RING_MS, sends: [], unchanged: true },

  // ── records across a whole call ──────────────────────────────────────────────────────────
  {
    name: 'an ephemeral call writes no records but still sends its end-call webhook',
    given: () => step(begin(startCommand('alice', ['bob'], { params: { isEphemeralCall: true } })), request('accept', 'bob', 'b1'), 1000),
    when: request('hangup', 'alice', 'a1'),
    dt: 2000,
    phase: 'ended',
    check: (r) => {
      assert.deepEqual(recordsOf(r), {});
      assert.ok(webhooksOf(r).some((w) => w.endsWith('EndCall')));
    },
  },
  {
    name: 'switchMediaType then hangup: the end events and both records carry the new media type',
    given: () => step(situations.active1to1(), { type: 'switchMediaType', userId: 'bob', deviceId: 'b1', mediaType: CallMediaType.audio }, 500),
    when: request('hangup', 'bob', 'b1'),
    dt: 500,
    sends: ['bob/b1 onCallEnd hangup bob 1000ms', 'alice/a1 onUserLeave bob', 'alice/a1 onCallEnd hangup bob 1000ms'],
    check: (r) => {
      for (const e of r.effects) if (e.kind === 'record') assert.equal(e.record.mediaType, CallMediaType.audio);
      for (const e of r.effects) if (e.kind === 'send' && e.event.name === 'onCallEnd') assert.equal(e.event.mediaType, CallMediaType.audio);
    },
  },
]);
