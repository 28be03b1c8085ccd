/**
 * Node WebRTC test peers on @roamhq/wrtc: a sine tone as microphone, a moving I420 pattern as
 * camera, sinks that count frames which really arrived, loopback-only ICE candidates.
 * Keep it small on 2-core CI: 160x120 @ 15 fps, and always close() (it stops the source timers).
 */
import wrtc from '@roamhq/wrtc';
import { installWrtcExitGc, releaseWrtc } from '@opencall/client/node';

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
  addEventListener(type: string, listener: () => void): void;
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

// The exit-crash workaround is the SDK's own (see releaseWrtc in @opencall/client/node).
export { releaseWrtc };

/** A local ICE candidate in the shape signaling carries it. */
export interface PeerCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** Options of {@link TestPeer}. */
export interface TestPeerOptions {
  iceServers?: RTCIceServer[];
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Called with each local candidate that survives the loopback filter, then null at the end. */
  onCandidate?: (candidate: PeerCandidate | null) => void;
}

/** Frames counted for one label (a remote user). */
export interface FrameCount {
  audio: number;
  video: number;
}

/** True for UDP candidates on 127.0.0.1 (host, or relay when coturn's relay-ip is 127.0.0.1). */
export function isLoopbackCandidate(candidate: string): boolean {
  const f = candidate.replace(/^a=/, '').split(' ');
  return f[2]?.toLowerCase() === 'udp' && f[4] === '127.0.0.1';
}

/** `{ address, port, type }` of every `a=candidate` line of an SDP. */
export function sdpCandidates(sdp: string): Array<{ address: string; port: number; type: string }> {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith('a=candidate:'))
    .map((l) => {
      const f = l.split(' ');
      return { address: f[4] ?? '', port: Number(f[5]), type: f[7] ?? '' };
    });
}

/** The remote end of the ICE candidate pair in use (from getStats), or null before one is selected. */
export async function selectedRemote(pc: RTCPeerConnection): Promise<{ address: string; port: number; candidateType: string } | null> {
  const stats = await pc.getStats();
  let remoteId: string | undefined;
  stats.forEach((s: { type: string; state?: string; nominated?: boolean; selected?: boolean; remoteCandidateId?: string }) => {
    if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated || s.selected)) remoteId ??= s.remoteCandidateId;
  });
  const r = remoteId ? (stats.get(remoteId) as { address?: string; ip?: string; port: number; candidateType: string } | undefined) : undefined;
  return r ? { address: r.address ?? r.ip ?? '', port: r.port, candidateType: r.candidateType } : null;
}

/** Polls `pred` every 50 ms until true; throws `what` after `timeoutMs`. */
export async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A wrtc RTCPeerConnection with synthetic sources and counting sinks. */
export class TestPeer {
  readonly pc: RTCPeerConnection;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #tracks: MediaStreamTrack[] = [];
  readonly #sinks: Sink[] = [];
  readonly #frames = new Map<string, FrameCount>();
  #closed = false;

  constructor(options: TestPeerOptions = {}) {
    installWrtcExitGc();
    this.pc = new W.RTCPeerConnection({
      iceServers: options.iceServers ?? [],
      ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}),
    });
    const onCandidate = options.onCandidate;
    if (onCandidate) {
      this.pc.onicecandidate = (ev) => {
        if (this.#closed) return;
        const c = ev.candidate;
        if (!c) onCandidate(null);
        else if (isLoopbackCandidate(c.candidate)) onCandidate({ candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex });
      };
    }
  }

  /**
   * Adds send-only tracks: a sine tone (10 ms frames of 480 samples at 48 kHz) and/or a moving
   * 160x120 I420 pattern at 15 fps.
   */
  addLocalMedia({ audio = true, video = true, frequencyHz = 440, amplitude = 8000 }: { audio?: boolean; video?: boolean; frequencyHz?: number; amplitude?: number } = {}): void {
    if (audio) {
      const src = new W.nonstandard.RTCAudioSource();
      const track = src.createTrack();
      let phase = 0;
      const step = (2 * Math.PI * frequencyHz) / 48000;
      this.#timers.push(
        setInterval(() => {
          const samples = new Int16Array(480);
          for (let i = 0; i < 480; i++) samples[i] = Math.round(amplitude * Math.sin((phase += step)));
          src.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
        }, 10),
      );
      this.#tracks.push(track);
      this.pc.addTransceiver(track, { direction: 'sendonly' });
    }
    if (video) {
      const src = new W.nonstandard.RTCVideoSource();
      const track = src.createTrack();
      const [w, h] = [160, 120];
      let t = 0;
      this.#timers.push(
        setInterval(() => {
          const data = new Uint8Array((w * h * 3) / 2);
          t += 4;
          for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x + y + t) & 255;
          data.fill(128, w * h); // neutral chroma
          src.onFrame({ width: w, height: h, data });
        }, Math.round(1000 / 15)),
      );
      this.#tracks.push(track);
      this.pc.addTransceiver(track, { direction: 'sendonly' });
    }
  }

  /**
   * Counts frames of every remote track under `labelOf(event)` (e.g. the remote userId from the
   * SFU's mid map). Call before setRemoteDescription: ontrack fires during it.
   */
  receive(labelOf: (ev: RTCTrackEvent) => string = () => 'remote'): void {
    this.pc.ontrack = (ev) => {
      if (this.#closed) return;
      const label = labelOf(ev);
      const count = this.#frames.get(label) ?? { audio: 0, video: 0 };
      this.#frames.set(label, count);
      const track = ev.track;
      const sink = track.kind === 'audio' ? new W.nonstandard.RTCAudioSink(track) : new W.nonstandard.RTCVideoSink(track);
      sink.addEventListener(track.kind === 'audio' ? 'data' : 'frame', () => {
        if (track.kind === 'audio') count.audio++;
        else count.video++;
      });
      this.#sinks.push(sink);
    };
  }

  /** Frames that arrived so far under `label`. */
  frames(label = 'remote'): FrameCount {
    return { ...(this.#frames.get(label) ?? { audio: 0, video: 0 }) };
  }

  /** Resolves once ICE+DTLS are up (`connectionState` connected). */
  async waitConnected(timeoutMs = 5000): Promise<void> {
    await waitUntil(() => this.pc.connectionState === 'connected', timeoutMs, 'peer connection');
  }

  /** Stops the source timers, the sinks and the tracks, and closes the peer connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#timers.forEach(clearInterval);
    this.#sinks.forEach((s) => s.stop());
    this.#tracks.forEach((t) => t.stop());
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.close();
    // Drop native-backed objects so releaseWrtc()'s GC can finalize them before exit.
    this.#timers.length = 0;
    this.#sinks.length = 0;
    this.#tracks.length = 0;
  }
}
