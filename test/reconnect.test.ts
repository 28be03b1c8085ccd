/**
 * SPEC §5.4 reconnection: a device whose connection is cut and restored within the heartbeat
 * window resumes its session and call with nothing visible to peers, and gets the events of the
 * gap replayed in order, once. Past the window it emits its own final event (offline, self).
 * Connections are cut for real by a TCP proxy between the engine and the server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import type { TcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const R = CallEndReason;
const HEARTBEAT_TIMEOUT_MS = 1200;

let server: RunningServer;
const everyone: TestUser[] = [];
const proxies: TcpProxy[] = [];
before(async () => {
  server = await startTestServer({ heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, defaultRingTimeoutSeconds: 6 });
});
after(async () => {
  await cleanup(...everyone);
  for (const p of proxies) await p.close();
  await server.close();
});

let n = 0;
const fresh = (prefix: string): string => `${prefix}${++n}`;

/** Signs a user in, through `proxy` when given (quick reconnection attempts, warnings muted). */
async function device(userId: string, proxy?: TcpProxy): Promise<TestUser> {
  const engine = new CallEngine({
    serverUrl: proxy ? proxy.url : server.url,
    sdkAppId: TEST_APP_ID,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 150,
    logger: { warn: () => undefined },
  });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u = { id: userId, engine, rec };
  everyone.push(u);
  await engine.init(userId, sig(userId));
  return u;
}

async function newProxy(): Promise<TcpProxy> {
  const p = await startTcpProxy(server.port);
  proxies.push(p);
  return p;
}

/** Recorded events with the varying totalTime of onCallEnd replaced by `ms`. */
function seen(rec: Recorder): string[] {
  return rec.lines().map((l) => l.replace(/^(onCallEnd\(callId,\d+,\d+,[^,]+,)\d+,/, '$1ms,'));
}

/** `caller` calls `callees`, each accepts; resolves connected with every recorder cleared. */
async function connectAll(caller: TestUser, ...callees: TestUser[]): Promise<string> {
  const { callId } = await caller.engine.calls(callees.map((c) => c.id), CallMediaType.audio);
  for (const c of callees) {
    await c.rec.waitFor('onCallReceived');
    await c.engine.accept();
  }
  for (const c of callees) await caller.rec.waitFor('onUserJoin', (args) => args[0] === c.id);
  await sleep(100);
  for (const u of [caller, ...callees]) u.rec.clear();
  return callId;
}

/** Resolves once `proxy` has accepted a connection beyond `count` and it had time to authenticate. */
async function reconnected(proxy: TcpProxy, count: number): Promise<void> {
  for (let i = 0; i < 100 && proxy.accepted <= count; i++) await sleep(20);
  assert.ok(proxy.accepted > count, 'the engine reconnected');
  await sleep(150);
}

describe('reconnection (SPEC §5.4)', () => {
  it('a connection cut and restored within the window: nobody sees anything and the call goes on', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    const callId = await connectAll(a, b);
    const before = proxy.accepted;
    proxy.sever();
    await sleep(500);
    proxy.restore();
    await reconnected(proxy, before);
    // Well past the moment the server would have declared the device gone had it not resumed.
    await sleep(HEARTBEAT_TIMEOUT_MS);
    assert.deepEqual(a.rec.lines(), []);
    assert.deepEqual(b.rec.lines(), []);
    assert.equal(a.engine.currentCall?.callId, callId);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(2))`]);
  });

  it('the peer hangs up during the gap: on reconnection onUserLeave then onCallEnd(hangup) arrive, once', async (t) => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    await connectAll(a, b);
    const before = proxy.accepted;
    proxy.sever();
    await sleep(100);
    await b.engine.hangup();
    await sleep(200);
    assert.deepEqual(a.rec.lines(), [], 'nothing reaches a cut device');
    proxy.restore();
    const restoredAt = Date.now();
    await a.rec.waitFor('onCallEnd');
    t.diagnostic(`missed events replayed ${Date.now() - restoredAt} ms after the network came back`);
    await reconnected(proxy, before);
    assert.deepEqual(seen(a.rec), [`onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(1))`]);
    const aTotal = a.rec.events.at(-1)!.args[4];
    const bTotal = b.rec.events.find((e) => e.name === 'onCallEnd')!.args[4];
    assert.equal(aTotal, bTotal, 'the replayed onCallEnd carries the server totalTime');
    assert.equal(a.engine.currentCall, null);
  });

  it('several events during the gap are replayed in the order they happened', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    const c = await device(fresh('rc'));
    await connectAll(b, a, c);
    proxy.sever();
    await sleep(100);
    await c.engine.hangup();
    await sleep(50);
    await b.engine.hangup();
    proxy.restore();
    await a.rec.waitFor('onCallEnd');
    await sleep(200);
    assert.deepEqual(seen(a.rec), [`onUserLeave(${c.id})`, `onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(2))`]);
  });

  it('a hangup made while the connection is cut waits for the reconnection and runs once', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    await connectAll(a, b);
    proxy.sever();
    const hangup = a.engine.hangup();
    await sleep(300);
    assert.deepEqual(b.rec.lines(), []);
    proxy.restore();
    await hangup;
    assert.deepEqual(seen(a.rec), [`onCallEnd(callId,1,${R.hangup},${a.id},ms,info(1))`], 'the event arrives before the promise resolves');
    await b.rec.waitFor('onCallEnd');
    await sleep(200);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(2))`]);
  });

  it('a request in flight when the connection drops is answered once after the reconnection', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    const callId = await connectAll(a, b);
    // The frame may or may not have passed the proxy when it is cut: either way it runs once.
    const hangup = a.engine.hangup();
    await Promise.resolve();
    proxy.sever();
    await sleep(200);
    proxy.restore();
    await hangup;
    await b.rec.waitFor('onCallEnd');
    await sleep(200);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(2))`]);
    assert.equal(a.rec.names().filter((x) => x === 'onCallEnd').length, 1);
    assert.equal((await b.engine.queryRecentCalls())[0]?.callId, callId);
  });

  it('cut past the window while connected: the peer sees an offline leave; on reconnection the device emits onCallEnd(offline, self)', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    await connectAll(a, b);
    proxy.sever();
    await b.rec.waitFor('onCallEnd', () => true, 5000);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.offline},${a.id},ms,info(2))`]);
    assert.deepEqual(a.rec.lines(), [], 'a cut device cannot know yet');
    proxy.restore();
    await a.rec.waitFor('onCallEnd');
    await sleep(100);
    assert.deepEqual(seen(a.rec), [`onCallEnd(callId,1,${R.offline},${a.id},ms,info(1))`]);
    assert.equal(a.engine.currentCall, null);
    // Signed in again on a new session: calls reach the device.
    assert.equal(a.engine.isInitialized, true);
    await b.engine.calls([a.id], CallMediaType.audio);
    await a.rec.waitFor('onCallReceived');
    await b.engine.hangup();
  });

  it('a caller cut past the window while ringing: invitees get onCallNotConnected(offline, caller); the caller emits the same for itself on reconnection', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'), proxy);
    const b = await device(fresh('rb'));
    await a.engine.calls([b.id], CallMediaType.video);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    proxy.sever();
    await b.rec.waitFor('onCallCancelled', () => true, 5000);
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,2,${R.offline},${a.id},info(2))`, `onCallCancelled(${a.id})`]);
    proxy.restore();
    await a.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.lines(), [`onCallNotConnected(callId,2,${R.offline},${a.id},info(1))`, `onCallCancelled(${a.id})`]);
    assert.equal(a.engine.currentCall, null, 'nothing stays ringing');
  });

  it('a callee cut past the window while ringing: it emits onCallNotConnected(offline, self) on reconnection, then the still-pending invitation rings again', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('ra'));
    const b = await device(fresh('rb'), proxy);
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    b.rec.clear();
    proxy.sever();
    await sleep(HEARTBEAT_TIMEOUT_MS + 600);
    proxy.restore();
    await b.rec.waitFor('onCallReceived');
    assert.deepEqual(b.rec.lines(), [
      `onCallNotConnected(callId,1,${R.offline},${b.id},info(2))`,
      `onCallCancelled(${b.id})`,
      `onCallReceived(callId,${a.id},[${b.id}],1,info(2))`,
    ]);
    assert.equal(b.rec.events[2]!.args[0], callId);
    assert.deepEqual(a.rec.lines(), [], 'the caller sees nothing: the invitation was pending all along');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    await a.engine.hangup();
  });
});
