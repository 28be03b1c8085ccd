import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { requireProgram, startJanus } from '../../../../test/helpers/janus.js';
import type { TestJanus } from '../../../../test/helpers/janus.js';
import { sdpCandidates, selectedRemote, TestPeer, waitUntil } from '../../../../test/helpers/wrtcPeer.js';
import { JanusSfu } from './JanusSfu.js';
import type { FeedEvent, SubscribedStream, SubscriberOffer } from './JanusSfu.js';
import type { MediaLogger } from './types.js';

const skip = requireProgram('janus') ? false : 'janus not installed — install with apt-get install janus';
// Warnings and errors are printed (they would explain a failure); MEDIA_DEBUG=1 adds debug lines.
const log: MediaLogger = {
  info: () => undefined,
  debug: (o, m) => (process.env.MEDIA_DEBUG ? console.log('debug', m, o) : undefined),
  warn: (o, m) => console.log('warn', m, o),
  error: (o, m) => console.log('error', m, o),
};

let janus: TestJanus | undefined;
before(async () => {
  if (!skip) janus = await startJanus();
});
after(async () => {
  await janus?.stop();
});

/** One participant: an upstream (publisher) and a downstream (subscriber) wrtc connection. */
interface Member {
  userId: string;
  pub: TestPeer;
  sub: TestPeer | null;
  streams: SubscribedStream[];
}

function labelFor(m: Member): (ev: RTCTrackEvent) => string {
  return (ev) => m.streams.find((s) => s.mid === ev.transceiver.mid)?.userId ?? `unknown-mid-${ev.transceiver.mid}`;
}

async function publish(sfu: JanusSfu, callId: string, userId: string, frequencyHz: number): Promise<Member> {
  const pub = new TestPeer({ onCandidate: (c) => void sfu.trickle(callId, userId, 'pub', c).catch((e: unknown) => log.warn({ e }, 'trickle')) });
  pub.addLocalMedia({ frequencyHz });
  const offer = await pub.pc.createOffer();
  await pub.pc.setLocalDescription(offer);
  const { answerSdp, feedId } = await sfu.publish(callId, userId, offer.sdp!);
  assert.ok(feedId > 0);
  await pub.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  return { userId, pub, sub: null, streams: [] };
}

/** Applies a subscriber offer from the SFU to the member's downstream peer and answers it. */
async function answerSubscriber(sfu: JanusSfu, callId: string, m: Member, offer: SubscriberOffer): Promise<void> {
  if (!m.sub) {
    m.sub = new TestPeer({ onCandidate: (c) => void sfu.trickle(callId, m.userId, 'sub', c).catch((e: unknown) => log.warn({ e }, 'trickle')) });
    m.sub.receive(labelFor(m));
  }
  m.streams = offer.streams;
  await m.sub.pc.setRemoteDescription({ type: 'offer', sdp: offer.sdp });
  const answer = await m.sub.pc.createAnswer();
  await m.sub.pc.setLocalDescription(answer);
  await sfu.startSubscriber(callId, m.userId, answer.sdp!);
}

test('3 wrtc participants publish audio+video through Janus and each receives the other two', { skip, timeout: 15_000 }, async () => {
  const sfu = new JanusSfu({ logger: log, adminKey: janus!.adminKey, ...(janus!.apiSecret ? { apiSecret: janus!.apiSecret } : {}), bitrate: 256_000 });
  const members: Member[] = [];
  try {
    let t0 = performance.now();
    await sfu.connect(janus!.url);
    console.log(`janode connect: ${Math.round(performance.now() - t0)} ms`);
    const callId = 'call-sfu-3';
    const roomId = await sfu.createRoom(callId);
    assert.equal(await sfu.createRoom(callId), roomId, 'idempotent');

    const published: FeedEvent[] = [];
    sfu.on('feedPublished', (f) => published.push(f));
    t0 = performance.now();
    for (const [i, userId] of ['alice', 'bob', 'carol'].entries()) members.push(await publish(sfu, callId, userId, 300 + i * 200));
    await waitUntil(() => published.length === 3, 5000, 'three feedPublished events');
    console.log(`3 publishers offer→webrtcup: ${Math.round(performance.now() - t0)} ms`);
    assert.deepEqual(published.map((f) => f.userId).sort(), ['alice', 'bob', 'carol']);
    assert.deepEqual(sfu.feeds(callId).map((f) => f.feedId).sort(), published.map((f) => f.feedId).sort());

    t0 = performance.now();
    for (const m of members) {
      const others = published.filter((f) => f.userId !== m.userId).map((f) => f.feedId);
      const offer = await sfu.subscribe(callId, m.userId, others);
      assert.deepEqual([...new Set(offer.streams.map((s) => s.userId))].sort(), published.filter((f) => f.userId !== m.userId).map((f) => f.userId).sort());
      await answerSubscriber(sfu, callId, m, offer);
    }
    await Promise.all(members.map((m) => m.sub!.waitConnected(5000)));
    console.log(`3 subscribers offer→connected: ${Math.round(performance.now() - t0)} ms`);

    // Frames from both other publishers at every subscriber.
    await waitUntil(
      () => members.every((m) => members.filter((o) => o !== m).every((o) => m.sub!.frames(o.userId).audio >= 50 && m.sub!.frames(o.userId).video >= 5)),
      8000,
      'audio and video frames from both other publishers at every subscriber',
    );
    console.log(`first frames everywhere: ${Math.round(performance.now() - t0)} ms;`, members.map((m) => `${m.userId}←${JSON.stringify(Object.fromEntries(members.filter((o) => o !== m).map((o) => [o.userId, m.sub!.frames(o.userId)])))}`).join(' '));

    // ...and they came through Janus: every connection's selected remote end is a Janus port (its
    // RTP range; Janus 1.1.2 never gathers on loopback, so the address is a host interface), and
    // Janus itself lists the three publishers.
    const { min, max } = janus!.rtpPortRange;
    for (const m of members) {
      for (const pc of [m.pub.pc, m.sub!.pc]) {
        for (const c of sdpCandidates(pc.remoteDescription!.sdp)) assert.ok(c.port >= min && c.port <= max, `janus candidate port ${c.port} outside ${min}-${max}`);
        const remote = await selectedRemote(pc);
        assert.ok(remote && remote.port >= min && remote.port <= max, `selected remote ${JSON.stringify(remote)} is not janus (${min}-${max})`);
      }
    }
    const listed = await sfu.listParticipants(callId);
    assert.deepEqual(listed.filter((p) => p.publisher).map((p) => p.userId).sort(), ['alice', 'bob', 'carol']);
  } finally {
    members.forEach((m) => (m.pub.close(), m.sub?.close()));
    await sfu.close();
  }
});

test('late publisher is added with updateSubscription; a leaving publisher is removed', { skip, timeout: 15_000 }, async () => {
  const sfu = new JanusSfu({ logger: log, adminKey: janus!.adminKey, ...(janus!.apiSecret ? { apiSecret: janus!.apiSecret } : {}), bitrate: 256_000 });
  const members: Member[] = [];
  try {
    await sfu.connect(janus!.url);
    const callId = 'call-sfu-update';
    await sfu.createRoom(callId);
    const published = new Map<string, number>();
    const unpublished: FeedEvent[] = [];
    sfu.on('feedPublished', (f) => published.set(f.userId, f.feedId));
    sfu.on('feedUnpublished', (f) => unpublished.push(f));
    // Janus renegotiates subscribers by itself when a publisher goes: answer like a client would.
    const renegotiations: SubscriberOffer[] = [];
    sfu.on('subscriberOffer', (e) => {
      renegotiations.push(e.offer);
      const m = members.find((x) => x.userId === e.userId)!;
      void answerSubscriber(sfu, callId, m, e.offer).catch((err: unknown) => log.error({ err }, 'answer'));
    });

    const alice = await publish(sfu, callId, 'alice', 300);
    const bob = await publish(sfu, callId, 'bob', 500);
    members.push(alice, bob);
    await waitUntil(() => published.size === 2, 5000, 'alice and bob published');
    await answerSubscriber(sfu, callId, alice, await sfu.subscribe(callId, 'alice', [published.get('bob')!]));
    await waitUntil(() => alice.sub!.frames('bob').video >= 3, 5000, 'bob at alice');

    const carol = await publish(sfu, callId, 'carol', 700);
    members.push(carol);
    await waitUntil(() => published.size === 3, 5000, 'carol published');
    const t0 = performance.now();
    const offer = await sfu.updateSubscription(callId, 'alice', [published.get('carol')!], []);
    assert.ok(offer, 'adding a feed renegotiates');
    assert.deepEqual([...new Set(offer.streams.map((s) => s.userId))].sort(), ['bob', 'carol']);
    await answerSubscriber(sfu, callId, alice, offer);
    await waitUntil(() => alice.sub!.frames('carol').audio >= 20 && alice.sub!.frames('carol').video >= 3, 5000, 'carol at alice');
    console.log(`update → carol's frames at alice: ${Math.round(performance.now() - t0)} ms`);
    assert.equal(await sfu.updateSubscription(callId, 'alice', [published.get('carol')!], []), null, 'no change, no offer');

    carol.pub.close();
    await sfu.leave(callId, 'carol');
    await waitUntil(() => unpublished.some((f) => f.userId === 'carol'), 3000, 'carol unpublished');
    await waitUntil(() => renegotiations.length === 1, 3000, "janus's renegotiation offer to alice");
    assert.deepEqual([...new Set(renegotiations[0]!.streams.map((s) => s.userId))], ['bob']);
    assert.equal(await sfu.updateSubscription(callId, 'alice', [], [published.get('carol')!]), null, 'already removed by janus');
    const before = alice.sub!.frames('bob').video;
    await waitUntil(() => alice.sub!.frames('bob').video >= before + 5, 5000, 'bob still flowing at alice');
    assert.deepEqual((await sfu.listParticipants(callId)).map((p) => p.userId).sort(), ['alice', 'bob']);
  } finally {
    members.forEach((m) => (m.pub.close(), m.sub?.close()));
    await sfu.close();
  }
});
