import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { CallMediaType, CallRole, CallStatus } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { CallEngine } from '../CallEngine.js';
import { ScriptedServer, waitFor } from '../testing/scriptedServer.test.js';
import type { CallSnapshot } from '../state/CallStore.js';
import { FakeMedia } from './FakeMedia.js';
import type { MediaCallContext } from './MediaAdapter.js';
import { MediaController } from './MediaController.js';
import { NullMedia } from './NullMedia.js';

const X = 'c_xxxxxxxxxxxxxxxxxxxxxx';
const info: CallObserverExtraInfo = { roomId: {}, role: CallRole.called, userData: '', chatGroupId: '', isEphemeralCall: false };
const quiet = { debug: () => undefined, warn: () => undefined, error: () => undefined };
const snapshot = (status: CallStatus, callId = X): CallSnapshot => ({
  callId,
  role: CallRole.called,
  status,
  mediaType: CallMediaType.video,
  scene: 'single',
  callerId: 'alice',
  inviteList: ['bob'],
  connectedUserIds: ['alice'],
  info,
});
const context = (call: CallSnapshot): MediaCallContext => ({
  callId: call.callId,
  selfId: 'bob',
  mediaType: call.mediaType,
  scene: call.scene,
  peers: call.connectedUserIds,
  iceServers: [],
  sendSignal: async () => undefined,
  sendState: async () => undefined,
  emit: () => undefined,
  logger: quiet,
});

test('without an adapter, Node runs signaling only (NullMedia)', () => {
  assert.ok(new MediaController(undefined, quiet).adapter instanceof NullMedia);
});

test('media starts once when this device connects and stops when the call is gone', () => {
  const fake = new FakeMedia();
  const c = new MediaController(fake, quiet);
  c.sync(snapshot(CallStatus.waiting), context);
  assert.deepEqual(fake.methods(), []);
  c.sync(snapshot(CallStatus.accept), context);
  c.sync(snapshot(CallStatus.accept), context);
  assert.deepEqual(fake.methods(), ['startCall']);
  assert.equal(fake.context?.scene, 'single');
  c.sync(null, context);
  assert.deepEqual(fake.methods(), ['startCall', 'stopCall']);
  assert.equal(c.activeCallId, null);
});

test('call events of the running call reach the adapter; other calls and idle reconnections do not', () => {
  const fake = new FakeMedia();
  const c = new MediaController(fake, quiet);
  c.signalingResumed();
  c.sync(snapshot(CallStatus.accept), context);
  const events: ServerEvent[] = [
    { name: 'onUserJoin', callId: X, userId: 'carol' },
    { name: 'media.signal', callId: X, from: 'alice', signal: { kind: 'offer', sdp: 'v=0', pc: 'p2p' } },
    { name: 'media.topology', callId: X, mode: 'sfu' },
    { name: 'onUserAudioAvailable', callId: X, userId: 'alice', isAvailable: false },
    { name: 'onUserVideoAvailable', callId: X, userId: 'alice', isAvailable: true },
    { name: 'onCallMediaTypeChanged', callId: X, oldType: CallMediaType.video, newType: CallMediaType.audio },
    { name: 'onUserLeave', callId: X, userId: 'carol' },
    { name: 'media.signal', callId: 'c_another_call_entirely', from: 'alice', signal: { kind: 'answer' } },
  ];
  events.forEach((e) => c.handleEvent(e));
  c.signalingResumed();
  assert.deepEqual(
    fake.calls.slice(1).map((x) => `${x.method}(${x.args.map((a) => (typeof a === 'object' ? JSON.stringify(a) : String(a as string | number))).join(',')})`),
    [
      'peerJoined(carol)',
      'handleSignal(alice,{"kind":"offer","sdp":"v=0","pc":"p2p"})',
      'handleTopology(sfu)',
      'remoteMediaState(alice,audio,false)',
      'remoteMediaState(alice,video,true)',
      `mediaTypeChanged(${CallMediaType.audio})`,
      'peerLeft(carol)',
      'signalingResumed()',
    ],
  );
});

test('an adapter that throws or rejects is logged, never propagated into event dispatch', async () => {
  const errors: string[] = [];
  const fake = new FakeMedia();
  fake.startCall = () => Promise.reject(new Error('no camera'));
  fake.peerJoined = () => {
    throw new Error('boom');
  };
  const c = new MediaController(fake, { ...quiet, error: (m) => errors.push(m) });
  c.sync(snapshot(CallStatus.accept), context);
  c.handleEvent({ name: 'onUserJoin', callId: X, userId: 'carol' });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(errors.sort(), ['media adapter failed to handle an event', 'media startCall failed']);
});

const servers: ScriptedServer[] = [];
const engines: CallEngine[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.close()));
});

test('engine + adapter: the context relays signals and state (connected included); a resumed socket restarts media', async () => {
  const server = await ScriptedServer.start();
  servers.push(server);
  const fake = new FakeMedia();
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: 1400000000, WebSocket, media: fake, logger: quiet, reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 20 });
  engines.push(engine);
  const requests: Array<{ type: string; data: unknown }> = [];
  for (const type of ['media.signal', 'media.state']) {
    server.handle(type, (conn, msg) => {
      requests.push({ type, data: msg.data });
      conn.respond(msg.id);
    });
  }
  server.handle('call.accept', (conn, msg) => {
    conn.push({ name: 'onCallBegin', callId: X, mediaType: CallMediaType.video, info });
    conn.push({ name: 'onUserJoin', callId: X, userId: 'alice' });
    conn.respond(msg.id);
  });
  await engine.init('bob', 'sig');
  server.last.push({ name: 'onCallReceived', callId: X, callerId: 'alice', calleeIdList: ['bob'], mediaType: CallMediaType.video, info });
  await waitFor(() => engine.currentCall !== null);
  await engine.accept();
  assert.deepEqual(fake.methods(), ['startCall', 'peerJoined']);
  const ctx = fake.context!;
  assert.deepEqual([ctx.selfId, ctx.scene, ctx.mediaType], ['bob', 'single', CallMediaType.video]);
  await ctx.sendSignal('alice', { kind: 'answer', sdp: 'v=0', pc: 'p2p' });
  await ctx.sendState(true, false, true);
  await ctx.sendState(false, false);
  assert.deepEqual(requests, [
    { type: 'media.signal', data: { callId: X, to: 'alice', signal: { kind: 'answer', sdp: 'v=0', pc: 'p2p' } } },
    { type: 'media.state', data: { callId: X, audio: true, video: false, connected: true } },
    { type: 'media.state', data: { callId: X, audio: false, video: false } },
  ]);
  server.last.push({ name: 'media.signal', callId: X, from: 'alice', signal: { kind: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 }, pc: 'p2p' } });
  await waitFor(() => fake.methods().includes('handleSignal'));
  server.last.drop();
  await waitFor(() => fake.methods().includes('signalingResumed'), 3000, 'signalingResumed after the socket came back');
  server.last.push({ name: 'onCallEnd', callId: X, mediaType: CallMediaType.video, reason: 1, userId: 'alice', totalTime: 5, info });
  await waitFor(() => fake.methods().includes('stopCall'));
});

test('a batch frame is handled message by message, in order; a begin carrying its p2p topology hands it to the adapter once the call started', async () => {
  const server = await ScriptedServer.start();
  servers.push(server);
  const fake = new FakeMedia();
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: 1400000000, WebSocket, media: fake, logger: quiet });
  engines.push(engine);
  const seen: string[] = [];
  engine.addObserver({
    onCallReceived: () => seen.push('onCallReceived'),
    onCallBegin: (...args) => seen.push(`onCallBegin(${args.length})`),
    onUserJoin: (u) => seen.push(`onUserJoin(${u})`),
  });
  const received: string[] = [];
  server.handle('call.received', (_conn, msg) => received.push(String(msg.data['callId'])));
  server.handle('call.accept', (conn, msg) => {
    conn.batch([
      { name: 'onCallBegin', callId: X, mediaType: CallMediaType.video, info, topology: 'p2p' },
      { name: 'onUserJoin', callId: X, userId: 'alice' },
      { v: 1, type: 'response', id: msg.id, ok: true, data: {} },
    ]);
  });
  await engine.init('bob', 'sig');
  server.last.batch([{ name: 'onCallReceived', callId: X, callerId: 'alice', calleeIdList: ['bob'], mediaType: CallMediaType.video, info }]);
  await waitFor(() => engine.currentCall !== null);
  await engine.accept();
  // Observers: the topology is no observer argument (onCallBegin still gets 3).
  assert.deepEqual(seen, ['onCallReceived', 'onCallBegin(3)', 'onUserJoin(alice)']);
  assert.deepEqual(fake.methods(), ['startCall', 'handleTopology', 'peerJoined']);
  assert.equal(fake.calls[1]!.args[0], 'p2p');
  // The received report went out as a notification: nothing waits for an answer to it.
  await waitFor(() => received.length === 1);
  assert.deepEqual(received, [X]);
});
