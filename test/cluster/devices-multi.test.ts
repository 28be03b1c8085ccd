/**
 * SPEC §8 + §5.4 policy 'multi' with a user's devices on different nodes: which devices ring,
 * first accept wins, `join` moves a live call to a device on another node, and a user busy on one
 * node cannot start a call from another.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType } from '@opencall/client';
import { sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';
import { fresh, seen, skipWithoutCluster, useCluster } from './support.js';

const R = CallEndReason;
const ctx = useCluster({ options: { devicePolicy: 'multi', defaultRingTimeoutSeconds: 5, heartbeatTimeoutMs: 6000 } });
const node = (i: number) => ctx.cluster.nodes[i]!;

/** A on n3; Bob's opted-in phone on n1 and his laptop (signed in last) on n2. */
async function bob(): Promise<{ a: TestUser; phone: TestUser; laptop: TestUser; bId: string }> {
  const a = await ctx.device(fresh('xa'), node(2));
  const bId = fresh('xb');
  const phone = await ctx.device(bId, node(0), { deviceId: `phone-${bId}` });
  await phone.engine.enableMultiDeviceAbility(true);
  const laptop = await ctx.device(bId, node(1), { deviceId: `laptop-${bId}` });
  return { a, phone, laptop, bId };
}

describe("cluster: device policy 'multi' across nodes", { skip: skipWithoutCluster }, () => {
  it('both devices ring on their nodes; the first accept wins and the other device is told otherDeviceAccepted', async () => {
    const { a, phone, laptop, bId } = await bob();
    await a.engine.calls([bId], CallMediaType.audio);
    await phone.rec.waitFor('onCallReceived');
    await laptop.rec.waitFor('onCallReceived');
    for (const u of [a, phone, laptop]) u.rec.clear();
    await laptop.engine.accept();
    assert.deepEqual(laptop.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await phone.rec.waitFor('onCallCancelled');
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${R.otherDeviceAccepted},${bId},info(2))`, `onCallCancelled(${bId})`]);
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`]);
    // Busy on n2: the phone on n1 cannot start another call.
    await assert.rejects(phone.engine.calls([a.id], CallMediaType.audio), { code: -1203 });
    await a.engine.hangup();
    await laptop.rec.waitFor('onCallEnd');
  });

  it('two devices on two nodes accepting at the same instant: exactly one connects (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const { a, phone, laptop, bId } = await bob();
      await a.engine.calls([bId], CallMediaType.audio);
      await phone.rec.waitFor('onCallReceived');
      await laptop.rec.waitFor('onCallReceived');
      const results = await Promise.allSettled([phone.engine.accept(), laptop.engine.accept()]);
      await a.rec.waitFor('onCallBegin');
      await sleep(200);
      const connected = [phone, laptop].filter((d) => d.rec.names().includes('onCallBegin'));
      assert.equal(connected.length, 1, `round ${round}: one device connected`);
      const loser = connected[0] === phone ? laptop : phone;
      const loserResult = results[loser === phone ? 0 : 1];
      const told = loser.rec.lines().includes(`onCallNotConnected(callId,1,${R.otherDeviceAccepted},${bId},info(2))`);
      const refused = loserResult.status === 'rejected' && (loserResult.reason as { code?: number }).code === -1203;
      assert.ok(told || refused, `round ${round}: the other device was told or refused (${loser.rec.lines().join(' ')})`);
      assert.equal(a.rec.names().filter((n) => n === 'onUserJoin').length, 1);
      await a.engine.hangup();
      await connected[0]!.rec.waitFor('onCallEnd');
      await Promise.all([a, phone, laptop].map((u) => u.engine.unInit()));
    }
  });

  it('join(callId) from a device on another node moves the live call; the peer sees nothing', async () => {
    const { a, phone, laptop, bId } = await bob();
    const { callId } = await a.engine.calls([bId], CallMediaType.audio);
    await laptop.rec.waitFor('onCallReceived');
    await laptop.engine.accept();
    await a.rec.waitFor('onUserJoin');
    await sleep(150);
    for (const u of [a, phone, laptop]) u.rec.clear();
    await phone.engine.join(callId);
    assert.deepEqual(phone.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await laptop.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(laptop.rec), [`onCallEnd(callId,1,${R.otherDeviceAccepted},${bId},ms,info(2))`]);
    await sleep(200);
    assert.deepEqual(a.rec.lines(), [], 'the peer sees nothing of the move');
    await phone.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${R.hangup},${bId},ms,info(1))`]);
  });
});
