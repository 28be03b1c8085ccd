/**
 * This device's connections to the SFU in a multi/group call: one publisher (`pub`, sendonly,
 * audio + video m-lines from the start so devices open and close without renegotiation) and one
 * multistream subscriber (`sub`) carrying every other participant, labelled by the server's
 * mid → user map. The server drives subscriptions: each subscriber offer comes from it, and a
 * `fresh` one replaces the subscriber connection. Recovery: a failed publisher publishes afresh;
 * a failed subscriber asks for a fresh one (`subscribe`).
 * @packageDocumentation
 */
import type { RelayedSignal } from '@opencall/protocol/wire';
import type { LocalTracks } from './PeerLink.js';
import { RtcConnection } from './RtcConnection.js';
import type { ConnectionEnv } from './RtcConnection.js';
import type { StatLike } from './stats.js';

/** How long a connection to the SFU may take before it is recovered. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The publisher connection. */
export class SfuPublisher extends RtcConnection {
  /** The publisher sends this device's media. */
  readonly sends = true;
  readonly #onFailed: () => void;
  #negotiating = false;
  #restartWanted = false;

  constructor(env: ConnectionEnv, tracks: LocalTracks, onFailed: () => void) {
    super(env, 'sfu', 'pub');
    this.#onFailed = onFailed;
    this.pc.addTransceiver(tracks.audio ?? 'audio', { direction: 'sendonly' });
    this.pc.addTransceiver(tracks.video ?? 'video', { direction: 'sendonly' });
  }

  /** Publishes: offers to the SFU (`fresh`: this replaces an earlier publisher connection). */
  start(fresh: boolean): void {
    void this.#offer(false, fresh);
    this.scheduleRecovery(CONNECT_TIMEOUT_MS);
  }

  /** A publisher carries nobody's media to this device. */
  carries(): readonly string[] {
    return [];
  }

  /** Swaps the local track of `kind`. */
  async setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    const t = this.pc.getTransceivers().find((x) => x.receiver.track.kind === kind);
    if (t && !this.closed) await t.sender.replaceTrack(track);
  }

  /** ICE restart on the same connection (signaling came back: the network may have changed). */
  restart(): void {
    if (this.closed) return;
    this.restarts++;
    if (this.#negotiating) this.#restartWanted = true;
    else void this.#offer(true, false);
  }

  /** Handles the SFU's answer or a candidate. */
  async handle(signal: RelayedSignal): Promise<void> {
    if (signal.kind === 'candidate') return this.addRemoteCandidate(signal.candidate);
    if (signal.kind !== 'answer' || !signal.sdp || this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: this.incomingSdp(signal.sdp) });
    await this.flushCandidates();
    this.#negotiating = false;
    if (this.#restartWanted) {
      this.#restartWanted = false;
      void this.#offer(true, false);
    }
  }

  /** A failed publisher is replaced: the SFU may have dropped its side already. */
  protected override recover(): void {
    this.#onFailed();
  }

  async #offer(iceRestart: boolean, fresh: boolean): Promise<void> {
    this.#negotiating = true;
    try {
      const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : {});
      if (this.closed) return;
      await this.pc.setLocalDescription(offer);
      this.signal({ kind: 'offer', sdp: this.outgoingSdp(offer.sdp ?? ''), ...(fresh ? { fresh: true } : {}) });
    } catch (err) {
      this.#negotiating = false;
      this.env.logger.warn('sfu publish offer failed', { error: String(err) });
    }
  }
}

/** The multistream subscriber connection. */
export class SfuSubscriber extends RtcConnection {
  /** The subscriber only receives. */
  readonly sends = false;
  /** mid → user of the current offer. */
  #users = new Map<string, string>();
  /** Remote track id → user (stats fallback when `mid` is missing). */
  readonly #trackUsers = new Map<string, string>();
  /** mid → user each key was last labelled with. */
  readonly #labels = new Map<string, string>();
  readonly #onCarrying: (users: readonly string[]) => void;

  constructor(env: ConnectionEnv, onCarrying: (users: readonly string[]) => void) {
    super(env, 'sfu', 'sub');
    this.#onCarrying = onCarrying;
    this.scheduleRecovery(CONNECT_TIMEOUT_MS);
  }

  /** Users whose media the current offer carries. */
  carries(): readonly string[] {
    return [...new Set(this.#users.values())];
  }

  /** The user of an inbound stream (by mid, else by track id). */
  override userOf(stat: StatLike): string | undefined {
    return (stat.mid !== undefined ? this.#users.get(stat.mid) : undefined) ?? (stat.trackIdentifier ? this.#trackUsers.get(stat.trackIdentifier) : undefined);
  }

  /** Asks the server for a fresh subscriber connection. */
  restart(): void {
    if (this.closed) return;
    this.restarts++;
    this.signal({ kind: 'subscribe' });
  }

  /** Handles an offer (answered at once) or a candidate from the SFU. */
  async handle(signal: RelayedSignal): Promise<void> {
    if (signal.kind === 'candidate') return this.addRemoteCandidate(signal.candidate);
    if (signal.kind !== 'offer' || !signal.sdp) return;
    this.#users = new Map((signal.streams ?? []).filter((s) => s.kind !== 'data').map((s) => [s.mid, s.userId]));
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.incomingSdp(signal.sdp) });
    this.#relabel();
    const answer = await this.pc.createAnswer();
    if (this.closed) return;
    await this.pc.setLocalDescription(answer);
    this.signal({ kind: 'answer', sdp: this.outgoingSdp(answer.sdp ?? '') });
    await this.flushCandidates();
    if (this.pc.connectionState === 'connected') this.#onCarrying(this.carries());
  }

  /** Connected: the SFU now carries the users of the current offer. */
  notifyConnected(): void {
    this.#onCarrying(this.carries());
  }

  /** Gives every receiving m-line's track to the platform under the user the server named for it. */
  #relabel(): void {
    for (const t of this.pc.getTransceivers()) {
      const mid = t.mid;
      if (mid === null) continue;
      const key = `${this.id}:${mid}`;
      const user = this.#users.get(mid);
      if (!user) {
        this.#labels.delete(mid);
        this.removeTrack(key);
        continue;
      }
      if (this.#labels.get(mid) === user) continue;
      this.#labels.set(mid, user);
      this.#trackUsers.set(t.receiver.track.id, user);
      this.addTrack(key, user, t.receiver.track);
    }
  }
}

/** Publisher + subscriber of one call. */
export class SfuSession {
  readonly #env: ConnectionEnv;
  readonly #tracks: () => LocalTracks;
  readonly #onCarrying: (users: readonly string[]) => void;
  #pub: SfuPublisher;
  #sub: SfuSubscriber | null = null;
  #closed = false;

  /**
   * @param env - the call's connection environment
   * @param tracks - the current local tracks (read again when publishing afresh)
   * @param onCarrying - the subscriber is connected and carries these users
   */
  constructor(env: ConnectionEnv, tracks: () => LocalTracks, onCarrying: (users: readonly string[]) => void) {
    this.#env = env;
    this.#tracks = tracks;
    this.#onCarrying = onCarrying;
    this.#pub = this.#newPublisher();
  }

  /** The connections the meter reads. */
  get connections(): readonly RtcConnection[] {
    return this.#sub ? [this.#pub, this.#sub] : [this.#pub];
  }

  /** The subscriber, if one was offered. */
  get subscriber(): SfuSubscriber | null {
    return this.#sub;
  }

  /** Publishes this device's media. */
  start(): void {
    this.#pub.start(false);
  }

  /** Handles a signal from the SFU. */
  async handle(signal: RelayedSignal): Promise<void> {
    if (this.#closed) return;
    if (signal.pc === 'pub') {
      if (signal.kind === 'restart') this.#republish();
      else await this.#pub.handle(signal);
      return;
    }
    if (signal.pc !== 'sub') return;
    if (signal.kind === 'offer' && (signal.fresh || !this.#sub)) {
      this.#sub?.close();
      const sub: SfuSubscriber = new SfuSubscriber({ ...this.#env, connected: () => (this.#env.connected(), sub.notifyConnected()) }, this.#onCarrying);
      this.#sub = sub;
    }
    await this.#sub?.handle(signal);
  }

  /** Swaps a local track on the publisher. */
  async setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    await this.#pub.setTrack(kind, track);
  }

  /** Signaling came back: ICE-restart the publisher; rebuild the subscriber if it is down. */
  restart(): void {
    this.#pub.restart();
    if (this.#sub && this.#sub.pc.connectionState !== 'connected') this.#sub.restart();
  }

  /** Closes both connections. */
  close(): void {
    this.#closed = true;
    this.#pub.close();
    this.#sub?.close();
    this.#sub = null;
  }

  #newPublisher(): SfuPublisher {
    return new SfuPublisher(this.#env, this.#tracks(), () => this.#republish());
  }

  #republish(): void {
    if (this.#closed) return;
    this.#pub.close();
    this.#pub = this.#newPublisher();
    this.#pub.restarts++;
    this.#pub.start(true);
  }
}
