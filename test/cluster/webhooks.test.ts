/**
 * SPEC §8 + §6.3 with three nodes: webhooks are delivered once per event id and in order per call
 * (one deliverer at a time, whatever the number of nodes), and the deliveries a killed node left
 * pending are delivered by the others. The receiver is the example receiver (signature checked).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import type { NodeProcess } from '../helpers/processServer.js';
import { TEST_APP_ID } from '../helpers/server.js';
import { sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';
import { HOOK_SECRET, HookRecorder, checkDeliveries } from '../webhooks-support.js';
import { fresh, skipWithoutCluster, useCluster } from './support.js';

const hooks = await HookRecorder.start();
after(() => hooks.close());
const ctx = useCluster({
  options: {
    webhookUrl: hooks.url,
    webhookSecret: HOOK_SECRET,
    // Six calls at once on two busy cores: no invitation may time out before its accept.
    defaultRingTimeoutSeconds: 15,
    heartbeatTimeoutMs: 6000,
    webhookRetry: { initialDelayMs: 100, maxDelayMs: 300, maxAgeMs: 600_000, timeoutMs: 1000 },
  },
});
const node = (i: number) => ctx.cluster.nodes[i]!;

/** A→B, B accepts, A hangs up: five webhooks (start, three member changes, end). */
async function fullCall(a: TestUser, b: TestUser): Promise<string> {
  const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
  await b.rec.waitFor('onCallReceived', (args) => args[0] === callId);
  await b.engine.accept();
  await a.rec.waitFor('onUserJoin');
  await a.engine.hangup();
  await b.rec.waitFor('onCallEnd', (args) => args[0] === callId);
  return callId;
}

describe('cluster: webhooks with three nodes', { skip: skipWithoutCluster }, () => {
  it('calls spread over the nodes: every event delivered once, in order per call, signed', async () => {
    hooks.reply = () => 200;
    const since = Date.now();
    // Six calls at once, caller and callee on different nodes each time.
    const pairs = await Promise.all([0, 1, 2, 0, 1, 2].map(async (i, k) => [
      await ctx.device(fresh(`wa${k}`), node(i)),
      await ctx.device(fresh(`wb${k}`), node((i + 1) % 3)),
    ] as const));
    const callIds = await Promise.all(pairs.map(([a, b]) => fullCall(a, b)));
    for (const callId of callIds) await hooks.waitAcked(callId, 5, 10_000);
    await sleep(1_500); // a second deliverer, if any, would repeat something by now
    const mine = hooks.hits.filter((h) => callIds.includes(h.callId));
    assert.equal(mine.length, callIds.length * 5, `exactly five requests per call: ${mine.map((h) => h.eventId).join(' ')}`);
    assert.equal(new Set(mine.map((h) => h.eventId)).size, mine.length, 'no event id twice');
    checkDeliveries(mine, since, TEST_APP_ID);
    for (const callId of callIds) {
      assert.deepEqual(hooks.acked(callId).map((h) => h.command), [
        'Call.CallbackAfterStartCall', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterMemberChanged', 'Call.CallbackAfterEndCall',
      ]);
    }
  });

  it('a killed node\'s pending deliveries are delivered by the others, once acknowledged, in order', async () => {
    // The receiver is down (503): the events of a call made with n1 alone alive stay pending on n1.
    hooks.reply = () => 503;
    const [n1, n2, n3] = ctx.cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    await n2.kill();
    await n3.kill();
    const since = Date.now();
    const a = await ctx.device(fresh('wka'), n1);
    const b = await ctx.device(fresh('wkb'), n1);
    const callId = await fullCall(a, b);
    for (let i = 0; i < 200 && !hooks.hits.some((h) => h.callId === callId); i++) await sleep(50);
    assert.ok(hooks.hits.some((h) => h.callId === callId), 'n1 was trying to deliver');
    await Promise.all([a, b].map((u) => u.engine.unInit()));
    // The others come back; n1 dies with its deliveries unacknowledged; the receiver recovers.
    await Promise.all([n2.restart(), n3.restart()]);
    await n1.kill();
    hooks.reply = () => 200;
    const acked = await hooks.waitAcked(callId, 5, 20_000);
    assert.deepEqual(acked.map((h) => h.seq), [1, 2, 3, 4, 5]);
    assert.equal(new Set(acked.map((h) => h.eventId)).size, 5, 'each event acknowledged once');
    checkDeliveries(acked, since, TEST_APP_ID);
  });
});
