/**
 * Cluster mode (SPEC §8) with three nodes in this process on one PostgreSQL database and one Redis:
 * every user is pinned to a node by connecting to it directly (or through a proxy that can send the
 * client to another node, like a load balancer would). Fast enough for every `npm test`; the
 * process-level suite (real SIGKILLs behind nginx) is test/cluster/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { createTestDatabase, pgUnavailable } from './helpers/pg.js';
import type { TestDatabase } from './helpers/pg.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder } from './webhooks-support.js';
import type { TestUser } from './helpers/users.js';

const audio = CallMediaType.audio;
const REDIS = process.env.OPENCALL_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const HEARTBEAT_MS = 1500;

const why = await pgUnavailable();

describe('cluster mode, three nodes in one process (SPEC §8)', { skip: why ?? false }, () => {
  let db: TestDatabase;
  const nodes: RunningServer[] = [];
  const clusterName = `t${randomBytes(5).toString('hex')}`;
  let seq = 0;

  before(async () => {
    db = await createTestDatabase();
    for (const n of ['n1', 'n2', 'n3']) {
      nodes.push(await startTestServer({ storage: db.url, redis: REDIS, clusterName, nodeId: n, heartbeatTimeoutMs: HEARTBEAT_MS }));
    }
  });
  after(async () => {
    for (const n of nodes) await n.close();
    await db.drop();
    const { Redis } = await import('ioredis');
    const r = new Redis(REDIS);
    const keys = await r.keys(`opencall:${clusterName}:*`);
    if (keys.length > 0) await r.del(...keys);
    await r.quit();
  });

  /** A signed-in user connected to node `i` (or to `url`). */
  async function on(i: number | string, name: string): Promise<TestUser> {
    const id = `${name}${++seq}`;
    const serverUrl = typeof i === 'string' ? i : nodes[i]!.url;
    const engine = new CallEngine({ serverUrl, sdkAppId: TEST_APP_ID });
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init(id, sig(id));
    return { id, engine, rec };
  }

  it('/healthz lists the live nodes', async () => {
    const h = (await (await fetch(`${nodes[1]!.url}/healthz`)).json()) as { cluster: { nodeId: string; nodes: string[] }; storage: string };
    assert.equal(h.storage, 'postgres');
    assert.equal(h.cluster.nodeId, 'n2');
    assert.deepEqual(h.cluster.nodes, ['n1', 'n2', 'n3']);
  });

  it('1-to-1 across nodes: ring, accept, hang up, records read on a third node', async () => {
    const a = await on(0, 'a');
    const b = await on(1, 'b');
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    assert.deepEqual(b.rec.lines(), [`onCallReceived(callId,${a.id},[${b.id}],1,info(2))`, 'onCallBegin(callId,1,info(2))', `onUserJoin(${a.id})`]);
    await a.rec.waitFor('onUserJoin');
    assert.deepEqual(a.rec.lines(), ['onCallBegin(callId,1,info(1))', `onUserJoin(${b.id})`]);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(b.rec.lines().slice(3), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,1,${a.id},${String(b.rec.events.at(-1)!.args[4])},info(2))`]);
    const c = await on(2, 'c');
    // Records are per user: read b's through an engine on the third node.
    const b2 = new CallEngine({ serverUrl: nodes[2]!.url, sdkAppId: TEST_APP_ID });
    await b.engine.unInit();
    await b2.init(b.id, sig(b.id));
    const [rec] = await b2.queryRecentCalls();
    assert.equal(rec?.callId, callId);
    assert.equal(rec?.result, 'incoming');
    await b2.unInit();
    await cleanup(a, c);
  });

  it('busy is decided once when two callers on two nodes call one user at the same instant (10 rounds)', async () => {
    for (let round = 0; round < 10; round++) {
      const x = await on(0, 'x');
      const y = await on(1, 'y');
      const z = await on(2, 'z');
      await Promise.all([x.engine.calls([z.id], audio), y.engine.calls([z.id], audio)]);
      await z.rec.waitFor('onCallReceived');
      // Exactly one caller hears line busy; the other's invitation rings.
      const busy = await Promise.race([x.rec.waitFor('onUserLineBusy').then(() => 'x'), y.rec.waitFor('onUserLineBusy').then(() => 'y')]);
      await sleep(100);
      assert.equal(z.rec.names().filter((n) => n === 'onCallReceived').length, 1, `round ${round}: rung once`);
      const other = busy === 'x' ? y : x;
      assert.ok(!other.rec.names().includes('onUserLineBusy'), `round ${round}: only one caller sees busy`);
      await cleanup(x, y, z);
    }
  });

  it('glare across nodes: B calls A while A→B rings at B; both connect in A\'s call', async () => {
    const a = await on(0, 'ga');
    const b = await on(2, 'gb');
    const { callId } = await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    const merged = await b.engine.calls([a.id], audio);
    assert.equal(merged.callId, callId);
    await a.rec.waitFor('onCallBegin');
    assert.ok(b.rec.names().includes('onCallBegin'));
    await cleanup(a, b);
  });

  it('glare at the same instant on two nodes merges into one connected call (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await on(0, 'sa');
      const b = await on(1, 'sb');
      const [ra, rb] = await Promise.all([a.engine.calls([b.id], audio), b.engine.calls([a.id], audio)]);
      assert.equal(ra.callId, rb.callId, `round ${round}: one call; A saw ${a.rec.lines().join(' ')}; B saw ${b.rec.lines().join(' ')}`);
      await a.rec.waitFor('onCallBegin');
      await b.rec.waitFor('onCallBegin');
      await cleanup(a, b);
    }
  });

  it('kick across nodes: a sign-in on node 2 signs the device on node 1 out after its final call event', async () => {
    const a = await on(0, 'ka');
    const b = await on(1, 'kb');
    await a.engine.calls([b.id], audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    const a2 = new CallEngine({ serverUrl: nodes[2]!.url, sdkAppId: TEST_APP_ID });
    await a2.init(a.id, sig(a.id));
    await a.rec.waitFor('onKickedOffline');
    assert.deepEqual(a.rec.names().slice(-2), ['onCallEnd', 'onKickedOffline']);
    assert.equal(a.rec.events.at(-2)!.args[2], CallEndReason.offline);
    await b.rec.waitFor('onCallEnd');
    assert.equal(b.rec.events.at(-1)!.args[2], CallEndReason.offline);
    await a2.unInit();
    await cleanup(a, b);
  });

  it('policy kick: one user signing in on two nodes at the same instant ends with exactly one device (5 rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const id = `dual${++seq}`;
      const engines = [0, 1].map((i) => new CallEngine({ serverUrl: nodes[i]!.url, sdkAppId: TEST_APP_ID }));
      const recs = engines.map((e) => {
        const r = new Recorder();
        e.addObserver(r.observer);
        return r;
      });
      await Promise.allSettled(engines.map((e) => e.init(id, sig(id))));
      await sleep(600);
      const kicked = recs.filter((r) => r.names().includes('onKickedOffline')).length;
      assert.equal(kicked, 1, `round ${round}: exactly one of the two devices was signed out`);
      // The survivor is reachable: a call to the user rings it.
      const caller = await on(2, 'dc');
      await caller.engine.calls([id], audio);
      const survivor = recs.findIndex((r) => !r.names().includes('onKickedOffline'));
      await recs[survivor]!.waitFor('onCallReceived');
      await cleanup(caller);
      await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
    }
  });

  it('a device that reconnects to another node resumes: nothing visible to the peer, missed events replayed', async () => {
    const proxy = await startTcpProxy(nodes[0]!.port);
    const a = await on(proxy.url, 'ra');
    const b = await on(1, 'rb');
    const c = await on(2, 'rc');
    await a.engine.calls([b.id, c.id], audio);
    await b.rec.waitFor('onCallReceived');
    await c.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    // The balancer sends A elsewhere; while A is away, C rejects.
    proxy.sever();
    proxy.retarget(nodes[2]!.port);
    await c.engine.reject();
    await sleep(200);
    proxy.restore();
    await a.rec.waitFor('onUserReject', () => true, 5000);
    await sleep(HEARTBEAT_MS + 500);
    assert.ok(!b.rec.names().includes('onUserLeave'), `B saw nothing: ${b.rec.lines().join(' ')}`);
    assert.equal(a.rec.names().filter((n) => n === 'onUserReject').length, 1, 'replayed once');
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.equal(b.rec.events.at(-1)!.args[2], CallEndReason.hangup);
    await cleanup(a, b, c);
    await proxy.close();
  });

  it('a ring timeout set by one node fires when that node is gone', async () => {
    const extra = await startTestServer({ storage: db.url, redis: REDIS, clusterName, nodeId: 'n4', heartbeatTimeoutMs: HEARTBEAT_MS });
    const a = await on(extra.url, 'ta');
    const b = await on(1, 'tb');
    const at = Date.now();
    await a.engine.calls([b.id], audio, { timeout: 2 });
    await b.rec.waitFor('onCallReceived');
    await extra.close();
    await b.rec.waitFor('onCallNotConnected', () => true, 6000);
    const took = Date.now() - at;
    assert.ok(took <= 2000 + HEARTBEAT_MS + 2500, `ended ${took} ms after the invite`);
    await cleanup(a, b);
  });
});

describe('cluster mode webhooks (SPEC §8): one deliverer, each event once, in order per call', { skip: why ?? false }, () => {
  it('calls handled by three nodes deliver every event id exactly once, in sequence order per call', async () => {
    const db = await createTestDatabase();
    const hooks = await HookRecorder.start();
    const clusterName = `t${randomBytes(5).toString('hex')}`;
    const nodes: RunningServer[] = [];
    try {
      for (const n of ['w1', 'w2', 'w3']) {
        nodes.push(await startTestServer({ storage: db.url, redis: REDIS, clusterName, nodeId: n, webhookUrl: hooks.url, webhookSecret: HOOK_SECRET }));
      }
      const calls: string[] = [];
      for (let i = 0; i < 6; i++) {
        const mk = async (node: number, name: string): Promise<TestUser> => {
          const id = `${name}${i}${randomBytes(2).toString('hex')}`;
          const engine = new CallEngine({ serverUrl: nodes[node]!.url, sdkAppId: TEST_APP_ID });
          const rec = new Recorder();
          engine.addObserver(rec.observer);
          await engine.init(id, sig(id));
          return { id, engine, rec };
        };
        const a = await mk(i % 3, 'wa');
        const b = await mk((i + 1) % 3, 'wb');
        const { callId } = await a.engine.calls([b.id], audio);
        calls.push(callId);
        await b.rec.waitFor('onCallReceived');
        await b.engine.accept();
        await a.rec.waitFor('onUserJoin');
        await b.engine.hangup();
        await a.rec.waitFor('onCallEnd');
        await cleanup(a, b);
      }
      for (const callId of calls) {
        // Start, accept, hangup (member changed), ..., end.
        await hooks.waitAcked(callId, 4, 8000);
        for (let i = 0; i < 200 && !hooks.acked(callId).some((h) => h.command === 'Call.CallbackAfterEndCall'); i++) await sleep(20);
        const got = hooks.acked(callId);
        const seqs = got.map((h) => h.seq);
        assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), `in order for ${callId}`);
        assert.equal(got.at(-1)!.command, 'Call.CallbackAfterEndCall');
      }
      await sleep(500);
      const ids = hooks.hits.map((h) => h.eventId);
      assert.equal(new Set(ids).size, ids.length, 'no event id delivered twice');
    } finally {
      for (const n of nodes) await n.close();
      await hooks.close();
      await db.drop();
    }
  });
});
