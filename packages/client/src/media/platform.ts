/**
 * The platform seam under {@link RtcMedia}: everything that differs between a browser and Node
 * (`@roamhq/wrtc`) — creating peer connections, opening the microphone and camera, and what
 * happens to remote tracks (played and rendered in a browser, counted and handed to frame
 * callbacks in Node). The call logic above it (links, topology, volume, quality) is shared.
 * @packageDocumentation
 */
import type { AudioPlaybackDevice, Camera, FillMode, ResolutionMode, Rotation, VideoResolution } from '@opencall/protocol/wire';
import type { DeviceInfo, DeviceKind, MediaView } from './MediaAdapter.js';

/** What the camera should capture. */
export interface CameraSettings {
  /** Width × height in landscape; `portrait` swaps them. */
  width: number;
  height: number;
  mode: ResolutionMode;
  /** The resolution name given to `setVideoEncoderParams`, if any. */
  resolution: VideoResolution | null;
}

/** How a remote user's video is rendered. */
export interface RenderSettings {
  fillMode: FillMode;
  rotation: Rotation;
}

/** Where an ICE candidate is going (test hook {@link MediaPlatform.rewriteCandidate}). */
export interface CandidateInfo {
  /** `local`: gathered here, about to be sent; `remote`: received, about to be applied. */
  direction: 'local' | 'remote';
  /** The other end: a user id, or `'sfu'`. */
  peer: string;
}

/** Platform services used by {@link RtcMedia}. */
export interface MediaPlatform {
  /** Creates a peer connection. */
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection;
  /** Opens the microphone (`deviceId` '' = the default one). */
  openMicrophone(deviceId?: string): Promise<MediaStreamTrack>;
  /** Opens the front or back camera with `settings` (a `deviceId` wins over the facing). */
  openCamera(camera: Camera, settings: CameraSettings, deviceId?: string): Promise<MediaStreamTrack>;
  /** The devices of `kind`, where the platform has real ones. */
  listDevices?(kind: DeviceKind): Promise<DeviceInfo[]>;
  /** Calls `onChange` when devices come or go; returns the stop function. */
  watchDevices?(onChange: () => void): () => void;
  /** Plays remote audio on the output `deviceId` ('' = default). */
  setSpeaker?(deviceId: string): Promise<void>;
  /** Applies new settings to an open camera track; false when it has to be reopened instead. */
  reconfigureCamera(track: MediaStreamTrack, settings: CameraSettings): Promise<boolean>;
  /** Stops a track this platform opened (releases the device). */
  stopTrack(track: MediaStreamTrack): void;
  /** Shows the local camera in `view`; a null track clears it. */
  renderLocal(track: MediaStreamTrack | null, view: MediaView): void;
  /** A remote track of `userId` arrived; `key` names its source (connection and m-line). */
  addRemoteTrack(key: string, userId: string, track: MediaStreamTrack): void;
  /** The remote track of `key` is gone. */
  removeRemoteTrack(key: string): void;
  /** Where `userId`'s video renders (null: nowhere). */
  setRemoteView(userId: string, view: MediaView): void;
  /** How `userId`'s video renders. */
  setRenderSettings(userId: string, settings: RenderSettings): void;
  /** Routes remote audio to the speakerphone or the earpiece. */
  setPlaybackDevice(device: AudioPlaybackDevice): Promise<void>;
  /** `'relay'` forces TURN (tests, restrictive networks); default `'all'`. */
  readonly iceTransportPolicy?: RTCIceTransportPolicy;
  /**
   * Test hook: rewrites (or drops, by returning null) each ICE candidate line — local ones before
   * they are sent, remote ones before they are applied, in trickle messages and SDP alike.
   */
  rewriteCandidate?(candidate: string, info: CandidateInfo): string | null;
}

/**
 * Bookkeeping of remote tracks by source key, so a user's video has one current source while two
 * connections overlap (peer-to-peer → SFU): the newest track wins and the previous one takes over
 * again if the newest goes.
 */
export class RemoteTrackTable {
  readonly #byKey = new Map<string, { userId: string; track: MediaStreamTrack }>();

  /** Adds (or replaces) the track of `key`. */
  add(key: string, userId: string, track: MediaStreamTrack): void {
    this.#byKey.delete(key); // re-insert: Map order = age, newest last
    this.#byKey.set(key, { userId, track });
  }

  /** Removes `key`; returns what it held. */
  remove(key: string): { userId: string; track: MediaStreamTrack } | undefined {
    const entry = this.#byKey.get(key);
    this.#byKey.delete(key);
    return entry;
  }

  /** The current (newest) track of `kind` for `userId`, with its key. */
  current(userId: string, kind: 'audio' | 'video'): { key: string; track: MediaStreamTrack } | null {
    let found: { key: string; track: MediaStreamTrack } | null = null;
    for (const [key, e] of this.#byKey) if (e.userId === userId && e.track.kind === kind) found = { key, track: e.track };
    return found;
  }

  /** Every key with its user and track. */
  entries(): Array<[string, { userId: string; track: MediaStreamTrack }]> {
    return [...this.#byKey];
  }
}

/** Width and height of a resolution name. */
export function resolutionSize(resolution: VideoResolution): { width: number; height: number } {
  const [w, h] = resolution.split('x').map(Number);
  return { width: w ?? 640, height: h ?? 360 };
}
