/**
 * The page's picture of the current call, kept from engine events: which screen shows (phase), who
 * is in it or still ringing, their mic/camera state, voice levels and network quality. No DOM and
 * no engine here: the controller feeds it events and the screens read it, so this logic is tested
 * without a browser.
 * @packageDocumentation
 */
import { CallMediaType, NetworkQuality } from '@opencall/client';
import type { Outcome } from './outcomes.js';

/** Which call screen is up (`preview`: this user checks camera and microphone before placing a call). */
export type Phase = 'idle' | 'preview' | 'outgoing' | 'incoming' | 'connected' | 'ended';

/** One other person in the call. */
export interface Peer {
  readonly userId: string;
  /** Ringing (invited, not yet connected) or connected. */
  state: 'ringing' | 'joined';
  /** Microphone on (false only once they are known to have muted). */
  audio: boolean;
  /** Camera sending; null until they told us (a frame arriving then counts as on). */
  video: boolean | null;
  /** Voice level 0–100. */
  volume: number;
  quality: NetworkQuality;
}

/** This user's own state in the call. */
export interface SelfState {
  audio: boolean;
  video: boolean;
  volume: number;
  /** Uplink quality. */
  quality: NetworkQuality;
}

/** What changed: screens redraw the matching part (levels tick every ~300 ms, so they are cheap). */
export type Change = 'phase' | 'peers' | 'media' | 'levels';

/** The current call as the page shows it. */
export class CallModel {
  /** The signed-in user. */
  readonly selfId: string;
  phase: Phase = 'idle';
  callId: string | null = null;
  mediaType: CallMediaType = CallMediaType.none;
  isCaller = false;
  callerId = '';
  /** Everyone invited so far (never the caller). */
  invitees: string[] = [];
  /** Other people: connected first in join order, then ringing. */
  readonly peers = new Map<string, Peer>();
  readonly self: SelfState = { audio: true, video: false, volume: 0, quality: NetworkQuality.unknown };
  /** When this device got connected (ms epoch), for the call timer. */
  connectedAt: number | null = null;
  /** Why the call ended (phase `ended`). */
  outcome: Outcome | null = null;
  readonly #listeners = new Set<(change: Change) => void>();
  /** People who declined, did not answer, were busy or left: not shown as ringing again. */
  readonly #gone = new Set<string>();

  constructor(selfId: string) {
    this.selfId = selfId;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe(listener: (change: Change) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * True while a call screen (not the end screen) is up. The preview is not a call: nothing was
   * placed, so a call ringing meanwhile takes over.
   */
  get isActive(): boolean {
    return this.phase === 'outgoing' || this.phase === 'incoming' || this.phase === 'connected';
  }

  /** More than two people involved (caller + invitees). */
  get isGroup(): boolean {
    return this.invitees.length + 1 > 2;
  }

  /** Connected peers in join order. */
  get joined(): Peer[] {
    return [...this.peers.values()].filter((p) => p.state === 'joined');
  }

  /** Invitees still ringing. */
  get ringing(): Peer[] {
    return [...this.peers.values()].filter((p) => p.state === 'ringing');
  }

  /** This user checks camera and microphone before calling `userIds` (nothing is placed yet). */
  previewing(userIds: string[], mediaType: CallMediaType): void {
    this.#asCaller('preview', userIds, mediaType);
  }

  /** This user starts a call (before the server answers; events may arrive before `calls()` resolves). */
  dialing(userIds: string[], mediaType: CallMediaType): void {
    this.#asCaller('outgoing', userIds, mediaType);
  }

  /** A fresh model of this user calling `userIds`, in `phase` (the preview, or the call placed). */
  #asCaller(phase: 'preview' | 'outgoing', userIds: string[], mediaType: CallMediaType): void {
    this.#reset();
    this.phase = phase;
    this.isCaller = true;
    this.callerId = this.selfId;
    this.mediaType = mediaType;
    this.invitees = [...userIds];
    for (const u of userIds) this.peers.set(u, peer(u, 'ringing'));
    this.self.video = mediaType === CallMediaType.video;
    this.#emit('phase');
  }

  /** `calls()` resolved: remember its id unless the call already ended. */
  dialed(callId: string): void {
    if (this.phase === 'outgoing' || this.phase === 'connected') this.callId ??= callId;
  }

  /** An invitation rings here. Returns false (and changes nothing) while another call is up. */
  received(callId: string, callerId: string, calleeIdList: string[], mediaType: CallMediaType): boolean {
    if (this.isActive) return false;
    this.#reset();
    this.phase = 'incoming';
    this.callId = callId;
    this.callerId = callerId;
    this.invitees = [...calleeIdList];
    this.mediaType = mediaType;
    this.self.video = mediaType === CallMediaType.video;
    this.#emit('phase');
    return true;
  }

  /** This device is connected. Other invitees still ringing stay listed as ringing. */
  begin(callId: string, mediaType: CallMediaType, now: number): void {
    this.callId = callId;
    this.mediaType = mediaType;
    this.phase = 'connected';
    this.connectedAt = now;
    for (const u of this.invitees) {
      if (u !== this.selfId && !this.peers.has(u) && !this.#gone.has(u) && !this.isCaller) this.peers.set(u, peer(u, 'ringing'));
    }
    this.#emit('phase');
  }

  /** `userId` is connected. */
  join(userId: string): void {
    if (userId === this.selfId) return;
    this.#gone.delete(userId);
    const p = this.peers.get(userId) ?? peer(userId, 'joined');
    p.state = 'joined';
    // Re-insert so connected people keep join order ahead of those still ringing.
    this.peers.delete(userId);
    this.peers.set(userId, p);
    this.#emit('peers');
  }

  /** `userId` left, declined, did not answer or was busy: they are no longer shown. */
  remove(userId: string): void {
    this.#gone.add(userId);
    if (this.peers.delete(userId)) this.#emit('peers');
  }

  /** Someone invited `userId` into this call. */
  inviting(userId: string): void {
    if (userId === this.selfId) return;
    this.#gone.delete(userId);
    if (!this.invitees.includes(userId)) this.invitees.push(userId);
    if (!this.peers.has(userId)) this.peers.set(userId, peer(userId, 'ringing'));
    this.#emit('peers');
  }

  /** The call is over for this device (connected or not). */
  ended(outcome: Outcome): void {
    this.phase = 'ended';
    this.outcome = outcome;
    this.#emit('phase');
  }

  /** Back to the home screen. */
  clear(): void {
    this.#reset();
    this.#emit('phase');
  }

  /** The call switched audio ↔ video. */
  mediaTypeChanged(mediaType: CallMediaType): void {
    this.mediaType = mediaType;
    this.self.video = mediaType === CallMediaType.video;
    for (const p of this.peers.values()) p.video = mediaType === CallMediaType.video ? null : false;
    this.#emit('media');
  }

  /** A peer's (or, with the own id, this user's) mic or camera state. */
  setAvailable(userId: string, kind: 'audio' | 'video', available: boolean): void {
    const target = userId === this.selfId ? this.self : this.peers.get(userId);
    if (!target) return;
    if (kind === 'audio') target.audio = available;
    else target.video = available;
    this.#emit('media');
  }

  /** Voice levels 0–100 by user id (own id included). */
  volumes(map: Record<string, number>): void {
    for (const [userId, v] of Object.entries(map)) {
      const target = userId === this.selfId ? this.self : this.peers.get(userId);
      if (target) target.volume = v;
    }
    this.#emit('levels');
  }

  /** Network quality by user id (own id = uplink). */
  qualities(list: { userId: string; quality: NetworkQuality }[]): void {
    for (const { userId, quality } of list) {
      const target = userId === this.selfId ? this.self : this.peers.get(userId);
      if (target) target.quality = quality;
    }
    this.#emit('levels');
  }

  #reset(): void {
    this.phase = 'idle';
    this.callId = null;
    this.mediaType = CallMediaType.none;
    this.isCaller = false;
    this.callerId = '';
    this.invitees = [];
    this.peers.clear();
    this.#gone.clear();
    Object.assign(this.self, { audio: true, video: false, volume: 0, quality: NetworkQuality.unknown });
    this.connectedAt = null;
    this.outcome = null;
  }

  #emit(change: Change): void {
    for (const l of [...this.#listeners]) l(change);
  }
}

function peer(userId: string, state: Peer['state']): Peer {
  return { userId, state, audio: true, video: null, volume: 0, quality: NetworkQuality.unknown };
}
