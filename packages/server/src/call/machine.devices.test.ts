/**
 * Table test of the call machine: devices (SPEC §5.4 multi-device ringing, sign-in/out), moving a
 * call to another device (§5.3 join), switchMediaType (§5.1), admin end_call and media timing.
 * bob rings on b1 and b2 in the multi-device rows. One row per (situation, command), exact sends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType, ErrorCode } from '@opencall/protocol/wire';
import { transition } from './machine.js';
import { ADMIN, inviteCommand, observeRow, recordsOf, request, situations, startCommand, step, webhooksOf } from './scenarios.js';
import type { Command } from './types.js';
import type { Row } from './scenarios.js';

const { INVALID_PARAMETER: E1202, STATE_REFUSED: E1203, NOT_SUPPORTED_IN_SCENE: E1205 } = ErrorCode;
const online = (userId: string, deviceId: string, busyElsewhere = false): Command => ({ type: 'deviceOnline', userId, deviceId, busyElsewhere });
const offline = (userId: string, deviceId: string): Command => ({ type: 'deviceOffline', userId, deviceId });
const toType = (userId: string, deviceId: string, mediaType: CallMediaType.audio | CallMediaType.video): Command => ({ type: 'switchMediaType', userId, deviceId, mediaType });
const endByServer: Command = { type: 'endByServer', adminId: ADMIN };
const bobIgnoredOnB1 = () => step(situations.ringingTwoDevices(), request('ignore', 'bob', 'b1'));

const ROWS: Row[] = [
  // ── multi-device ringing ─────────────────────────────────────────────────────────────────
  {
    name: 'calls() to a multi-device user rings every ring device',
    given: 'none',
    when: startCommand('alice', ['bob'], { devices: { bob: ['b1', 'b2'] } }),
    sends: ['bob/b1 onCallReceived alice [bob] video', 'bob/b2 onCallReceived alice [bob] video'],
  },
  {
    name: 'accept on one device wins: the other gets onCallNotConnected(otherDeviceAccepted, bob) + onCallCancelled(bob) first',
    given: 'ringingTwoDevices',
    when: request('accept', 'bob', 'b2'),
    sends: [
      'bob/b1 onCallNotConnected otherDeviceAccepted bob',
      'bob/b1 onCallCancelled bob',
      'alice/a1 onCallBegin video',
      'alice/a1 onUserJoin bob',
      'bob/b2 onCallBegin video',
      'bob/b2 onUserJoin alice',
    ],
    phase: 'active',
  },
  {
    name: 'reject on one device rejects for the user: the other device gets otherDeviceReject; alice sees onUserReject(bob)',
    given: 'ringingTwoDevices',
    when: request('reject', 'bob', 'b1'),
    sends: [
      'bob/b1 onCallNotConnected reject bob',
      'bob/b1 onCallCancelled bob',
      'bob/b2 onCallNotConnected otherDeviceReject bob',
      'bob/b2 onCallCancelled bob',
      'alice/a1 onUserReject bob',
      'alice/a1 onCallNotConnected reject bob',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
  },
  {
    name: 'ignore on one of two devices stops only that device; alice is not told',
    given: 'ringingTwoDevices',
    when: request('ignore', 'bob', 'b1'),
    sends: ['bob/b1 onCallNotConnected lineBusy bob', 'bob/b1 onCallCancelled bob'],
    phase: 'ringing',
    legs: { bob: 'ringing' },
  },
  {
    name: 'ignore on the last ringing device: alice sees busy (onUserLineBusy, onCallNotConnected(lineBusy, bob))',
    given: bobIgnoredOnB1,
    when: request('ignore', 'bob', 'b2'),
    sends: [
      'bob/b2 onCallNotConnected lineBusy bob',
      'bob/b2 onCallCancelled bob',
      'alice/a1 onUserLineBusy bob',
      'alice/a1 onCallNotConnected lineBusy bob',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 0ms', bob: 'missed 0ms' }),
  },
  { name: 'accept on a device that ignored is refused with -1203', given: bobIgnoredOnB1, when: request('accept', 'bob', 'b1'), code: E1203 },
  { name: 'a second ignore on the same device is refused with -1203', given: bobIgnoredOnB1, when: request('ignore', 'bob', 'b1'), code: E1203 },
  {
    name: 'accept on the remaining device after the other ignored: the ignored device gets nothing more',
    given: bobIgnoredOnB1,
    when: request('accept', 'bob', 'b2'),
    sends: ['alice/a1 onCallBegin video', 'alice/a1 onUserJoin bob', 'bob/b2 onCallBegin video', 'bob/b2 onUserJoin alice'],
  },

  // ── deviceOnline (sign-in while an invitation is pending) ────────────────────────────────
  {
    name: 'deviceOnline of a signed-out invitee rings the new device before the deadline',
    given: 'ringingSignedOut',
    when: online('bob', 'b1'),
    dt: 1000,
    sends: ['bob/b1 onCallReceived alice [bob] video'],
    legs: { bob: 'ringing' },
  },
  {
    name: 'deviceOnline of a signed-out invitee who is busy elsewhere: alice sees busy and the call ends',
    given: 'ringingSignedOut',
    when: online('bob', 'b1', true),
    sends: ['alice/a1 onUserLineBusy bob', 'alice/a1 onCallNotConnected lineBusy bob', 'alice/a1 onCallCancelled alice'],
    phase: 'ended',
    legs: { bob: 'busy' },
  },
  { name: 'deviceOnline of a second device of a ringing invitee rings it too', given: 'ringing1to1', when: online('bob', 'b2'), sends: ['bob/b2 onCallReceived alice [bob] video'] },
  { name: 'deviceOnline of a device already ringing is a no-op', given: 'ringing1to1', when: online('bob', 'b1'), sends: [], unchanged: true },
  { name: 'deviceOnline of a connected user is a no-op', given: 'active1to1', when: online('bob', 'b2'), sends: [], unchanged: true },
  { name: 'deviceOnline of the caller is a no-op', given: 'ringing1to1', when: online('alice', 'a2'), sends: [], unchanged: true },
  { name: 'deviceOnline of a user whose leg ended is a no-op', given: 'active2Rejected1', when: online('carol', 'c2'), sends: [], unchanged: true },
  { name: 'deviceOnline of a stranger is a no-op', given: 'ringing1to1', when: online('erin', 'e1'), sends: [], unchanged: true },
  { name: 'deviceOnline on an ended call is a no-op', given: 'ended', when: online('bob', 'b2'), sends: [], unchanged: true },

  // ── deviceOffline (heartbeat lost, kicked, signed out) ───────────────────────────────────
  {
    name: 'deviceOffline of the only ringing device: it gets onCallNotConnected(offline, bob); the invitation waits for a sign-in',
    given: 'ringing1to1',
    when: offline('bob', 'b1'),
    sends: ['bob/b1 onCallNotConnected offline bob', 'bob/b1 onCallCancelled bob'],
    phase: 'ringing',
    legs: { bob: 'invited' },
  },
  {
    name: 'deviceOffline of one of two ringing devices tells only that device',
    given: 'ringingTwoDevices',
    when: offline('bob', 'b1'),
    sends: ['bob/b1 onCallNotConnected offline bob', 'bob/b1 onCallCancelled bob'],
    legs: { bob: 'ringing' },
  },
  {
    name: 'deviceOffline of the last non-ignored device: alice sees busy (every remaining ringing device ignored)',
    given: bobIgnoredOnB1,
    when: offline('bob', 'b2'),
    sends: [
      'bob/b2 onCallNotConnected offline bob',
      'bob/b2 onCallCancelled bob',
      'alice/a1 onUserLineBusy bob',
      'alice/a1 onCallNotConnected lineBusy bob',
      'alice/a1 onCallCancelled alice',
    ],
    phase: 'ended',
  },
  { name: 'deviceOffline of a device that ignored tells it nothing more', given: bobIgnoredOnB1, when: offline('bob', 'b1'), sends: [], legs: { bob: 'ringing' } },
  {
    name: 'deviceOffline of the calling caller: every device gets onCallNotConnected(offline, alice) + onCallCancelled(alice)',
    given: 'ringingMulti',
    when: offline('alice', 'a1'),
    sends: [
      'alice/a1 onCallNotConnected offline alice',
      'alice/a1 onCallCancelled alice',
      'bob/b1 onCallNotConnected offline alice',
      'bob/b1 onCallCancelled alice',
      'carol/c1 onCallNotConnected offline alice',
      'carol/c1 onCallCancelled alice',
    ],
    phase: 'ended',
    check: (r) => assert.deepEqual(webhooksOf(r), ['3 MemberChanged alice:Offline', '4 EndCall']),
  },
  {
    name: 'deviceOffline of a connected 1-to-1 user: onCallEnd(offline, bob) to bob; alice onUserLeave(bob) then onCallEnd(offline, bob)',
    given: 'active1to1',
    when: offline('bob', 'b1'),
    dt: 2000,
    sends: ['bob/b1 onCallEnd offline bob 2000ms', 'alice/a1 onUserLeave bob', 'alice/a1 onCallEnd offline bob 2000ms'],
    phase: 'ended',
    legs: { bob: 'offline' },
  },
  {
    name: 'deviceOffline of one of three connected: the call goes on; the others get onUserLeave(carol)',
    given: 'active3',
    when: offline('carol', 'c1'),
    dt: 2000,
    sends: ['carol/c1 onCallEnd offline carol 2000ms', 'alice/a1 onUserLeave carol', 'bob/b1 onUserLeave carol'],
    phase: 'active',
  },
  {
    name: 'deviceOffline leaving one connected with carol ringing ends the call; carol gets onCallNotConnected(canceled, bob)',
    given: 'active2Ringing1',
    when: offline('bob', 'b1'),
    dt: 2000,
    sends: [
      'bob/b1 onCallEnd offline bob 2000ms',
      'alice/a1 onUserLeave bob',
      'alice/a1 onCallEnd offline bob 2000ms',
      'carol/c1 onCallNotConnected canceled bob',
      'carol/c1 onCallCancelled carol',
    ],
    phase: 'ended',
  },
  { name: 'deviceOffline of a device not in the call is a no-op', given: 'active1to1', when: offline('bob', 'b2'), sends: [], unchanged: true },
  { name: 'deviceOffline on an ended call is a no-op', given: 'ended', when: offline('bob', 'b1'), sends: [], unchanged: true },

  // ── join from another device: move the call ──────────────────────────────────────────────
  {
    name: 'join from another device of a connected user moves the call: the old device gets onCallEnd(otherDeviceAccepted, bob); peers see nothing',
    given: 'active1to1',
    when: { type: 'join', userId: 'bob', deviceId: 'b2', busyElsewhere: false, maxParticipants: 9 },
    dt: 2000,
    sends: ['bob/b1 onCallEnd otherDeviceAccepted bob 2000ms', 'bob/b2 onCallBegin video', 'bob/b2 onUserJoin alice'],
    phase: 'active',
    check: (r) => {
      assert.equal(r.state.members['bob']?.deviceId, 'b2');
      assert.deepEqual(webhooksOf(r), []);
    },
  },

  // ── switchMediaType ──────────────────────────────────────────────────────────────────────
  {
    name: 'switchMediaType in a connected 1-to-1 call: both get onCallMediaTypeChanged(video, audio)',
    given: 'active1to1',
    when: toType('alice', 'a1', CallMediaType.audio),
    sends: ['alice/a1 onCallMediaTypeChanged video->audio', 'bob/b1 onCallMediaTypeChanged video->audio'],
    check: (r) => assert.equal(r.state.mediaType, CallMediaType.audio),
  },
  { name: 'switchMediaType to the current type is refused with -1202', given: 'active1to1', when: toType('bob', 'b1', CallMediaType.video), code: E1202 },
  { name: 'switchMediaType in a multi call is refused with -1205', given: 'active3', when: toType('bob', 'b1', CallMediaType.audio), code: E1205 },
  { name: 'switchMediaType while ringing (by the caller) is refused with -1203', given: 'ringing1to1', when: toType('alice', 'a1', CallMediaType.audio), code: E1203 },
  { name: 'switchMediaType by a ringing callee is refused with -1203', given: 'ringing1to1', when: toType('bob', 'b1', CallMediaType.audio), code: E1203 },
  { name: 'switchMediaType by a stranger is refused with -1203', given: 'active1to1', when: toType('erin', 'e1', CallMediaType.audio), code: E1203 },
  { name: 'switchMediaType on an ended call is refused with -1203', given: 'ended', when: toType('bob', 'b1', CallMediaType.audio), code: E1203 },

  // ── endByServer (admin end_call) ─────────────────────────────────────────────────────────
  {
    name: 'endByServer on a connected call: everyone connected gets onCallEnd(endByServer, admin)',
    given: 'active1to1',
    when: endByServer,
    dt: 2000,
    sends: ['alice/a1 onCallEnd endByServer administrator 2000ms', 'bob/b1 onCallEnd endByServer administrator 2000ms'],
    phase: 'ended',
    check: (r) => assert.deepEqual(recordsOf(r), { alice: 'outgoing 2000ms', bob: 'incoming 2000ms' }),
  },
  {
    name: 'endByServer on a ringing call: caller and ringing callee get onCallNotConnected(endByServer, admin) + onCallCancelled(own id)',
    given: 'ringing1to1',
    when: endByServer,
    sends: [
      'alice/a1 onCallNotConnected endByServer administrator',
      'alice/a1 onCallCancelled alice',
      'bob/b1 onCallNotConnected endByServer administrator',
      'bob/b1 onCallCancelled bob',
    ],
    phase: 'ended',
    legs: { alice: 'endByServer', bob: 'endByServer' },
  },
  {
    name: 'endByServer with two connected and one ringing: onCallEnd to the connected, onCallNotConnected to the ringing',
    given: 'active2Ringing1',
    when: endByServer,
    dt: 2000,
    sends: [
      'alice/a1 onCallEnd endByServer administrator 2000ms',
      'bob/b1 onCallEnd endByServer administrator 2000ms',
      'carol/c1 onCallNotConnected endByServer administrator',
      'carol/c1 onCallCancelled carol',
    ],
    phase: 'ended',
  },
  { name: 'endByServer on an ended call is refused with -1203', given: 'ended', when: endByServer, code: E1203 },

  // ── mediaConnected ───────────────────────────────────────────────────────────────────────
  {
    name: 'mediaConnected records the first media time once, with no events',
    given: 'active1to1',
    when: { type: 'mediaConnected' },
    dt: 200,
    sends: [],
    check: (r, before) => assert.equal(r.state.mediaConnectedAt, (before?.now ?? 0) + 200),
  },
  {
    name: 'a second mediaConnected is a no-op',
    given: () => step(situations.active1to1(), { type: 'mediaConnected' }, 200),
    when: { type: 'mediaConnected' },
    dt: 200,
    sends: [],
    unchanged: true,
  },
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

test('webhooks of a whole call carry one increasing sequence, and each user gets their record when their part ends', () => {
  const cmds: [Command, number][] = [
    [request('accept', 'bob', 'b1'), 1000],
    [inviteCommand('bob', 'b1', ['carol', 'dave'], { busy: ['dave'] }), 1000],
    [request('accept', 'carol', 'c1'), 1000],
    [request('hangup', 'alice', 'a1'), 1000],
    [{ type: 'join', userId: 'alice', deviceId: 'a1', busyElsewhere: false, maxParticipants: 9 }, 1000],
    [endByServer, 1000],
  ];
  let state = transition(null, startCommand('alice', ['bob']), 0).state;
  const seqs = [1, 2];
  const recordSets: Record<string, string>[] = [];
  let now = 0;
  for (const [cmd, dt] of cmds) {
    now += dt;
    const r = transition(state, cmd, now);
    assert.equal(r.state.version, state.version + 1);
    for (const e of r.effects) if (e.kind === 'webhook') seqs.push(e.seq);
    if (r.effects.some((e) => e.kind === 'record')) recordSets.push(recordsOf(r));
    state = r.state;
  }
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'seq 1, 2, 3… in the order events happened');
  // alice: 1 s → 4 s connected (3 s): her record when she leaves; rejoined 5 s → 6 s (1 s): the
  // call's end replaces it. bob 1 s → 6 s; carol 3 s → 6 s.
  assert.deepEqual(recordSets, [{ alice: 'outgoing 3000ms' }, { alice: 'outgoing 4000ms', bob: 'incoming 5000ms', carol: 'incoming 3000ms', dave: 'missed 0ms' }]);
});
