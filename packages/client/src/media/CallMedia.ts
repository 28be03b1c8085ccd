/**
 * The media of one call on this device: the topology (peer-to-peer links or the SFU session),
 * signals processed strictly in arrival order, device tracks fanned out to every connection,
 * availability announcements, the mediaConnected report and the volume/quality meter.
 *
 * Topology: a `single` call starts peer-to-peer at once; a multi/group call waits for the
 * server's `media.topology`. Moving to the SFU keeps each peer-to-peer link until the SFU
 * subscriber carries that peer (then a short overlap, then the link closes), so people who were
 * already talking never lose each other for more than a moment.
 * @packageDocumentation
 */
import type { RelayedSignal } from '@opencall/protocol/wire';
import type { MediaCallContext, MediaTopology } from './MediaAdapter.js';
import { MediaMeter, unref } from './MediaMeter.js';
import { PeerLink } from './PeerLink.js';
import type { LocalTracks } from './PeerLink.js';
import type { ConnectionEnv, RtcConnection } from './RtcConnection.js';
import { SfuSession } from './SfuSession.js';
import type { MediaPlatform } from './platform.js';

/** How media flows in a call. */
export type MediaMode = MediaTopology['mode'];

/** One connection as {@link CallMedia.describe} reports it. */
export interface ConnectionInfo {
  /** `p2p` to a peer, or this device's SFU publisher/subscriber. */
  pc: 'p2p' | 'pub' | 'sub';
  /** The peer's user id, or `'sfu'`. */
  peer: string;
  state: RTCPeerConnectionState;
  /** Users whose media arrives on it. */
  carries: string[];
  /** ICE restarts (or fresh reconnections) so far. */
  restarts: number;
  /** The remote end of the selected candidate pair. */
  remote: { address: string; port: number; candidateType: string } | null;
}

/** What a call's media needs from the adapter. */
export interface CallMediaDeps {
  context: MediaCallContext;
  platform: MediaPlatform;
  /** The current local device tracks. */
  tracks(): LocalTracks;
}

/** How long both paths run side by side when a peer moves from peer-to-peer to the SFU. */
const OVERLAP_MS = 500;

/** Media of one call. */
export class CallMedia {
  readonly callId: string;
  readonly #ctx: MediaCallContext;
  readonly #deps: CallMediaDeps;
  readonly #env: ConnectionEnv;
  readonly #meter: MediaMeter;
  readonly #peers = new Set<string>();
  readonly #links = new Map<string, PeerLink>();
  readonly #remote = new Map<string, { audio: boolean; video: boolean }>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #mode: MediaMode | null = null;
  #sfu: SfuSession | null = null;
  #chain: Promise<void>;
  #ready!: () => void;
  #connectedReported = false;
  #stopped = false;

  constructor(deps: CallMediaDeps) {
    this.#deps = deps;
    const ctx = (this.#ctx = deps.context);
    this.callId = ctx.callId;
    // Signals that arrive while the devices open wait here, in order.
    this.#chain = new Promise<void>((resolve) => (this.#ready = resolve));
    this.#env = {
      platform: deps.platform,
      iceServers: ctx.iceServers.map((s) => ({ ...s })),
      logger: ctx.logger,
      send: (to, signal) => {
        ctx.sendSignal(to, signal).catch((err: unknown) => ctx.logger.debug('media signal not delivered', { to, kind: signal.kind, error: String(err) }));
      },
      connected: () => this.#onConnected(),
      trackAdded: (key, userId, track) => deps.platform.addRemoteTrack(key, userId, track),
      trackRemoved: (key) => deps.platform.removeRemoteTrack(key),
    };
    this.#meter = new MediaMeter({
      selfId: ctx.selfId,
      users: () => [...this.#peers],
      targets: () => this.connections,
      micOpen: () => deps.tracks().audio !== null,
      sending: () => deps.tracks().audio !== null || deps.tracks().video !== null,
      expects: (u) => Boolean(this.#remote.get(u)?.audio || this.#remote.get(u)?.video),
      stalled: (u) => this.connections.find((c) => c.carries().includes(u))?.stalled(),
      emit: (name, ...args) => ctx.emit(name, ...args),
      logger: ctx.logger,
    });
  }

  /** The current topology (null: a multi/group call still waiting for the server's). */
  get mode(): MediaMode | null {
    return this.#mode;
  }

  /** Every connection of the call now. */
  get connections(): readonly RtcConnection[] {
    return [...this.#links.values(), ...(this.#sfu?.connections ?? [])];
  }

  /** Devices are open: start connecting, announce them, start the meter. */
  start(): void {
    if (this.#stopped) return;
    for (const p of this.#ctx.peers) this.#peers.add(p);
    if (this.#ctx.scene === 'single') this.#setMode('p2p');
    this.#meter.start();
    this.announce();
    this.#ready();
  }

  /** Stops everything (idempotent). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#ready();
    this.#meter.stop();
    this.#timers.forEach(clearTimeout);
    this.#timers.clear();
    this.#links.forEach((l) => l.close());
    this.#links.clear();
    this.#sfu?.close();
    this.#sfu = null;
  }

  /** Tells the others this device's mic/camera state. */
  announce(connected?: boolean): void {
    if (this.#stopped) return;
    const t = this.#deps.tracks();
    this.#ctx
      .sendState(t.audio !== null, t.video !== null, connected)
      .catch((err: unknown) => this.#ctx.logger.debug('media state not delivered', { error: String(err) }));
  }

  /** Raises `onError` to the application (device trouble during the call). */
  reportError(code: number, message: string): void {
    if (!this.#stopped) this.#ctx.emit('onError', code, message);
  }

  /** A participant connected. */
  peerJoined(userId: string): void {
    this.#run(() => {
      this.#peers.add(userId);
      if (this.#mode === 'p2p' || this.#mode === 'mesh') this.#ensureLink(userId);
    });
  }

  /** A participant left. */
  peerLeft(userId: string): void {
    this.#run(() => {
      this.#peers.delete(userId);
      this.#remote.delete(userId);
      this.#dropLink(userId);
      this.#meter.forget(userId);
    });
  }

  /** The server's topology for the call. */
  handleTopology(mode: MediaMode): void {
    this.#run(() => this.#setMode(mode));
  }

  /** A participant's mic/camera availability changed. */
  remoteMediaState(userId: string, kind: 'audio' | 'video', isAvailable: boolean): void {
    const s = this.#remote.get(userId) ?? { audio: false, video: false };
    s[kind] = isAvailable;
    this.#remote.set(userId, s);
  }

  /** A relayed signal, processed after every earlier one. */
  handleSignal(from: string, signal: RelayedSignal): void {
    this.#run(async () => {
      if (from === 'sfu') return this.#sfu?.handle(signal);
      if (signal.kind === 'leave') {
        // That device's media is gone (the call moved to another device of theirs): start over.
        this.#dropLink(from);
        if (this.#peers.has(from) && (this.#mode === 'p2p' || this.#mode === 'mesh')) this.#ensureLink(from);
        return;
      }
      let link = this.#links.get(from);
      if (link?.isFromNewConnection(signal)) {
        this.#dropLink(from);
        link = undefined;
      }
      if (!link) {
        if (this.#mode === 'sfu' || (signal.kind !== 'offer' && signal.kind !== 'restart')) return;
        link = this.#ensureLink(from);
      }
      await link.handle(signal);
    });
  }

  /** Signaling reconnected: restart ICE everywhere (the network may have changed). */
  signalingResumed(): void {
    this.#run(() => {
      this.#links.forEach((l) => l.restart());
      this.#sfu?.restart();
    });
  }

  /** Puts a local track (or none) on every connection. */
  async setTrack(kind: 'audio' | 'video', track: MediaStreamTrack | null): Promise<void> {
    await Promise.all([...[...this.#links.values()].map((l) => l.setTrack(kind, track)), this.#sfu?.setTrack(kind, track)]);
  }

  /** Every connection with its state and selected remote end. */
  async describe(): Promise<ConnectionInfo[]> {
    return Promise.all(
      this.connections.map(async (c) => ({
        pc: c.pcKind,
        peer: c instanceof PeerLink ? c.peerId : 'sfu',
        state: c.pc.connectionState,
        carries: [...c.carries()],
        restarts: c.restarts,
        remote: await selectedRemote(c.pc),
      })),
    );
  }

  #run(step: () => void | Promise<void>): void {
    this.#chain = this.#chain
      .then(() => (this.#stopped ? undefined : step()))
      .catch((err: unknown) => this.#ctx.logger.warn('media step failed', { callId: this.callId, error: String(err) }));
  }

  #setMode(mode: MediaMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    if (mode === 'sfu') {
      this.#sfu = new SfuSession(this.#env, () => this.#deps.tracks(), (users) => this.#retireLinks(users));
      this.#sfu.start();
      return;
    }
    this.#sfu?.close();
    this.#sfu = null;
    for (const p of this.#peers) this.#ensureLink(p);
  }

  #ensureLink(userId: string): PeerLink {
    let link = this.#links.get(userId);
    if (!link) {
      link = new PeerLink(this.#env, this.#ctx.selfId, userId, this.#deps.tracks());
      this.#links.set(userId, link);
      link.start();
    }
    return link;
  }

  #dropLink(userId: string): void {
    this.#links.get(userId)?.close();
    this.#links.delete(userId);
  }

  /** The SFU carries these users now: close their peer-to-peer links after a short overlap. */
  #retireLinks(users: readonly string[]): void {
    for (const u of users) {
      const link = this.#links.get(u);
      if (!link) continue;
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (this.#mode === 'sfu' && this.#links.get(u) === link) this.#dropLink(u);
      }, OVERLAP_MS);
      unref(t);
      this.#timers.add(t);
    }
  }

  #onConnected(): void {
    if (this.#connectedReported || this.#stopped) return;
    this.#connectedReported = true;
    this.announce(true);
  }

}

/** The remote end of a connection's selected candidate pair, from getStats. */
async function selectedRemote(pc: RTCPeerConnection): Promise<ConnectionInfo['remote']> {
  try {
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: { type: string; selectedCandidatePairId?: string }) => {
      if (s.type === 'transport') pairId ??= s.selectedCandidatePairId;
    });
    const pair = pairId ? (stats.get(pairId) as { remoteCandidateId?: string } | undefined) : undefined;
    const r = pair?.remoteCandidateId ? (stats.get(pair.remoteCandidateId) as { address?: string; ip?: string; port?: number; candidateType?: string } | undefined) : undefined;
    return r ? { address: r.address ?? r.ip ?? '', port: r.port ?? 0, candidateType: r.candidateType ?? '' } : null;
  } catch {
    return null;
  }
}
