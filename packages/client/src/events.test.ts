import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType, CallRole, ServerEventSchema } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { CALL_EVENT_ARG_NAMES, CALL_EVENT_NAMES, EventHub, argsOfServerEvent, fullEventName, payloadOf } from './events.js';
import type { CallObserver, ObserverServerEvent } from './events.js';

const info: CallObserverExtraInfo = { roomId: { intRoomId: 7 }, role: CallRole.called, userData: 'x', chatGroupId: '', isEphemeralCall: false };
const CALL = 'c_abcdefghijklmnopqrstuv';

function silenceConsoleError(): { calls: unknown[][]; restore: () => void } {
  const original = console.error;
  const calls: unknown[][] = [];
  console.error = (...args: unknown[]) => void calls.push(args);
  return { calls, restore: () => (console.error = original) };
}

test('every SPEC §4 observer callback is in the event definition', () => {
  assert.deepEqual(new Set(CALL_EVENT_NAMES), new Set([
    'onError', 'onCallReceived', 'onCallNotConnected', 'onCallBegin', 'onCallEnd', 'onCallMediaTypeChanged',
    'onUserInviting', 'onUserReject', 'onUserNoResponse', 'onUserLineBusy', 'onUserJoin', 'onUserLeave',
    'onUserVideoAvailable', 'onUserAudioAvailable', 'onUserVoiceVolumeChanged', 'onUserNetworkQualityChanged',
    'onKickedOffline', 'onUserSigExpired', 'onCallCancelled',
    // SPEC §10: engine-side events with no server event behind them.
    'onConnectionStateChanged', 'onDeviceListChanged',
  ]));
});

test('on() takes the short SPEC §10 names and the observer names alike; unknown names are refused', () => {
  assert.equal(fullEventName('connectionStateChanged'), 'onConnectionStateChanged');
  assert.equal(fullEventName('deviceListChanged'), 'onDeviceListChanged');
  assert.equal(fullEventName('onCallReceived'), 'onCallReceived');
  assert.equal(fullEventName('callReceived'), 'onCallReceived');
  assert.throws(() => fullEventName('nope' as never), /unknown engine event nope/);
  const hub = new EventHub();
  const got: unknown[] = [];
  hub.on(fullEventName('connectionStateChanged'), (p) => got.push(p));
  hub.emit('onConnectionStateChanged', 'reconnecting');
  assert.deepEqual(got, [{ state: 'reconnecting' }]);
});

test('every argument name is a field of the matching server event schema', () => {
  for (const option of ServerEventSchema.def.options) {
    const name = option.shape.name.def.values[0]!;
    if (name === 'media.signal' || name === 'media.topology') continue;
    const names: readonly string[] = CALL_EVENT_ARG_NAMES[name];
    for (const field of names) assert.ok(field in option.shape, `${name}.${field} is not a server event field`);
  }
});

test('server events become positional arguments in SPEC order', () => {
  const end: ServerEvent = { name: 'onCallEnd', callId: CALL, mediaType: CallMediaType.video, reason: CallEndReason.hangup, userId: 'bob', totalTime: 1234, info };
  assert.deepEqual(argsOfServerEvent(end as ObserverServerEvent), [CALL, CallMediaType.video, CallEndReason.hangup, 'bob', 1234, info]);
  const received: ServerEvent = { name: 'onCallReceived', callId: CALL, callerId: 'alice', calleeIdList: ['bob', 'carol'], mediaType: CallMediaType.audio, info };
  assert.deepEqual(argsOfServerEvent(received as ObserverServerEvent), [CALL, 'alice', ['bob', 'carol'], CallMediaType.audio, info]);
  const changed: ServerEvent = { name: 'onCallMediaTypeChanged', callId: CALL, oldType: CallMediaType.video, newType: CallMediaType.audio };
  assert.deepEqual(argsOfServerEvent(changed as ObserverServerEvent), [CallMediaType.video, CallMediaType.audio]);
  assert.deepEqual(argsOfServerEvent({ name: 'onKickedOffline' }), []);
});

test('observers get positional arguments with the observer as this; on() gets one payload object', () => {
  const hub = new EventHub();
  const got: unknown[] = [];
  const observer: Partial<CallObserver> & { tag: string } = {
    tag: 'me',
    onUserAudioAvailable(userId, isAvailable) {
      got.push(['observer', this.tag, userId, isAvailable]);
    },
  };
  hub.addObserver(observer);
  const off = hub.on('onUserAudioAvailable', (p) => got.push(['on', p]));
  hub.emit('onUserAudioAvailable', 'bob', true);
  off();
  hub.emit('onUserAudioAvailable', 'bob', false);
  assert.deepEqual(got, [['observer', 'me', 'bob', true], ['on', { userId: 'bob', isAvailable: true }], ['observer', 'me', 'bob', false]]);
  assert.deepEqual(payloadOf('onError', [-1401, 'x']), { code: -1401, message: 'x' });
});

test('a throwing observer or listener does not stop the others and is logged once per event name', () => {
  const hub = new EventHub();
  const got: string[] = [];
  const bad: Partial<CallObserver> = {
    onUserJoin: () => {
      throw new Error('app bug');
    },
  };
  hub.addObserver(bad);
  hub.addObserver({ onUserJoin: (u) => got.push(`second ${u}`) });
  hub.on('onUserJoin', () => {
    throw new Error('listener bug');
  });
  hub.on('onUserJoin', ({ userId }) => got.push(`on ${userId}`));
  const spy = silenceConsoleError();
  try {
    hub.emit('onUserJoin', 'bob');
    hub.emit('onUserJoin', 'carol');
  } finally {
    spy.restore();
  }
  assert.deepEqual(got, ['second bob', 'on bob', 'second carol', 'on carol']);
  assert.equal(spy.calls.length, 2); // the observer once and the listener once, not per emit
});

test('addObserver returns a remover; removeObserver works; adding twice keeps one', () => {
  const hub = new EventHub();
  let n = 0;
  const o: Partial<CallObserver> = { onUserSigExpired: () => n++ };
  const remove = hub.addObserver(o);
  hub.addObserver(o);
  hub.emit('onUserSigExpired');
  remove();
  hub.emit('onUserSigExpired');
  hub.addObserver(o);
  hub.removeObserver(o);
  hub.emit('onUserSigExpired');
  assert.equal(n, 1);
});

test('an observer removed during an emit still completes that round consistently', () => {
  const hub = new EventHub();
  const got: string[] = [];
  const second: Partial<CallObserver> = { onUserLeave: () => got.push('second') };
  hub.addObserver({ onUserLeave: () => (got.push('first'), hub.removeObserver(second)) });
  hub.addObserver(second);
  hub.emit('onUserLeave', 'bob');
  hub.emit('onUserLeave', 'bob');
  assert.deepEqual(got, ['first', 'second', 'first']);
});
