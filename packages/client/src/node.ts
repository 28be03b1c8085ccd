/**
 * `@opencall/client/node`: real WebRTC media for Node on `@roamhq/wrtc` (SPEC §7). The microphone
 * is a sine tone, the camera a moving test pattern, and remote media goes into sinks that count
 * the frames that really arrived (`receivedFrames`) and hand video frames to remote views (frame
 * callbacks). Bots, load tests and integration tests use it:
 *
 * ```ts
 * import { createNodeMedia } from '@opencall/client/node';
 * const media = createNodeMedia({ tone: { frequencyHz: 440, amplitude: 8000 } });
 * const engine = new CallEngine({ serverUrl, sdkAppId, media });
 * ```
 * @packageDocumentation
 */
import wrtc from '@roamhq/wrtc';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Camera, FillMode, ResolutionMode } from '@opencall/protocol/wire';
import type { AudioPlaybackDevice, Rotation } from '@opencall/protocol/wire';
import { CallEngineError } from './errors.js';
import type { MediaView } from './media/MediaAdapter.js';
import { RemoteTrackTable } from './media/platform.js';
import type { CameraSettings, CandidateInfo, MediaPlatform, RenderSettings } from './media/platform.js';
import { RtcMedia } from './media/RtcMedia.js';
import { isLoopbackCandidate } from './media/sdp.js';

export type { ConnectionInfo } from './media/CallMedia.js';
export type { CandidateInfo } from './media/platform.js';

/** Options of {@link createNodeMedia} (SPEC §7). */
export interface NodeMediaOptions {
  /** The synthetic microphone: a sine tone. Default 440 Hz, amplitude 8000 (of 32767). */
  tone?: { frequencyHz: number; amplitude: number };
  /** The synthetic camera: a moving test pattern. Default 160x120 at 15 fps (cheap on small CI machines). */
  video?: { width: number; height: number; fps: number };
  /** `'relay'` sends everything through TURN. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Test hook: rewrites (or drops, returning null) each ICE candidate line, local ones before
   * they are sent and remote ones before they are applied. {@link keepLoopbackCandidates} keeps a
   * one-machine test on 127.0.0.1; an impairment proxy rewrites ports.
   */
  rewriteCandidate?: (candidate: string, info: CandidateInfo) => string | null;
}

/** Frames that really arrived from a user (audio: 10 ms frames carrying sound). */
export interface ReceivedFrames {
  audio: number;
  video: number;
}

/** A video frame handed to a Node view (I420 pixels, with the render settings of that user). */
export interface NodeVideoFrame {
  userId: string;
  width: number;
  height: number;
  data: Uint8Array;
  rotation: Rotation;
  fillMode: FillMode;
}

/** A view in Node: a function called with each rendered frame, or an object with `onFrame`. */
export type NodeVideoView = ((frame: NodeVideoFrame) => void) | { onFrame(frame: NodeVideoFrame): void };

/** Keeps only local UDP candidates on 127.0.0.1 (one-machine tests); remote candidates pass. */
export function keepLoopbackCandidates(candidate: string, info: CandidateInfo): string | null {
  return info.direction === 'remote' || isLoopbackCandidate(candidate) ? candidate : null;
}

interface AudioSource {
  createTrack(): MediaStreamTrack;
  onData(data: { samples: Int16Array; sampleRate: number; bitsPerSample: number; channelCount: number; numberOfFrames: number }): void;
}
interface VideoSource {
  createTrack(): MediaStreamTrack;
  onFrame(frame: { width: number; height: number; data: Uint8Array }): void;
}
interface Sink {
  stop(): void;
  ondata?: ((data: { samples: Int16Array }) => void) | null;
  onframe?: ((event: { frame: { width: number; height: number; data: Uint8Array } }) => void) | null;
}
interface WrtcApi {
  RTCPeerConnection: typeof RTCPeerConnection;
  nonstandard: {
    RTCAudioSource: new () => AudioSource;
    RTCVideoSource: new () => VideoSource;
    RTCAudioSink: new (track: MediaStreamTrack) => Sink;
    RTCVideoSink: new (track: MediaStreamTrack) => Sink;
  };
}
// The package's nonstandard typings reference an undeclared EventHandler type: cast once to ours.
const W = wrtc as unknown as WrtcApi;

let exitGcInstalled = false;

/**
 * wrtc 0.10 crashes the process at exit (SIGSEGV/SIGABRT in N-API cleanup) while native sources,
 * tracks and sinks are still unfinalized. A full GC after everything was closed and dropped
 * finalizes them while the runtime is alive. Call it from an `after()` hook, or rely on
 * {@link installWrtcExitGc}.
 */
export async function releaseWrtc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  await new Promise((r) => setTimeout(r, 20));
  gc();
}

/** Runs {@link releaseWrtc} once when the event loop drains, so a process using wrtc exits cleanly. */
export function installWrtcExitGc(): void {
  if (exitGcInstalled) return;
  exitGcInstalled = true;
  let done = false;
  process.on('beforeExit', () => {
    if (done) return;
    done = true;
    void releaseWrtc(); // schedules a timer: the loop runs once more, then exits cleanly
  });
}

interface Generator {
  timer: ReturnType<typeof setInterval> | null;
  /** Camera only: the size of the next frame. */
  settings?: CameraSettings;
}

/** The Node platform: synthetic sources, counting sinks, frame-callback views. */
class NodePlatform implements MediaPlatform {
  readonly iceTransportPolicy?: RTCIceTransportPolicy;
  readonly rewriteCandidate?: (candidate: string, info: CandidateInfo) => string | null;
  readonly #tone: { frequencyHz: number; amplitude: number };
  readonly #fps: number;
  readonly #generators = new Map<MediaStreamTrack, Generator>();
  readonly #tracks = new RemoteTrackTable();
  readonly #sinks = new Map<string, Sink>();
  readonly #frames = new Map<string, ReceivedFrames>();
  readonly #views = new Map<string, NodeVideoView>();
  readonly #render = new Map<string, RenderSettings>();
  #localView: NodeVideoView | null = null;

  constructor(o: NodeMediaOptions) {
    installWrtcExitGc();
    this.#tone = o.tone ?? { frequencyHz: 440, amplitude: 8000 };
    this.#fps = o.video?.fps ?? 15;
    if (o.iceTransportPolicy) this.iceTransportPolicy = o.iceTransportPolicy;
    if (o.rewriteCandidate) this.rewriteCandidate = o.rewriteCandidate;
  }

  receivedFrames(userId: string): ReceivedFrames {
    return { ...(this.#frames.get(userId) ?? { audio: 0, video: 0 }) };
  }

  createPeerConnection(config: RTCConfiguration): RTCPeerConnection {
    return new W.RTCPeerConnection(config);
  }

  async openMicrophone(): Promise<MediaStreamTrack> {
    const src = new W.nonstandard.RTCAudioSource();
    const track = src.createTrack();
    const { frequencyHz, amplitude } = this.#tone;
    const step = (2 * Math.PI * frequencyHz) / 48000;
    let phase = 0;
    // 10 ms of 48 kHz mono per call, what libwebrtc's audio pipeline takes.
    const timer = setInterval(() => {
      const samples = new Int16Array(480);
      for (let i = 0; i < 480; i++) samples[i] = Math.round(amplitude * Math.sin((phase += step)));
      phase %= 2 * Math.PI;
      src.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
    }, 10);
    timer.unref(); // a media adapter never keeps a process alive by itself
    this.#generators.set(track, { timer });
    return track;
  }

  async openCamera(camera: Camera, settings: CameraSettings): Promise<MediaStreamTrack> {
    const src = new W.nonstandard.RTCVideoSource();
    const track = src.createTrack();
    const gen: Generator = { timer: null, settings: { ...settings } };
    let t = 0;
    gen.timer = setInterval(() => {
      const s = gen.settings!;
      const [w, h] = s.mode === ResolutionMode.portrait ? [s.height, s.width] : [s.width, s.height];
      const data = new Uint8Array((w * h * 3) / 2);
      t += 4;
      // Front: diagonal stripes drifting right; back: horizontal bands drifting down.
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = camera === Camera.back ? (y * 4 + t) & 255 : (x + y + t) & 255;
      data.fill(camera === Camera.back ? 96 : 128, w * h);
      const frame = { width: w, height: h, data };
      src.onFrame(frame);
      const view = this.#localView;
      if (view) deliver(view, { userId: '', ...frame, rotation: 0, fillMode: FillMode.fill });
    }, Math.max(10, Math.round(1000 / this.#fps)));
    gen.timer.unref();
    this.#generators.set(track, gen);
    return track;
  }

  async reconfigureCamera(track: MediaStreamTrack, settings: CameraSettings): Promise<boolean> {
    const gen = this.#generators.get(track);
    if (!gen?.settings) return false;
    gen.settings = { ...settings }; // the next frame has the new size
    return true;
  }

  stopTrack(track: MediaStreamTrack): void {
    const gen = this.#generators.get(track);
    if (gen?.timer) clearInterval(gen.timer);
    this.#generators.delete(track);
    track.stop();
  }

  renderLocal(track: MediaStreamTrack | null, view: MediaView): void {
    this.#localView = track && view !== undefined ? toView(view) : null;
  }

  addRemoteTrack(key: string, userId: string, track: MediaStreamTrack): void {
    this.removeRemoteTrack(key);
    this.#tracks.add(key, userId, track);
    const count = this.#frames.get(userId) ?? { audio: 0, video: 0 };
    this.#frames.set(userId, count);
    if (track.kind === 'audio') {
      const sink = new W.nonstandard.RTCAudioSink(track);
      // The jitter buffer emits a frame every 10 ms whether or not packets came: count only
      // frames carrying sound (after a sender stops, concealment fades out within ~0.5 s).
      sink.ondata = (d) => {
        if (d.samples.some((s) => s !== 0)) count.audio++;
      };
      this.#sinks.set(key, sink);
    } else {
      const sink = new W.nonstandard.RTCVideoSink(track);
      sink.onframe = ({ frame }) => {
        count.video++;
        const view = this.#views.get(userId);
        if (!view || this.#tracks.current(userId, 'video')?.key !== key) return;
        const r = this.#render.get(userId) ?? { fillMode: FillMode.fill, rotation: 0 };
        const turned = r.rotation === 90 || r.rotation === 270;
        deliver(view, { userId, width: turned ? frame.height : frame.width, height: turned ? frame.width : frame.height, data: frame.data, ...r });
      };
      this.#sinks.set(key, sink);
    }
  }

  removeRemoteTrack(key: string): void {
    this.#sinks.get(key)?.stop();
    this.#sinks.delete(key);
    this.#tracks.remove(key);
  }

  setRemoteView(userId: string, view: MediaView): void {
    if (view === null) this.#views.delete(userId);
    else this.#views.set(userId, toView(view));
  }

  setRenderSettings(userId: string, settings: RenderSettings): void {
    this.#render.set(userId, settings);
  }

  async setPlaybackDevice(_device: AudioPlaybackDevice): Promise<void> {
    // Node plays nothing: the route is only remembered (RtcMedia.playbackDevice).
  }
}

function toView(view: MediaView): NodeVideoView {
  if (typeof view === 'function') return view as NodeVideoView;
  if (view && typeof view === 'object' && typeof (view as { onFrame?: unknown }).onFrame === 'function') return view as NodeVideoView;
  throw CallEngineError.invalidParameter('a Node view is a function or an object with onFrame(frame)');
}

function deliver(view: NodeVideoView, frame: NodeVideoFrame): void {
  try {
    if (typeof view === 'function') view(frame);
    else view.onFrame(frame);
  } catch {
    // A failing view must not stop the media pipeline.
  }
}

/** The Node media adapter: {@link RtcMedia} on wrtc, plus frame counters. */
export class NodeMedia extends RtcMedia {
  readonly #node: NodePlatform;

  constructor(options: NodeMediaOptions = {}) {
    const platform = new NodePlatform(options);
    const v = options.video ?? { width: 160, height: 120, fps: 15 };
    super({ platform, camera: { width: v.width, height: v.height } });
    this.#node = platform;
  }

  /** Frames that really arrived from `userId` so far (over every connection that carried them). */
  receivedFrames(userId: string): ReceivedFrames {
    return this.#node.receivedFrames(userId);
  }
}

/** Creates the Node media adapter (SPEC §7). */
export function createNodeMedia(options: NodeMediaOptions = {}): NodeMedia {
  check(options);
  return new NodeMedia(options);
}

function check(o: NodeMediaOptions): void {
  if (o === null || typeof o !== 'object') throw CallEngineError.invalidParameter('options must be an object');
  const t = o.tone;
  if (t !== undefined && !(t.frequencyHz > 0 && t.frequencyHz < 24000 && t.amplitude >= 0 && t.amplitude <= 32767)) {
    throw CallEngineError.invalidParameter('tone needs 0 < frequencyHz < 24000 and 0 <= amplitude <= 32767');
  }
  const v = o.video;
  if (v !== undefined && !(Number.isInteger(v.width) && Number.isInteger(v.height) && v.width >= 16 && v.height >= 16 && v.width % 2 === 0 && v.height % 2 === 0 && v.fps > 0 && v.fps <= 60)) {
    throw CallEngineError.invalidParameter('video needs even width and height >= 16 and 0 < fps <= 60');
  }
}
