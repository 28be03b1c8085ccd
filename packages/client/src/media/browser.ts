/**
 * The browser platform of {@link RtcMedia}: `getUserMedia` devices, `RTCPeerConnection`, remote
 * audio played through one `<audio>` element per user, video rendered into the views the
 * application gives (`HTMLVideoElement`, another element — a `<video>` is created inside it — or an
 * element id). Bundles for the browser as is: no Node imports on this path.
 * @packageDocumentation
 */
import { AudioPlaybackDevice, Camera, FillMode, ResolutionMode } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import type { DeviceInfo, DeviceKind, MediaView } from './MediaAdapter.js';
import { RemoteTrackTable } from './platform.js';
import type { CameraSettings, CandidateInfo, MediaPlatform, RenderSettings } from './platform.js';
import { RtcMedia } from './RtcMedia.js';

/** Options of {@link createBrowserMedia}. */
export interface BrowserMediaOptions {
  /** `'relay'` sends everything through TURN. Default `'all'`. */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Test hook: rewrite or drop ICE candidates (see `MediaPlatform.rewriteCandidate`). */
  rewriteCandidate?: (candidate: string, info: CandidateInfo) => string | null;
}

/** True where the browser's WebRTC and devices exist (the engine's default media then). */
export function browserMediaAvailable(): boolean {
  const g = globalThis as { RTCPeerConnection?: unknown; document?: unknown; navigator?: { mediaDevices?: { getUserMedia?: unknown } } };
  return typeof g.RTCPeerConnection === 'function' && typeof g.document === 'object' && typeof g.navigator?.mediaDevices?.getUserMedia === 'function';
}

/** Creates the browser media adapter (what `new CallEngine()` uses in a browser without `media`). */
export function createBrowserMedia(options: BrowserMediaOptions = {}): RtcMedia {
  return new RtcMedia({ platform: new BrowserPlatform(options) });
}

interface View {
  el: HTMLVideoElement;
  /** True when the engine created the `<video>` inside the application's element. */
  created: boolean;
}

/** Landscape settings, or portrait (width and height swapped). */
function oriented(s: CameraSettings): { width: number; height: number } {
  return s.mode === ResolutionMode.portrait ? { width: s.height, height: s.width } : { width: s.width, height: s.height };
}

function play(el: HTMLMediaElement): void {
  // Autoplay policy may refuse until the user interacted with the page; the element keeps trying
  // by itself once allowed, so a refusal is not an error worth surfacing here.
  el.play()?.catch(() => undefined);
}

function resolveView(view: MediaView): View {
  const target = typeof view === 'string' ? document.getElementById(view) : view;
  if (target instanceof HTMLVideoElement) return { el: target, created: false };
  if (target instanceof HTMLElement) {
    const el = document.createElement('video');
    el.style.width = '100%';
    el.style.height = '100%';
    target.appendChild(el);
    return { el, created: true };
  }
  throw CallEngineError.invalidParameter('view must be an HTMLVideoElement, another element or an element id');
}

function release(view: View | undefined): void {
  if (!view) return;
  view.el.srcObject = null;
  if (view.created) view.el.remove();
}

/** True where audio elements can choose their output device. */
function sinkSupported(): boolean {
  return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
}

/** Browser media services. */
export class BrowserPlatform implements MediaPlatform {
  readonly iceTransportPolicy?: RTCIceTransportPolicy;
  readonly rewriteCandidate?: (candidate: string, info: CandidateInfo) => string | null;
  readonly #tracks = new RemoteTrackTable();
  readonly #audio = new Map<string, HTMLAudioElement>();
  readonly #views = new Map<string, View>();
  readonly #render = new Map<string, RenderSettings>();
  #local: View | undefined;
  /** What the application gave as the local view (an element or id), to reuse its `<video>`. */
  #localTarget: MediaView;
  #sinkId = '';

  constructor(options: BrowserMediaOptions = {}) {
    if (options.iceTransportPolicy) this.iceTransportPolicy = options.iceTransportPolicy;
    if (options.rewriteCandidate) this.rewriteCandidate = options.rewriteCandidate;
  }

  createPeerConnection(config: RTCConfiguration): RTCPeerConnection {
    return new RTCPeerConnection(config);
  }

  async openMicrophone(deviceId = ''): Promise<MediaStreamTrack> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) },
    });
    const track = stream.getAudioTracks()[0];
    if (!track) throw new Error('no microphone track');
    return track;
  }

  async openCamera(camera: Camera, settings: CameraSettings, deviceId = ''): Promise<MediaStreamTrack> {
    const { width, height } = oriented(settings);
    const pick = deviceId ? { deviceId: { exact: deviceId } } : { facingMode: camera === Camera.back ? 'environment' : 'user' };
    const stream = await navigator.mediaDevices.getUserMedia({ video: { ...pick, width: { ideal: width }, height: { ideal: height } } });
    const track = stream.getVideoTracks()[0];
    if (!track) throw new Error('no camera track');
    return track;
  }

  async reconfigureCamera(track: MediaStreamTrack, settings: CameraSettings): Promise<boolean> {
    const { width, height } = oriented(settings);
    try {
      await track.applyConstraints({ width: { ideal: width }, height: { ideal: height } });
      return true;
    } catch {
      return false;
    }
  }

  async listDevices(kind: DeviceKind): Promise<DeviceInfo[]> {
    if (kind === 'speaker' && !sinkSupported()) return [];
    const wanted: MediaDeviceKind = kind === 'camera' ? 'videoinput' : kind === 'microphone' ? 'audioinput' : 'audiooutput';
    const all = (await navigator.mediaDevices.enumerateDevices?.()) ?? [];
    return all.filter((d) => d.kind === wanted && d.deviceId !== '').map((d) => ({ deviceId: d.deviceId, label: d.label }));
  }

  watchDevices(onChange: () => void): () => void {
    const devices = navigator.mediaDevices;
    if (typeof devices?.addEventListener !== 'function') return () => undefined;
    devices.addEventListener('devicechange', onChange);
    return () => devices.removeEventListener('devicechange', onChange);
  }

  async setSpeaker(deviceId: string): Promise<void> {
    if (!sinkSupported()) throw CallEngineError.invalidParameter('this browser cannot choose a speaker (no setSinkId)');
    this.#sinkId = deviceId;
    await Promise.all([...this.#audio.values()].map((el) => this.#applySink(el)));
  }

  stopTrack(track: MediaStreamTrack): void {
    track.stop();
  }

  renderLocal(track: MediaStreamTrack | null, view: MediaView): void {
    if (view === undefined) return;
    if (!this.#local || this.#localTarget !== view) {
      release(this.#local);
      this.#local = resolveView(view);
      this.#localTarget = view;
    }
    const el = this.#local.el;
    el.muted = true; // never echo the local microphone
    el.playsInline = true;
    el.srcObject = track ? new MediaStream([track]) : null;
    if (track) play(el);
  }

  addRemoteTrack(key: string, userId: string, track: MediaStreamTrack): void {
    this.#tracks.add(key, userId, track);
    this.#refresh(userId);
  }

  removeRemoteTrack(key: string): void {
    const gone = this.#tracks.remove(key);
    if (gone) this.#refresh(gone.userId);
  }

  setRemoteView(userId: string, view: MediaView): void {
    release(this.#views.get(userId));
    this.#views.delete(userId);
    if (view === null) return;
    this.#views.set(userId, resolveView(view));
    this.#refresh(userId);
  }

  setRenderSettings(userId: string, settings: RenderSettings): void {
    this.#render.set(userId, settings);
    this.#refresh(userId);
  }

  async setPlaybackDevice(device: AudioPlaybackDevice): Promise<void> {
    // Browsers expose output devices, not "speaker" vs "earpiece": the earpiece is the
    // communications device where the platform has one (Windows, Android), else the default.
    let sinkId = '';
    if (device === AudioPlaybackDevice.earpiece && navigator.mediaDevices.enumerateDevices) {
      const outputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
      sinkId = outputs.find((d) => d.deviceId === 'communications')?.deviceId ?? '';
    }
    this.#sinkId = sinkId;
    await Promise.all([...this.#audio.values()].map((el) => this.#applySink(el)));
  }

  /** Points the user's audio element and view at their current (newest) tracks. */
  #refresh(userId: string): void {
    const audio = this.#tracks.current(userId, 'audio');
    let el = this.#audio.get(userId);
    if (audio) {
      if (!el) {
        el = document.createElement('audio');
        el.autoplay = true;
        this.#audio.set(userId, el);
        void this.#applySink(el);
      }
      if (!(el.srcObject instanceof MediaStream) || el.srcObject.getTracks()[0] !== audio.track) el.srcObject = new MediaStream([audio.track]);
      play(el);
    } else if (el) {
      el.srcObject = null;
      this.#audio.delete(userId);
    }
    const view = this.#views.get(userId);
    if (!view) return;
    const video = this.#tracks.current(userId, 'video');
    const v = view.el;
    v.muted = true; // the user's audio plays through their audio element
    v.playsInline = true;
    if (!video) v.srcObject = null;
    else if (!(v.srcObject instanceof MediaStream) || v.srcObject.getTracks()[0] !== video.track) v.srcObject = new MediaStream([video.track]);
    const r = this.#render.get(userId);
    if (r) {
      v.style.objectFit = r.fillMode === FillMode.fit ? 'contain' : 'cover';
      v.style.transform = r.rotation ? `rotate(${r.rotation}deg)` : '';
    }
    if (video) play(v);
  }

  async #applySink(el: HTMLAudioElement): Promise<void> {
    const withSink = el as HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };
    if (typeof withSink.setSinkId !== 'function') return;
    await withSink.setSinkId(this.#sinkId).catch(() => undefined);
  }
}
