/**
 * SPEC §8 under stalls (the chaos run's `nodeStall` and `dbPause` found both cases):
 * - a node frozen (SIGSTOP) past the heartbeat window while a request of one of its devices waits
 *   on the database is reaped by the others; the device signs in afresh elsewhere and its request
 *   fails. When the frozen node wakes, that stalled request must not commit: the callee never
 *   rings and the caller never hears of a call it was told failed;
 * - a device that was away reconnects while its node's database is paused, so its sign-in stalls;
 *   meanwhile the user signs in on a new device elsewhere. When the database comes back, the old
 *   device's automatic reconnection must not kick the new device (SPEC §5.4: a device replaced
 *   while it was away stays replaced).
 * - a commit the database stored but whose answer was lost (the connection was cut after the
 *   statement ran) still sends its events: the other member hears that the call ended.
 * Each node reaches PostgreSQL through its own proxy (`dbProxy`), so a test can hold a node's
 * queries mid-request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType } from '@opencall/client';
import { startTcpProxy } from '../helpers/tcpProxy.js';
import { sleep } from '../helpers/users.js';
import { fresh, skipWithoutCluster, useCluster } from './support.js';

const HEARTBEAT_MS = 1500;
const ctx = useCluster({ nodes: 2, nginx: false, dbProxy: true, options: { heartbeatTimeoutMs: HEARTBEAT_MS } });

describe('cluster: stalled nodes and a stalled database', { skip: skipWithoutCluster }, () => {
  it('a call.start stalled on its database when the node froze does not ring anyone after the node wakes', async () => {
    const [n1, n2] = ctx.cluster.nodes as [typeof ctx.cluster.nodes[0], typeof ctx.cluster.nodes[0]];
    const db1 = ctx.cluster.dbProxies[0]!;
    // The caller reaches n1 through a proxy that can later send it to n2 (as a balancer would).
    const route = await startTcpProxy(n1.port);
    try {
      const a = await ctx.device(fresh('fa'), route.url, { requestTimeoutMs: 30_000 });
      const b = await ctx.device(fresh('fb'), n2);
      db1.pause();
      const calling = a.engine.calls([b.id], CallMediaType.audio).then(
        (r) => ({ ok: true as const, callId: r.callId }),
        (e: unknown) => ({ ok: false as const, code: (e as { code?: number }).code }),
      );
      // The request reaches n1 and waits there on its database; then n1 freezes.
      await sleep(400);
      const pid = n1.pid!;
      process.kill(pid, 'SIGSTOP');
      try {
        route.blackhole();
        // n2 reaps n1's devices one heartbeat window after n1's last beat.
        await sleep(HEARTBEAT_MS + 2000);
        route.retarget(n2.port);
        route.restore();
        const outcome = await calling;
        assert.deepEqual(outcome, { ok: false, code: -1401 }, 'the request failed: its session could not be resumed');
        db1.resume();
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // n1 wakes with the request's reads done or about to be: it must not commit it now.
      await sleep(3000);
      assert.equal(b.rec.names().includes('onCallReceived'), false, `the callee rang for a call its caller was told failed: ${b.rec.lines().join(', ')}`);
      const callEvents = a.rec.names().filter((n) => /^onCall|^onUser/.test(n));
      assert.deepEqual(callEvents, [], 'the caller heard of no call');
      // And the caller is free: a new call rings the callee.
      const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
      const rung = await b.rec.waitFor('onCallReceived');
      assert.equal(rung.args[0], callId);
      await a.engine.hangup();
    } finally {
      await route.close();
    }
  });

  it("an old device reconnecting while its node's database stalls does not kick the device the user signed in on meanwhile", async () => {
    const [n1, n2] = ctx.cluster.nodes as [typeof ctx.cluster.nodes[0], typeof ctx.cluster.nodes[0]];
    const db1 = ctx.cluster.dbProxies[0]!;
    const route = await startTcpProxy(n1.port);
    try {
      const id = fresh('fk');
      const old = await ctx.device(id, route.url, { deviceId: `${id}-old` });
      // The old device goes silent past the heartbeat window: its session ends, it cannot resume.
      route.blackhole();
      await sleep(HEARTBEAT_MS + 2000);
      db1.pause();
      // It reconnects to n1, whose database is paused: its (fresh) sign-in stalls there.
      route.restore();
      await sleep(800);
      // Meanwhile the user signs in on a new device through n2.
      const now = await ctx.device(id, n2, { deviceId: `${id}-new` });
      db1.resume();
      await old.rec.waitFor('onKickedOffline', () => true, 8000).catch(() => undefined);
      await sleep(1000);
      assert.equal(now.rec.names().includes('onKickedOffline'), false, 'the new device was kicked by the old one');
      assert.equal(now.engine.isInitialized, true);
      assert.ok(old.rec.names().includes('onKickedOffline'), `the old device learned it was replaced: ${old.rec.lines().join(', ')}`);
      // The new device is the one that rings.
      const caller = await ctx.device(fresh('fc'), n2);
      const { callId } = await caller.engine.calls([id], CallMediaType.audio);
      assert.equal((await now.rec.waitFor('onCallReceived')).args[0], callId);
      await caller.engine.hangup();
    } finally {
      db1.resume();
      await route.close();
    }
  });

  it('a hang-up whose commit answer was lost is still heard by the other member, on another node', async () => {
    const [n1, n2] = ctx.cluster.nodes as [typeof ctx.cluster.nodes[0], typeof ctx.cluster.nodes[0]];
    const db1 = ctx.cluster.dbProxies[0]!;
    const a = await ctx.device(fresh('la'), n1);
    const b = await ctx.device(fresh('lb'), n2);
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onCallBegin');
    try {
      // n1's statement that ends the call reaches the database, which commits it; the answer never
      // comes back, and then the connection is cut.
      db1.deafAfter('"phase":"ended"');
      const hangup = a.engine.hangup().then(() => 'ok', (e: unknown) => String(e));
      const t0 = Date.now();
      while (db1.deafened === 0 && Date.now() - t0 < 5000) await sleep(20);
      assert.equal(db1.deafened, 1, 'the hang-up was committed through the deaf connection');
      await sleep(300);
      db1.sever();
      db1.restore();
      const end = await b.rec.waitFor('onCallEnd', (x) => x[0] === callId, 10_000);
      assert.equal(end.args[3], a.id, 'ended by the caller');
      assert.equal(await hangup, 'ok', 'the hang-up succeeded');
      await a.rec.waitFor('onCallEnd', (x) => x[0] === callId);
    } finally {
      db1.restore();
    }
  });
});
