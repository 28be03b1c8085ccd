/**
 * A node started while Redis is not reachable yet (SPEC §8): the stack coming up in any order, a
 * node restarted during a Redis restart or failover. The node keeps trying (up to
 * REDIS_STARTUP_WAIT_MS) instead of exiting, and once Redis answers it starts and carries calls.
 * The chaos run found it: a node killed while its Redis connections were paused exited during
 * start-up and stayed down.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { pino } from 'pino';
import { ClusterLink } from '../packages/server/src/cluster/ClusterLink.js';
import { RedisLive } from '../packages/server/src/cluster/redis/RedisLive.js';
import { Presence } from '../packages/server/src/signaling/Presence.js';
import { createTestDatabase, pgUnavailable } from './helpers/pg.js';
import { startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import type { TcpProxy } from './helpers/tcpProxy.js';
import { cleanup, sleep, user } from './helpers/users.js';

const REDIS_PORT = Number(new URL(process.env.OPENCALL_TEST_REDIS ?? 'redis://127.0.0.1:6379').port || 6379);
const why = await pgUnavailable();

/** How long Redis stays out after the node starts: longer than one connect attempt and its 1 s command timeout. */
const OUT_MS = 2500;

describe('cluster: a node started before Redis answers (SPEC §8)', { skip: why ?? false }, () => {
  const cases: { name: string; outage: (p: TcpProxy) => void; repair: (p: TcpProxy) => void }[] = [
    { name: 'Redis refusing connections (down)', outage: (p) => p.sever(), repair: (p) => p.restore() },
    { name: 'Redis holding every byte (stalled)', outage: (p) => p.pause(), repair: (p) => p.resume() },
  ];
  for (const c of cases) {
    it(`${c.name}: the node waits, starts once Redis answers, and rings calls`, async () => {
      const db = await createTestDatabase();
      const redisProxy = await startTcpProxy(REDIS_PORT);
      let node: RunningServer | undefined;
      try {
        c.outage(redisProxy);
        const startedAt = Date.now();
        const starting = startTestServer({
          storage: db.url,
          redis: `redis://127.0.0.1:${redisProxy.port}`,
          clusterName: `t${randomBytes(5).toString('hex')}`,
          nodeId: 'late',
        });
        let settled = false;
        void starting.then(() => (settled = true), () => (settled = true));
        await sleep(OUT_MS);
        assert.equal(settled, false, 'the start neither failed nor finished while Redis was out');
        c.repair(redisProxy);
        node = await starting;
        assert.ok(Date.now() - startedAt >= OUT_MS);

        const a = await user(node, `ra${randomBytes(3).toString('hex')}`);
        const b = await user(node, `rb${randomBytes(3).toString('hex')}`);
        await a.engine.calls([b.id], CallMediaType.audio);
        await b.rec.waitFor('onCallReceived');
        await b.engine.accept();
        await a.rec.waitFor('onCallBegin');
        await a.engine.hangup();
        const end = await b.rec.waitFor('onCallEnd');
        assert.equal(end.args[2], CallEndReason.hangup);
        await cleanup(a, b);
      } finally {
        redisProxy.restore();
        await node?.close();
        await redisProxy.close();
        await db.drop();
      }
    });
  }

  for (const c of cases) {
    it(`${c.name} past the start-up wait: the start fails in time and stops re-trying`, async () => {
      const redisProxy = await startTcpProxy(REDIS_PORT);
      const live = new RedisLive(`redis://127.0.0.1:${redisProxy.port}`, `t${randomBytes(5).toString('hex')}`, 'never', pino({ level: 'silent' }));
      const link = new ClusterLink({
        live,
        presence: new Presence('kick', 1 << 20),
        policy: 'kick',
        heartbeatTimeoutMs: 1500,
        log: pino({ level: 'silent' }),
        now: Date.now,
        deviceGone: async () => undefined,
        startupWaitMs: 3000,
      });
      try {
        c.outage(redisProxy);
        const startedAt = Date.now();
        await assert.rejects(link.start());
        const took = Date.now() - startedAt;
        // The wait, plus at most one attempt (2 s) and one pause between attempts.
        assert.ok(took >= 3000 && took < 3000 + 2000 + 1500, `gave up after ${took} ms`);
        // Nothing keeps connecting once it gave up.
        await sleep(300);
        const tries = redisProxy.accepted;
        await sleep(1500);
        assert.equal(redisProxy.accepted, tries, 'no connection attempts after the start gave up');
      } finally {
        redisProxy.restore();
        await redisProxy.close();
      }
    });
  }
});
