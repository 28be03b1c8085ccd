/**
 * What every peer connection of a call shares, peer-to-peer or to the SFU: trickle ICE through
 * signaling (candidates that arrive before the remote description wait for it), the candidate
 * test hook, remote tracks handed to the platform under stable keys, and recovery — a connection
 * that fails, or stays disconnected for a moment, is restarted with backoff.
 * @packageDocumentation
 */
import type { RelayedSignal } from '@opencall/protocol/wire';
import type { Logger } from '../options.js';
import type { MediaSignal } from './MediaAdapter.js';
import { unref } from './MediaMeter.js';
import type { StatsTarget } from './MediaMeter.js';
import type { MediaPlatform } from './platform.js';
import { rewriteSdpCandidates } from './sdp.js';
import type { StatLike } from './stats.js';

/** What a connection needs from its call. */
export interface ConnectionEnv {
  readonly platform: MediaPlatform;
  readonly iceServers: RTCIceServer[];
  readonly logger: Logger;
  /** Sends a signal to `to` (a user id or `'sfu'`). */
  send(to: string, signal: MediaSignal): void;
  /** A connection reached `connected` (the call reports its media path up once). */
  connected(): void;
  /** A remote track arrived / went (keys are unique per connection and m-line). */
  trackAdded(key: string, userId: string, track: MediaStreamTrack): void;
  trackRemoved(key: string): void;
}

/** How long a `disconnected` connection may take to come back by itself before an ICE restart. */
export const DISCONNECTED_GRACE_MS = 2000;
const MAX_BACKOFF_MS = 8000;
let nextId = 0;

/** Base of {@link PeerLink} and the SFU connections. */
export abstract class RtcConnection implements StatsTarget {
  /** Unique id of this connection instance (stats bookkeeping). */
  readonly id: string;
  readonly pc: RTCPeerConnection;
  protected readonly env: ConnectionEnv;
  /** Where signals of this connection go (a user id or `'sfu'`). */
  protected readonly to: string;
  /** Which connection this is: to a peer, or this device's SFU publisher/subscriber. */
  readonly pcKind: 'p2p' | 'pub' | 'sub';
  /** True when this connection sends this device's media. */
  abstract readonly sends: boolean;
  /** Remote track keys this connection added. */
  protected readonly trackKeys = new Set<string>();
  /** ICE restarts done so far (diagnostics and tests). */
  restarts = 0;
  #pending: RTCIceCandidateInit[] = [];
  #closed = false;
  #recoverTimer: ReturnType<typeof setTimeout> | null = null;
  #backoffMs = 0;
  #everConnected = false;

  constructor(env: ConnectionEnv, to: string, pcKind: 'p2p' | 'pub' | 'sub') {
    this.env = env;
    this.to = to;
    this.pcKind = pcKind;
    this.id = `${pcKind}:${to}#${++nextId}`;
    const policy = env.platform.iceTransportPolicy;
    // max-bundle: one transport (one port) for every m-line from the first offer on.
    this.pc = env.platform.createPeerConnection({ iceServers: env.iceServers, bundlePolicy: 'max-bundle', ...(policy ? { iceTransportPolicy: policy } : {}) });
    this.pc.onicecandidate = (ev) => this.#onLocalCandidate(ev.candidate);
    this.pc.onconnectionstatechange = () => this.#onState();
  }

  /** True once close() ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once this connection was connected at least once. */
  get everConnected(): boolean {
    return this.#everConnected;
  }

  /** The remote users whose media this connection carries. */
  abstract carries(): readonly string[];

  /** The remote user of an inbound stream of this connection (stats), if known. */
  userOf(_stat: StatLike): string | undefined {
    return undefined;
  }

  /** Restarts ICE (or asks the far end to), after a failure or a signaling reconnection. */
  abstract restart(): void;

  /** Handles a signal for this connection. */
  abstract handle(signal: RelayedSignal): Promise<void>;

  /** Closes the connection and removes its remote tracks (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#recoverTimer) clearTimeout(this.#recoverTimer);
    this.#recoverTimer = null;
    for (const key of this.trackKeys) this.env.trackRemoved(key);
    this.trackKeys.clear();
    this.pc.onicecandidate = null;
    this.pc.onconnectionstatechange = null;
    this.pc.ontrack = null;
    this.pc.close();
  }

  /** Sends a signal of this connection. */
  protected signal(signal: MediaSignal): void {
    if (!this.#closed) this.env.send(this.to, { ...signal, pc: this.pcKind });
  }

  /** An SDP as it leaves (local candidates through the test hook). */
  protected outgoingSdp(sdp: string): string {
    return this.#rewriteSdp(sdp, 'local');
  }

  /** An SDP as it arrives (remote candidates through the test hook). */
  protected incomingSdp(sdp: string): string {
    return this.#rewriteSdp(sdp, 'remote');
  }

  /** Applies a remote candidate now, or once the remote description is set. */
  protected async addRemoteCandidate(c: RTCIceCandidateInit | null | undefined): Promise<void> {
    if (!c?.candidate) return; // end-of-candidates needs nothing with trickle on both sides
    const line = this.#rewrite(c.candidate, 'remote');
    if (line === null) return;
    const candidate = { ...c, candidate: line };
    if (!this.pc.remoteDescription) {
      this.#pending.push(candidate);
      return;
    }
    await this.pc.addIceCandidate(candidate).catch((err: unknown) => this.env.logger.debug('ICE candidate refused', { to: this.to, error: String(err) }));
  }

  /** Applies candidates that waited for the remote description. */
  protected async flushCandidates(): Promise<void> {
    const list = this.#pending;
    this.#pending = [];
    for (const c of list) await this.pc.addIceCandidate(c).catch(() => undefined);
  }

  /** Hands a remote track to the platform under `key` (replacing whatever the key held). */
  protected addTrack(key: string, userId: string, track: MediaStreamTrack): void {
    this.trackKeys.add(key);
    this.env.trackAdded(key, userId, track);
  }

  /** Removes the remote track of `key`. */
  protected removeTrack(key: string): void {
    if (this.trackKeys.delete(key)) this.env.trackRemoved(key);
  }

  /**
   * Media from the far end stopped arriving although the connection still reads `connected`
   * (libwebrtc notices a dead path only after several seconds): recover now, with backoff.
   */
  stalled(): void {
    this.scheduleRecovery(0, true);
  }

  /** Schedules a recovery after `delayMs` (at least the current backoff); `evenIfConnected` for stalls. */
  protected scheduleRecovery(delayMs: number, evenIfConnected = false): void {
    if (this.#closed || this.#recoverTimer) return;
    this.#recoverTimer = setTimeout(() => {
      this.#recoverTimer = null;
      const state = this.pc.connectionState;
      if (this.#closed || (state === 'connected' && !evenIfConnected)) return;
      this.#backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, this.#backoffMs * 2));
      this.env.logger.debug('media connection recovering', { to: this.to, pc: this.pcKind, state });
      this.recover();
      // Still not up after the restart: try again later.
      this.scheduleRecovery(this.#backoffMs + DISCONNECTED_GRACE_MS);
    }, Math.max(delayMs, this.#backoffMs));
    unref(this.#recoverTimer);
  }

  /** What to do when the connection failed (default: an ICE restart). */
  protected recover(): void {
    this.restart();
  }

  #onState(): void {
    const state = this.pc.connectionState;
    if (state === 'connected') {
      this.#everConnected = true;
      this.#backoffMs = 0;
      if (this.#recoverTimer) clearTimeout(this.#recoverTimer);
      this.#recoverTimer = null;
      this.env.connected();
    } else if (state === 'failed') {
      this.scheduleRecovery(0);
    } else if (state === 'disconnected') {
      this.scheduleRecovery(DISCONNECTED_GRACE_MS);
    }
  }

  #onLocalCandidate(c: RTCIceCandidate | null): void {
    if (!c || this.#closed) return;
    const line = this.#rewrite(c.candidate, 'local');
    if (line === null) return;
    this.signal({ kind: 'candidate', candidate: { candidate: line, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex } });
  }

  #rewriteSdp(sdp: string, direction: 'local' | 'remote'): string {
    if (!this.env.platform.rewriteCandidate) return sdp;
    return rewriteSdpCandidates(sdp, (c) => this.#rewrite(c, direction));
  }

  /** A candidate line through the platform's test hook (unchanged without one). */
  #rewrite(candidate: string, direction: 'local' | 'remote'): string | null {
    const p = this.env.platform;
    return p.rewriteCandidate ? p.rewriteCandidate(candidate, { direction, peer: this.to }) : candidate;
  }
}
