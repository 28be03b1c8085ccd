/**
 * SPEC §7 group media with real media: multi/group calls through Janus (the suite starts its own
 * loopback Janus and points the server at it), the move of a growing 1-to-1 call to the SFU, and
 * the mesh fallback when there is no SFU. Proof that Janus carried the media: every connection of
 * every client ends at a port of Janus's own RTP range, and there are no peer-to-peer ones.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngine, CallMediaType, CallStatus } from '@opencall/client';
import type { CallEngineError } from '@opencall/client';
import { FakeMedia } from '../packages/client/src/media/FakeMedia.js';
import type { RunningServer } from '@opencall/server';
import { requireProgram, startJanus } from './helpers/janus.js';
import type { TestJanus } from './helpers/janus.js';
import { cleanupAllMedia, cleanupMedia, connect, framesDuring, framesEverywhere, mediaUser, waitFor } from './helpers/mediaUsers.js';
import type { MediaUser } from './helpers/mediaUsers.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { sleep } from './helpers/users.js';
import { waitUntil } from './helpers/wrtcPeer.js';

// A failed test skips its own cleanup: sign out whatever it left so the file still ends.
afterEach(() => cleanupAllMedia());

const skip = requireProgram('janus') ? false : 'janus not installed — install with apt-get install janus';

let janus: TestJanus | undefined;
let server: RunningServer;
before(async () => {
  if (skip) return;
  // A Janus of our own; the server reaches it as `sfu: { janusUrl }` (no admin key on that path).
  janus = await startJanus({ requireAdminKey: false, rtpPortCount: 200 });
  server = await startTestServer({ sfu: { janusUrl: janus.url }, maxParticipants: 9 });
});
after(async () => {
  await server?.close();
  await janus?.stop();
});

let n = 0;
async function users(k: number, prefix = 's'): Promise<MediaUser[]> {
  n++;
  const out: MediaUser[] = [];
  for (let i = 0; i < k; i++) out.push(await mediaUser(server, `${prefix}${n}_${i}`));
  return out;
}

/** Asserts that `u`'s media goes through Janus only: a publisher and a subscriber ending at Janus ports. */
async function assertThroughJanus(u: MediaUser, others: MediaUser[]): Promise<void> {
  const { min, max } = janus!.rtpPortRange;
  await waitFor(async () => (await u.media.connections()).every((c) => c.pc !== 'p2p'), 3000, `${u.id}'s peer-to-peer links to close`);
  const conns = await u.media.connections();
  assert.deepEqual(conns.map((c) => c.pc).sort(), ['pub', 'sub'], `${u.id}: ${JSON.stringify(conns)}`);
  for (const c of conns) {
    assert.equal(c.state, 'connected');
    assert.ok(c.remote && c.remote.port >= min && c.remote.port <= max, `${u.id} ${c.pc} ends at ${JSON.stringify(c.remote)}, not Janus (${min}-${max})`);
  }
  assert.deepEqual([...conns.find((c) => c.pc === 'sub')!.carries].sort(), others.map((o) => o.id).sort());
}

/** Longest stretch (ms) during `ms` in which no audio frame from `from` arrived at `u`. */
async function longestAudioGap(u: MediaUser, from: string, ms: number, during: () => Promise<void>): Promise<number> {
  let last = u.media.receivedFrames(from).audio;
  let lastAt = Date.now();
  let longest = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(20);
      const now = u.media.receivedFrames(from).audio;
      if (now > last) {
        longest = Math.max(longest, Date.now() - lastAt);
        last = now;
        lastAt = Date.now();
      }
    }
  })();
  await during();
  await sleep(ms);
  sampling = false;
  await sampler;
  return Math.max(longest, Date.now() - lastAt);
}

describe('group media through Janus (SPEC §7)', { skip, timeout: 120_000 }, () => {
  it('a group call of 3: everyone receives everyone\'s audio and video, through Janus only', async () => {
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { sfu: string };
    assert.equal(health.sfu, 'janus');
    const [a, b, c] = await users(3);
    await connect(a!, [b!, c!], CallMediaType.video, { chatGroupId: 'group-1' });
    await framesEverywhere([a!, b!, c!], { audio: 50, video: 5 }, 10_000);
    for (const u of [a!, b!, c!]) await assertThroughJanus(u, [a!, b!, c!].filter((o) => o !== u));
    // Every side learned the others' devices (relayed and replayed to late joiners by the server).
    for (const u of [b!, c!]) await a!.rec.waitFor('onUserVideoAvailable', (x) => x[0] === u.id && x[1] === true);
    await cleanupMedia(a!, b!, c!);
  });

  it('a 1-to-1 call that grows by inviteUser moves to Janus; the first two never lose each other for more than a moment', async () => {
    const [a, b, c] = await users(3);
    await connect(a!, [b!], CallMediaType.video);
    await framesEverywhere([a!, b!], { audio: 50, video: 5 }, 8000);
    assert.deepEqual((await a!.media.connections()).map((x) => x.pc), ['p2p']);
    const gap = await longestAudioGap(b!, a!.id, 2500, async () => {
      await a!.engine.inviteUser([c!.id]);
      await c!.rec.waitFor('onCallReceived');
      await c!.engine.accept();
    });
    console.log(`longest gap in a's audio at b while moving to the SFU: ${gap} ms`);
    assert.ok(gap < 1000, `a's audio stopped at b for ${gap} ms`);
    await framesEverywhere([a!, b!, c!], { audio: 50, video: 5 }, 10_000);
    for (const u of [a!, b!, c!]) await assertThroughJanus(u, [a!, b!, c!].filter((o) => o !== u));
    const ba = await framesDuring(b!, a!.id, 600);
    assert.ok(ba.audio > 30 && ba.video > 3, `a still reaches b: ${JSON.stringify(ba)}`);
    // The late joiner learned the devices a and b had opened long before (remembered by the server).
    for (const u of [a!, b!]) {
      await c!.rec.waitFor('onUserAudioAvailable', (x) => x[0] === u.id && x[1] === true);
      await c!.rec.waitFor('onUserVideoAvailable', (x) => x[0] === u.id && x[1] === true);
    }
    const lines = c!.rec.lines();
    assert.ok(lines.indexOf(`onUserAudioAvailable(${a!.id},true)`) > lines.indexOf(`onUserJoin(${a!.id})`), lines.join(' '));
    await cleanupMedia(a!, b!, c!);
  });

  it('when one of three hangs up, the other two keep receiving each other and the leaver\'s media is gone', async () => {
    const [a, b, c] = await users(3);
    await connect(a!, [b!, c!], CallMediaType.video);
    await framesEverywhere([a!, b!, c!], { audio: 50, video: 5 }, 10_000);
    await c!.engine.hangup();
    await a!.rec.waitFor('onUserLeave', (x) => x[0] === c!.id);
    await waitFor(async () => (await a!.media.connections()).find((x) => x.pc === 'sub')?.carries.join() === b!.id, 5000, "a's subscriber to carry only b");
    await sleep(700);
    assert.deepEqual(await framesDuring(a!, c!.id, 600), { audio: 0, video: 0 });
    const ab = await framesDuring(a!, b!.id, 800);
    const ba = await framesDuring(b!, a!.id, 800);
    assert.ok(ab.audio > 40 && ab.video > 3 && ba.audio > 40 && ba.video > 3, `a↔b after c left: ${JSON.stringify({ ab, ba })}`);
    await cleanupMedia(a!, b!, c!);
  });

  it('a group call of 9 (audio): each participant hears all 8 others, through Janus', { timeout: 60_000 }, async () => {
    const group = await users(9, 'g');
    const t0 = performance.now();
    await connect(group[0]!, group.slice(1), CallMediaType.audio, { chatGroupId: 'nine' });
    await framesEverywhere(group, { audio: 20, video: 0 }, 30_000);
    console.log(`9 participants: everyone hears everyone ${Math.round(performance.now() - t0)} ms after the first invite`);
    await assertThroughJanus(group[4]!, group.filter((_, i) => i !== 4));
    await cleanupMedia(...group);
  });
});

describe('the media relay: topology per scene, SFU signals only where there is a room', { skip }, () => {
  it("a 1-to-1 call is announced p2p and refuses signals to 'sfu' (-1203); a group call is announced sfu", async () => {
    const fakes: FakeMedia[] = [];
    const engines: CallEngine[] = [];
    for (const id of ['relay_a', 'relay_b', 'relay_c']) {
      const media = new FakeMedia();
      const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, media, logger: { warn: () => undefined } });
      await engine.init(id, sig(id));
      fakes.push(media);
      engines.push(engine);
    }
    const [a, b, c] = engines as [CallEngine, CallEngine, CallEngine];
    const [fa, fb, fc] = fakes as [FakeMedia, FakeMedia, FakeMedia];
    const topologies = (f: FakeMedia): unknown[] => f.calls.filter((x) => x.method === 'handleTopology').map((x) => x.args[0]);
    try {
      await a.calls(['relay_b'], CallMediaType.audio);
      await waitUntil(() => b.currentCall !== null, 3000, 'b ringing');
      await b.accept();
      await waitUntil(() => topologies(fa).length === 1 && topologies(fb).length === 1, 3000, 'topology at a and b');
      assert.deepEqual([topologies(fa), topologies(fb)], [['p2p'], ['p2p']]);
      await assert.rejects(fa.context!.sendSignal('sfu', { kind: 'offer', pc: 'pub', sdp: 'v=0' }), (e: CallEngineError) => e.code === -1203);
      await a.hangup();
      await a.calls(['relay_b', 'relay_c'], CallMediaType.audio, { chatGroupId: 'g-relay' });
      await waitUntil(() => b.currentCall?.status === CallStatus.waiting && c.currentCall?.status === CallStatus.waiting, 3000, 'b and c ringing');
      await b.accept();
      await c.accept();
      await waitUntil(() => [fa, fb, fc].every((f) => topologies(f).at(-1) === 'sfu'), 3000, 'sfu topology everywhere');
      // A malformed offer reaches Janus and is refused there: the request fails, nothing breaks.
      await assert.rejects(fa.context!.sendSignal('sfu', { kind: 'offer', pc: 'pub', sdp: 'v=0' }), (e: CallEngineError) => e.code === -1203);
    } finally {
      await Promise.all(engines.map((e) => e.unInit()));
    }
  });
});

describe('mesh fallback without an SFU (SPEC §7)', { timeout: 120_000 }, () => {
  let mesh: RunningServer;
  before(async () => {
    mesh = await startTestServer({ sfu: 'none' });
  });
  after(() => mesh.close());

  it('a multi call of 3 on a server without Janus is a mesh: a direct connection to each peer, frames everywhere', async () => {
    const health = (await (await fetch(`${mesh.url}/healthz`)).json()) as { sfu: string };
    assert.equal(health.sfu, 'mesh');
    const [a, b, c] = [await mediaUser(mesh, 'mesh_a'), await mediaUser(mesh, 'mesh_b'), await mediaUser(mesh, 'mesh_c')];
    await connect(a, [b, c], CallMediaType.video);
    await framesEverywhere([a, b, c], { audio: 50, video: 5 }, 10_000);
    for (const u of [a, b, c]) {
      const conns = await u.media.connections();
      assert.deepEqual(conns.map((x) => `${x.pc}:${x.peer}`).sort(), [a, b, c].filter((o) => o !== u).map((o) => `p2p:${o.id}`).sort());
      assert.equal(u.media.mode, 'mesh');
    }
    await cleanupMedia(a, b, c);
  });
});

describe('when Janus dies mid-call (SPEC §7: mesh fallback)', { skip }, () => {
  it('the call falls back to a mesh and everyone keeps receiving everyone', async () => {
    // Last in the file's Janus tests: this stops the suite's Janus.
    const [a, b, c] = await users(3, 'x');
    await connect(a!, [b!, c!], CallMediaType.audio);
    await framesEverywhere([a!, b!, c!], { audio: 30, video: 0 }, 10_000);
    await janus!.stop();
    await waitFor(async () => (await Promise.all([a!, b!, c!].map((u) => u.media.connections()))).every((conns) => conns.length === 2 && conns.every((x) => x.pc === 'p2p' && x.state === 'connected')), 15_000, 'a connected mesh');
    for (const u of [a!, b!, c!]) assert.equal(u.media.mode, 'mesh');
    for (const [u, o] of [[a!, b!], [b!, c!], [c!, a!]] as const) assert.ok((await framesDuring(u, o.id, 600)).audio > 30, `${o.id} heard at ${u.id} over the mesh`);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { sfu: string };
    assert.equal(health.sfu, 'mesh');
    await cleanupMedia(a!, b!, c!);
  });
});
