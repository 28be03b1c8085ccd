/**
 * The signaling-only media adapter: every method resolves without effect and no media events are
 * raised. Used when the engine is created without `media` (bots, load tests, servers).
 * @packageDocumentation
 */
import type { MediaAdapter } from './MediaAdapter.js';

const done = (): Promise<void> => Promise.resolve();

/** A {@link MediaAdapter} that does nothing. */
export class NullMedia implements MediaAdapter {
  /** No media: nothing to start. */
  startCall = done;
  /** No media: nothing to stop. */
  stopCall = done;
  /** Resolves without effect. */
  openMicrophone = done;
  /** Resolves without effect. */
  closeMicrophone = done;
  /** Resolves without effect. */
  openCamera = done;
  /** Resolves without effect. */
  closeCamera = done;
  /** Resolves without effect. */
  switchCamera = done;
  /** Resolves without effect. */
  selectAudioPlaybackDevice = done;
  /** Resolves without effect. */
  startRemoteView = done;
  /** Resolves without effect. */
  stopRemoteView = done;
  /** Resolves without effect. */
  setVideoEncoderParams = done;
  /** Resolves without effect. */
  setVideoRenderParams = done;
}
