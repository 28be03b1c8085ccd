import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { CallMediaType, CallRole } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import { defaultLogger } from '../defaults.js';
import { backoffDelay } from '../util/backoff.js';
import { ScriptedServer, waitFor } from '../testing/scriptedServer.test.js';
import { KICKED_CLOSE_CODE, SignalingClient } from './SignalingClient.js';
import type { Credentials } from './SignalingClient.js';
import { toSignalingUrl } from './socket.js';

const info: CallObserverExtraInfo = { roomId: {}, role: CallRole.called, userData: '', chatGroupId: '', isEphemeralCall: false };
const CALL = 'c_abcdefghijklmnopqrstuv';
const creds: Credentials = { sdkAppId: 1400000000, userId: 'alice', userSig: 'sig', deviceId: 'dev-1', multiDevice: false };
const quiet = { ...defaultLogger, warn: () => undefined, error: () => undefined };

const servers: ScriptedServer[] = [];
const clients: SignalingClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function setup(opts: { heartbeatIntervalMs?: number; requestTimeoutMs?: number; reconnectWaitMs?: number; reconnectInitialDelayMs?: number } = {}) {
  const server = await ScriptedServer.start({ heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000 });
  servers.push(server);
  const client = new SignalingClient({
    urls: [toSignalingUrl(server.url)],
    WebSocket,
    requestTimeoutMs: opts.requestTimeoutMs ?? 2_000,
    reconnectWaitMs: opts.reconnectWaitMs ?? 2_000,
    reconnectInitialDelayMs: opts.reconnectInitialDelayMs ?? 10,
    reconnectMaxDelayMs: Math.max(40, opts.reconnectInitialDelayMs ?? 0),
    logger: quiet,
  });
  clients.push(client);
  const seen: { name: string; seq: number }[] = [];
  client.on('event', ({ event, seq }) => seen.push({ name: event.name, seq }));
  return { server, client, seen };
}

const begin: ServerEvent = { name: 'onCallBegin', callId: CALL, mediaType: CallMediaType.audio, info };
const join = (userId: string): ServerEvent => ({ name: 'onUserJoin', callId: CALL, userId });

describe('SignalingClient', () => {
  test('connect() sends auth first and resolves with the auth answer', async () => {
    const { server, client } = await setup();
    const auth = await client.connect(creds);
    assert.equal(auth.sessionId, 's1');
    assert.equal(auth.resumed, false);
    const first = server.last.received[0];
    assert.equal(first?.type, 'auth');
    assert.deepEqual(first?.data, { sdkAppId: 1400000000, userId: 'alice', userSig: 'sig', deviceId: 'dev-1', multiDevice: false });
    assert.equal(client.state, 'open');
  });

  test('connect() rejects with the server refusal code (70001) and closes', async () => {
    const { server, client } = await setup();
    server.refuseAuth = 70001;
    await assert.rejects(client.connect(creds), (e: CallEngineError) => e.code === 70001);
    assert.equal(client.state, 'closed');
  });

  test('connect() rejects with -1401 when nothing listens', async () => {
    const client = new SignalingClient({
      urls: ['ws://127.0.0.1:9/ws'], WebSocket, requestTimeoutMs: 1_000, reconnectWaitMs: 100,
      reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 10, logger: quiet,
    });
    await assert.rejects(client.connect(creds), (e: CallEngineError) => e.code === -1401);
  });

  test('events a request causes are emitted before its promise resolves', async () => {
    const { server, client, seen } = await setup();
    server.handle('call.accept', (conn, msg) => {
      conn.push(begin);
      conn.push(join('bob'));
      conn.respond(msg.id);
      conn.push(join('carol')); // after the response, in the same tick
    });
    await client.connect(creds);
    const order: string[] = [];
    client.on('event', ({ event }) => order.push(event.name));
    await client.request('call.accept', { callId: CALL }, { onResult: () => order.push('onResult') });
    order.push('resolved');
    assert.deepEqual(order.slice(0, 3), ['onCallBegin', 'onUserJoin', 'onResult']);
    assert.ok(order.indexOf('resolved') > order.indexOf('onResult'));
    await waitFor(() => seen.length === 3);
    assert.deepEqual(seen.map((e) => e.seq), [1, 2, 3]);
  });

  test('an error answer rejects with its code and message', async () => {
    const { server, client } = await setup();
    server.handle('call.accept', (conn, msg) => conn.fail(msg.id, -1203, 'nothing is ringing'));
    await client.connect(creds);
    await assert.rejects(client.request('call.accept', { callId: CALL }), (e: CallEngineError) => {
      return e instanceof CallEngineError && e.code === -1203 && e.message === 'nothing is ringing';
    });
  });

  test('a request without an answer rejects with -1401 after requestTimeoutMs', async () => {
    const { server, client } = await setup({ requestTimeoutMs: 150 });
    server.handle('profile.get', () => undefined);
    await client.connect(creds);
    const t0 = Date.now();
    await assert.rejects(client.request('profile.get', { userIds: ['bob'] }), (e: CallEngineError) => e.code === -1401);
    assert.ok(Date.now() - t0 >= 140);
  });

  test('reconnects, resumes with lastSeq, and drops replayed duplicates', async () => {
    const { server, client, seen } = await setup();
    await client.connect(creds);
    server.last.push(begin);
    server.last.push(join('bob'));
    await waitFor(() => seen.length === 2);
    const resumed = new Promise((r) => client.once('resumed', r));
    const first = server.last;
    first.drop();
    await waitFor(() => first.closed);
    // Happens while the device is away: buffered by the session, replayed on resume.
    const session = server.sessions.get('s1');
    assert.ok(session);
    first.push(join('carol'));
    server.replayOverlap = 2; // the server also re-sends seq 1 and 2, which must be dropped
    const second = await server.nextConnection();
    const auth = await second.nextMessage('auth');
    assert.deepEqual(auth.data.resume, { sessionId: 's1', lastSeq: 2 });
    await resumed;
    await waitFor(() => seen.length === 3);
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(seen.map((e) => `${e.seq}:${e.name}`), ['1:onCallBegin', '2:onUserJoin', '3:onUserJoin']);
    assert.equal(client.lastSeq, 3);
  });

  test('an in-flight request is re-sent with the same id after a resumed reconnect', async () => {
    const { server, client } = await setup();
    let attempts = 0;
    const ids: number[] = [];
    server.handle('profile.get', (conn, msg) => {
      ids.push(msg.id);
      if (++attempts === 1) return conn.drop(); // lost before the answer
      conn.respond(msg.id, { profiles: [{ userId: 'bob', nickname: 'Bob', avatar: '' }] });
    });
    await client.connect(creds);
    const data = (await client.request('profile.get', { userIds: ['bob'] })) as { profiles: unknown[] };
    assert.equal(data.profiles.length, 1);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
    assert.equal(server.conns.length, 2);
  });

  test('a request made while reconnecting waits and is sent once reconnected', async () => {
    const { server, client } = await setup();
    await client.connect(creds);
    server.resumable = true;
    const disconnected = new Promise((r) => client.once('disconnected', r));
    server.last.drop();
    await disconnected;
    assert.equal(client.state, 'reconnecting');
    const p = client.request('records.query', {});
    const conn = await server.nextConnection();
    const msg = await conn.nextMessage('records.query');
    conn.respond(msg.id, { records: [] });
    assert.deepEqual(await p, { records: [] });
  });

  test('a request made while the server stays unreachable rejects with -1401 after reconnectWaitMs', async () => {
    const { server, client } = await setup({ reconnectWaitMs: 150 });
    await client.connect(creds);
    await server.close();
    await waitFor(() => client.state === 'reconnecting');
    const t0 = Date.now();
    await assert.rejects(client.request('records.query', {}), (e: CallEngineError) => e.code === -1401 && /reconnection/.test(e.message));
    assert.ok(Date.now() - t0 >= 140);
    assert.equal(client.state, 'reconnecting');
    client.close();
    assert.equal(client.state, 'closed');
  });

  test('resumed:false emits sessionLost, fails in-flight requests with -1401 and restarts seq', async () => {
    const { server, client, seen } = await setup();
    server.handle('profile.get', (conn) => conn.drop());
    await client.connect(creds);
    server.last.push(begin);
    await waitFor(() => seen.length === 1);
    server.resumable = false;
    const lost = new Promise<{ sessionId: string }>((r) => client.once('sessionLost', r));
    await assert.rejects(client.request('profile.get', { userIds: ['bob'] }), (e: CallEngineError) => e.code === -1401);
    assert.equal((await lost).sessionId, 's2');
    assert.equal(client.lastSeq, 0);
    server.last.push(join('bob')); // seq 1 of the new session is not a duplicate
    await waitFor(() => seen.length === 2);
    assert.equal(seen[1]?.seq, 1);
  });

  test('close code 1001 (server going away) reconnects at once and resumes; other closes wait for the backoff', async () => {
    // A backoff of at least 30 s: only an immediate attempt can arrive within this test.
    const { server, client } = await setup({ reconnectInitialDelayMs: 60_000 });
    await client.connect(creds);
    server.handle('records.query', () => undefined);
    const pending = client.request('records.query', {});
    await waitFor(() => server.last.received.some((m) => m.type === 'records.query'));
    const resumed = new Promise((r) => client.once('resumed', r));
    server.last.ws.close(1001, 'server shutting down');
    const second = await server.nextConnection();
    const auth = await second.nextMessage('auth');
    assert.deepEqual(auth.data.resume, { sessionId: 's1', lastSeq: 0 });
    await resumed;
    // The request the server never answered goes out again on the new socket.
    await waitFor(() => second.received.some((m) => m.type === 'records.query'));
    void pending.catch(() => undefined);

    const disconnected = new Promise((r) => client.once('disconnected', r));
    second.drop();
    await disconnected;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(server.conns.length, 2, 'an abnormal close waits for the backoff');
    client.close();
  });

  test('close code 4000 (kicked) emits kicked, closes for good, and does not reconnect', async () => {
    const { server, client, seen } = await setup();
    await client.connect(creds);
    const kicked = new Promise((r) => client.once('kicked', r));
    server.handle('records.query', () => undefined);
    const pending = client.request('records.query', {});
    await waitFor(() => server.last.received.some((m) => m.type === 'records.query'));
    server.last.push({ name: 'onKickedOffline' });
    server.last.ws.close(KICKED_CLOSE_CODE, 'kicked');
    await kicked;
    assert.equal(seen.at(-1)?.name, 'onKickedOffline');
    assert.equal(client.state, 'closed');
    await assert.rejects(pending, (e: CallEngineError) => e.code === -1201);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(server.conns.length, 1);
    await assert.rejects(client.request('records.query', {}), (e: CallEngineError) => e.code === -1401);
  });

  test('a reconnection refused by the server (expired sig) emits failed and closes', async () => {
    const { server, client } = await setup();
    await client.connect(creds);
    const failed = new Promise<{ error: CallEngineError }>((r) => client.once('failed', r));
    server.refuseAuth = 70001;
    server.last.drop();
    assert.equal((await failed).error.code, 70001);
    assert.equal(client.state, 'closed');
  });

  test('pings every heartbeatIntervalMs and reconnects when the server goes silent', async () => {
    const { server, client } = await setup({ heartbeatIntervalMs: 40 });
    await client.connect(creds);
    await waitFor(() => server.last.received.filter((m) => m.type === 'ping').length >= 2, 1_000, 'pings');
    // A half-open link: the server stops answering anything on this socket.
    const first = server.last;
    first.ws.removeAllListeners('message');
    const resumed = new Promise((r) => client.once('resumed', r));
    await resumed;
    assert.ok(server.conns.length >= 2);
  });

  test('reauth() re-authenticates in place on the live socket', async () => {
    const { server, client } = await setup();
    await client.connect(creds);
    const auth = await client.reauth('fresh-sig');
    assert.equal(auth.sessionId, 's2'); // the scripted server makes a new session; the client follows it
    const frames = server.last.received.filter((m) => m.type === 'auth');
    assert.equal(frames.length, 2);
    assert.equal(frames[1]?.data.userSig, 'fresh-sig');
    assert.equal(frames[1]?.data.resume, undefined);
    assert.equal(server.conns.length, 1);
  });
});

describe('signaling helpers', () => {
  test('toSignalingUrl maps http→ws, https→wss and appends /ws', () => {
    assert.equal(toSignalingUrl('http://localhost:3000'), 'ws://localhost:3000/ws');
    assert.equal(toSignalingUrl('https://calls.example.com/'), 'wss://calls.example.com/ws');
    assert.equal(toSignalingUrl('https://example.com/base/'), 'wss://example.com/base/ws');
    assert.equal(toSignalingUrl('ws://h:1/ws'), 'ws://h:1/ws');
    assert.throws(() => toSignalingUrl('ftp://h'), (e: CallEngineError) => e.code === -1202);
  });

  test('backoffDelay doubles from the initial delay up to the cap, with jitter in [ceiling/2, ceiling]', () => {
    assert.equal(backoffDelay(0, 100, 5000, () => 1), 100);
    assert.equal(backoffDelay(0, 100, 5000, () => 0), 50);
    assert.equal(backoffDelay(3, 100, 5000, () => 1), 800);
    assert.equal(backoffDelay(20, 100, 5000, () => 1), 5000);
    assert.equal(backoffDelay(99, 100, 5000, () => 0), 2500);
  });
});
