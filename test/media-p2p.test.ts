/**
 * SPEC §7 / §5.5 with real media: 1-to-1 calls peer-to-peer between Node engines on @roamhq/wrtc
 * through a real server. Frames are counted by sinks on the receiving side; volume and quality
 * come from getStats(). No Janus here (`sfu: 'none'`).
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { AudioPlaybackDevice, CallMediaType, Camera, FillMode, NetworkQuality, ResolutionMode } from '@opencall/client';
import type { CallEngineError } from '@opencall/client';
import { createNodeMedia } from '@opencall/client/node';
import type { NodeVideoFrame } from '@opencall/client/node';
import type { RunningServer } from '@opencall/server';
import { cleanupAllMedia, cleanupMedia, connect, framesDuring, framesEverywhere, mediaUser, waitFor } from './helpers/mediaUsers.js';
import type { MediaUser } from './helpers/mediaUsers.js';
import { startTestServer } from './helpers/server.js';
import { sleep } from './helpers/users.js';
import { waitUntil } from './helpers/wrtcPeer.js';

// A failed test skips its own cleanup: sign out whatever it left so the file still ends.
afterEach(() => cleanupAllMedia());

let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

let n = 0;
async function pair(options: Parameters<typeof mediaUser>[2] = {}, engineOptions: Parameters<typeof mediaUser>[3] = {}): Promise<[MediaUser, MediaUser]> {
  n++;
  return [await mediaUser(server, `p${n}_a`, options, engineOptions), await mediaUser(server, `p${n}_b`, options)];
}

/** The last volume map `u` was told. */
function lastVolumes(u: MediaUser): Record<string, number> {
  const e = u.rec.events.filter((x) => x.name === 'onUserVoiceVolumeChanged').at(-1);
  return (e?.args[0] as Record<string, number> | undefined) ?? {};
}

/** The last quality `u` was told for `userId`. */
function lastQuality(u: MediaUser, userId: string): NetworkQuality | undefined {
  const e = u.rec.events.filter((x) => x.name === 'onUserNetworkQualityChanged').at(-1);
  return (e?.args[0] as { userId: string; quality: NetworkQuality }[] | undefined)?.find((q) => q.userId === userId)?.quality;
}

const code = (c: number) => (e: CallEngineError) => e.code === c;

/** How many times `u` was told `name(userId, isAvailable)`. */
function seen(u: MediaUser, name: string, userId: string, isAvailable: boolean): number {
  return u.rec.events.filter((e) => e.name === name && e.args[0] === userId && e.args[1] === isAvailable).length;
}

describe('1-to-1 media, peer-to-peer (SPEC §7)', { timeout: 120_000 }, () => {
  it('a video call carries audio and video frames both ways over one direct connection, and records mediaConnectedAt', async () => {
    const [a, b] = await pair();
    const callId = await connect(a, [b], CallMediaType.video);
    await framesEverywhere([a, b], { audio: 50, video: 5 }, 8000);
    const [link] = await a.media.connections();
    assert.equal((await a.media.connections()).length, 1);
    assert.deepEqual([link!.pc, link!.peer, link!.state, link!.remote?.address, link!.remote?.candidateType], ['p2p', b.id, 'connected', '127.0.0.1', 'host']);
    // Each side learned the other's devices are open (media.state relayed by the server).
    await a.rec.waitFor('onUserAudioAvailable', (x) => x[0] === b.id && x[1] === true);
    await a.rec.waitFor('onUserVideoAvailable', (x) => x[0] === b.id && x[1] === true);
    await b.rec.waitFor('onUserVideoAvailable', (x) => x[0] === a.id && x[1] === true);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    const [record] = await b.engine.queryRecentCalls();
    assert.ok(record);
    assert.equal(record.callId, callId);
    const t = record.timings;
    assert.ok(t.acceptedAt && t.mediaConnectedAt && t.mediaConnectedAt >= t.acceptedAt && t.mediaConnectedAt - t.acceptedAt < 5000, JSON.stringify(t));
    // Media stopped with the call: no connections, and nothing arrives any more.
    assert.deepEqual(await a.media.connections(), []);
    await sleep(600); // concealment tail of the last packets
    assert.deepEqual(await framesDuring(b, a.id, 500), { audio: 0, video: 0 });
    await cleanupMedia(a, b);
  });

  it('closeMicrophone stops a\'s audio at b, reads volume 0 on both sides and tells b; openMicrophone brings it back', async () => {
    const [a, b] = await pair({ tone: { frequencyHz: 440, amplitude: 16000 } });
    await connect(a, [b], CallMediaType.audio);
    await framesEverywhere([a, b], { audio: 50, video: 0 }, 8000);
    // Speaking: a's tone is heard at b, and a's own meter reads it too (own id included).
    await waitUntil(() => (lastVolumes(b)[a.id] ?? 0) > 50 && (lastVolumes(a)[a.id] ?? 0) > 50, 3000, 'volume > 50 for a at both sides');
    assert.deepEqual(Object.keys(lastVolumes(b)).sort(), [a.id, b.id].sort());
    await a.engine.closeMicrophone();
    assert.equal(a.media.isMicrophoneOpen, false);
    await b.rec.waitFor('onUserAudioAvailable', (x) => x[0] === a.id && x[1] === false);
    await sleep(800);
    assert.ok((await framesDuring(b, a.id, 600)).audio === 0, 'no audio from a while muted');
    await waitUntil(() => lastVolumes(b)[a.id] === 0 && lastVolumes(a)[a.id] === 0, 2000, 'volume 0 for muted a at both sides');
    assert.ok((lastVolumes(a)[b.id] ?? 0) > 0, 'b still heard at a');
    await a.engine.openMicrophone();
    await waitUntil(() => seen(b, 'onUserAudioAvailable', a.id, true) === 2, 3000, 'onUserAudioAvailable(a, true) again');
    assert.ok((await framesDuring(b, a.id, 600)).audio > 30, 'audio from a again');
    await waitUntil(() => (lastVolumes(b)[a.id] ?? 0) > 50, 2000, 'volume back at b');
    await cleanupMedia(a, b);
  });

  it('closeCamera / openCamera(back) stop and restart video; the local preview and remote views get frames; stopRemoteView stops them', async () => {
    const [a, b] = await pair();
    await connect(a, [b], CallMediaType.video);
    await framesEverywhere([a, b], { audio: 20, video: 5 }, 8000);
    const remote: NodeVideoFrame[] = [];
    await b.engine.startRemoteView(a.id, (f: NodeVideoFrame) => remote.push(f));
    await waitUntil(() => remote.length >= 3, 3000, 'frames in b\'s view of a');
    assert.deepEqual([remote[0]!.userId, remote[0]!.width, remote[0]!.height], [a.id, 160, 120]);
    await a.engine.closeCamera();
    await b.rec.waitFor('onUserVideoAvailable', (x) => x[0] === a.id && x[1] === false);
    await sleep(300);
    assert.equal((await framesDuring(b, a.id, 600)).video, 0, 'no video from a with its camera closed');
    const preview: NodeVideoFrame[] = [];
    await a.engine.openCamera(Camera.back, (f: NodeVideoFrame) => preview.push(f));
    assert.equal(a.media.openCameraFacing, Camera.back);
    await waitUntil(() => seen(b, 'onUserVideoAvailable', a.id, true) === 2, 3000, 'onUserVideoAvailable(a, true) again');
    await waitUntil(() => preview.length >= 2, 2000, 'local preview frames');
    const before = remote.length;
    await waitUntil(() => remote.length >= before + 3, 4000, 'video from a again');
    // The back camera's pattern has a darker chroma plane (96) than the front one (128).
    const last = remote.at(-1)!;
    assert.ok(Math.abs(last.data[last.width * last.height]! - 96) < 12, `chroma ${last.data[last.width * last.height]}`);
    await a.engine.switchCamera(Camera.front);
    await waitUntil(() => Math.abs(remote.at(-1)!.data[remote.at(-1)!.width * remote.at(-1)!.height]! - 128) < 12, 4000, 'front camera pattern');
    await b.engine.stopRemoteView(a.id);
    await sleep(200);
    const stopped = remote.length;
    await sleep(500);
    assert.equal(remote.length, stopped, 'no frames after stopRemoteView');
    assert.ok(b.media.receivedFrames(a.id).video > 0);
    await cleanupMedia(a, b);
  });

  it('setVideoEncoderParams changes what the other side decodes; setVideoRenderParams rotates the view; bad params → -1202', async () => {
    const [a, b] = await pair();
    await connect(a, [b], CallMediaType.video);
    await framesEverywhere([a, b], { audio: 0, video: 5 }, 8000);
    const frames: NodeVideoFrame[] = [];
    await b.engine.startRemoteView(a.id, (f: NodeVideoFrame) => frames.push(f));
    await a.engine.setVideoEncoderParams({ resolution: '640x360', resolutionMode: ResolutionMode.portrait });
    assert.deepEqual(a.media.cameraSettings, { width: 640, height: 360, mode: ResolutionMode.portrait, resolution: '640x360' });
    // Portrait 640x360 is 360 wide and 640 high; the encoder may scale down for bandwidth, never sideways.
    await waitUntil(() => frames.some((f) => f.height > f.width && f.height >= 320), 6000, `portrait frames (have ${frames.at(-1)?.width}x${frames.at(-1)?.height})`);
    await b.engine.setVideoRenderParams(a.id, { rotation: 90, fillMode: FillMode.fit });
    const at = frames.length;
    await waitUntil(() => frames.length > at + 2, 3000, 'rotated frames');
    const r = frames.at(-1)!;
    assert.deepEqual([r.rotation, r.fillMode, r.width > r.height], [90, FillMode.fit, true]);
    await assert.rejects(a.engine.setVideoEncoderParams({ resolution: '1x1' as '640x360' }), code(-1202));
    await assert.rejects(b.engine.setVideoRenderParams(a.id, { rotation: 45 as 90 }), code(-1202));
    await assert.rejects(b.engine.startRemoteView(a.id, null), code(-1202));
    await assert.rejects(b.engine.startRemoteView(a.id, 'not-a-view'), code(-1202));
    await assert.rejects(b.engine.selectAudioPlaybackDevice(7 as AudioPlaybackDevice), code(-1202));
    await b.engine.selectAudioPlaybackDevice(AudioPlaybackDevice.earpiece);
    assert.equal(b.media.playbackDevice, AudioPlaybackDevice.earpiece);
    assert.throws(() => createNodeMedia({ tone: { frequencyHz: -1, amplitude: 10 } }), code(-1202));
    assert.throws(() => createNodeMedia({ video: { width: 15, height: 10, fps: 15 } }), code(-1202));
    await cleanupMedia(a, b);
  });

  it('switchCallMediaType(audio) stops video both ways, audio goes on; switching back to video restarts it', async () => {
    const [a, b] = await pair();
    await connect(a, [b], CallMediaType.video);
    await framesEverywhere([a, b], { audio: 20, video: 5 }, 8000);
    await a.engine.switchCallMediaType(CallMediaType.audio);
    await b.rec.waitFor('onCallMediaTypeChanged');
    await a.rec.waitFor('onUserVideoAvailable', (x) => x[0] === b.id && x[1] === false);
    await b.rec.waitFor('onUserVideoAvailable', (x) => x[0] === a.id && x[1] === false);
    await sleep(300);
    const [ab, ba] = await Promise.all([framesDuring(b, a.id, 700), framesDuring(a, b.id, 700)]);
    assert.deepEqual([ab.video, ba.video], [0, 0], 'no video after switching to audio');
    assert.ok(ab.audio > 30 && ba.audio > 30, 'audio continues');
    await b.engine.switchCallMediaType(CallMediaType.video);
    await a.rec.waitFor('onCallMediaTypeChanged', (x) => x[1] === CallMediaType.video);
    const v0 = [b.media.receivedFrames(a.id).video, a.media.receivedFrames(b.id).video];
    await waitUntil(() => b.media.receivedFrames(a.id).video > v0[0]! + 3 && a.media.receivedFrames(b.id).video > v0[1]! + 3, 5000, 'video again both ways');
    await cleanupMedia(a, b);
  });

  it('voice volume every ~300 ms and network quality every 2 s, excellent or good on loopback, own id included', async () => {
    const [a, b] = await pair();
    await connect(a, [b], CallMediaType.audio);
    await framesEverywhere([a, b], { audio: 20, video: 0 }, 8000);
    const volumeAt: number[] = [];
    const qualityAt: number[] = [];
    const offVolume = a.engine.on('onUserVoiceVolumeChanged', () => volumeAt.push(Date.now()));
    const offQuality = a.engine.on('onUserNetworkQualityChanged', () => qualityAt.push(Date.now()));
    await sleep(4500);
    offVolume();
    offQuality();
    // Median spacing: robust to a tick delayed by a busy machine.
    const median = (t: number[]): number => t.slice(1).map((x, i) => x - t[i]!).sort((x, y) => x - y)[Math.floor((t.length - 1) / 2)] ?? Infinity;
    assert.ok(volumeAt.length >= 8 && median(volumeAt) >= 250 && median(volumeAt) <= 400, `volume every ${median(volumeAt)} ms (${volumeAt.length} in 4.5 s)`);
    assert.ok(qualityAt.length >= 2 && median(qualityAt) >= 1700 && median(qualityAt) <= 2400, `quality every ${median(qualityAt)} ms (${qualityAt.length} in 4.5 s)`);
    for (const u of [a, b]) {
      for (const id of [a.id, b.id]) {
        const q = lastQuality(u, id);
        assert.ok(q === NetworkQuality.excellent || q === NetworkQuality.good, `${u.id} sees ${id} as ${q}`);
      }
    }
    await cleanupMedia(a, b);
  });

  it('after the signaling socket drops and the session resumes, ICE restarts and media keeps flowing', async () => {
    const sockets: WebSocket[] = [];
    class TrackedSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const [a, b] = await pair({}, { WebSocket: TrackedSocket });
    await connect(a, [b], CallMediaType.audio);
    await framesEverywhere([a, b], { audio: 20, video: 0 }, 8000);
    assert.equal((await a.media.connections())[0]!.restarts, 0);
    sockets.at(-1)!.terminate(); // a network blip: no close frame
    await waitUntil(() => sockets.length === 2, 3000, 'a reconnecting');
    await waitFor(async () => (await a.media.connections())[0]!.restarts >= 1, 3000, 'an ICE restart after the session resumed');
    await sleep(500);
    assert.equal((await a.media.connections())[0]!.state, 'connected');
    assert.ok((await framesDuring(b, a.id, 600)).audio > 30, 'audio still flows after the restart');
    assert.ok(!a.rec.names().includes('onCallEnd'), 'the call went on');
    await cleanupMedia(a, b);
  });
});
