/**
 * The WebRTC {@link MediaAdapter}: local devices (microphone, camera, preview, encoder settings),
 * remote views and playback, and the media of the current call ({@link CallMedia}). Platform
 * differences (browser vs `@roamhq/wrtc`) live behind {@link MediaPlatform}.
 *
 * Devices follow the user's intent: the microphone opens when a call starts unless it was closed
 * on purpose; the camera opens for a video call unless it was closed on purpose, and whenever
 * `openCamera` is called. Closing a device stops sending it on every connection at once (the
 * sender's track is swapped, no renegotiation). Intents reset when the call ends.
 * @packageDocumentation
 */
import { AudioPlaybackDevice, CallMediaType, Camera, ErrorCode, FillMode, ResolutionMode } from '@opencall/protocol/wire';
import type { RelayedSignal, VideoResolution } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import { CallMedia } from './CallMedia.js';
import type { ConnectionInfo } from './CallMedia.js';
import type { DeviceInfo, DeviceKind, MediaAdapter, MediaCallContext, MediaTopology, MediaView, VideoEncoderParams, VideoRenderParams } from './MediaAdapter.js';
import { resolutionSize } from './platform.js';
import type { CameraSettings, MediaPlatform, RenderSettings } from './platform.js';

/** Code of `onError` when a device cannot be opened at call start (TUICallEngine's permission error). */
export const DEVICE_ERROR_CODE = ErrorCode.DEVICE_ERROR;

const RESOLUTIONS: readonly VideoResolution[] = ['640x360', '960x540', '1280x720', '1920x1080'];
const ROTATIONS = [0, 90, 180, 270] as const;
const isEnumValue = (e: object, v: unknown): boolean => Object.values(e).includes(v);

/** Options of {@link RtcMedia}. */
export interface RtcMediaOptions {
  platform: MediaPlatform;
  /** Camera size before any `setVideoEncoderParams`. Default 640x360 landscape. */
  camera?: { width: number; height: number };
}

/** A media adapter on real WebRTC. */
export class RtcMedia implements MediaAdapter {
  readonly #platform: MediaPlatform;
  #call: CallMedia | null = null;
  #mic: MediaStreamTrack | null = null;
  #camera: MediaStreamTrack | null = null;
  /** Chosen devices ('' = the platform's default). */
  readonly #device: Record<DeviceKind, string> = { microphone: '', camera: '', speaker: '' };
  #cameraFacing: Camera | null = null;
  /** null: follow the call (mic on; camera on for video calls); true/false: the user chose. */
  #micWanted: boolean | null = null;
  #cameraWanted: boolean | null = null;
  #facing: Camera = Camera.front;
  #settings: CameraSettings;
  #localView: MediaView;
  readonly #render = new Map<string, RenderSettings>();
  #playback: AudioPlaybackDevice = AudioPlaybackDevice.speakerphone;
  /** Device operations run one at a time (API calls and call events both open/close devices). */
  #ops: Promise<void> = Promise.resolve();

  constructor(options: RtcMediaOptions) {
    this.#platform = options.platform;
    const size = options.camera ?? { width: 640, height: 360 };
    this.#settings = { ...size, mode: ResolutionMode.landscape, resolution: null };
  }

  /** The platform underneath (Node adds frame counters to it). */
  get platform(): MediaPlatform {
    return this.#platform;
  }

  /** The current call's topology, or null (no call, or waiting for the server's). */
  get mode(): MediaTopology['mode'] | null {
    return this.#call?.mode ?? null;
  }

  /** True while the microphone is open. */
  get isMicrophoneOpen(): boolean {
    return this.#mic !== null;
  }

  /** The open camera, or null. */
  get openCameraFacing(): Camera | null {
    return this.#camera ? this.#cameraFacing : null;
  }

  /** Camera settings in use (after `setVideoEncoderParams`). */
  get cameraSettings(): Readonly<CameraSettings> {
    return { ...this.#settings };
  }

  /** The audio route chosen with `selectAudioPlaybackDevice`. */
  get playbackDevice(): AudioPlaybackDevice {
    return this.#playback;
  }

  /** The current call's connections (state, restarts, selected remote end). */
  async connections(): Promise<ConnectionInfo[]> {
    return this.#call ? this.#call.describe() : [];
  }

  /** Opens the devices the call needs, then connects (signals of the call queue meanwhile). */
  async startCall(context: MediaCallContext): Promise<void> {
    this.#call?.stop();
    const call = new CallMedia({ context, platform: this.#platform, tracks: () => ({ audio: this.#mic, video: this.#camera }) });
    this.#call = call; // now, so signals of this call queue in it while the devices open
    await this.#serial(async () => {
      if (this.#call !== call) return;
      const failures: string[] = [];
      if (this.#micWanted !== false) await this.#openMic().catch((err: unknown) => failures.push(`microphone: ${String(err)}`));
      const camera = this.#cameraWanted ?? context.mediaType === CallMediaType.video;
      if (camera) await this.#openCam().catch((err: unknown) => failures.push(`camera: ${String(err)}`));
      if (failures.length > 0 && this.#call === call) context.emit('onError', DEVICE_ERROR_CODE, `cannot open ${failures.join('; ')}`);
    });
    if (this.#call === call) call.start();
  }

  /** Closes the call's connections and releases the devices; intents reset. */
  async stopCall(callId: string): Promise<void> {
    const call = this.#call;
    if (!call || call.callId !== callId) return;
    call.stop();
    this.#call = null;
    await this.#serial(async () => {
      if (this.#call) return; // another call started meanwhile: it owns the devices
      this.#closeMic();
      this.#closeCam();
      this.#micWanted = null;
      this.#cameraWanted = null;
    });
  }

  /** A participant connected. */
  peerJoined(userId: string): void {
    this.#call?.peerJoined(userId);
  }

  /** A participant left: its connection and tracks go. */
  peerLeft(userId: string): void {
    this.#call?.peerLeft(userId);
  }

  /** A relayed signal for the current call. */
  handleSignal(from: string, signal: RelayedSignal): void {
    this.#call?.handleSignal(from, signal);
  }

  /** The server's topology for the current call. */
  handleTopology(topology: MediaTopology): void {
    if (this.#call?.callId === topology.callId) this.#call.handleTopology(topology.mode);
  }

  /** A participant's device availability (for `down` detection). */
  remoteMediaState(userId: string, kind: 'audio' | 'video', isAvailable: boolean): void {
    this.#call?.remoteMediaState(userId, kind, isAvailable);
  }

  /** Signaling came back: every connection restarts ICE. */
  signalingResumed(): void {
    this.#call?.signalingResumed();
  }

  /** The call switched audio ↔ video: the camera opens or closes accordingly. */
  mediaTypeChanged(mediaType: CallMediaType): void {
    void this.#serial(async () => {
      if (mediaType === CallMediaType.video) {
        if (this.#cameraWanted !== false) await this.#openCam();
      } else {
        this.#cameraWanted = null;
        this.#closeCam();
      }
      await this.#syncTrack('video');
    }).catch((err: unknown) => this.#call?.reportError(DEVICE_ERROR_CODE, `cannot open camera: ${String(err)}`));
  }

  /** Opens the microphone and sends it on every connection. */
  openMicrophone(): Promise<void> {
    return this.#serial(async () => {
      this.#micWanted = true;
      await this.#openMic();
      await this.#syncTrack('audio');
    });
  }

  /** Stops sending the microphone everywhere and releases it. */
  closeMicrophone(): Promise<void> {
    return this.#serial(async () => {
      this.#micWanted = false;
      this.#closeMic();
      await this.#syncTrack('audio');
    });
  }

  /** Opens `camera` (reopening when it faces the other way), shows it in `view`, sends it. */
  openCamera(camera: Camera, view?: MediaView): Promise<void> {
    if (!isEnumValue(Camera, camera)) return Promise.reject(CallEngineError.invalidParameter('camera must be Camera.front or Camera.back'));
    return this.#serial(async () => {
      this.#cameraWanted = true;
      this.#facing = camera;
      if (view !== undefined) this.#localView = view;
      await this.#openCam();
      this.#platform.renderLocal(this.#camera, this.#localView);
      await this.#syncTrack('video');
    });
  }

  /** Stops sending the camera everywhere and releases it. */
  closeCamera(): Promise<void> {
    return this.#serial(async () => {
      this.#cameraWanted = false;
      this.#closeCam();
      await this.#syncTrack('video');
    });
  }

  /** Faces the camera the other way (now if open, else when it opens). */
  switchCamera(camera: Camera): Promise<void> {
    if (!isEnumValue(Camera, camera)) return Promise.reject(CallEngineError.invalidParameter('camera must be Camera.front or Camera.back'));
    return this.#serial(async () => {
      this.#facing = camera;
      // Facing picks the camera again: a device chosen with switchDevice no longer applies.
      this.#device.camera = '';
      if (!this.#camera) return; // takes effect when the camera opens
      await this.#openCam();
      await this.#syncTrack('video');
    });
  }

  /** Routes remote audio to the speakerphone or the earpiece. */
  async selectAudioPlaybackDevice(device: AudioPlaybackDevice): Promise<void> {
    if (!isEnumValue(AudioPlaybackDevice, device)) throw CallEngineError.invalidParameter('device must be speakerphone or earpiece');
    await this.#platform.setPlaybackDevice(device);
    this.#playback = device;
  }

  /** Renders `userId`'s video into `view`. */
  async startRemoteView(userId: string, view: MediaView): Promise<void> {
    if (view === null || view === undefined) throw CallEngineError.invalidParameter('view is required');
    this.#platform.setRemoteView(userId, view);
  }

  /** Stops rendering `userId`'s video. */
  async stopRemoteView(userId: string): Promise<void> {
    this.#platform.setRemoteView(userId, null);
  }

  /** Sets the camera's capture size and orientation (-1202 for unknown values). */
  setVideoEncoderParams(params: VideoEncoderParams): Promise<void> {
    if (params === null || typeof params !== 'object') return Promise.reject(CallEngineError.invalidParameter('params must be an object'));
    const { resolution, resolutionMode } = params;
    if (resolution !== undefined && !RESOLUTIONS.includes(resolution)) {
      return Promise.reject(CallEngineError.invalidParameter(`resolution must be one of ${RESOLUTIONS.join(', ')}`));
    }
    if (resolutionMode !== undefined && !isEnumValue(ResolutionMode, resolutionMode)) {
      return Promise.reject(CallEngineError.invalidParameter('resolutionMode must be landscape or portrait'));
    }
    return this.#serial(async () => {
      const size = resolution ? resolutionSize(resolution) : { width: this.#settings.width, height: this.#settings.height };
      this.#settings = { ...size, mode: resolutionMode ?? this.#settings.mode, resolution: resolution ?? this.#settings.resolution };
      if (!this.#camera) return;
      if (await this.#platform.reconfigureCamera(this.#camera, this.#settings)) return;
      await this.#openCam(true);
      await this.#syncTrack('video');
    });
  }

  /** Sets how `userId`'s video fills its view and its rotation (-1202 for unknown values). */
  async setVideoRenderParams(userId: string, params: VideoRenderParams): Promise<void> {
    if (params === null || typeof params !== 'object') throw CallEngineError.invalidParameter('params must be an object');
    if (params.fillMode !== undefined && !isEnumValue(FillMode, params.fillMode)) throw CallEngineError.invalidParameter('fillMode must be fill or fit');
    if (params.rotation !== undefined && !ROTATIONS.includes(params.rotation)) throw CallEngineError.invalidParameter('rotation must be 0, 90, 180 or 270');
    const current = this.#render.get(userId) ?? { fillMode: FillMode.fill, rotation: 0 };
    const next: RenderSettings = { fillMode: params.fillMode ?? current.fillMode, rotation: params.rotation ?? current.rotation };
    this.#render.set(userId, next);
    this.#platform.setRenderSettings(userId, next);
  }

  /** The devices of `kind` ([] where the platform lists none). */
  async getDeviceList(kind: DeviceKind): Promise<DeviceInfo[]> {
    return (await this.#platform.listDevices?.(kind)) ?? [];
  }

  /** Uses `deviceId` for `kind`; an open microphone or camera is replaced on every connection at once. */
  switchDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    return this.#serial(async () => {
      if (kind === 'speaker') {
        if (!this.#platform.setSpeaker) throw CallEngineError.invalidParameter('this platform cannot choose a speaker');
        await this.#platform.setSpeaker(deviceId);
        this.#device.speaker = deviceId;
        return;
      }
      const previous = this.#device[kind];
      this.#device[kind] = deviceId;
      try {
        if (kind === 'microphone' && this.#mic) {
          const track = await this.#platform.openMicrophone(deviceId);
          this.#closeMic();
          this.#mic = track;
          await this.#syncTrack('audio');
        } else if (kind === 'camera' && this.#camera) {
          await this.#openCam(true);
          await this.#syncTrack('video');
        }
      } catch (err) {
        // The old device stays in use: nothing was replaced.
        this.#device[kind] = previous;
        throw err;
      }
    });
  }

  /** Calls `onChange` when devices come or go (a headset plugged in). */
  watchDevices(onChange: () => void): () => void {
    return this.#platform.watchDevices?.(onChange) ?? (() => undefined);
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#ops.then(op);
    this.#ops = run.catch(() => undefined);
    return run;
  }

  async #openMic(): Promise<void> {
    this.#mic ??= await this.#platform.openMicrophone(this.#device.microphone);
  }

  #closeMic(): void {
    if (this.#mic) this.#platform.stopTrack(this.#mic);
    this.#mic = null;
  }

  /** Opens the camera with the wanted facing; reopens when the facing (or `force`) says so. */
  async #openCam(force = false): Promise<void> {
    if (this.#camera && this.#cameraFacing === this.#facing && !force) return;
    const track = await this.#platform.openCamera(this.#facing, this.#settings, this.#device.camera);
    if (this.#camera) this.#platform.stopTrack(this.#camera);
    this.#camera = track;
    this.#cameraFacing = this.#facing;
    this.#platform.renderLocal(track, this.#localView);
  }

  #closeCam(): void {
    if (!this.#camera) return;
    this.#platform.stopTrack(this.#camera);
    this.#camera = null;
    this.#platform.renderLocal(null, this.#localView);
  }

  /** Puts the current track of `kind` on the call's connections and tells the others. */
  async #syncTrack(kind: 'audio' | 'video'): Promise<void> {
    const call = this.#call;
    if (!call) return;
    await call.setTrack(kind, kind === 'audio' ? this.#mic : this.#camera);
    call.announce();
  }
}
