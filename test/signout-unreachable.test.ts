/**
 * Signing out while the server is unreachable (issue 15): `unInit()` finishes within 1 s instead
 * of waiting for a reconnection, and the server settles the call by heartbeat: the peer sees the
 * usual `offline` ending.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { startTestServer, sig, TEST_APP_ID } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import type { TcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const HEARTBEAT_MS = 1500;

describe('unInit while the server is unreachable', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer({ heartbeatTimeoutMs: HEARTBEAT_MS, defaultRingTimeoutSeconds: 30 });
  });
  after(() => server.close());

  /** A user whose connection goes through its own proxy. */
  async function proxied(id: string): Promise<TestUser & { proxy: TcpProxy }> {
    const proxy = await startTcpProxy(Number(new URL(server.url).port));
    after(() => proxy.close());
    const engine = new CallEngine({ serverUrl: proxy.url, sdkAppId: TEST_APP_ID, logger: { warn: () => undefined } });
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    await engine.init(id, sig(id));
    return { id, engine, rec, proxy };
  }

  for (const outage of ['blackhole', 'sever'] as const) {
    it(`connected call, network ${outage === 'blackhole' ? 'blackholed' : 'cut'}: unInit resolves within 1 s, the peer sees offline`, async () => {
      const a = await proxied(`a-${outage}`);
      const b = await user(server, `b-${outage}`);
      try {
        await a.engine.calls([b.id], CallMediaType.audio);
        await b.rec.waitFor('onCallReceived');
        await b.engine.accept();
        await a.rec.waitFor('onCallBegin');
        a.proxy[outage]();
        const t0 = performance.now();
        await a.engine.unInit();
        const ms = performance.now() - t0;
        assert.ok(ms <= 1000, `unInit took ${Math.round(ms)} ms`);
        const end = await b.rec.waitFor('onCallEnd', undefined, HEARTBEAT_MS + 5000);
        assert.deepEqual(end.args.slice(2, 4), [CallEndReason.offline, a.id]);
        assert.deepEqual(b.rec.names().slice(-2), ['onUserLeave', 'onCallEnd']);
      } finally {
        await cleanup(a, b);
      }
    });
  }

  it('with the server reachable, unInit still hangs up first: the peer sees a hangup at once', async () => {
    const a = await proxied('a-ok');
    const b = await user(server, 'b-ok');
    try {
      await a.engine.calls([b.id], CallMediaType.audio);
      await b.rec.waitFor('onCallReceived');
      await b.engine.accept();
      await a.rec.waitFor('onCallBegin');
      await a.engine.unInit();
      const end = await b.rec.waitFor('onCallEnd', undefined, 1000);
      assert.deepEqual(end.args.slice(2, 4), [CallEndReason.hangup, a.id]);
    } finally {
      await cleanup(a, b);
    }
  });
});
