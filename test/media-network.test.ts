/**
 * SPEC §5.5 / §7 on impaired and relayed networks: network quality graded from real getStats()
 * through a UDP impairment proxy (no `tc netem` here), `down` and an ICE restart when the path
 * dies, and a relay-only call through a coturn this suite starts, with the server handing out
 * time-limited TURN credentials.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallMediaType, NetworkQuality } from '@opencall/client';
import { keepLoopbackCandidates } from '@opencall/client/node';
import type { RunningServer } from '@opencall/server';
import { startCoturn } from './helpers/coturn.js';
import type { TestCoturn } from './helpers/coturn.js';
import { requireProgram } from './helpers/janus.js';
import { cleanupAllMedia, cleanupMedia, connect, framesDuring, framesEverywhere, mediaUser } from './helpers/mediaUsers.js';
import type { MediaUser } from './helpers/mediaUsers.js';
import { rawSocket } from './helpers/rawSocket.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { UdpImpairmentProxy } from './helpers/udpProxy.js';
import { waitUntil } from './helpers/wrtcPeer.js';

// A failed test skips its own cleanup: sign out whatever it left so the file still ends.
afterEach(() => cleanupAllMedia());

/** Grades `u` was told for `userId`, newest last. */
function qualities(u: MediaUser, userId: string): NetworkQuality[] {
  return u.rec.events
    .filter((e) => e.name === 'onUserNetworkQualityChanged')
    .map((e) => (e.args[0] as { userId: string; quality: NetworkQuality }[]).find((q) => q.userId === userId)?.quality ?? NetworkQuality.unknown);
}

describe('network quality and ICE recovery through a UDP impairment proxy (SPEC §5.5)', { timeout: 120_000 }, () => {
  let server: RunningServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  /** Two users whose every packet goes through a fresh proxy. */
  async function proxied(tag: string): Promise<{ a: MediaUser; b: MediaUser; proxy: UdpImpairmentProxy }> {
    const proxy = await UdpImpairmentProxy.create(`${tag}_a`, `${tag}_b`);
    const a = await mediaUser(server, `${tag}_a`, { rewriteCandidate: proxy.hookFor(`${tag}_a`) });
    const b = await mediaUser(server, `${tag}_b`, { rewriteCandidate: proxy.hookFor(`${tag}_b`) });
    await connect(a, [b], CallMediaType.video);
    await framesEverywhere([a, b], { audio: 50, video: 5 }, 8000);
    return { a, b, proxy };
  }

  it('excellent or good through a clean proxy; poor or worse at 15 % loss with 150 ± 60 ms delay each way', async () => {
    const { a, b, proxy } = await proxied('nq');
    try {
      await waitUntil(() => qualities(b, a.id).length >= 2, 5000, 'two quality reports');
      const clean = qualities(b, a.id).at(-1)!;
      assert.ok(clean === NetworkQuality.excellent || clean === NetworkQuality.good, `clean path graded ${clean}`);
      proxy.set({ lossPct: 15, delayMs: 150, jitterMs: 60 });
      const from = qualities(b, a.id).length;
      // Two full 2 s windows under impairment.
      await waitUntil(() => qualities(b, a.id).length >= from + 3, 8000, 'three more reports');
      const impaired = qualities(b, a.id).slice(from + 1);
      console.log(`b grades a: clean ${clean}, impaired ${impaired.join(',')} (1 excellent … 5 vBad); proxy ${JSON.stringify(proxy.counts)}`);
      assert.ok(impaired.every((q) => q >= NetworkQuality.poor && q <= NetworkQuality.vBad), `impaired path graded ${impaired.join(',')}`);
      assert.ok(impaired.at(-1)! > clean);
      // Both directions go through the proxy: a's uplink as a sees it is graded down too.
      assert.ok(qualities(a, a.id).at(-1)! >= NetworkQuality.poor, `a's own uplink ${qualities(a, a.id).at(-1)}`);
      assert.ok((await framesDuring(b, a.id, 500)).audio > 0, 'media still flows, just worse');
    } finally {
      await cleanupMedia(a, b);
      proxy.close();
    }
  });

  it('when the path dies, quality reads down; once a new path exists, an ICE restart brings media back', async () => {
    const { a, b, proxy } = await proxied('ir');
    try {
      const t0 = Date.now();
      proxy.set({ blackhole: true }); // nothing gets through, STUN included
      await waitUntil(() => qualities(b, a.id).at(-1) === NetworkQuality.down, 9000, 'b to grade a down');
      console.log(`down ${Date.now() - t0} ms after the path died`);
      // A new network: the old ports are gone for good, so only an ICE restart (new candidates) recovers.
      await proxy.rebind();
      proxy.set({});
      const t1 = Date.now();
      const before = b.media.receivedFrames(a.id).audio;
      await waitUntil(() => b.media.receivedFrames(a.id).audio > before + 30, 15_000, 'audio again after an ICE restart');
      console.log(`media back ${Date.now() - t1} ms after the new path appeared`);
      const restarts = (await a.media.connections())[0]!.restarts + (await b.media.connections())[0]!.restarts;
      assert.ok(restarts >= 1, `ICE restarts: ${restarts}`);
      await waitUntil(() => qualities(b, a.id).at(-1)! <= NetworkQuality.good, 8000, 'quality back to good');
      assert.equal((await a.media.connections())[0]!.state, 'connected');
    } finally {
      await cleanupMedia(a, b);
      proxy.close();
    }
  });
});

const skipTurn = requireProgram('turnserver') ? false : 'turnserver not installed — install with apt-get install coturn';

describe('relay-only calls through coturn (SPEC §7: ICE servers from the server)', { skip: skipTurn }, () => {
  const secret = 'media-turn-secret';
  let coturn: TestCoturn | undefined;
  let server: RunningServer;
  before(async () => {
    if (skipTurn) return;
    coturn = await startCoturn({ secret });
    server = await startTestServer({ turn: { urls: coturn.url, secret, ttlSeconds: 600 } });
  });
  after(async () => {
    await server?.close();
    await coturn?.stop();
  });

  it('the auth answer carries time-limited TURN credentials', async () => {
    const raw = await rawSocket(server);
    const res = await raw.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'turn_x', userSig: sig('turn_x'), deviceId: 'dev-turn-x' });
    raw.close();
    const ice = (res.data as { iceServers: { urls: string; username: string; credential: string }[] }).iceServers;
    assert.equal(ice.length, 1);
    assert.equal(ice[0]!.urls, coturn!.url);
    const [expiry, user] = ice[0]!.username.split(':');
    assert.equal(user, 'turn_x');
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 590 && ttl <= 601, `expires in ${ttl} s`);
    assert.match(ice[0]!.credential, /^[A-Za-z0-9+/]{27}=$/);
  });

  it('a relay-only 1-to-1 call carries audio and video, relayed by coturn both ways', async () => {
    const opts = { iceTransportPolicy: 'relay' as const, rewriteCandidate: keepLoopbackCandidates };
    const a = await mediaUser(server, 'turn_a', opts);
    const b = await mediaUser(server, 'turn_b', opts);
    try {
      await connect(a, [b], CallMediaType.video);
      await framesEverywhere([a, b], { audio: 50, video: 5 }, 10_000);
      const { min, max } = coturn!.relayPorts;
      for (const u of [a, b]) {
        const [link] = await u.media.connections();
        assert.equal(link?.remote?.candidateType, 'relay', `${u.id}: ${JSON.stringify(link)}`);
        assert.ok(link.remote.port >= min && link.remote.port <= max, `relayed port ${link.remote.port} is coturn's (${min}-${max})`);
      }
    } finally {
      await cleanupMedia(a, b);
    }
  });
});
