/**
 * SPEC §5.4, device policy `kick` (the default): one device per user; a new sign-in signs the old
 * one out. Real server, real CallEngine clients; one engine per device, each with its own deviceId.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { CallEngineOptions } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const { offline } = CallEndReason;

let server: RunningServer;
/** Every engine made here, signed out at the end even when a test failed half-way. */
const everyone: TestUser[] = [];
before(async () => {
  server = await startTestServer({ defaultRingTimeoutSeconds: 3 });
});
after(async () => {
  await cleanup(...everyone);
  await server.close();
});

let n = 0;
/** A fresh user id per test so tests never see each other's calls. */
const fresh = (prefix: string): string => `${prefix}${++n}`;

/** Signs `userId` in on its own device (engine) `deviceId`. */
async function device(userId: string, deviceId?: string, options: Partial<CallEngineOptions> = {}): Promise<TestUser> {
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, deviceId, ...options });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u = { id: userId, engine, rec };
  everyone.push(u);
  await engine.init(userId, sig(userId));
  return u;
}

/** Recorded events with the varying totalTime of onCallEnd replaced by `ms`. */
function seen(rec: Recorder): string[] {
  return rec.lines().map((l) => l.replace(/^(onCallEnd\(callId,\d+,\d+,[^,]+,)\d+,/, '$1ms,'));
}

/** A calls B's signed-in device(s) and `answer` accepts; resolves once both are connected. */
async function connected(a: TestUser, answer: TestUser): Promise<string> {
  const { callId } = await a.engine.calls([answer.id], CallMediaType.audio);
  await answer.rec.waitFor('onCallReceived');
  await answer.engine.accept();
  await a.rec.waitFor('onUserJoin');
  a.rec.clear();
  answer.rec.clear();
  return callId;
}

describe("device policy 'kick' (SPEC §5.4)", () => {
  it('a new sign-in during a call: the old device gets onCallEnd(offline, self) then onKickedOffline, and its methods reject with -1201', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-1');
    await connected(a, phone);
    const laptop = await device(bId, 'laptop-kick-1');
    await phone.rec.waitFor('onKickedOffline');
    assert.deepEqual(seen(phone.rec), [`onCallEnd(callId,1,${offline},${bId},ms,info(2))`, 'onKickedOffline()']);
    assert.equal(phone.engine.isInitialized, false);
    assert.equal(phone.engine.currentCall, null);
    await assert.rejects(phone.engine.calls([a.id], CallMediaType.audio), { code: -1201 });
    await assert.rejects(phone.engine.hangup(), { code: -1201 });
    await assert.rejects(phone.engine.enableMultiDeviceAbility(true), { code: -1201 });
    // The new device inherits nothing of the ended call and is fully usable.
    assert.deepEqual(laptop.rec.lines(), []);
    assert.equal(laptop.engine.currentCall, null);
    await cleanup(a, phone, laptop);
  });

  it('the peer of a kicked device sees an ordinary offline leave: onUserLeave then onCallEnd(offline, that user)', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-2');
    await connected(a, phone);
    const laptop = await device(bId, 'laptop-kick-2');
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${offline},${bId},ms,info(1))`]);
    const [, , , , total] = a.rec.events.find((e) => e.name === 'onCallEnd')!.args as number[];
    const [, , , , phoneTotal] = phone.rec.events.find((e) => e.name === 'onCallEnd')!.args as number[];
    assert.equal(total, phoneTotal, 'both sides get the same totalTime');
    // The user is free again on the new device: a second call rings the laptop.
    await a.engine.calls([bId], CallMediaType.video);
    await laptop.rec.waitFor('onCallReceived');
    await a.engine.hangup();
    await cleanup(a, phone, laptop);
  });

  it('a sign-in while a call rings: the old device gets onCallNotConnected(offline, self) and onKickedOffline; the new device rings; the caller sees nothing', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-3');
    const { callId } = await a.engine.calls([bId], CallMediaType.video, { userData: 'moved' });
    await phone.rec.waitFor('onCallReceived');
    phone.rec.clear();
    const laptop = await device(bId, 'laptop-kick-3');
    const received = await laptop.rec.waitFor('onCallReceived');
    assert.deepEqual(received.args.slice(0, 4), [callId, a.id, [bId], CallMediaType.video]);
    assert.equal((received.args[4] as { userData: string }).userData, 'moved');
    await phone.rec.waitFor('onKickedOffline');
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,2,${offline},${bId},info(2))`, `onCallCancelled(${bId})`, 'onKickedOffline()']);
    assert.deepEqual(a.rec.lines(), [], 'the caller sees nothing of the move');
    await laptop.engine.accept();
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,2,info(1))', `onUserJoin(${bId})`]);
    assert.deepEqual(laptop.rec.lines().slice(1), ['onCallBegin(callId,2,info(2))', `onUserJoin(${a.id})`]);
    await a.engine.hangup();
    await cleanup(a, phone, laptop);
  });

  it('accept() on the old device racing a new sign-in: the call either connected and ended offline, or moved to the new device — never both', async (t) => {
    const outcomes: string[] = [];
    // The new sign-in needs a WebSocket handshake first: delaying accept() by a few ms lets the
    // kick win some rounds.
    for (const delayMs of [0, 3, 6, 12, 25]) {
      const a = await device(fresh('ka'));
      const bId = fresh('kb');
      const phone = await device(bId, `phone-${bId}`);
      const { callId } = await a.engine.calls([bId], CallMediaType.audio);
      await phone.rec.waitFor('onCallReceived');
      phone.rec.clear();
      const [accepted, signedIn] = await Promise.allSettled([
        sleep(delayMs).then(() => phone.engine.accept()),
        device(bId, `laptop-${bId}`),
      ]);
      assert.equal(signedIn.status, 'fulfilled');
      const laptop = everyone.at(-1)!;
      await phone.rec.waitFor('onKickedOffline');
      if (phone.rec.names().includes('onCallBegin')) {
        outcomes.push(`${delayMs} ms: accepted (promise ${accepted.status})`);
        assert.deepEqual(seen(phone.rec), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`, `onCallEnd(callId,1,${offline},${bId},ms,info(2))`, 'onKickedOffline()']);
        await a.rec.waitFor('onCallEnd');
        assert.deepEqual(seen(a.rec), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`, `onUserLeave(${bId})`, `onCallEnd(callId,1,${offline},${bId},ms,info(1))`]);
        await sleep(150);
        assert.deepEqual(laptop.rec.lines(), [], 'an ended call does not ring the new device');
      } else {
        outcomes.push(`${delayMs} ms: moved`);
        // Refused by the server's kick (-1201) or, when the kick's events came first, locally (-1203).
        if (accepted.status === 'fulfilled') assert.fail('accept() resolved but the phone never connected');
        assert.ok([-1201, -1203].includes((accepted.reason as { code: number }).code), String(accepted.reason));
        assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${offline},${bId},info(2))`, `onCallCancelled(${bId})`, 'onKickedOffline()']);
        const r = await laptop.rec.waitFor('onCallReceived');
        assert.equal(r.args[0], callId);
        assert.deepEqual(a.rec.lines(), []);
        await a.engine.hangup();
      }
    }
    t.diagnostic(`outcomes: ${outcomes.join(', ')}`);
  });

  it('a sign-in while idle: the old device gets onKickedOffline only', async () => {
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-4');
    const laptop = await device(bId, 'laptop-kick-4');
    await phone.rec.waitFor('onKickedOffline');
    await sleep(100);
    assert.deepEqual(phone.rec.lines(), ['onKickedOffline()']);
    assert.equal(phone.engine.isInitialized, false);
    // The kicked engine can sign in again (which kicks the other one).
    await phone.engine.init(bId, sig(bId));
    await laptop.rec.waitFor('onKickedOffline');
    await cleanup(phone, laptop);
  });

  it('a second engine signing in with the same deviceId replaces the first: it gets its final event and onKickedOffline', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const firstTab = await device(bId, `shared-${bId}`);
    await connected(a, firstTab);
    const secondTab = await device(bId, `shared-${bId}`);
    await firstTab.rec.waitFor('onKickedOffline');
    assert.deepEqual(seen(firstTab.rec), [`onCallEnd(callId,1,${offline},${bId},ms,info(2))`, 'onKickedOffline()']);
    assert.equal(firstTab.engine.isInitialized, false);
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${offline},${bId},ms,info(1))`]);
    // Calls reach the engine that signed in last.
    await a.engine.calls([bId], CallMediaType.audio);
    await secondTab.rec.waitFor('onCallReceived');
    await a.engine.hangup();
    await cleanup(a, firstTab, secondTab);
  });

  it('enableMultiDeviceAbility(true) resolves but changes nothing: the next sign-in still kicks that device', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-5');
    await phone.engine.enableMultiDeviceAbility(true);
    const laptop = await device(bId, 'laptop-kick-5');
    await laptop.engine.enableMultiDeviceAbility(true);
    await phone.rec.waitFor('onKickedOffline');
    await a.engine.calls([bId], CallMediaType.audio);
    await laptop.rec.waitFor('onCallReceived');
    await sleep(150);
    assert.deepEqual(phone.rec.lines(), ['onKickedOffline()'], 'only the signed-in device rings');
    await a.engine.hangup();
    await cleanup(a, phone, laptop);
  });

  it('an invitation to a signed-out user rings when they sign in before the timeout', async () => {
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const { callId } = await a.engine.calls([bId], CallMediaType.audio);
    await sleep(300);
    const phone = await device(bId, 'phone-kick-6');
    const received = await phone.rec.waitFor('onCallReceived');
    assert.equal(received.args[0], callId);
    await phone.engine.accept();
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`]);
    await a.engine.hangup();
    await cleanup(a, phone);
  });

  it('a device that was away when it was replaced learns on reconnection that it was kicked, and the new device stays signed in', async () => {
    const proxy = await startTcpProxy(server.port);
    const a = await device(fresh('ka'));
    const bId = fresh('kb');
    const phone = await device(bId, 'phone-kick-7', { serverUrl: proxy.url, reconnectMaxDelayMs: 150 });
    await connected(a, phone);
    proxy.sever();
    await sleep(100);
    const laptop = await device(bId, 'laptop-kick-7');
    await a.rec.waitFor('onCallEnd');
    proxy.restore();
    await phone.rec.waitFor('onKickedOffline');
    assert.deepEqual(seen(phone.rec), [`onCallEnd(callId,1,${offline},${bId},ms,info(2))`, 'onKickedOffline()']);
    assert.equal(phone.engine.isInitialized, false);
    // The laptop was not kicked back by the phone's automatic reconnection.
    await sleep(200);
    assert.deepEqual(laptop.rec.lines(), []);
    assert.equal(laptop.engine.isInitialized, true);
    await a.engine.calls([bId], CallMediaType.audio);
    await laptop.rec.waitFor('onCallReceived');
    await a.engine.hangup();
    await cleanup(a, phone, laptop);
    await proxy.close();
  });
});
