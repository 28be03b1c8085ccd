import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCoturn } from '../../../../test/helpers/coturn.js';
import type { TestCoturn } from '../../../../test/helpers/coturn.js';
import { requireProgram } from '../../../../test/helpers/janus.js';
import { selectedRemote, TestPeer, waitUntil } from '../../../../test/helpers/wrtcPeer.js';
import { iceServersFor } from './turn.js';

const skip = requireProgram('turnserver') ? false : 'turnserver not installed — install with apt-get install coturn';
const SECRET = 'relay-test-secret';
let coturn: TestCoturn | undefined;
before(async () => {
  if (skip) return;
  coturn = await startCoturn({ secret: SECRET });
  console.log(`coturn answered STUN after ${coturn.startMs} ms`);
});
after(async () => {
  await coturn?.stop();
});

test('relay-only wrtc→wrtc call through coturn with use-auth-secret credentials carries media', { skip, timeout: 15_000 }, async () => {
  const turn = { urls: coturn!.url, secret: SECRET, ttlSeconds: 600 };
  const types: string[] = [];
  const a: TestPeer = new TestPeer({
    iceServers: iceServersFor(turn, 'alice'),
    iceTransportPolicy: 'relay',
    onCandidate: (c) => {
      if (c) types.push(c.candidate.split(' ')[7]!);
      void b.pc.addIceCandidate(c ?? undefined).catch(() => undefined);
    },
  });
  const b: TestPeer = new TestPeer({
    iceServers: iceServersFor(turn, 'bob'),
    iceTransportPolicy: 'relay',
    onCandidate: (c) => void a.pc.addIceCandidate(c ?? undefined).catch(() => undefined),
  });
  try {
    a.addLocalMedia({});
    b.receive();
    const t0 = performance.now();
    const offer = await a.pc.createOffer();
    await a.pc.setLocalDescription(offer);
    await b.pc.setRemoteDescription(offer);
    const answer = await b.pc.createAnswer();
    await b.pc.setLocalDescription(answer);
    await a.pc.setRemoteDescription(answer);
    await Promise.all([a.waitConnected(8000), b.waitConnected(8000)]);
    console.log(`relay offer→connected: ${Math.round(performance.now() - t0)} ms`);
    await waitUntil(() => b.frames().audio >= 50 && b.frames().video >= 5, 6000, 'frames over the relay');
    assert.ok(types.length > 0 && types.every((t) => t === 'relay'), `only relay candidates: ${types.join(',')}`);
    const remote = await selectedRemote(a.pc);
    assert.equal(remote?.candidateType, 'relay');
    const { min, max } = coturn!.relayPorts;
    assert.ok(remote.port >= min && remote.port <= max, `relayed port ${remote.port} is coturn's (${min}-${max})`);
  } finally {
    a.close();
    b.close();
  }
});

test('coturn refuses credentials signed with another secret (no relay candidates)', { skip, timeout: 10_000 }, async () => {
  const bad = iceServersFor({ urls: coturn!.url, secret: 'wrong-secret', ttlSeconds: 600 }, 'mallory');
  const found: string[] = [];
  let done = false;
  const p = new TestPeer({ iceServers: bad, iceTransportPolicy: 'relay', onCandidate: (c) => (c ? found.push(c.candidate) : (done = true)) });
  try {
    p.addLocalMedia({ video: false });
    await p.pc.setLocalDescription(await p.pc.createOffer());
    await waitUntil(() => done || p.pc.iceGatheringState === 'complete', 8000, 'gathering to end');
    assert.deepEqual(found, []);
  } finally {
    p.close();
  }
});
