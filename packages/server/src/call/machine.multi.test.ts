/**
 * Table test of the call machine, multi-party calls (SPEC §5.1 endings, §5.3): alice calls bob and
 * carol; dave may be invited (sometimes signed out); erin is a stranger or a busy invitee.
 * One row per (situation, command), illegal ones included, asserting the exact ordered sends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, ErrorCode } from '@opencall/protocol/wire';
import { inviteCommand, observeRow, recordsOf, request, situations, startCommand, step, webhooksOf } from './scenarios.js';
import type { Command } from './types.js';
import type { Row } from './scenarios.js';

const { INVALID_PARAMETER: E1202, STATE_REFUSED: E1203 } = ErrorCode;
const join = (userId: string, deviceId: string, busyElsewhere = false): Command => ({ type: 'join', userId, deviceId, busyElsewhere, maxParticipants: 9 });

const ROWS: Row[] = [
  // ── ringing (nobody connected yet) ───────────────────────────────────────────────────────
  {
    name: 'calls([bob, carol]) rings both with the full calleeIdList and emits no onUserInviting',
    given: 'none',
    when: startCommand('alice', ['bob', 'carol']),
    sends: ['bob/b1 onCallReceived alice [bob,carol] video', 'carol/c1 onCallReceived alice [bob,carol] video'],
    phase: 'ringing',
    check: (r) => assert.equal(r.state.scene, 'multi'),
  },
  {
    name: 'calls([bob, carol]) with carol busy: alice and ringing bob get onUserLineBusy(carol); the call keeps ringing bob',
    given: 'none',
    when: startCommand('alice', ['bob', 'carol'], { busy: ['carol'] }),
    sends: ['bob/b1 onCallReceived alice [bob,carol] video', 'alice/a1 onUserLineBusy carol', 'bob/b1 onUserLineBusy carol'],
    phase: 'ringing',
    legs: { bob: 'ringing', carol: 'busy' },
  },
  {
    name: 'calls() with a chatGroupId is a group call',
    given: 'none',
    when: startCommand('alice', ['bob'], { params: { chatGroupId: 'g1' } }),
    check: (r) => assert.equal(r.state.scene, 'group'),
  },
  {
    name: 'reject by bob while carol still rings: alice and carol get onUserReject(bob); the call keeps ringing',
    given: 'ringingMulti',
    when: request('reject', 'bob', 'b1'),
    sends: ['bob/b1 onCallNotConnected reject bob', 'bob/b1 onCallCancelled bob', 'alice/a1 onUserReject bob', 'carol/c1 onUserReject bob'],
    phase: 'ringing',
  },
  {
    name: 'reject by the last ringing invitee ends the call: alice gets onUserReject(carol) then onCallNotConnected(reject, carol)',
    given: () => step(situations.ringingMulti(), request('reject', 'bob', 'b1')),
    when: request('reject', 'carol', 'c1'),
    sends: [
      'carol/c1 onCallNotConnected reject carol',
      'carol/c1 onCallCancelled carol',
      'alice/a1 onUserReject carol',
      'alice/a1 onCallNotConnected reject carol',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms', carol: 'missed 0ms' }),
  },
  {
    name: 'tick at the deadline with both ringing: each no-answer is told to the others; the last one ends the call for alice',
    given: 'ringingMulti',
    when: { type: 'tick' },
    dt: 30_000,
    sends: [
      'bob/b1 onCallNotConnected noResponse bob',
      'bob/b1 onCallCancelled bob',
      'alice/a1 onUserNoResponse bob',
      'carol/c1 onUserNoResponse bob',
      'carol/c1 onCallNotConnected noResponse carol',
      'carol/c1 onCallCancelled carol',
      'alice/a1 onUserNoResponse carol',
      'alice/a1 onCallNotConnected noResponse carol',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
  },
  {
    name: 'hangup by the calling caller cancels every ringing invitation: onCallNotConnected(canceled, alice) + onCallCancelled(alice) on each device',
    given: 'ringingMulti',
    when: request('hangup', 'alice', 'a1'),
    sends: [
      'alice/a1 onCallNotConnected canceled alice',
      'alice/a1 onCallCancelled alice',
      'bob/b1 onCallNotConnected canceled alice',
      'bob/b1 onCallCancelled alice',
      'carol/c1 onCallNotConnected canceled alice',
      'carol/c1 onCallCancelled alice',
    ],
    phase: 'ended',
    legs: { alice: 'canceled', bob: 'canceled', carol: 'canceled' },
  },
  {
    name: 'accept by bob connects alice and bob (onCallBegin + onUserJoin); ringing carol is not told',
    given: 'ringingMulti',
    when: request('accept', 'bob', 'b1'),
    sends: ['alice/a1 onCallBegin video', 'alice/a1 onUserJoin bob', 'bob/b1 onCallBegin video', 'bob/b1 onUserJoin alice'],
    phase: 'active',
    legs: { carol: 'ringing' },
  },
  {
    name: 'a signed-out invitee keeps a never-connected call ringing after the other invitee rejects',
    given: 'ringingMultiSignedOut',
    when: request('reject', 'bob', 'b1'),
    sends: ['bob/b1 onCallNotConnected reject bob', 'bob/b1 onCallCancelled bob', 'alice/a1 onUserReject bob'],
    phase: 'ringing',
    legs: { dave: 'invited' },
  },

  // ── active: 2 connected + 1 ringing ──────────────────────────────────────────────────────
  {
    name: 'accept by a late joiner: carol gets onCallBegin then onUserJoin for alice and bob; they get onUserJoin(carol)',
    given: 'active2Ringing1',
    when: request('accept', 'carol', 'c1'),
    sends: [
      'carol/c1 onCallBegin video',
      'carol/c1 onUserJoin alice',
      'carol/c1 onUserJoin bob',
      'alice/a1 onUserJoin carol',
      'bob/b1 onUserJoin carol',
    ],
    phase: 'active',
  },
  {
    name: 'reject by ringing carol in a connected call: alice and bob get onUserReject(carol); the call goes on',
    given: 'active2Ringing1',
    when: request('reject', 'carol', 'c1'),
    sends: ['carol/c1 onCallNotConnected reject carol', 'carol/c1 onCallCancelled carol', 'alice/a1 onUserReject carol', 'bob/b1 onUserReject carol'],
    phase: 'active',
  },
  {
    name: 'tick at carol\'s deadline in a connected call: alice and bob get onUserNoResponse(carol); the call goes on',
    given: 'active2Ringing1',
    when: { type: 'tick' },
    dt: 29_000,
    sends: ['carol/c1 onCallNotConnected noResponse carol', 'carol/c1 onCallCancelled carol', 'alice/a1 onUserNoResponse carol', 'bob/b1 onUserNoResponse carol'],
    phase: 'active',
  },
  {
    name: 'hangup by alice with bob connected and carol ringing: bob onUserLeave(alice) then onCallEnd(hangup, alice); carol onCallNotConnected(canceled, alice)',
    given: 'active2Ringing1',
    when: request('hangup', 'alice', 'a1'),
    dt: 3000,
    sends: [
      'alice/a1 onCallEnd hangup alice 3000ms',
      'bob/b1 onUserLeave alice',
      'bob/b1 onCallEnd hangup alice 3000ms',
      'carol/c1 onCallNotConnected canceled alice',
      'carol/c1 onCallCancelled alice',
    ],
    phase: 'ended',
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 3000ms', bob: 'incoming 3000ms', carol: 'missed 0ms' }),
  },
  {
    name: 'hangup by non-caller bob with carol ringing: carol\'s onCallCancelled names herself (the caller did not cancel)',
    given: 'active2Ringing1',
    when: request('hangup', 'bob', 'b1'),
    sends: [
      'bob/b1 onCallEnd hangup bob 0ms',
      'alice/a1 onUserLeave bob',
      'alice/a1 onCallEnd hangup bob 0ms',
      'carol/c1 onCallNotConnected canceled bob',
      'carol/c1 onCallCancelled carol',
    ],
    phase: 'ended',
  },
  {
    name: 'hangup by alice with bob connected and dave invited (signed out) ends the call; dave has no device to tell',
    given: 'active2Invited1',
    when: request('hangup', 'alice', 'a1'),
    dt: 1000,
    sends: ['alice/a1 onCallEnd hangup alice 1000ms', 'bob/b1 onUserLeave alice', 'bob/b1 onCallEnd hangup alice 1000ms'],
    phase: 'ended',
    legs: { dave: 'canceled' },
  },

  // ── active: 3 connected ──────────────────────────────────────────────────────────────────
  {
    name: 'hangup by alice with three connected: the call continues; alice onCallEnd(hangup, alice), bob and carol onUserLeave(alice)',
    given: 'active3',
    when: request('hangup', 'alice', 'a1'),
    dt: 1000,
    sends: ['alice/a1 onCallEnd hangup alice 2000ms', 'bob/b1 onUserLeave alice', 'carol/c1 onUserLeave alice'],
    phase: 'active',
    legs: { alice: 'left', bob: 'joined', carol: 'joined' },
    // Her part ended: her record now, ending with her own hangup (issue 15).
    check: (r) => {
      assert.deepEqual(recordsOf(r), { alice: 'outgoing 2000ms' });
      const rec = r.effects.find((e) => e.kind === 'record');
      assert.equal(rec?.kind === 'record' && rec.record.endReason, CallEndReason.hangup);
      assert.ok(rec?.kind === 'record' && rec.record.timings.endedAt !== null && r.state.endedAt === null, 'her part has ended, the call has not');
    },
  },
  {
    name: 'hangup that leaves one participant connected ends the call for them: onUserLeave(bob) then onCallEnd(hangup, bob)',
    given: () => step(situations.active3(), request('hangup', 'alice', 'a1'), 1000),
    when: request('hangup', 'bob', 'b1'),
    dt: 1000,
    sends: ['bob/b1 onCallEnd hangup bob 3000ms', 'carol/c1 onUserLeave bob', 'carol/c1 onCallEnd hangup bob 2000ms'],
    phase: 'ended',
    // alice's record was written when she left; the end writes the others'.
    check: (r) => assert.deepEqual(recordsOf(r), { bob: 'incoming 3000ms', carol: 'incoming 2000ms' }),
  },

  // ── inviteUser ───────────────────────────────────────────────────────────────────────────
  {
    name: 'invite by a connected participant rings the invitee (callerId = original caller) and everyone gets onUserInviting; scene becomes multi',
    given: 'active1to1',
    when: inviteCommand('bob', 'b1', ['carol']),
    sends: ['carol/c1 onCallReceived alice [bob,carol] video', 'alice/a1 onUserInviting carol', 'bob/b1 onUserInviting carol'],
    reply: ['carol'],
    check: (r) => {
      assert.equal(r.state.scene, 'multi');
      assert.deepEqual(webhooksOf(r), ['4 MemberChanged carol:Invite']);
    },
  },
  {
    name: 'invite with a busy invitee: both are returned; ringing participants and the new invitee get onUserInviting and onUserLineBusy(erin)',
    given: 'active2Ringing1',
    when: inviteCommand('bob', 'b1', ['dave', 'erin'], { busy: ['erin'] }),
    sends: [
      'dave/d1 onCallReceived alice [bob,carol,dave,erin] video',
      'alice/a1 onUserInviting dave',
      'bob/b1 onUserInviting dave',
      'carol/c1 onUserInviting dave',
      'alice/a1 onUserInviting erin',
      'bob/b1 onUserInviting erin',
      'carol/c1 onUserInviting erin',
      'dave/d1 onUserInviting erin',
      'alice/a1 onUserLineBusy erin',
      'bob/b1 onUserLineBusy erin',
      'carol/c1 onUserLineBusy erin',
      'dave/d1 onUserLineBusy erin',
    ],
    reply: ['dave', 'erin'],
    legs: { dave: 'ringing', erin: 'busy' },
  },
  {
    name: 'invite drops duplicates and users already in the call',
    given: 'active2Ringing1',
    when: inviteCommand('alice', 'a1', ['bob', 'carol', 'alice', 'dave', 'dave']),
    sends: ['dave/d1 onCallReceived alice [bob,carol,dave] video', 'alice/a1 onUserInviting dave', 'bob/b1 onUserInviting dave', 'carol/c1 onUserInviting dave'],
    reply: ['dave'],
  },
  { name: 'invite of only users already in the call is a no-op returning []', given: 'active3', when: inviteCommand('alice', 'a1', ['bob', 'carol']), sends: [], reply: [], unchanged: true },
  {
    name: 'invite past maxParticipants (connected + ringing) is refused with -1202 for the whole request',
    given: 'active2Ringing1',
    when: inviteCommand('alice', 'a1', ['dave', 'erin'], { maxParticipants: 4 }),
    code: E1202,
  },
  { name: 'invite by a ringing invitee is refused with -1203', given: 'active2Ringing1', when: inviteCommand('carol', 'c1', ['dave']), code: E1203 },
  { name: 'invite by the calling caller (nobody connected) is refused with -1203', given: 'ringing1to1', when: inviteCommand('alice', 'a1', ['carol']), code: E1203 },
  { name: 'invite by a user who left is refused with -1203', given: 'active2Left1', when: inviteCommand('carol', 'c1', ['dave']), code: E1203 },
  { name: 'invite by a stranger is refused with -1203', given: 'active1to1', when: inviteCommand('erin', 'e1', ['dave']), code: E1203 },
  { name: 'invite from a device not in the call is refused with -1203', given: 'active1to1', when: inviteCommand('bob', 'b2', ['dave']), code: E1203 },
  { name: 'invite on an ended call is refused with -1203', given: 'ended', when: inviteCommand('bob', 'b1', ['dave']), code: E1203 },
  {
    name: 'invite of a user who rejected earlier opens a new leg that rings again',
    given: 'active2Rejected1',
    when: inviteCommand('bob', 'b1', ['carol']),
    sends: ['carol/c1 onCallReceived alice [bob,carol] video', 'alice/a1 onUserInviting carol', 'bob/b1 onUserInviting carol'],
    legs: { carol: 'ringing' },
  },
  {
    name: 'invite of the original caller after they left rings them with a calleeIdList that does not name the caller',
    given: () => step(situations.active3(), request('hangup', 'alice', 'a1'), 1000),
    when: inviteCommand('bob', 'b1', ['alice']),
    sends: ['alice/a1 onCallReceived alice [bob,carol] video', 'bob/b1 onUserInviting alice', 'carol/c1 onUserInviting alice'],
    check: (r) => assert.deepEqual(r.state.inviteList, ['bob', 'carol']),
  },

  // ── join ─────────────────────────────────────────────────────────────────────────────────
  {
    name: 'join by a user who left: onCallBegin then onUserJoin for each connected user; they get onUserJoin(carol)',
    given: 'active2Left1',
    when: join('carol', 'c1'),
    sends: ['carol/c1 onCallBegin video', 'carol/c1 onUserJoin alice', 'carol/c1 onUserJoin bob', 'alice/a1 onUserJoin carol', 'bob/b1 onUserJoin carol'],
    legs: { carol: 'joined' },
    check: (r) => assert.deepEqual(webhooksOf(r), ['6 MemberChanged carol:Join']),
  },
  {
    name: 'join by a user who rejected earlier connects them',
    given: 'active2Rejected1',
    when: join('carol', 'c1'),
    sends: ['carol/c1 onCallBegin video', 'carol/c1 onUserJoin alice', 'carol/c1 onUserJoin bob', 'alice/a1 onUserJoin carol', 'bob/b1 onUserJoin carol'],
  },
  {
    name: 'join by a rejecter while the call still rings for others starts the call with the caller',
    given: () => step(situations.ringingMulti(), request('reject', 'bob', 'b1')),
    when: join('bob', 'b1'),
    sends: ['alice/a1 onCallBegin video', 'alice/a1 onUserJoin bob', 'bob/b1 onCallBegin video', 'bob/b1 onUserJoin alice'],
    phase: 'active',
  },
  {
    name: 'join by a ringing invitee = accept',
    given: 'active2Ringing1',
    when: join('carol', 'c1'),
    sends: ['carol/c1 onCallBegin video', 'carol/c1 onUserJoin alice', 'carol/c1 onUserJoin bob', 'alice/a1 onUserJoin carol', 'bob/b1 onUserJoin carol'],
  },
  {
    name: 'join by an invitee no device was reached for (signed out until now) connects them',
    given: 'active2Invited1',
    when: join('dave', 'd1'),
    sends: ['dave/d1 onCallBegin video', 'dave/d1 onUserJoin alice', 'dave/d1 onUserJoin bob', 'alice/a1 onUserJoin dave', 'bob/b1 onUserJoin dave'],
  },
  { name: 'join by an invited (not ringing) user who is busy elsewhere is refused with -1203', given: 'active2Invited1', when: join('dave', 'd1', true), code: E1203 },
  { name: 'join by a user who left while busy elsewhere is refused with -1203', given: 'active2Left1', when: join('carol', 'c1', true), code: E1203 },
  { name: 'join by the calling caller is refused with -1203', given: 'ringing1to1', when: join('alice', 'a1'), code: E1203 },
  { name: 'join by a connected user from the same device is refused with -1203', given: 'active3', when: join('bob', 'b1'), code: E1203 },
  { name: 'join by a stranger is refused with -1203', given: 'active3', when: join('erin', 'e1'), code: E1203 },
  { name: 'join of an ended call is refused with -1203', given: 'ended', when: join('bob', 'b1'), code: E1203 },
];

for (const row of ROWS) {
  test(row.name, () => {
    const { actual, expected, result, before } = observeRow(row);
    assert.deepEqual(actual, expected);
    if (row.check) {
      assert.ok(result, 'the row expects a transition');
      row.check(result, before);
    }
  });
}
