/**
 * SPEC §4/§5.4 sessions: UserSig expiry while online, re-authentication in place with `init`,
 * switching users, and `init` racing itself. Real server, real CallEngine clients; a TCP proxy
 * cuts connections to show which sig a reconnection presents.
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

let server: RunningServer;
const everyone: TestUser[] = [];
const proxies: TcpProxy[] = [];
before(async () => {
  server = await startTestServer({ heartbeatTimeoutMs: 1500, defaultRingTimeoutSeconds: 1 });
});
after(async () => {
  await cleanup(...everyone);
  for (const p of proxies) await p.close();
  await server.close();
});

let n = 0;
const fresh = (prefix: string): string => `${prefix}${++n}`;

/** Signs a user in with `userSig` (default: valid for an hour), through `proxy` when given. */
async function device(userId: string, opts: { userSig?: string; proxy?: TcpProxy } = {}): Promise<TestUser> {
  const engine = new CallEngine({
    serverUrl: opts.proxy ? opts.proxy.url : server.url,
    sdkAppId: TEST_APP_ID,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 150,
    logger: { warn: () => undefined, error: () => undefined },
  });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u = { id: userId, engine, rec };
  everyone.push(u);
  await engine.init(userId, opts.userSig ?? sig(userId));
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

/** A calls B and B accepts; recorders cleared. */
async function connect(a: TestUser, b: TestUser): Promise<string> {
  const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
  await b.rec.waitFor('onCallReceived');
  await b.engine.accept();
  await a.rec.waitFor('onUserJoin');
  a.rec.clear();
  b.rec.clear();
  return callId;
}

/** Cuts `proxy`, restores it after `ms`, and waits until it accepted a new connection. */
async function blip(proxy: TcpProxy, ms = 300): Promise<void> {
  const before = proxy.accepted;
  proxy.sever();
  await sleep(ms);
  proxy.restore();
  for (let i = 0; i < 100 && proxy.accepted <= before; i++) await sleep(20);
  await sleep(200);
}

/** A sig that expires `seconds` after its issue second; returns it with its expiry (ms epoch). */
function shortSig(userId: string, seconds: number): { userSig: string; expireAt: number } {
  const now = Date.now();
  return { userSig: sig(userId, seconds, now), expireAt: (Math.floor(now / 1000) + seconds) * 1000 };
}

describe('UserSig expiry and init (SPEC §4, §5.4)', () => {
  it('onUserSigExpired fires when the sig expires while online, and the current call continues', async (t) => {
    const aId = fresh('sa');
    const { userSig, expireAt } = shortSig(aId, 2);
    const a = await device(aId, { userSig });
    const b = await device(fresh('sb'));
    await connect(a, b);
    await a.rec.waitFor('onUserSigExpired', () => true, 4000);
    const firedAt = Date.now();
    t.diagnostic(`onUserSigExpired ${firedAt - expireAt} ms after the sig's expiry`);
    assert.ok(firedAt >= expireAt - 20 && firedAt <= expireAt + 500, `fired ${firedAt - expireAt} ms after the expiry`);
    assert.deepEqual(a.rec.lines(), ['onUserSigExpired()']);
    assert.deepEqual(b.rec.lines(), [], 'the peer sees nothing');
    assert.equal(a.engine.currentCall?.status, 2, 'still connected');
    await b.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), ['onUserSigExpired()', `onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(1))`]);
  });

  it('onUserSigExpired fires once, even when the device reconnects right after the expiry', async () => {
    const proxy = await newProxy();
    const aId = fresh('sa');
    const a = await device(aId, { userSig: shortSig(aId, 1).userSig, proxy });
    const b = await device(fresh('sb'));
    await connect(a, b);
    await a.rec.waitFor('onUserSigExpired', () => true, 4000);
    // Within the expiry second the old sig still resumes the session.
    await blip(proxy, 100);
    await sleep(300);
    assert.deepEqual(a.rec.lines(), ['onUserSigExpired()']);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
  });

  it('init(sameUser, newSig) re-authenticates in place: no events, the call continues, and later reconnections use the new sig', async () => {
    const proxy = await newProxy();
    const aId = fresh('sa');
    const a = await device(aId, { userSig: shortSig(aId, 1).userSig, proxy });
    const b = await device(fresh('sb'));
    const callId = await connect(a, b);
    await a.rec.waitFor('onUserSigExpired', () => true, 4000);
    a.rec.clear();
    await a.engine.init(aId, sig(aId));
    assert.deepEqual(a.rec.lines(), []);
    assert.equal(a.engine.currentCall?.callId, callId);
    // The expired sig would be refused (70001) on reconnection; the new one resumes the session.
    await blip(proxy);
    await sleep(1500);
    assert.deepEqual(a.rec.lines(), []);
    assert.deepEqual(b.rec.lines(), []);
    await b.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(1))`]);
  });

  it('init(sameUser, badSig) on a live engine rejects with the sig\'s code and keeps the working sig for reconnections', async () => {
    const proxy = await newProxy();
    const a = await device(fresh('sa'), { proxy });
    const b = await device(fresh('sb'));
    await connect(a, b);
    await assert.rejects(a.engine.init(a.id, 'forged'), { code: 70003 });
    await assert.rejects(a.engine.init(a.id, sig('someone-else')), { code: 70013 });
    assert.equal(a.engine.isInitialized, true);
    await blip(proxy);
    assert.deepEqual(a.rec.lines(), [], 'the reconnection resumed with the working sig');
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(2))`]);
  });

  it('after the sig expired, a reconnection is refused: the device emits its own final event and onError(70001), and is signed out', async () => {
    const proxy = await newProxy();
    const aId = fresh('sa');
    const { userSig, expireAt } = shortSig(aId, 1);
    const a = await device(aId, { userSig, proxy });
    const b = await device(fresh('sb'));
    await connect(a, b);
    await a.rec.waitFor('onUserSigExpired', () => true, 4000);
    a.rec.clear();
    // verifyUserSig (like Tencent's) accepts a sig until the end of its expiry second.
    await sleep(Math.max(0, expireAt + 1100 - Date.now()));
    await blip(proxy);
    await a.rec.waitFor('onError');
    assert.deepEqual(a.rec.names(), ['onCallEnd', 'onError']);
    assert.deepEqual(a.rec.events[0]!.args.slice(2, 4), [R.offline, aId]);
    assert.equal(a.rec.events[1]!.args[0], 70001);
    assert.equal(a.engine.isInitialized, false);
    await assert.rejects(a.engine.hangup(), { code: -1201 });
    // The server ends the call for the peer once the device's heartbeat window has passed.
    await b.rec.waitFor('onCallEnd', () => true, 4000);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${aId})`, `onCallEnd(callId,1,${R.offline},${aId},ms,info(2))`]);
  });

  it('init with another user while in a call rejects with -1203 and the call is untouched', async () => {
    const a = await device(fresh('sa'));
    const b = await device(fresh('sb'));
    const callId = await connect(a, b);
    await assert.rejects(a.engine.init('someone-new', sig('someone-new')), { code: -1203 });
    assert.equal(a.engine.userId, a.id);
    assert.equal(a.engine.currentCall?.callId, callId);
    await sleep(100);
    assert.deepEqual(a.rec.lines(), []);
    assert.deepEqual(b.rec.lines(), []);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
  });

  it('init with another user while idle signs the first one out (implicit unInit); observers stay', async () => {
    const first = await device(fresh('sa'));
    const second = fresh('sn');
    const c = await device(fresh('sc'));
    await first.engine.init(second, sig(second));
    assert.equal(first.engine.userId, second);
    // The first user is signed out: a call to them is not rung on this engine and times out.
    await c.engine.calls([first.id], CallMediaType.audio);
    await c.rec.waitFor('onCallCancelled', () => true, 3000);
    assert.deepEqual(c.rec.names(), ['onUserNoResponse', 'onCallNotConnected', 'onCallCancelled']);
    assert.deepEqual(first.rec.lines(), []);
    // The second user is signed in on the same engine, and the same observer hears the call.
    await c.engine.calls([second], CallMediaType.audio);
    const r = await first.rec.waitFor('onCallReceived');
    assert.equal(r.args[1], c.id);
    await c.engine.hangup();
  });

  it('init while init is running rejects with -1204; the first one completes', async () => {
    const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID });
    const id = fresh('si');
    const first = engine.init(id, sig(id));
    await assert.rejects(engine.init(id, sig(id)), { code: -1204 });
    await first;
    assert.equal(engine.userId, id);
    await engine.unInit();
  });
});
