/**
 * Deaf, not dead (SPEC §8): a node that loses Redis while its process lives on. The other nodes
 * stop hearing its beat and will end its devices' calls one heartbeat window later, so the deaf
 * node must let go of its sockets at once; its devices reconnect (here: the balancer sends them to
 * a live node) and resume there with nothing visible to their peers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CallEngine, CallEndReason, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { createTestDatabase, pgUnavailable } from './helpers/pg.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const REDIS_PORT = Number(new URL(process.env.OPENCALL_TEST_REDIS ?? 'redis://127.0.0.1:6379').port || 6379);
const HEARTBEAT_MS = 4000;
const why = await pgUnavailable();

describe('cluster: a node deaf to Redis (SPEC §8)', { skip: why ?? false }, () => {
  it('drops its sockets; its devices resume on a live node and their peers see nothing', async () => {
    const db = await createTestDatabase();
    const clusterName = `t${randomBytes(5).toString('hex')}`;
    const redisProxy = await startTcpProxy(REDIS_PORT);
    const nodes: RunningServer[] = [];
    const base = { storage: db.url, clusterName, heartbeatTimeoutMs: HEARTBEAT_MS };
    try {
      nodes.push(await startTestServer({ ...base, redis: `redis://127.0.0.1:${redisProxy.port}`, nodeId: 'deaf' }));
      nodes.push(await startTestServer({ ...base, redis: `redis://127.0.0.1:${REDIS_PORT}`, nodeId: 'live' }));
      const balancer = await startTcpProxy(nodes[0]!.port);
      const mk = async (url: string, name: string): Promise<TestUser> => {
        const id = `${name}${randomBytes(3).toString('hex')}`;
        const engine = new CallEngine({ serverUrl: url, sdkAppId: TEST_APP_ID });
        const rec = new Recorder();
        engine.addObserver(rec.observer);
        await engine.init(id, sig(id));
        return { id, engine, rec };
      };
      const a = await mk(balancer.url, 'deafa');
      const b = await mk(nodes[1]!.url, 'liveb');
      await a.engine.calls([b.id], CallMediaType.audio);
      await b.rec.waitFor('onCallReceived');
      await b.engine.accept();
      await a.rec.waitFor('onUserJoin');

      // Redis goes silent for the first node only; the balancer's health check moves new
      // connections to the live node.
      redisProxy.blackhole();
      balancer.retarget(nodes[1]!.port);
      const lostAt = Date.now();
      // Past the deaf node's fence and the others' reap time of anything left behind.
      await sleep(HEARTBEAT_MS + 2000);
      assert.ok(!b.rec.names().includes('onUserLeave'), `B saw nothing: ${b.rec.lines().join(' ')}`);
      assert.ok(!a.rec.names().includes('onCallEnd'), `A is still in the call: ${a.rec.lines().join(' ')}`);
      assert.ok(balancer.accepted >= 2, 'A reconnected through the balancer');
      // The call goes on through the live node.
      await b.engine.hangup();
      const end = await a.rec.waitFor('onCallEnd');
      assert.equal(end.args[2], CallEndReason.hangup);
      assert.ok(Date.now() - lostAt < HEARTBEAT_MS + 6000);
      await cleanup(a, b);
      await balancer.close();
    } finally {
      redisProxy.restore();
      for (const n of nodes) await n.close();
      await redisProxy.close();
      await db.drop();
    }
  });
});
