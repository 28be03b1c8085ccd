/**
 * Valid wire messages of every kind, as real clients and the server send them: the validation bench
 * times these, and the zod/mini equivalence test (test/protocol-zod-mini.test.ts) mutates them into
 * invalid ones. Ids and payloads have the shapes and sizes of a real call.
 */
import { CallEndReason, CallMediaType, CallRole, NetworkQuality } from '@opencall/protocol/wire';

const CALL = 'c_abcdefghijklmnopqrstuv';
const DEVICE = 'd_0123456789abcdef';
const SDP = `v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n${'a=candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host generation 0\r\n'.repeat(12)}`;
const CANDIDATE = { candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0', sdpMid: '0', sdpMLineIndex: 0 };
const PUSH_INFO = { title: 'Alice is calling', desc: 'Video call', ext: '{"k":1}', ignoreIOSBadge: false, androidVIVOClassification: 1, iOSPushType: 0 };
const INFO = { roomId: { intRoomId: 12345 }, role: CallRole.called, userData: 'order 42', chatGroupId: '', isEphemeralCall: false, callerProfile: { userId: 'alice', nickname: 'Alice', avatar: 'https://example.com/a.png' } };

/** One valid `data` per client message type (two for the hot ones). */
export const CLIENT_DATA: readonly [type: string, data: Record<string, unknown>][] = [
  ['auth', { sdkAppId: 1400000000, userId: 'alice', userSig: 'eJw1jVEKgjAMhu-y5yIbTbO9S0gH6A5k2jQzG1Ppa*HdHUR9*-8'.repeat(4), deviceId: DEVICE, resume: { sessionId: 's_abc', lastSeq: 17 }, multiDevice: true }],
  ['ping', {}],
  ['logout', {}],
  ['call.start', { userIds: ['bob'], mediaType: CallMediaType.video, params: { roomId: { strRoomId: 'room-1' }, timeout: 30, userData: 'order 42', chatGroupId: '', isEphemeralCall: false, offlinePushInfo: PUSH_INFO } }],
  ['call.start', { userIds: ['bob', 'carol', 'dave'], mediaType: CallMediaType.audio }],
  ['call.accept', { callId: CALL }],
  ['call.reject', { callId: CALL }],
  ['call.ignore', { callId: CALL }],
  ['call.hangup', { callId: CALL }],
  ['call.invite', { callId: CALL, userIds: ['erin', 'frank'], params: { userData: 'x', timeout: 20, offlinePushInfo: { title: 't' } } }],
  ['call.join', { callId: CALL }],
  ['call.switchMediaType', { callId: CALL, mediaType: CallMediaType.audio }],
  ['media.signal', { callId: CALL, to: 'bob', signal: { kind: 'offer', sdp: SDP, pc: 'p2p' } }],
  ['media.signal', { callId: CALL, to: 'sfu', signal: { kind: 'candidate', candidate: CANDIDATE, pc: 'pub', feeds: [1, 2] } }],
  ['media.signal', { callId: CALL, to: 'bob', signal: { kind: 'candidate', candidate: null } }],
  ['media.state', { callId: CALL, audio: true, video: false, connected: true }],
  ['profile.set', { nickname: 'Alice', avatar: 'https://example.com/a.png' }],
  ['profile.get', { userIds: ['bob', 'carol'] }],
  ['device.multi', { enable: true }],
  ['records.query', { begin: 1_700_000_000_000, end: 1_800_000_000_000, result: 'missed', limit: 50, offset: 0 }],
  ['push.register', { target: { type: 'webpush', subscription: { endpoint: 'https://push.example.com/send/abc', expirationTime: null, keys: { p256dh: 'B'.repeat(87), auth: 'a'.repeat(22) } } } }],
  ['push.register', { target: { type: 'apns', token: 'ab'.repeat(32), voip: true } }],
  ['push.unregister', { target: { type: 'fcm', token: 'fcm:token_1.2-3' } }],
  ['call.received', { callId: CALL }],
  ['records.delete', { callIds: [CALL, 'c_zyxwvutsrqponmlkjihgfe'] }],
];

/** A client frame's text for `type` and `data`. */
export const clientFrame = (type: string, data: unknown, id = 42): string => JSON.stringify({ v: 1, id, type, data });

/** One valid server event of every name. */
export const SERVER_EVENTS: readonly Record<string, unknown>[] = [
  { name: 'onCallReceived', callId: CALL, callerId: 'alice', calleeIdList: ['bob'], mediaType: CallMediaType.video, info: INFO },
  { name: 'onCallNotConnected', callId: CALL, mediaType: CallMediaType.video, reason: CallEndReason.noResponse, userId: 'bob', info: INFO },
  { name: 'onCallBegin', callId: CALL, mediaType: CallMediaType.video, info: INFO },
  { name: 'onCallEnd', callId: CALL, mediaType: CallMediaType.audio, reason: CallEndReason.hangup, userId: 'bob', totalTime: 61_234, info: INFO },
  { name: 'onCallMediaTypeChanged', callId: CALL, oldType: CallMediaType.video, newType: CallMediaType.audio },
  { name: 'onUserInviting', callId: CALL, userId: 'carol' },
  { name: 'onUserReject', callId: CALL, userId: 'carol' },
  { name: 'onUserNoResponse', callId: CALL, userId: 'carol' },
  { name: 'onUserLineBusy', callId: CALL, userId: 'carol' },
  { name: 'onUserJoin', callId: CALL, userId: 'carol' },
  { name: 'onUserLeave', callId: CALL, userId: 'carol' },
  { name: 'onCallCancelled', callId: CALL, userId: 'alice' },
  { name: 'onUserAudioAvailable', callId: CALL, userId: 'bob', isAvailable: true },
  { name: 'onUserVideoAvailable', callId: CALL, userId: 'bob', isAvailable: false },
  { name: 'onUserNetworkQualityChanged', callId: CALL, list: [{ userId: 'bob', quality: NetworkQuality.good }, { userId: 'alice', quality: NetworkQuality.excellent }] },
  { name: 'media.signal', callId: CALL, from: 'bob', signal: { kind: 'answer', sdp: SDP, pc: 'p2p' } },
  { name: 'media.signal', callId: CALL, from: 'sfu', signal: { kind: 'offer', sdp: SDP, pc: 'sub', fresh: true, streams: [{ mid: '0', kind: 'audio', userId: 'bob', feed: 3 }, { mid: '1', kind: 'video', userId: 'bob', feed: 3 }], extra: 'kept' } },
  { name: 'media.signal', callId: CALL, from: 'bob', signal: { kind: 'candidate', candidate: CANDIDATE } },
  { name: 'media.topology', callId: CALL, mode: 'sfu', feeds: [{ userId: 'bob', feed: 3 }] },
  { name: 'onKickedOffline' },
  { name: 'onUserSigExpired' },
];

/** One valid server frame of every kind: each event, responses (ok and failed) and a protocol error. */
export const SERVER_MESSAGES: readonly Record<string, unknown>[] = [
  ...SERVER_EVENTS.map((event, i) => ({ v: 1, type: 'event', seq: i + 1, event })),
  { v: 1, type: 'response', id: 42, ok: true, data: { callId: CALL } },
  { v: 1, type: 'response', id: 43, ok: false, error: { code: -1203, message: 'refused in the current call state' } },
  { v: 1, type: 'error', error: { code: 4001, message: 'malformed message: not JSON' } },
];

/** Other inputs the protocol's schemas parse: a call record list, a push action body. */
export const OTHER_VALUES: readonly unknown[] = [
  { callId: CALL, inviter: 'alice', inviteList: ['bob'], chatGroupId: '', scene: 'single', mediaType: CallMediaType.video, role: CallRole.caller, result: 'outgoing', beginTime: 1_700_000_000_000, totalTime: 61_000, endReason: CallEndReason.hangup, timings: { invitedAt: 1_700_000_000_000, ringingAt: { bob: 1_700_000_000_100 }, acceptedAt: 1_700_000_002_000, mediaConnectedAt: null, endedAt: 1_700_000_063_000 } },
  { callId: CALL, userId: 'bob', action: 'reject', token: 't'.repeat(43) },
];
