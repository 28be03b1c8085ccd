import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { CallEndReason, CallMediaType, CallRole, CallStatus } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { CallEngine } from './CallEngine.js';
import type { CallEngineError } from './errors.js';
import type { CallObserver } from './events.js';
import { ScriptedServer, waitFor } from './testing/scriptedServer.test.js';
import type { ServerConn } from './testing/scriptedServer.test.js';

const X = 'c_xxxxxxxxxxxxxxxxxxxxxx';
const called: CallObserverExtraInfo = { roomId: {}, role: CallRole.called, userData: '', chatGroupId: '', isEphemeralCall: false };
const quiet = { warn: () => undefined, error: () => undefined };
const code = (c: number) => (e: CallEngineError) => e.code === c;

const servers: ScriptedServer[] = [];
const engines: CallEngine[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.close()));
});

/** An engine on a scripted server, with every observer callback recorded as `name(args…)`. */
async function setup(opts: { maxParticipants?: number } = {}) {
  const server = await ScriptedServer.start(opts);
  servers.push(server);
  const engine = new CallEngine({
    serverUrl: server.url, sdkAppId: 1400000000, WebSocket, requestTimeoutMs: 1_000,
    reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 20, logger: quiet,
  });
  engines.push(engine);
  const log: string[] = [];
  const recorder = new Proxy({}, {
    get: (_t, name: string) => (...args: unknown[]) => log.push(`${name}(${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(',')})`),
  }) as Partial<CallObserver>;
  engine.addObserver(recorder);
  return { server, engine, log };
}

const ring = (conn: ServerConn, callees = ['bob']): void => {
  conn.push({ name: 'onCallReceived', callId: X, callerId: 'alice', calleeIdList: callees, mediaType: CallMediaType.video, info: called });
};
const begin: ServerEvent = { name: 'onCallBegin', callId: X, mediaType: CallMediaType.video, info: called };

describe('CallEngine', () => {
  test('methods reject with -1201 before init; init rejects a bad user id with -1202', async () => {
    const { engine } = await setup();
    await assert.rejects(engine.calls(['bob'], CallMediaType.audio), code(-1201));
    await assert.rejects(engine.hangup(), code(-1201));
    await assert.rejects(engine.init('bad id!', 'sig'), code(-1202));
    await assert.rejects(engine.init('x'.repeat(33), 'sig'), code(-1202));
    assert.equal(engine.isInitialized, false);
  });

  test('the constructor validates options (-1202) and generates a device id once per instance', () => {
    assert.throws(() => new CallEngine({ serverUrl: 'localhost:3000', sdkAppId: 1 }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: 'http://h', sdkAppId: 1.5 }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: 'http://h', sdkAppId: 1, deviceId: 'no' }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: 'http://h', sdkAppId: 1, requestTimeoutMs: 0 }), code(-1202));
    // A list of cluster nodes: at least one, every entry a URL, none twice.
    assert.throws(() => new CallEngine({ serverUrl: [], sdkAppId: 1 }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: ['http://a', 3 as unknown as string], sdkAppId: 1 }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: ['http://a', 'ftp://b'], sdkAppId: 1 }), code(-1202));
    assert.throws(() => new CallEngine({ serverUrl: ['http://a:1', 'ws://a:1/ws'], sdkAppId: 1 }), code(-1202));
    assert.doesNotThrow(() => new CallEngine({ serverUrl: ['http://a:1', 'http://b:1'], sdkAppId: 1 }));
    const a = new CallEngine({ serverUrl: 'http://h', sdkAppId: 1 });
    const b = new CallEngine({ serverUrl: 'http://h', sdkAppId: 1 });
    assert.match(a.deviceId, /^[A-Za-z0-9_-]{4,64}$/);
    assert.notEqual(a.deviceId, b.deviceId);
    assert.equal(a.deviceId, a.deviceId);
    assert.equal(new CallEngine({ serverUrl: 'http://h', sdkAppId: 1, deviceId: 'phone-1' }).deviceId, 'phone-1');
  });

  test('calls() validates locally (-1202) and sends nothing', async () => {
    const { server, engine } = await setup({ maxParticipants: 3 });
    await engine.init('alice', 'sig');
    await assert.rejects(engine.calls([], CallMediaType.audio), code(-1202));
    await assert.rejects(engine.calls(['alice'], CallMediaType.audio), code(-1202));
    await assert.rejects(engine.calls(['bob', 'carol', 'dave'], CallMediaType.audio), code(-1202));
    await assert.rejects(engine.calls(['b c'], CallMediaType.audio), code(-1202));
    await assert.rejects(engine.calls(['bob'], CallMediaType.none), code(-1202));
    await assert.rejects(engine.calls(['bob'], CallMediaType.audio, { timeout: -1 }), code(-1202));
    assert.equal(server.last.received.filter((m) => m.type === 'call.start').length, 0);
  });

  test('calls() then hangup() without awaiting: hangup runs after calls with its callId', async () => {
    const { server, engine } = await setup();
    server.handle('call.start', (conn, msg) => conn.respond(msg.id, { callId: X }));
    await engine.init('alice', 'sig');
    const started = engine.calls(['bob', 'bob'], CallMediaType.audio, { userData: 'hi' });
    const hung = engine.hangup();
    assert.deepEqual(await started, { callId: X });
    await hung;
    const sent = server.last.received.filter((m) => m.type.startsWith('call.'));
    assert.deepEqual(sent.map((m) => [m.type, m.data]), [
      ['call.start', { userIds: ['bob'], mediaType: 1, params: { userData: 'hi' } }],
      ['call.hangup', { callId: X }],
    ]);
  });

  test('the same method twice rejects at once with -1204', async () => {
    const { server, engine } = await setup();
    server.handle('call.start', (conn, msg) => setTimeout(() => conn.respond(msg.id, { callId: X }), 50));
    await engine.init('alice', 'sig');
    const first = engine.calls(['bob'], CallMediaType.audio);
    await assert.rejects(engine.calls(['carol'], CallMediaType.audio), code(-1204));
    await first;
    await assert.rejects(Promise.all([engine.init('alice', 's1'), engine.init('alice', 's2')]), code(-1204));
  });

  test('accept(): observers get onCallReceived, then onCallBegin/onUserJoin before accept resolves', async () => {
    const { server, engine, log } = await setup();
    server.handle('call.accept', (conn, msg) => {
      conn.push(begin);
      conn.push({ name: 'onUserJoin', callId: X, userId: 'alice' });
      conn.respond(msg.id);
    });
    await engine.init('bob', 'sig');
    await assert.rejects(engine.accept(), code(-1203));
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    // init reports the link first (SPEC §10 connectionStateChanged), then the ring.
    assert.deepEqual(log.slice(0, 2), ['onConnectionStateChanged(connected)', `onCallReceived(${X},alice,["bob"],2,${JSON.stringify(called)})`]);
    assert.equal(engine.currentCall?.status, CallStatus.waiting);
    await engine.accept();
    assert.deepEqual(log.slice(2), [`onCallBegin(${X},2,${JSON.stringify(called)})`, 'onUserJoin(alice)']);
    assert.equal(engine.currentCall?.status, CallStatus.accept);
    assert.deepEqual(engine.currentCall?.connectedUserIds, ['alice']);
  });

  test('the store is updated before observers run', async () => {
    const { server, engine } = await setup();
    let seen: unknown = null;
    engine.addObserver({ onCallReceived: () => (seen = engine.currentCall?.role) });
    await engine.init('bob', 'sig');
    ring(server.last);
    await waitFor(() => seen !== null);
    assert.equal(seen, CallRole.called);
  });

  test('hangup() with no call resolves without a request; accept/reject/ignore with nothing ringing → -1203', async () => {
    const { server, engine } = await setup();
    await engine.init('alice', 'sig');
    await engine.hangup();
    await assert.rejects(engine.reject(), code(-1203));
    await assert.rejects(engine.ignore(), code(-1203));
    assert.equal(server.last.received.filter((m) => m.type.startsWith('call.')).length, 0);
  });

  test('switchCallMediaType(): same type → -1202, multi call → -1205, connected single → sent', async () => {
    const { server, engine } = await setup();
    await engine.init('bob', 'sig');
    ring(server.last, ['bob', 'carol']);
    server.last.push(begin);
    await waitFor(() => engine.currentCall?.status === CallStatus.accept);
    await assert.rejects(engine.switchCallMediaType(CallMediaType.video), code(-1202));
    await assert.rejects(engine.switchCallMediaType(CallMediaType.audio), code(-1205));
    ring(server.last, ['bob']);
    server.last.push(begin);
    await waitFor(() => engine.currentCall?.scene === 'single' && engine.currentCall.status === CallStatus.accept);
    await engine.switchCallMediaType(CallMediaType.audio);
    assert.deepEqual(server.last.received.at(-1)?.data, { callId: X, mediaType: CallMediaType.audio });
  });

  test('a lost session ends a connected call locally with onCallEnd(offline, self, 0)', async () => {
    const { server, engine, log } = await setup();
    await engine.init('bob', 'sig');
    ring(server.last);
    server.last.push(begin);
    await waitFor(() => engine.currentCall?.status === CallStatus.accept);
    server.resumable = false;
    log.length = 0;
    server.last.drop();
    await waitFor(() => log.length === 3);
    // The link drops (reconnecting), the new session cannot resume the call: it ends here, connected again.
    assert.deepEqual(log, ['onConnectionStateChanged(reconnecting)', `onCallEnd(${X},2,${CallEndReason.offline},bob,0,${JSON.stringify(called)})`, 'onConnectionStateChanged(connected)']);
    assert.equal(engine.currentCall, null);
    assert.equal(engine.isInitialized, true);
  });

  test('a lost session ends a ringing call locally with onCallNotConnected(offline) + onCallCancelled(self)', async () => {
    const { server, engine, log } = await setup();
    await engine.init('bob', 'sig');
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    server.resumable = false;
    log.length = 0;
    server.last.drop();
    await waitFor(() => log.length === 4);
    assert.deepEqual(log, [
      'onConnectionStateChanged(reconnecting)',
      `onCallNotConnected(${X},2,${CallEndReason.offline},bob,${JSON.stringify(called)})`,
      'onCallCancelled(bob)',
      'onConnectionStateChanged(connected)',
    ]);
  });

  test("after a lost session ended a call locally, the server's own end of it (replayed after a crash) is not reported again", async () => {
    const { server, engine, log } = await setup();
    await engine.init('bob', 'sig');
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    server.resumable = false;
    server.last.drop();
    await waitFor(() => log.some((l) => l.startsWith('onCallCancelled')));
    await waitFor(() => engine.currentCall === null && server.last.session !== null);
    log.length = 0;
    // The server's stored end of that leg, sent to the new session after a restart.
    server.last.push({ name: 'onCallNotConnected', callId: X, mediaType: CallMediaType.video, reason: CallEndReason.noResponse, userId: 'bob', info: called });
    // A later call still gets through, so the dropped event was really processed (and dropped).
    server.last.push({ name: 'onCallReceived', callId: 'c_next', callerId: 'alice', calleeIdList: ['bob'], mediaType: CallMediaType.video, info: called });
    await waitFor(() => log.some((l) => l.startsWith('onCallReceived')));
    assert.deepEqual(log.map((l) => l.slice(0, l.indexOf('('))), ['onCallReceived']);
  });

  test('kicked: onKickedOffline once, then the engine is uninitialised (-1201)', async () => {
    const { server, engine, log } = await setup();
    await engine.init('alice', 'sig');
    server.last.push({ name: 'onKickedOffline' });
    server.last.ws.close(4000, 'kicked');
    await waitFor(() => !engine.isInitialized);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(log, ['onConnectionStateChanged(connected)', 'onKickedOffline()', 'onConnectionStateChanged(disconnected)']);
    await assert.rejects(engine.calls(['bob'], CallMediaType.audio), code(-1201));
    assert.equal(server.conns.length, 1);
  });

  test('kicked by close 4000 alone still reports onKickedOffline', async () => {
    const { server, engine, log } = await setup();
    await engine.init('alice', 'sig');
    server.last.ws.close(4000, 'kicked');
    await waitFor(() => !engine.isInitialized);
    assert.deepEqual(log, ['onConnectionStateChanged(connected)', 'onKickedOffline()', 'onConnectionStateChanged(disconnected)']);
  });

  test('a reconnection refused by the server reports onError and uninitialises', async () => {
    const { server, engine, log } = await setup();
    await engine.init('alice', 'sig');
    server.refuseAuth = 70001;
    server.last.drop();
    await waitFor(() => !engine.isInitialized);
    assert.deepEqual(log.map((l) => l.replace(/^onError\(70001,.*/u, 'onError(70001)')), [
      'onConnectionStateChanged(connected)',
      'onConnectionStateChanged(reconnecting)',
      'onError(70001)',
      'onConnectionStateChanged(disconnected)',
    ]);
  });

  test('init again: same user re-authenticates in place; another user → -1203 in a call, else re-signs in', async () => {
    const { server, engine, log } = await setup();
    const device = engine.deviceId;
    await engine.init('bob', 'sig');
    await engine.init('bob', 'fresh');
    assert.equal(server.conns.length, 1);
    assert.equal(server.last.received.filter((m) => m.type === 'auth').at(-1)?.data.userSig, 'fresh');
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    await assert.rejects(engine.init('carol', 'sig'), code(-1203));
    server.last.push({ name: 'onCallNotConnected', callId: X, mediaType: 2, reason: CallEndReason.canceled, userId: 'alice', info: called });
    await waitFor(() => engine.currentCall === null);
    await engine.init('carol', 'sig');
    assert.equal(server.conns.length, 2);
    await waitFor(() => server.conns[0]?.closed === true);
    assert.equal(engine.userId, 'carol');
    assert.equal(server.last.received[0]?.data.deviceId, device);
    assert.equal(server.conns[0]?.received[0]?.data.deviceId, device);
    assert.ok(log.every((l) => !l.startsWith('onKicked')));
  });

  test('observers survive unInit → init; unInit in a call hangs up first', async () => {
    const { server, engine, log } = await setup();
    await engine.init('bob', 'sig');
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    await engine.unInit();
    // Hang up first (peers see an ordinary hangup), then sign the device out at once.
    assert.deepEqual(server.conns[0]?.received.slice(-2).map((m) => m.type), ['call.hangup', 'logout']);
    assert.equal(engine.isInitialized, false);
    await engine.init('bob', 'sig');
    ring(server.last);
    await waitFor(() => log.filter((l) => l.startsWith('onCallReceived')).length === 2);
  });

  test('a throwing observer does not break the engine or the other observers', async () => {
    const { server, engine, log } = await setup();
    engine.addObserver({ onCallReceived: () => { throw new Error('app bug'); } });
    const original = console.error;
    console.error = () => undefined;
    try {
      await engine.init('bob', 'sig');
      ring(server.last);
      await waitFor(() => log.length === 2);
      assert.equal(engine.currentCall?.callId, X);
      server.handle('call.accept', (conn, msg) => (conn.push(begin), conn.respond(msg.id)));
      await engine.accept();
    } finally {
      console.error = original;
    }
    assert.deepEqual(log.map((l) => l.slice(0, l.indexOf('('))), ['onConnectionStateChanged', 'onCallReceived', 'onCallBegin']);
  });

  test('requests map to their answers (invite, join, profiles, records, multi-device)', async () => {
    const { server, engine } = await setup();
    const record = {
      callId: X, inviter: 'alice', inviteList: ['bob'], chatGroupId: '', scene: 'single', mediaType: 1, role: 1,
      result: 'outgoing', beginTime: 1, totalTime: 0, endReason: 1,
      timings: { invitedAt: 1, ringingAt: {}, acceptedAt: null, mediaConnectedAt: null, endedAt: 2 },
    };
    server.handle('call.invite', (c, m) => c.respond(m.id, { userIds: ['carol'] }));
    server.handle('profile.get', (c, m) => c.respond(m.id, { profiles: [{ userId: 'bob', nickname: 'Bob', avatar: '' }] }));
    server.handle('records.query', (c, m) => c.respond(m.id, { records: [record] }));
    server.handle('records.delete', (c, m) => c.respond(m.id, { callIds: [X] }));
    await engine.init('bob', 'sig');
    await assert.rejects(engine.inviteUser(['carol']), code(-1203));
    await assert.rejects(engine.join('no!'), code(-1202));
    await engine.join(X);
    ring(server.last);
    await waitFor(() => engine.currentCall !== null);
    assert.deepEqual(await engine.inviteUser(['carol', 'carol'], { timeout: 5, roomId: { intRoomId: 1 } }), ['carol']);
    assert.deepEqual(server.last.received.find((m) => m.type === 'call.invite')?.data, { callId: X, userIds: ['carol'], params: { timeout: 5 } });
    assert.equal((await engine.getUserProfiles(['bob']))[0]?.nickname, 'Bob');
    assert.equal((await engine.queryRecentCalls({ limit: 5 }))[0]?.callId, X);
    await assert.rejects(engine.queryRecentCalls({ limit: 0 }), code(-1202));
    assert.deepEqual(await engine.deleteRecordCalls([X]), [X]);
    await engine.enableMultiDeviceAbility(true);
    assert.deepEqual(server.last.received.at(-1)?.data, { enable: true });
    await engine.setSelfInfo('Bob', 'https://a/b.png');
    assert.deepEqual(server.last.received.at(-1)?.data, { nickname: 'Bob', avatar: 'https://a/b.png' });
  });

  test('devices (SPEC §10): no adapter lists none and refuses a switch; a bad kind is -1202; both names of on() work', async () => {
    const { engine } = await setup();
    assert.deepEqual(await engine.getDeviceList('camera'), []);
    await assert.rejects(engine.getDeviceList('webcam' as never), code(-1202));
    await assert.rejects(engine.switchDevice('microphone', 'x'), code(-1202));
    await assert.rejects(engine.switchDevice('tv' as never, 'x'), code(-1202));
    const states: string[] = [];
    const off = engine.on('connectionStateChanged', ({ state }) => states.push(`short ${state}`));
    engine.on('onConnectionStateChanged', ({ state }) => states.push(`long ${state}`));
    await engine.init('bob', 'sig');
    off();
    await engine.unInit();
    assert.deepEqual(states, ['short connected', 'long connected', 'long disconnected']);
  });

  test('media methods resolve without effect when no media adapter is given, even before init', async () => {
    const { engine } = await setup();
    await engine.openCamera();
    await engine.openMicrophone();
    await Promise.all([engine.startRemoteView('bob', null), engine.startRemoteView('carol', null)]);
    await engine.closeCamera();
  });
});
