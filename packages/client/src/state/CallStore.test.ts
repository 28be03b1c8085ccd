import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType, CallRole, CallStatus } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { CallStore, callerInfo } from './CallStore.js';

const X = 'c_xxxxxxxxxxxxxxxxxxxxxx';
const Y = 'c_yyyyyyyyyyyyyyyyyyyyyy';
const called: CallObserverExtraInfo = { roomId: {}, role: CallRole.called, userData: '', chatGroupId: '', isEphemeralCall: false };
const A = CallMediaType.audio;
const V = CallMediaType.video;

const received = (callId: string, callees: string[], info = called): ServerEvent => ({ name: 'onCallReceived', callId, callerId: 'alice', calleeIdList: callees, mediaType: V, info });
const begin = (callId: string, info = called): ServerEvent => ({ name: 'onCallBegin', callId, mediaType: V, info });
const user = (name: 'onUserJoin' | 'onUserLeave' | 'onUserInviting' | 'onUserLineBusy', callId: string, userId: string): ServerEvent => ({ name, callId, userId });
const end = (callId: string): ServerEvent => ({ name: 'onCallEnd', callId, mediaType: V, reason: CallEndReason.hangup, userId: 'alice', totalTime: 5, info: called });
const notConnected = (callId: string, reason = CallEndReason.lineBusy): ServerEvent => ({ name: 'onCallNotConnected', callId, mediaType: A, reason, userId: 'bob', info: called });

test('an empty store reads as no call', () => {
  const s = new CallStore();
  assert.equal(s.callId, null);
  assert.equal(s.role, CallRole.none);
  assert.equal(s.status, CallStatus.none);
  assert.equal(s.snapshot(), null);
  assert.equal(s.isInCall, false);
});

test('onCallReceived rings as callee; onCallBegin connects; joins and leaves track peers; onCallEnd clears', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob']));
  assert.deepEqual(
    { callId: s.callId, role: s.role, status: s.status, scene: s.scene, callerId: s.snapshot()?.callerId },
    { callId: X, role: CallRole.called, status: CallStatus.waiting, scene: 'single', callerId: 'alice' },
  );
  s.apply(begin(X));
  s.apply(user('onUserJoin', X, 'alice'));
  assert.equal(s.status, CallStatus.accept);
  assert.deepEqual(s.snapshot()?.connectedUserIds, ['alice']);
  s.apply(user('onUserLeave', X, 'alice'));
  assert.deepEqual(s.snapshot()?.connectedUserIds, []);
  s.apply(end(X));
  assert.equal(s.callId, null);
  assert.ok(s.hasEnded(X));
});

test('scene: several callees → multi, chatGroupId → group, grown by onUserInviting → multi', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob', 'carol']));
  assert.equal(s.scene, 'multi');
  s.apply(received(Y, ['bob'], { ...called, chatGroupId: 'g1' }));
  assert.equal(s.scene, 'group');
  s.apply(received(X, ['bob']));
  assert.equal(s.scene, 'single');
  s.apply(user('onUserInviting', X, 'dave'));
  assert.equal(s.scene, 'multi');
  assert.deepEqual(s.snapshot()?.inviteList, ['bob', 'dave']);
});

test('events of other calls are ignored, except onCallReceived', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob']));
  s.apply(user('onUserJoin', Y, 'zed'));
  s.apply(end(Y));
  s.apply({ name: 'onCallMediaTypeChanged', callId: Y, oldType: V, newType: A });
  assert.equal(s.callId, X);
  assert.equal(s.mediaType, V);
  assert.deepEqual(s.snapshot()?.connectedUserIds, []);
  s.apply(received(Y, ['bob']));
  assert.equal(s.callId, Y);
});

test('calls(): the answer makes the caller current; a media switch updates the type', () => {
  const s = new CallStore();
  s.beginOutgoing('alice', ['bob'], A, { userData: 'u', roomId: { strRoomId: 'r' } });
  s.outgoingStarted(X);
  const snap = s.snapshot();
  assert.equal(snap?.role, CallRole.caller);
  assert.equal(snap?.status, CallStatus.waiting);
  assert.equal(snap?.callerId, 'alice');
  assert.deepEqual(snap?.inviteList, ['bob']);
  assert.deepEqual(snap?.info, { ...callerInfo({ userData: 'u', roomId: { strRoomId: 'r' } }) });
  s.apply(begin(X, { ...called, role: CallRole.caller }));
  s.apply({ name: 'onCallMediaTypeChanged', callId: X, oldType: V, newType: A });
  assert.equal(s.mediaType, A);
  assert.equal(s.role, CallRole.caller);
});

test('calls(): events arriving before the answer are adopted as the new call', () => {
  const s = new CallStore();
  s.beginOutgoing('alice', ['bob', 'carol'], A);
  s.apply(user('onUserLineBusy', X, 'carol'));
  assert.equal(s.callId, X);
  assert.equal(s.role, CallRole.caller);
  s.outgoingStarted(X);
  assert.equal(s.callId, X);
});

test('calls(): a call that ended before its answer is not brought back by the answer', () => {
  const s = new CallStore();
  s.beginOutgoing('alice', ['bob'], A);
  s.apply(user('onUserLineBusy', X, 'bob'));
  s.apply(notConnected(X));
  assert.equal(s.callId, null);
  s.outgoingStarted(X);
  assert.equal(s.callId, null);
});

test('glare: calling the user whose call rings here keeps this device as the connected callee', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob']));
  s.beginOutgoing('bob', ['alice'], V);
  s.apply(begin(X));
  s.apply(user('onUserJoin', X, 'alice'));
  s.outgoingStarted(X);
  s.endOutgoing();
  assert.equal(s.callId, X);
  assert.equal(s.role, CallRole.called);
  assert.equal(s.status, CallStatus.accept);
});

test('join(): onCallBegin for a call this device never rang for makes it current', () => {
  const s = new CallStore();
  s.apply(begin(X, { ...called, callerProfile: { userId: 'alice', nickname: 'A', avatar: '' } }));
  s.apply(user('onUserJoin', X, 'alice'));
  s.apply(user('onUserJoin', X, 'carol'));
  const snap = s.snapshot();
  assert.equal(snap?.status, CallStatus.accept);
  assert.equal(snap?.callerId, 'alice');
  assert.equal(snap?.scene, 'multi');
});

test('re-invited after rejecting: the same callId rings again', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob', 'carol']));
  s.apply(notConnected(X, CallEndReason.reject));
  assert.equal(s.callId, null);
  s.apply(received(X, ['bob', 'carol', 'dave']));
  assert.equal(s.callId, X);
  assert.equal(s.status, CallStatus.waiting);
});

test('clear() returns the last snapshot and snapshots are copies', () => {
  const s = new CallStore();
  s.apply(received(X, ['bob']));
  const snap = s.snapshot();
  (snap?.inviteList as string[]).push('mallory');
  assert.deepEqual(s.snapshot()?.inviteList, ['bob']);
  assert.equal(s.clear()?.callId, X);
  assert.equal(s.callId, null);
  assert.equal(s.clear(), null);
});
