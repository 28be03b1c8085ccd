/**
 * The signaling client with a list of URLs (SPEC §8) against real scripted servers: which node it
 * picks, failover when a node cannot be reached or is lost, and what a resume on another node
 * looks like to the session (resumed with replay when the node knows the session, a new session
 * otherwise).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { CallMediaType, CallRole } from '@opencall/protocol/wire';
import type { ServerEvent } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import { defaultLogger } from '../defaults.js';
import { ScriptedServer, waitFor } from '../testing/scriptedServer.test.js';
import { SignalingClient } from './SignalingClient.js';
import type { Credentials } from './SignalingClient.js';
import { toSignalingUrl } from './socket.js';

const creds: Credentials = { sdkAppId: 1400000000, userId: 'alice', userSig: 'sig', deviceId: 'dev-1', multiDevice: false };
const quiet = { ...defaultLogger, warn: () => undefined, error: () => undefined };
const CALL = 'c_abcdefghijklmnopqrstuv';
const begin: ServerEvent = {
  name: 'onCallBegin', callId: CALL, mediaType: CallMediaType.audio,
  info: { roomId: {}, role: CallRole.called, userData: '', chatGroupId: '', isEphemeralCall: false },
};
const join = (userId: string): ServerEvent => ({ name: 'onUserJoin', callId: CALL, userId });

const servers: ScriptedServer[] = [];
const clients: SignalingClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
});

async function scripted(): Promise<ScriptedServer> {
  const s = await ScriptedServer.start();
  servers.push(s);
  return s;
}

/** A loopback URL where nothing listens (a port just freed). */
async function deadUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return `ws://127.0.0.1:${port}/ws`;
}

function client(urls: string[], random = () => 0): SignalingClient {
  const c = new SignalingClient({
    urls, random, WebSocket, requestTimeoutMs: 1_000, reconnectWaitMs: 3_000,
    reconnectInitialDelayMs: 10, reconnectMaxDelayMs: 40, logger: quiet,
  });
  clients.push(c);
  return c;
}

describe('SignalingClient with a list of server URLs', () => {
  test('connect() skips a node that cannot be reached and signs in on the next', async () => {
    const b = await scripted();
    const down = await deadUrl();
    const c = client([down, toSignalingUrl(b.url)]);
    const auth = await c.connect(creds);
    assert.equal(auth.resumed, false);
    assert.equal(c.url, toSignalingUrl(b.url));
    assert.equal(b.conns.length, 1);
  });

  test('connect() starts at the randomly picked node', async () => {
    const a = await scripted();
    const b = await scripted();
    const c = client([toSignalingUrl(a.url), toSignalingUrl(b.url)], () => 0.75);
    await c.connect(creds);
    assert.equal(a.conns.length, 0);
    assert.equal(b.conns.length, 1);
  });

  test('connect() rejects with -1401 naming the last node when none can be reached', async () => {
    const urls = [await deadUrl(), await deadUrl()];
    const c = client(urls);
    await assert.rejects(c.connect(creds), (e: CallEngineError) => e.code === -1401 && e.message.includes(urls[1] as string));
    assert.equal(c.state, 'closed');
  });

  test('a sign-in refused by a node (70001) is not tried on the others', async () => {
    const a = await scripted();
    const b = await scripted();
    a.refuseAuth = 70001;
    const c = client([toSignalingUrl(a.url), toSignalingUrl(b.url)]);
    await assert.rejects(c.connect(creds), (e: CallEngineError) => e.code === 70001);
    assert.equal(b.conns.length, 0);
  });

  test('a lost connection resumes on the next node, which replays what the device missed', async () => {
    const a = await scripted();
    const b = await scripted();
    const c = client([toSignalingUrl(a.url), toSignalingUrl(b.url)]);
    const seen: string[] = [];
    c.on('event', ({ event, seq }) => seen.push(`${seq}:${event.name}`));
    await c.connect(creds);
    a.last.push(begin);
    await waitFor(() => seen.length === 1);
    // A cluster shares sessions: node b can resume what node a started.
    const session = a.sessions.get('s1');
    assert.ok(session);
    b.sessions.set('s1', session);
    const resumed = new Promise((r) => c.once('resumed', r));
    const lost = a.last;
    lost.drop();
    await waitFor(() => lost.closed);
    lost.push(join('bob')); // happens while the device is away
    const auth = await (await b.nextConnection()).nextMessage('auth');
    assert.deepEqual(auth.data.resume, { sessionId: 's1', lastSeq: 1 });
    await resumed;
    await waitFor(() => seen.length === 2);
    assert.deepEqual(seen, ['1:onCallBegin', '2:onUserJoin']);
    assert.equal(c.url, toSignalingUrl(b.url));
    assert.equal(a.conns.length, 1, 'the lost node was not retried first');
  });

  test('a node that cannot resume the session gives a new one (sessionLost), as on one server', async () => {
    const a = await scripted();
    const b = await scripted();
    b.resumable = false;
    const c = client([toSignalingUrl(a.url), toSignalingUrl(b.url)]);
    await c.connect(creds);
    const lost = new Promise<{ sessionId: string }>((r) => c.once('sessionLost', r));
    await a.close();
    assert.equal((await lost).sessionId, 's1');
    assert.equal(c.state, 'open');
    assert.equal(c.lastSeq, 0);
  });

  test('while every node is down it keeps cycling through the list until one comes back', async () => {
    const a = await scripted();
    const down = await deadUrl();
    const c = client([toSignalingUrl(a.url), down]);
    await c.connect(creds);
    const port = Number(new URL(a.url).port);
    const session = a.sessions.get('s1');
    assert.ok(session);
    await a.close();
    await waitFor(() => c.state === 'reconnecting');
    await new Promise((r) => setTimeout(r, 200)); // several rounds over both dead URLs
    assert.equal(c.state, 'reconnecting');
    const back = await ScriptedServer.start({}, port);
    servers.push(back);
    back.sessions.set('s1', session);
    const resumed = new Promise((r) => c.once('resumed', r));
    await resumed;
    assert.equal(c.url, toSignalingUrl(a.url));
  });
});
