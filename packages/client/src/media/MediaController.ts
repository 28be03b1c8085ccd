/**
 * Connects the engine's call lifecycle to a {@link MediaAdapter}: starts this device's media when
 * the store says it is connected, stops it when the call is gone, and forwards peer changes and
 * relayed signals. Adapter failures are logged, never thrown into event dispatch: media trouble
 * must not corrupt call state (the adapter reports what the user should see via `onError`).
 * @packageDocumentation
 */
import { CallStatus } from '@opencall/protocol/wire';
import type { ServerEvent } from '@opencall/protocol/wire';
import type { Logger } from '../options.js';
import type { CallSnapshot } from '../state/CallStore.js';
import type { MediaAdapter, MediaCallContext } from './MediaAdapter.js';
import { browserMediaAvailable, createBrowserMedia } from './browser.js';
import { NullMedia } from './NullMedia.js';

/** Builds the adapter's context for a call that just connected. */
export type MediaContextFactory = (call: CallSnapshot) => MediaCallContext;

/** What {@link MediaController.sync} reads of the current call (a snapshot, or the store's own view). */
export type CallProgress = Pick<CallSnapshot, 'callId' | 'status'>;

/** Lifecycle glue between the call store and the media adapter. */
export class MediaController {
  /** The adapter the public media methods delegate to ({@link NullMedia} when none was given). */
  readonly adapter: MediaAdapter;
  readonly #logger: Logger;
  #activeCallId: string | null = null;

  /**
   * @param adapter the application's adapter; when undefined, the browser's WebRTC in a browser
   * and signaling only elsewhere (SPEC §4).
   */
  constructor(adapter: MediaAdapter | undefined, logger: Logger) {
    this.adapter = adapter ?? (browserMediaAvailable() ? createBrowserMedia() : new NullMedia());
    this.#logger = logger;
  }

  /** The call whose media is running, or null. */
  get activeCallId(): string | null {
    return this.#activeCallId;
  }

  /**
   * Brings media in line with the current call after an event was applied: start when connected
   * to a new call, stop when the running call is no longer current.
   */
  sync<C extends CallProgress>(call: C | null, makeContext: (call: C) => MediaCallContext): void {
    const active = this.#activeCallId;
    if (active !== null && active !== call?.callId) this.stop();
    if (call && call.status === CallStatus.accept && this.#activeCallId !== call.callId) {
      this.#activeCallId = call.callId;
      const context = makeContext(call);
      this.#guard('startCall', () => this.adapter.startCall(context));
    }
  }

  /** Forwards call events the adapter cares about (peers, media type, relayed signals). */
  handleEvent(event: ServerEvent): void {
    if (!('callId' in event) || event.callId !== this.#activeCallId) return;
    const a = this.adapter;
    try {
      switch (event.name) {
        case 'onUserJoin':
          a.peerJoined?.(event.userId);
          break;
        case 'onUserLeave':
          a.peerLeft?.(event.userId);
          break;
        case 'onCallMediaTypeChanged':
          a.mediaTypeChanged?.(event.newType);
          break;
        case 'media.signal':
          a.handleSignal?.(event.from, event.signal);
          break;
        case 'media.topology':
          a.handleTopology?.({ callId: event.callId, mode: event.mode, feeds: event.feeds });
          break;
        case 'onUserAudioAvailable':
          a.remoteMediaState?.(event.userId, 'audio', event.isAvailable);
          break;
        case 'onUserVideoAvailable':
          a.remoteMediaState?.(event.userId, 'video', event.isAvailable);
          break;
        default:
          break;
      }
    } catch (err) {
      this.#logger.error('media adapter failed to handle an event', { event: event.name, error: String(err) });
    }
  }

  /** The signaling connection came back after a drop: the adapter restarts ICE. */
  signalingResumed(): void {
    if (this.#activeCallId === null) return;
    try {
      this.adapter.signalingResumed?.();
    } catch (err) {
      this.#logger.error('media adapter failed to restart', { error: String(err) });
    }
  }

  /** Stops the running call's media, if any. */
  stop(): void {
    const callId = this.#activeCallId;
    if (callId === null) return;
    this.#activeCallId = null;
    this.#guard('stopCall', () => this.adapter.stopCall(callId));
  }

  /** Runs an adapter call whose failure (thrown or rejected) is logged, never propagated. */
  #guard(what: string, run: () => Promise<void>): void {
    const report = (err: unknown): void => this.#logger.error(`media ${what} failed`, { error: String(err) });
    try {
      run().catch(report);
    } catch (err) {
      report(err);
    }
  }
}
