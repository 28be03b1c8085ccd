/**
 * SPEC §8: every rule of §5 and §6 holds across nodes exactly as on one node. Three real node
 * processes on one PostgreSQL database and one Redis, each device pinned to a node by its URL, so
 * caller and callee (and each group participant) sit on different nodes. The expected events are
 * the single-node ones (test/call-single, call-rules, call-multi, devices-kick, records, rest-calls).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType } from '@opencall/client';
import { restPost } from '../fixtures/durabilityClients.js';
import type { RestEnvelope } from '../fixtures/durabilityClients.js';
import { sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';
import { connectAll, fresh, seen, skipWithoutCluster, useCluster } from './support.js';

const R = CallEndReason;
const audio = CallMediaType.audio;
const ADMIN = 'administrator';
const ctx = useCluster({ options: { defaultRingTimeoutSeconds: 5, heartbeatTimeoutMs: 6000 } });
const node = (i: number) => ctx.cluster.nodes[i]!;

describe('cluster: §5 rules across nodes', { skip: skipWithoutCluster }, () => {
  it('/healthz of every node lists the three live nodes, and names itself', async () => {
    for (const [i, n] of ctx.cluster.nodes.entries()) {
      const h = await n.healthz();
      assert.equal(h.cluster?.nodeId, `n${i + 1}`);
      assert.deepEqual([...(h.cluster?.nodes ?? [])].sort(), ['n1', 'n2', 'n3']);
    }
  });

  it('1-to-1, caller on n1 and callee on n2: every event of §5.2, and both records', async () => {
    const a = await ctx.device(fresh('c1a'), node(0));
    const b = await ctx.device(fresh('c1b'), node(1));
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    assert.deepEqual(b.rec.lines(), [`onCallReceived(callId,${a.id},[${b.id}],1,info(2))`]);
    b.rec.clear();
    await b.engine.accept();
    assert.deepEqual(b.rec.lines(), ['onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${b.id})`]);
    await sleep(300);
    a.rec.clear();
    b.rec.clear();
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onCallEnd(callId,1,${R.hangup},${a.id},ms,info(1))`]);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(2))`]);
    const totalA = a.rec.events.at(-1)!.args[4] as number;
    assert.equal(b.rec.events.at(-1)!.args[4], totalA, 'one totalTime, whichever node told it');
    assert.ok(totalA >= 300, `totalTime ${totalA}`);
    const [ra] = await a.engine.queryRecentCalls();
    const [rb] = await b.engine.queryRecentCalls();
    assert.deepEqual([ra?.callId, ra?.result, ra?.totalTime], [callId, 'outgoing', totalA]);
    assert.deepEqual([rb?.callId, rb?.result, rb?.totalTime], [callId, 'incoming', totalA]);
  });

  it('no answer: the ring timeout ends the call for both, on time, whichever node set it', async () => {
    const a = await ctx.device(fresh('c2a'), node(1));
    const b = await ctx.device(fresh('c2b'), node(2));
    const t0 = Date.now();
    await a.engine.calls([b.id], audio, { timeout: 2 });
    await b.rec.waitFor('onCallReceived');
    await a.rec.waitFor('onCallCancelled', () => true, 5000);
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 1900 && elapsed <= 3000, `ended after ${elapsed} ms (deadline 2000 ± 1000)`);
    assert.deepEqual(a.rec.lines(), [`onUserNoResponse(${b.id})`, `onCallNotConnected(callId,1,${R.noResponse},${b.id},info(1))`, `onCallCancelled(${a.id})`]);
    await b.rec.waitFor('onCallCancelled');
    assert.deepEqual(b.rec.lines().slice(1), [`onCallNotConnected(callId,1,${R.noResponse},${b.id},info(2))`, `onCallCancelled(${b.id})`]);
  });

  it('group call with one participant per node: invitations, late joiner, leave, end', async () => {
    const a = await ctx.device(fresh('g1a'), node(0));
    const b = await ctx.device(fresh('g1b'), node(1));
    const c = await ctx.device(fresh('g1c'), node(2));
    const { callId } = await a.engine.calls([b.id, c.id], audio);
    for (const u of [b, c]) {
      const ev = await u.rec.waitFor('onCallReceived');
      assert.deepEqual(ev.args.slice(0, 4), [callId, a.id, [b.id, c.id], audio]);
    }
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    for (const u of [a, b, c]) u.rec.clear();
    await c.engine.accept();
    assert.deepEqual(c.rec.names(), ['onCallBegin', 'onUserJoin', 'onUserJoin']);
    assert.deepEqual(c.rec.events.slice(1).map((e) => e.args[0]).sort(), [a.id, b.id].sort());
    for (const u of [a, b]) await u.rec.waitFor('onUserJoin');
    await sleep(100);
    assert.deepEqual(a.rec.lines(), [`onUserJoin(${c.id})`]);
    assert.deepEqual(b.rec.lines(), [`onUserJoin(${c.id})`]);
    for (const u of [a, b, c]) u.rec.clear();
    // The caller leaves: the call goes on for b (n2) and c (n3).
    await a.engine.hangup();
    for (const u of [b, c]) await u.rec.waitFor('onUserLeave');
    await sleep(100);
    assert.deepEqual([b.rec.lines(), c.rec.lines()], [[`onUserLeave(${a.id})`], [`onUserLeave(${a.id})`]]);
    await b.engine.hangup();
    await c.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(c.rec).slice(1), [`onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(2))`]);
  });

  it('join(callId) across nodes: a participant who left comes back from another node', async () => {
    const a = await ctx.device(fresh('j1a'), node(0));
    const b = await ctx.device(fresh('j1b'), node(1));
    const c = await ctx.device(fresh('j1c'), node(2));
    const callId = await connectAll(a, b, c);
    await c.engine.hangup();
    for (const u of [a, b]) await u.rec.waitFor('onUserLeave');
    for (const u of [a, b, c]) u.rec.clear();
    await c.engine.unInit();
    // c signs in again on n1 (a's node) and joins the call that lives on.
    const c2 = await ctx.device(c.id, node(0));
    await c2.engine.join(callId);
    assert.deepEqual(c2.rec.names(), ['onCallBegin', 'onUserJoin', 'onUserJoin']);
    for (const u of [a, b]) await u.rec.waitFor('onUserJoin', (args) => args[0] === c.id);
    await a.engine.hangup();
    await b.engine.hangup();
    await c2.rec.waitFor('onCallEnd');
  });

  it('busy is decided once: two callers on two nodes call one user at the same instant (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const t = await ctx.device(fresh('bt'), node(2));
      const c1 = await ctx.device(fresh('b1'), node(0));
      const c2 = await ctx.device(fresh('b2'), node(1));
      const [r1, r2] = await Promise.all([c1.engine.calls([t.id], audio), c2.engine.calls([t.id], audio)]);
      await t.rec.waitFor('onCallReceived');
      const busy = [c1, c2].filter((c) => c.rec.names().includes('onUserLineBusy'));
      await sleep(150);
      const rung = t.rec.events.filter((e) => e.name === 'onCallReceived');
      assert.equal(rung.length, 1, `round ${round}: the callee rang once (${t.rec.lines().join(' ')})`);
      const winner = rung[0]!.args[1] === c1.id ? c1 : c2;
      const loser = winner === c1 ? c2 : c1;
      assert.deepEqual(busy, [loser], `round ${round}: exactly the other caller saw busy`);
      assert.equal(rung[0]!.args[0], (winner === c1 ? r1 : r2).callId);
      assert.deepEqual(loser.rec.lines(), [`onUserLineBusy(${t.id})`, `onCallNotConnected(callId,1,${R.lineBusy},${t.id},info(1))`, `onCallCancelled(${loser.id})`]);
      assert.deepEqual(winner.rec.lines(), [], `round ${round}: the winner's call rings undisturbed`);
      await winner.engine.hangup();
      await t.rec.waitFor('onCallCancelled');
      if (round === 0) {
        // The busy user's history shows the call it never heard as missed (§5.1).
        const missed = (await t.engine.queryRecentCalls()).filter((r) => r.result === 'missed').map((r) => r.inviter).sort();
        assert.deepEqual(missed, [c1.id, c2.id].sort());
      }
      await Promise.all([t, c1, c2].map((u) => u.engine.unInit()));
    }
  });

  it('glare across nodes: B (n2) calls A (n1) while A → B rings at B; one call, both connected', async () => {
    const a = await ctx.device(fresh('ga'), node(0));
    const b = await ctx.device(fresh('gb'), node(1));
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    const r = await b.engine.calls([a.id], audio);
    assert.equal(r.callId, callId);
    assert.ok(b.rec.names().includes('onCallBegin'));
    await a.rec.waitFor('onCallBegin');
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const records = [...(await a.engine.queryRecentCalls()), ...(await b.engine.queryRecentCalls())];
    assert.equal(records.filter((x) => x.result === 'missed').length, 0);
  });

  it('glare at the same instant on two nodes merges into one connected call (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await ctx.device(fresh('gsa'), node(0));
      const b = await ctx.device(fresh('gsb'), node(2));
      const [ra, rb] = await Promise.all([a.engine.calls([b.id], audio), b.engine.calls([a.id], audio)]);
      await sleep(300);
      // On one node this always merges (test/call-rules: glare); across nodes it must too.
      assert.equal(ra.callId, rb.callId, `round ${round}: one call — A saw ${a.rec.lines().join(' ')}; B saw ${b.rec.lines().join(' ')}`);
      for (const u of [a, b]) await u.rec.waitFor('onCallBegin');
      for (const u of [a, b]) assert.ok(!u.rec.names().includes('onUserLineBusy'), `round ${round}: ${u.rec.lines().join(' ')}`);
      await a.engine.hangup();
      await b.rec.waitFor('onCallEnd');
      await Promise.all([a, b].map((u) => u.engine.unInit()));
    }
  });

  it("kick across nodes: a sign-in on n2 ends the call of the device on n1 as offline and signs it out; the peer on n3 sees an offline leave", async () => {
    const a = await ctx.device(fresh('ka'), node(2));
    const bId = fresh('kb');
    const phone = await ctx.device(bId, node(0), { deviceId: `phone-${bId}` });
    await connectAll(a, phone);
    const laptop = await ctx.device(bId, node(1), { deviceId: `laptop-${bId}` });
    await phone.rec.waitFor('onKickedOffline');
    assert.deepEqual(seen(phone.rec), [`onCallEnd(callId,1,${R.offline},${bId},ms,info(2))`, 'onKickedOffline()']);
    assert.equal(phone.engine.isInitialized, false);
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${R.offline},${bId},ms,info(1))`]);
    assert.deepEqual(laptop.rec.lines(), []);
    // The user is reachable on the new device, on its node.
    await a.engine.calls([bId], CallMediaType.video);
    await laptop.rec.waitFor('onCallReceived');
    await a.engine.hangup();
  });

  it('kick while ringing across nodes: the invitation moves to the new device on another node; the caller sees nothing', async () => {
    const a = await ctx.device(fresh('kra'), node(0));
    const bId = fresh('krb');
    const phone = await ctx.device(bId, node(1), { deviceId: `phone-${bId}` });
    await a.engine.calls([bId], audio);
    await phone.rec.waitFor('onCallReceived');
    phone.rec.clear();
    const laptop = await ctx.device(bId, node(2), { deviceId: `laptop-${bId}` });
    await phone.rec.waitFor('onKickedOffline');
    assert.deepEqual(phone.rec.lines(), [`onCallNotConnected(callId,1,${R.offline},${bId},info(2))`, `onCallCancelled(${bId})`, 'onKickedOffline()']);
    await laptop.rec.waitFor('onCallReceived');
    await laptop.engine.accept();
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${bId})`]);
    await a.engine.hangup();
  });

  it('REST on another node: end_call on n3 ends a call between n1 and n2; records read on any node and through nginx', async () => {
    const a = await ctx.device(fresh('ra'), node(0));
    const b = await ctx.device(fresh('rb'), node(1));
    const callId = await connectAll(a, b);
    const r = await restPost(node(2).url, '/v4/call_engine_http_srv/end_call', { CallId: callId });
    assert.deepEqual([r.body.ActionStatus, r.body.ErrorCode], ['OK', 0]);
    for (const u of [a, b]) {
      const end = await u.rec.waitFor('onCallEnd');
      assert.deepEqual(end.args.slice(0, 4), [callId, audio, R.endByServer, ADMIN]);
    }
    const urls = [...ctx.cluster.nodes.map((n) => n.url), ctx.cluster.url];
    for (const url of urls) {
      const got = await restPost(url, '/v4/call_record_http_srv/get_record_by_callid', { CallId: callId });
      const rec = (got.body as RestEnvelope & { Response?: { CallRecord?: { CallId: string; CallResult: string } } }).Response?.CallRecord;
      assert.deepEqual([rec?.CallId, rec?.CallResult], [callId, 'Interrupt'], `record on ${url}`);
    }
  });

  it('records: an outgoing/incoming pair and a missed call, each read on the user\'s own node', async () => {
    const a = await ctx.device(fresh('rca'), node(0));
    const b = await ctx.device(fresh('rcb'), node(2));
    const first = await connectAll(a, b);
    await sleep(200);
    await b.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    const { callId: second } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.reject();
    await a.rec.waitFor('onCallCancelled');
    const mine = (rs: Awaited<ReturnType<TestUser['engine']['queryRecentCalls']>>) => rs.map((r) => [r.callId, r.result]);
    assert.deepEqual(mine(await a.engine.queryRecentCalls()), [[second, 'outgoing'], [first, 'outgoing']]);
    assert.deepEqual(mine(await b.engine.queryRecentCalls()), [[second, 'missed'], [first, 'incoming']]);
  });
});
