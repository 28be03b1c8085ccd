/**
 * The media seam. The engine owns signaling and call state; a MediaAdapter owns devices and
 * WebRTC. The engine tells it when this device's part of a call starts and stops, relays the
 * WebRTC signals the server forwards, and delegates the device and view methods of the public API.
 * The browser and Node implementations come with the media work; {@link NullMedia} is the
 * signaling-only default.
 * @packageDocumentation
 */
import type {
  AudioPlaybackDevice,
  Camera,
  CallMediaType,
  ClientMessageData,
  FillMode,
  IceServer,
  ResolutionMode,
  Rotation,
  ServerEventOf,
  VideoResolution,
} from '@opencall/protocol/wire';
import type { CallEventArgs } from '../events.js';

/** Where a video renders: an element or element id in the browser, anything the adapter understands elsewhere. */
export type MediaView = unknown;

/** A WebRTC signal as the protocol carries it (SDP, ICE candidate, SFU control). */
export type MediaSignal = ClientMessageData<'media.signal'>['signal'];

/** The call's media topology as announced by the server. */
export type MediaTopology = Omit<ServerEventOf<'media.topology'>, 'name'>;

/** Events a media adapter may raise (they reach observers like server events). */
export type MediaEventName = 'onUserVoiceVolumeChanged' | 'onUserNetworkQualityChanged' | 'onError';

/** Encoder settings of `setVideoEncoderParams`. */
export interface VideoEncoderParams {
  resolution?: VideoResolution;
  resolutionMode?: ResolutionMode;
}

/** Render settings of `setVideoRenderParams`. */
export interface VideoRenderParams {
  fillMode?: FillMode;
  rotation?: Rotation;
}

/** What the engine hands an adapter when this device's part of a call starts. */
export interface MediaCallContext {
  readonly callId: string;
  /** The signed-in user. */
  readonly selfId: string;
  readonly mediaType: CallMediaType;
  /** Users connected when the call started for this device (more arrive via `peerJoined`). */
  readonly peers: readonly string[];
  /** STUN/TURN servers from the auth answer. */
  readonly iceServers: readonly IceServer[];
  /** Relays a signal to a participant's device (or `'sfu'`) through the server. */
  sendSignal(to: string, signal: MediaSignal): Promise<void>;
  /** Tells the other participants this device's mic/camera state (→ their onUserAudio/VideoAvailable). */
  sendState(audio: boolean, video: boolean): Promise<void>;
  /** Raises a media event to the application's observers. */
  emit<N extends MediaEventName>(name: N, ...args: CallEventArgs[N]): void;
}

/**
 * A media implementation. The engine calls `startCall` once this device is connected
 * (onCallBegin) and `stopCall` when its part ends; every method may be called outside a call
 * (e.g. a camera preview before calling).
 */
export interface MediaAdapter {
  /** This device's part of a call started. */
  startCall(context: MediaCallContext): Promise<void>;
  /** This device's part of the call ended (also on unInit, kick and lost sessions). */
  stopCall(callId: string): Promise<void>;
  /** A participant connected (onUserJoin). */
  peerJoined?(userId: string): void;
  /** A participant left (onUserLeave). */
  peerLeft?(userId: string): void;
  /** A relayed signal from `from` (a user id or `'sfu'`). */
  handleSignal?(from: string, signal: Record<string, unknown>): void;
  /** The call's topology (p2p, sfu, mesh). */
  handleTopology?(topology: MediaTopology): void;
  /** The call switched audio ↔ video. */
  mediaTypeChanged?(mediaType: CallMediaType): void;
  openMicrophone(): Promise<void>;
  closeMicrophone(): Promise<void>;
  openCamera(camera: Camera, view?: MediaView): Promise<void>;
  closeCamera(): Promise<void>;
  switchCamera(camera: Camera): Promise<void>;
  selectAudioPlaybackDevice(device: AudioPlaybackDevice): Promise<void>;
  startRemoteView(userId: string, view: MediaView): Promise<void>;
  stopRemoteView(userId: string): Promise<void>;
  setVideoEncoderParams(params: VideoEncoderParams): Promise<void>;
  setVideoRenderParams(userId: string, params: VideoRenderParams): Promise<void>;
}
