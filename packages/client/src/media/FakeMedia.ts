/**
 * A media adapter for unit tests of the engine: no WebRTC, every call recorded in order, device
 * state kept like a real adapter would (so `openMicrophone` then `closeMicrophone` reads closed),
 * and the context of the running call kept so a test can raise media events or send signals as
 * the adapter would.
 * @packageDocumentation
 */
import type { AudioPlaybackDevice, Camera, CallMediaType, RelayedSignal } from '@opencall/protocol/wire';
import type { MediaAdapter, MediaCallContext, MediaTopology, MediaView, VideoEncoderParams, VideoRenderParams } from './MediaAdapter.js';

/** One recorded adapter call: its name and arguments. */
export interface FakeMediaCall {
  method: string;
  args: unknown[];
}

/** A recording {@link MediaAdapter}. */
export class FakeMedia implements MediaAdapter {
  /** Every call, in order. */
  readonly calls: FakeMediaCall[] = [];
  /** The context of the running call, or null. */
  context: MediaCallContext | null = null;
  microphoneOpen = false;
  camera: Camera | null = null;
  readonly views = new Map<string, MediaView>();
  /** Makes the next device open reject with this error (then clears it). */
  failNextOpen: Error | null = null;

  /** Names of the recorded calls. */
  methods(): string[] {
    return this.calls.map((c) => c.method);
  }

  #record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
  }

  #open(): void {
    const err = this.failNextOpen;
    this.failNextOpen = null;
    if (err) throw err;
  }

  async startCall(context: MediaCallContext): Promise<void> {
    this.#record('startCall', context.callId);
    this.context = context;
  }

  async stopCall(callId: string): Promise<void> {
    this.#record('stopCall', callId);
    if (this.context?.callId === callId) this.context = null;
  }

  peerJoined(userId: string): void {
    this.#record('peerJoined', userId);
  }

  peerLeft(userId: string): void {
    this.#record('peerLeft', userId);
  }

  handleSignal(from: string, signal: RelayedSignal): void {
    this.#record('handleSignal', from, signal);
  }

  handleTopology(topology: MediaTopology): void {
    this.#record('handleTopology', topology.mode);
  }

  remoteMediaState(userId: string, kind: 'audio' | 'video', isAvailable: boolean): void {
    this.#record('remoteMediaState', userId, kind, isAvailable);
  }

  signalingResumed(): void {
    this.#record('signalingResumed');
  }

  mediaTypeChanged(mediaType: CallMediaType): void {
    this.#record('mediaTypeChanged', mediaType);
  }

  async openMicrophone(): Promise<void> {
    this.#record('openMicrophone');
    this.#open();
    this.microphoneOpen = true;
  }

  async closeMicrophone(): Promise<void> {
    this.#record('closeMicrophone');
    this.microphoneOpen = false;
  }

  async openCamera(camera: Camera, view?: MediaView): Promise<void> {
    this.#record('openCamera', camera, view);
    this.#open();
    this.camera = camera;
  }

  async closeCamera(): Promise<void> {
    this.#record('closeCamera');
    this.camera = null;
  }

  async switchCamera(camera: Camera): Promise<void> {
    this.#record('switchCamera', camera);
    if (this.camera !== null) this.camera = camera;
  }

  async selectAudioPlaybackDevice(device: AudioPlaybackDevice): Promise<void> {
    this.#record('selectAudioPlaybackDevice', device);
  }

  async startRemoteView(userId: string, view: MediaView): Promise<void> {
    this.#record('startRemoteView', userId, view);
    this.views.set(userId, view);
  }

  async stopRemoteView(userId: string): Promise<void> {
    this.#record('stopRemoteView', userId);
    this.views.delete(userId);
  }

  async setVideoEncoderParams(params: VideoEncoderParams): Promise<void> {
    this.#record('setVideoEncoderParams', params);
  }

  async setVideoRenderParams(userId: string, params: VideoRenderParams): Promise<void> {
    this.#record('setVideoRenderParams', userId, params);
  }
}
