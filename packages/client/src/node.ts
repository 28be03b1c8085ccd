/**
 * `@opencall/client/node`: media for Node (`@roamhq/wrtc`, synthetic sources, frame-counting
 * sinks). Not implemented yet; the subpath exists so imports and packaging already work. Without
 * it a Node engine runs signaling only.
 * @packageDocumentation
 */
import type { MediaAdapter } from './media/MediaAdapter.js';

/** Options of {@link createNodeMedia} (SPEC §7). */
export interface NodeMediaOptions {
  /** The synthetic microphone: a sine tone. */
  tone?: { frequencyHz: number; amplitude: number };
  /** The synthetic camera: a moving test pattern. */
  video?: { width: number; height: number; fps: number };
}

/** Frames that really arrived from a user. */
export interface ReceivedFrames {
  audio: number;
  video: number;
}

/** A Node media adapter that can also count received frames. */
export interface NodeMedia extends MediaAdapter {
  /** Frames received from `userId` so far. */
  receivedFrames(userId: string): ReceivedFrames;
}

/**
 * Creates the Node media adapter. Not implemented yet: throws, so a test that needs real media
 * fails loudly instead of silently running without it.
 */
export function createNodeMedia(options: NodeMediaOptions = {}): NodeMedia {
  void options;
  throw new Error('@opencall/client/node: createNodeMedia is not implemented yet (Node media is a later issue); omit `media` to run signaling only');
}
