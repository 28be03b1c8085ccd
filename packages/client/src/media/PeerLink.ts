/**
 * A peer-to-peer connection to one other participant (1-to-1 calls and the mesh). One side offers
 * — the one whose user id sorts first — so offers never cross. Both m-lines (audio and video) are
 * negotiated from the start, sendrecv, whatever the call's media type: opening or closing a
 * device, or switching the call between audio and video, only swaps the track on the sender, with
 * no renegotiation. ICE restarts are made by the offerer; the other side asks for one (`restart`).
 * @packageDocumentation
 */
import type { RelayedSignal } from '@opencall/protocol/wire';
import { RtcConnection } from './RtcConnection.js';
import type { ConnectionEnv } from './RtcConnection.js';
import { sdpFingerprint } from './sdp.js';

/** A local track per kind (null: that device is closed). */
export interface LocalTracks {
  audio: MediaStreamTrack | null;
  video: MediaStreamTrack | null;
}

/** How long the first connection may take before the offerer restarts ICE. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The peer-to-peer connection to `peerId`. */
export class PeerLink extends RtcConnection {
  /** The other participant. */
  readonly peerId: string;
  /** True when this side makes the offers. */
  readonly isOfferer: boolean;
  /** A peer-to-peer link sends this device's media. */
  readonly sends = true;
  #tracks: LocalTracks;
  #remoteFingerprint: string | null = null;
  #restartWanted = false;
  #negotiating = false;

  constructor(env: ConnectionEnv, selfId: string, peerId: string, tracks: LocalTracks) {
    super(env, peerId, 'p2p');
    this.peerId = peerId;
    this.isOfferer = selfId < peerId;
    this.#tracks = { ...tracks };
    this.pc.ontrack = (ev) => {
      const mid = ev.transceiver?.mid ?? ev.track.kind;
      this.addTrack(`p2p:${peerId}:${mid}`, peerId, ev.track);
    };
  }

  /** Users this connection carries: its peer. */
  carries(): readonly string[] {
    return [this.peerId];
  }

  /** Every inbound stream of this link is the peer's. */
  override userOf(): string {
    return this.peerId;
  }

  /** Starts negotiating (the offerer offers; the other side waits for the offer). */
  start(): void {
    if (!this.isOfferer) return;
    this.pc.addTransceiver(this.#tracks.audio ?? 'audio', { direction: 'sendrecv' });
    this.pc.addTransceiver(this.#tracks.video ?? 'video', { direction: 'sendrecv' });
    void this.#offer(false);
    this.scheduleRecovery(CONNECT_TIMEOUT_MS);
  }

  /** True when an offer carrying `sdp` comes from a new peer connection of the peer (another device, a reload). */
  isFromNewConnection(signal: RelayedSignal): boolean {
    if (signal.kind !== 'offer' || !signal.sdp || this.#remoteFingerprint === null) return false;
    return sdpFingerprint(signal.sdp) !== this.#remoteFingerprint;
  }

  /** Swaps the local track of `kind` (null stops sending it). */
  async setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    this.#tracks[kind] = track;
    const t = this.#transceiver(kind);
    if (!t || this.closed) return;
    await t.sender.replaceTrack(track);
  }

  /** ICE restart: the offerer re-offers; the other side asks the offerer to. */
  restart(): void {
    if (this.closed) return;
    this.restarts++;
    if (!this.isOfferer) {
      this.signal({ kind: 'restart' });
      return;
    }
    if (this.#negotiating) {
      this.#restartWanted = true;
      return;
    }
    void this.#offer(true);
  }

  /** Handles an offer, answer, candidate or restart request from the peer. */
  async handle(signal: RelayedSignal): Promise<void> {
    switch (signal.kind) {
      case 'offer':
        if (signal.sdp) await this.#onOffer(signal.sdp);
        return;
      case 'answer':
        if (!signal.sdp || this.pc.signalingState !== 'have-local-offer') return;
        await this.pc.setRemoteDescription({ type: 'answer', sdp: this.incomingSdp(signal.sdp) });
        this.#remoteFingerprint = sdpFingerprint(signal.sdp);
        await this.flushCandidates();
        this.#negotiating = false;
        if (this.#restartWanted) {
          this.#restartWanted = false;
          void this.#offer(true);
        }
        return;
      case 'candidate':
        await this.addRemoteCandidate(signal.candidate);
        return;
      case 'restart':
        if (this.isOfferer) this.restart();
        return;
      default:
        return;
    }
  }

  async #offer(iceRestart: boolean): Promise<void> {
    if (this.closed) return;
    this.#negotiating = true;
    try {
      const offer = await this.pc.createOffer(iceRestart ? { iceRestart: true } : {});
      if (this.closed) return;
      await this.pc.setLocalDescription(offer);
      this.signal({ kind: 'offer', sdp: this.outgoingSdp(offer.sdp ?? '') });
    } catch (err) {
      this.#negotiating = false;
      this.env.logger.warn('peer-to-peer offer failed', { peer: this.peerId, error: String(err) });
    }
  }

  async #onOffer(sdp: string): Promise<void> {
    if (this.isOfferer) return; // offers go one way only; a stray one is a bug elsewhere
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.incomingSdp(sdp) });
    this.#remoteFingerprint = sdpFingerprint(sdp);
    // Send on the m-lines the offer created: the local device tracks go on them, both ways.
    for (const kind of ['audio', 'video'] as const) {
      const t = this.#transceiver(kind);
      if (!t) continue;
      t.direction = 'sendrecv';
      const track = this.#tracks[kind];
      if (t.sender.track !== track) await t.sender.replaceTrack(track);
    }
    const answer = await this.pc.createAnswer();
    if (this.closed) return;
    await this.pc.setLocalDescription(answer);
    this.signal({ kind: 'answer', sdp: this.outgoingSdp(answer.sdp ?? '') });
    await this.flushCandidates();
  }

  #transceiver(kind: 'audio' | 'video'): RTCRtpTransceiver | undefined {
    return this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind && t.currentDirection !== 'stopped');
  }
}
