/**
 * SPEC §5.4, device policy `multi`: a user's devices stay signed in together. Which ones ring,
 * first accept wins, reject/ignore per device, moving a live call with join(), and the device
 * limit. Real server, one real CallEngine per device (each with its own deviceId).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const R = CallEndReason;
const MAX_DEVICES = 3;

let server: RunningServer;
const everyone: TestUser[] = [];
before(async () => {
  server = await startTestServer({ devicePolicy: 'multi', defaultRingTimeoutSeconds: 3, limits: { maxDevicesPerUser: MAX_DEVICES } });
});
after(async () => {
  await cleanup(...everyone);
  await server.close();
});

let n = 0;
const fresh = (prefix: string): string => `${prefix}${++n}`;

/** Signs `userId` in on a new engine (device); `multi` opts it into ringing with the others. */
async function device(userId: string, deviceId?: string, multi = false): Promise<TestUser> {
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, deviceId });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u = { id: userId, engine, rec };
  everyone.push(u);
  await engine.init(userId, sig(userId));
  if (multi) await engine.enableMultiDeviceAbility(true);
  return u;
}

/** Recorded events with the varying totalTime of onCallEnd replaced by `ms`. */
function seen(rec: Recorder): string[] {
  return rec.lines().map((l) => l.replace(/^(onCallEnd\(callId,\d+,\d+,[^,]+,)\d+,/, '$1ms,'));
}

/** Bob on two devices that both ring: an opted-in phone, and a laptop signed in last. */
async function bobWithTwoDevices(): Promise<{ a: TestUser; phone: TestUser; laptop: TestUser; bId: string }> {
  const a = await device(fresh('ma'));
  const bId = fresh('mb');
  const phone = await device(bId, `phone-${bId}`, true);
  const laptop = await device(bId, `laptop-${bId}`);
  return { a, phone, laptop, bId };
}

/** A calls B and both of B's devices ring; recorders cleared. */
async function ringBoth(a: TestUser, phone: TestUser, laptop: TestUser, bId: string): Promise<string> {
  const { callId } = await a.engine.calls([bId], CallMediaType.audio);
  await phone.rec.waitFor('onCallReceived');
  await laptop.rec.waitFor('onCallReceived');
  for (const u of [a, phone, laptop]) u.rec.clear();
  return callId;
}

describe("device policy 'multi' (SPEC §5.4)", () => {
  it('ringing devices are the ones with enableMultiDeviceAbility(true) plus the most recently signed-in one', async () => {
    const a = await device(fresh('ma'));
    const bId = fresh('mb');
    const optedIn = await device(bId, `opted-${bId}`, true);
    const older = await device(bId, `older-${bId}`);
    const newest = await device(bId, `newest-${bId}`);
    const { callId } = await a.engine.calls([bId], CallMediaType.video);
    const r1 = await optedIn.rec.waitFor('onCallReceived');
    const r2 = await newest.rec.waitFor('onCallReceived');
    assert.deepEqual([r1.args[0], r2.args[0]], [callId, callId]);
    await sleep(150);
    assert.deepEqual(older.rec.lines(), [], 'a device that neither opted in nor signed in last does not ring');
    await a.engine.hangup();
    await optedIn.rec.waitFor('onCallNotConnected');
    await newest.rec.waitFor('onCallNotConnected');
    assert.deepEqual(older.rec.lines(), []);
    // Opting in later makes it ring on the next call.
    await older.engine.enableMultiDeviceAbility(true);
    await a.engine.calls([bId], CallMediaType.video);
    await older.rec.waitFor('onCallReceived');
    await a.engine.hangup();
  });

  it('first accept wins: the other ringing device gets onCallNotConnected(otherDeviceAccepted, own id) then onCallCancelled(own id)', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    await ringBoth(a, phone, laptop, bId);
    await laptop.engine.accept();
    assert.deepEqual(laptop.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await phone.rec.waitFor('onCallCancelled');
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${R.otherDeviceAccepted},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`]);
    assert.equal(phone.engine.currentCall, null);
    await assert.rejects(phone.engine.accept(), { code: -1203 });
    await a.engine.hangup();
    await laptop.rec.waitFor('onCallEnd');
    assert.equal(phone.rec.lines().length, 2, 'the phone hears nothing of a call it did not take');
  });

  it('two devices accepting at the same moment: exactly one connects, the other rejects with -1203 or sees otherDeviceAccepted', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    for (let round = 0; round < 5; round++) {
      await ringBoth(a, phone, laptop, bId);
      const results = await Promise.allSettled([phone.engine.accept(), laptop.engine.accept()]);
      const winners = results.map((r, i) => (r.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
      assert.equal(winners.length, 1, `round ${round}: exactly one accept() resolves`);
      const [winner, loser] = winners[0] === 0 ? [phone, laptop] : [laptop, phone];
      const lost = results[winners[0] === 0 ? 1 : 0];
      if (lost.status === 'rejected') assert.equal((lost.reason as { code: number }).code, -1203);
      await loser.rec.waitFor('onCallNotConnected');
      assert.deepEqual(loser.rec.lines(), [`onCallNotConnected(callId,1,${R.otherDeviceAccepted},${bId},info(2))`, `onCallCancelled(${bId})`]);
      assert.deepEqual(winner.rec.names(), ['onCallBegin', 'onUserJoin']);
      await a.rec.waitFor('onUserJoin');
      assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`], 'the caller sees one join');
      await a.engine.hangup();
      await winner.rec.waitFor('onCallEnd');
    }
  });

  it('a reject on one device rejects for the user; the other ringing device gets otherDeviceReject', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    await ringBoth(a, phone, laptop, bId);
    await phone.engine.reject();
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${R.reject},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await laptop.rec.waitFor('onCallCancelled');
    assert.deepEqual(laptop.rec.lines(), [`onCallNotConnected(callId,1,${R.otherDeviceReject},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await a.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.lines(), [`onUserReject(${bId})`, `onCallNotConnected(callId,1,${R.reject},${bId},info(1))`, `onCallCancelled(${a.id})`]);
  });

  it('ignore stops only that device; the caller sees busy once every ringing device ignored', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    await ringBoth(a, phone, laptop, bId);
    await phone.engine.ignore();
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${R.lineBusy},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await sleep(150);
    assert.deepEqual(a.rec.lines(), [], 'the caller sees nothing while another device still rings');
    assert.deepEqual(laptop.rec.lines(), []);
    assert.ok(laptop.engine.currentCall, 'the laptop still rings');
    await laptop.engine.ignore();
    await a.rec.waitFor('onCallCancelled');
    assert.deepEqual(a.rec.lines(), [`onUserLineBusy(${bId})`, `onCallNotConnected(callId,1,${R.lineBusy},${bId},info(1))`, `onCallCancelled(${a.id})`]);
    assert.deepEqual(laptop.rec.lines(), [`onCallNotConnected(callId,1,${R.lineBusy},${bId},info(2))`, `onCallCancelled(${bId})`]);
    assert.equal(phone.rec.lines().length, 2, 'the device that ignored first hears nothing more');
  });

  it('ignore on one device, accept on the other: the call connects', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    await ringBoth(a, phone, laptop, bId);
    await phone.engine.ignore();
    await laptop.engine.accept();
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`]);
    assert.equal(phone.rec.lines().length, 2);
    await a.engine.hangup();
  });

  it('calls() while another device of the user is in a call rejects with -1203; a call to that user sees busy', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    const c = await device(fresh('mc'));
    await ringBoth(a, phone, laptop, bId);
    await laptop.engine.accept();
    await assert.rejects(phone.engine.calls([c.id], CallMediaType.audio), { code: -1203 });
    await c.engine.calls([bId], CallMediaType.audio);
    await c.rec.waitFor('onCallNotConnected');
    assert.deepEqual(c.rec.lines(), [`onUserLineBusy(${bId})`, `onCallNotConnected(callId,1,${R.lineBusy},${bId},info(1))`, `onCallCancelled(${c.id})`]);
    await sleep(100);
    assert.equal(phone.rec.lines().length, 2, 'no ring on the idle device of a busy user');
    await a.engine.hangup();
  });

  it('join(callId) from another device moves the live call: the old device gets onCallEnd(otherDeviceAccepted, self), peers see nothing', async () => {
    const { a, phone, laptop, bId } = await bobWithTwoDevices();
    const callId = await ringBoth(a, phone, laptop, bId);
    await laptop.engine.accept();
    await a.rec.waitFor('onUserJoin');
    await sleep(100);
    for (const u of [a, phone, laptop]) u.rec.clear();
    await phone.engine.join(callId);
    assert.deepEqual(phone.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    assert.equal(phone.engine.currentCall?.callId, callId);
    await laptop.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(laptop.rec), [`onCallEnd(callId,1,${R.otherDeviceAccepted},${bId},ms,info(2))`]);
    assert.equal(laptop.engine.currentCall, null);
    await sleep(150);
    assert.deepEqual(a.rec.lines(), [], 'the peer sees nothing of the move');
    // The call goes on from the phone: its hangup ends it for A with the whole connected time.
    await phone.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${R.hangup},${bId},ms,info(1))`]);
    const aTotal = a.rec.events.at(-1)!.args[4] as number;
    const movedTotal = laptop.rec.events.at(-1)!.args[4] as number;
    assert.ok(aTotal >= movedTotal + 100, `totalTime ${aTotal} counts the time on both devices (${movedTotal} on the first)`);
    // The old device is idle and usable.
    assert.equal(laptop.engine.isInitialized, true);
  });

  it('a device signing in while a call rings is rung too (it is now the most recent), and either can answer', async () => {
    const a = await device(fresh('ma'));
    const bId = fresh('mb');
    const phone = await device(bId, `phone-${bId}`);
    const { callId } = await a.engine.calls([bId], CallMediaType.audio);
    await phone.rec.waitFor('onCallReceived');
    const laptop = await device(bId, `laptop-${bId}`);
    const r = await laptop.rec.waitFor('onCallReceived');
    assert.deepEqual(r.args.slice(0, 3), [callId, a.id, [bId]]);
    assert.equal(phone.engine.currentCall?.callId, callId, 'the phone keeps ringing');
    await phone.engine.accept();
    await laptop.rec.waitFor('onCallCancelled');
    assert.deepEqual(laptop.rec.lines().slice(1), [`onCallNotConnected(callId,1,${R.otherDeviceAccepted},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await a.engine.hangup();
  });

  it('an invitation to a signed-out user rings when they sign in before the timeout', async () => {
    const a = await device(fresh('ma'));
    const bId = fresh('mb');
    const { callId } = await a.engine.calls([bId], CallMediaType.audio);
    await sleep(300);
    const phone = await device(bId, `phone-${bId}`);
    const r = await phone.rec.waitFor('onCallReceived');
    assert.equal(r.args[0], callId);
    await phone.engine.accept();
    await a.rec.waitFor('onUserJoin');
    await a.engine.hangup();
  });

  it(`a sign-in beyond maxDevicesPerUser (${MAX_DEVICES}) is refused with 4030 and the signed-in devices are untouched`, async () => {
    const bId = fresh('mb');
    const devices: TestUser[] = [];
    for (let i = 0; i < MAX_DEVICES; i++) devices.push(await device(bId, `dev${i}-${bId}`));
    const extra = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, deviceId: `extra-${bId}` });
    await assert.rejects(extra.init(bId, sig(bId)), { code: 4030 });
    assert.equal(extra.isInitialized, false);
    for (const d of devices) assert.deepEqual(d.rec.lines(), []);
    // Signing one out frees a place.
    await devices[0]!.engine.unInit();
    await extra.init(bId, sig(bId));
    await extra.unInit();
  });
});
