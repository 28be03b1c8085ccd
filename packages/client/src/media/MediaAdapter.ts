/**
 * The media seam. The engine owns signaling and call state; a MediaAdapter owns devices and
 * WebRTC. The engine tells it when this device's part of a call starts and stops, relays the
 * WebRTC signals the server forwards, and delegates the device and view methods of the public API.
 * Implementations: `RtcMedia` over a browser platform (the browser default) or over
 * `@roamhq/wrtc` (`createNodeMedia` from `@opencall/client/node`), {@link NullMedia} (signaling
 * only, the Node default) and `FakeMedia` for unit tests.
 * @packageDocumentation
 */
import type {
  AudioPlaybackDevice,
  Camera,
  CallMediaType,
  CallScene,
  ClientMessageData,
  FillMode,
  IceServer,
  RelayedSignal,
  ResolutionMode,
  Rotation,
  ServerEventOf,
  VideoResolution,
} from '@opencall/protocol/wire';
import type { CallEventArgs } from '../events.js';
import type { Logger } from '../options.js';

/**
 * Where a video renders: in a browser an `HTMLVideoElement`, another element (a `<video>` is
 * created inside it) or an element id; in Node a frame callback (see `@opencall/client/node`).
 */
export type MediaView = unknown;

/** A WebRTC signal as a device sends it (SDP, ICE candidate, SFU control). */
export type MediaSignal = ClientMessageData<'media.signal'>['signal'];

/** A WebRTC signal as a device receives it (SFU subscriber offers add the mid → user map). */
export type { RelayedSignal };

/** The call's media topology as announced by the server. */
export type MediaTopology = Omit<ServerEventOf<'media.topology'>, 'name'>;

/** Events a media adapter may raise (they reach observers like server events). */
export type MediaEventName = 'onUserVoiceVolumeChanged' | 'onUserNetworkQualityChanged' | 'onError';

/** A kind of media device (SPEC §10). */
export type DeviceKind = 'camera' | 'microphone' | 'speaker';

/** One media device as `getDeviceList` lists it. */
export interface DeviceInfo {
  deviceId: string;
  /** Its name ('' until the page may use devices, per browser privacy rules). */
  label: string;
}

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
  /** `single` calls start peer-to-peer at once; multi/group calls wait for the server's topology. */
  readonly scene: CallScene;
  /** Users connected when the call started for this device (more arrive via `peerJoined`). */
  readonly peers: readonly string[];
  /** STUN/TURN servers from the auth answer. */
  readonly iceServers: readonly IceServer[];
  /** Relays a signal to a participant's device (or `'sfu'`) through the server. */
  sendSignal(to: string, signal: MediaSignal): Promise<void>;
  /**
   * Tells the other participants this device's mic/camera state (→ their onUserAudio/VideoAvailable);
   * `connected: true` reports that this device's media path is up (the call's mediaConnectedAt).
   */
  sendState(audio: boolean, video: boolean, connected?: boolean): Promise<void>;
  /** The engine's diagnostics sink. */
  readonly logger: Logger;
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
  handleSignal?(from: string, signal: RelayedSignal): void;
  /** A participant opened or closed their microphone or camera (from the server's events). */
  remoteMediaState?(userId: string, kind: 'audio' | 'video', isAvailable: boolean): void;
  /** The signaling connection came back after a drop (the network may have changed: restart ICE). */
  signalingResumed?(): void;
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
  /** The devices of `kind` ([] where the platform has none to choose from). */
  getDeviceList?(kind: DeviceKind): Promise<DeviceInfo[]>;
  /** Uses `deviceId` for `kind` from now on (an open microphone or camera is swapped live). */
  switchDevice?(kind: DeviceKind, deviceId: string): Promise<void>;
  /** Calls `onChange` when devices come or go; returns the stop function. */
  watchDevices?(onChange: () => void): () => void;
}
