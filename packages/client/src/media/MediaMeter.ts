/**
 * The media events of SPEC §5.5 from getStats(): `onUserVoiceVolumeChanged` every ~300 ms (own
 * microphone from its media-source, remote users from the audio they really played; a muted user
 * reads 0) and `onUserNetworkQualityChanged` every 2 s (own id = uplink, graded by the E-model of
 * quality.ts; `down` when a user's media stopped arriving for several seconds).
 * @packageDocumentation
 */
import { NetworkQuality } from '@opencall/protocol/wire';
import type { NetworkQualityInfo } from '../events.js';
import type { MediaCallContext } from './MediaAdapter.js';
import { grade, volumeOfLevel } from './quality.js';
import { digestReport, levelBetween, packetsBetween } from './stats.js';
import type { ReportDigest, StatLike } from './stats.js';

/** Node timers keep the process alive by default: media timers never should (browsers have numbers). */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

/** A connection the meter reads. */
export interface StatsTarget {
  /** Unique per connection instance (a replaced connection gets a new id). */
  readonly id: string;
  readonly pc: RTCPeerConnection;
  /** True when this connection sends this device's media. */
  readonly sends: boolean;
  /** The remote user of an inbound stream, if this connection can tell. */
  userOf(stat: StatLike): string | undefined;
  /** Users whose media this connection carries now. */
  carries(): readonly string[];
}

/** What the meter reads from the call. */
export interface MeterDeps {
  selfId: string;
  /** The other connected users. */
  users(): readonly string[];
  targets(): readonly StatsTarget[];
  micOpen(): boolean;
  /** True while this device sends audio or video. */
  sending(): boolean;
  /** True when `userId` announced an open microphone or camera. */
  expects(userId: string): boolean;
  /** `userId` announced media but none arrived for `downAfterMs` (the connection may be dead). */
  stalled(userId: string): void;
  emit: MediaCallContext['emit'];
  logger: MediaCallContext['logger'];
  /** Defaults: 300 ms, 2000 ms, 4000 ms. */
  volumeIntervalMs?: number;
  qualityIntervalMs?: number;
  downAfterMs?: number;
}

interface Reading {
  target: StatsTarget;
  digest: ReportDigest;
  connected: boolean;
}

/** Periodic volume and quality of one call. */
export class MediaMeter {
  readonly #d: MeterDeps;
  readonly #volumeMs: number;
  readonly #qualityMs: number;
  readonly #downMs: number;
  #timer: ReturnType<typeof setInterval> | null = null;
  #busy = false;
  #startedAt = 0;
  #lastQualityAt = 0;
  /** Previous digests per connection: for volume (every tick) and quality (every window). */
  #prevTick = new Map<string, ReportDigest>();
  #prevWindow = new Map<string, ReportDigest>();
  /** When media from a user last arrived / a connection carrying them was last up. */
  readonly #lastInbound = new Map<string, number>();
  readonly #lastPath = new Map<string, number>();
  #lastSent = 0;
  #lastUplink = 0;
  #packetsSent = new Map<string, number>();

  constructor(deps: MeterDeps) {
    this.#d = deps;
    this.#volumeMs = deps.volumeIntervalMs ?? 300;
    this.#qualityMs = deps.qualityIntervalMs ?? 2000;
    this.#downMs = deps.downAfterMs ?? 4000;
  }

  /** Starts the ticks (idempotent). */
  start(): void {
    if (this.#timer) return;
    this.#startedAt = this.#lastQualityAt = this.#lastSent = this.#lastUplink = Date.now();
    this.#timer = setInterval(() => void this.#tick(), this.#volumeMs);
    unref(this.#timer);
  }

  /** Stops the ticks (idempotent). */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Forgets a user who left. */
  forget(userId: string): void {
    this.#lastInbound.delete(userId);
    this.#lastPath.delete(userId);
  }

  async #tick(): Promise<void> {
    if (this.#busy || !this.#timer) return; // a slow getStats must not pile ticks up
    this.#busy = true;
    try {
      const readings = await this.#read();
      if (!this.#timer) return;
      const now = Date.now();
      this.#track(readings, now);
      this.#d.emit('onUserVoiceVolumeChanged', this.#volumes(readings));
      this.#prevTick = new Map(readings.map((r) => [r.target.id, r.digest]));
      if (now - this.#lastQualityAt >= this.#qualityMs - this.#volumeMs / 2) {
        this.#lastQualityAt = now;
        this.#d.emit('onUserNetworkQualityChanged', this.#qualities(readings, now));
        this.#prevWindow = new Map(readings.map((r) => [r.target.id, r.digest]));
      }
    } catch (err) {
      this.#d.logger.warn('media stats failed', { error: String(err) });
    } finally {
      this.#busy = false;
    }
  }

  async #read(): Promise<Reading[]> {
    const out: Reading[] = [];
    await Promise.all(
      this.#d.targets().map(async (target) => {
        try {
          const report = await target.pc.getStats();
          const stats: StatLike[] = [];
          report.forEach((s: StatLike) => stats.push(s));
          out.push({ target, digest: digestReport(stats, (s) => target.userOf(s)), connected: target.pc.connectionState === 'connected' });
        } catch {
          // A connection closed between listing and reading: skip it this tick.
        }
      }),
    );
    return out;
  }

  /** Remembers when each user's media last arrived and when this device last sent. */
  #track(readings: Reading[], now: number): void {
    for (const r of readings) {
      const prev = this.#prevTick.get(r.target.id);
      for (const [userId, inbound] of r.digest.inbound) {
        const delta = packetsBetween(prev?.inbound.get(userId), inbound);
        if (delta && delta.received > 0) this.#lastInbound.set(userId, now);
      }
      if (r.connected) for (const u of r.target.carries()) this.#lastPath.set(u, now);
      if (r.target.sends) {
        if (r.connected) this.#lastUplink = now;
        const before = this.#packetsSent.get(r.target.id) ?? 0;
        if (r.digest.packetsSent > before) this.#lastSent = now;
        this.#packetsSent.set(r.target.id, r.digest.packetsSent);
      }
    }
  }

  #volumes(readings: Reading[]): Record<string, number> {
    const { selfId } = this.#d;
    const volumes: Record<string, number> = {};
    let own = 0;
    if (this.#d.micOpen()) {
      // Every connection that sends the microphone reports the same source: read one.
      const r = readings.find((x) => x.digest.localAudio);
      if (r) own = levelBetween(this.#prevTick.get(r.target.id)?.localAudio, r.digest.localAudio);
    }
    volumes[selfId] = volumeOfLevel(own);
    for (const userId of this.#d.users()) {
      let level = 0;
      for (const r of readings) {
        const next = r.digest.inbound.get(userId)?.audio;
        if (next) level = Math.max(level, levelBetween(this.#prevTick.get(r.target.id)?.inbound.get(userId)?.audio, next));
      }
      volumes[userId] = volumeOfLevel(level);
    }
    return volumes;
  }

  #qualities(readings: Reading[], now: number): NetworkQualityInfo[] {
    const list: NetworkQualityInfo[] = [{ userId: this.#d.selfId, quality: this.#uplink(readings, now) }];
    for (const userId of this.#d.users()) list.push({ userId, quality: this.#downlink(userId, readings, now) });
    return list;
  }

  #downlink(userId: string, readings: Reading[], now: number): NetworkQuality {
    const since = (t: number | undefined): number => now - Math.max(t ?? 0, this.#startedAt);
    if (since(this.#lastPath.get(userId)) >= this.#downMs) return NetworkQuality.down;
    if (this.#d.expects(userId) && since(this.#lastInbound.get(userId)) >= this.#downMs) {
      this.#d.stalled(userId);
      return NetworkQuality.down;
    }
    let received = 0;
    let lost = 0;
    let jitter = 0;
    let rtt: number | null = null;
    let measured = false;
    for (const r of readings) {
      if (!r.target.carries().includes(userId)) continue;
      const next = r.digest.inbound.get(userId);
      const delta = packetsBetween(this.#prevWindow.get(r.target.id)?.inbound.get(userId), next);
      if (delta) {
        received += delta.received;
        lost += delta.lost;
        measured = true;
      }
      jitter = Math.max(jitter, next?.jitter ?? 0);
      // Our RTCP round trip to them when we send on this connection, else the STUN one.
      const r1 = (r.target.sends ? r.digest.remoteRtt : null) ?? r.digest.pairRtt;
      if (r1 !== null) rtt = Math.max(rtt ?? 0, r1);
    }
    if (!measured && rtt === null) return NetworkQuality.unknown;
    const lossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
    return grade({ rttMs: rtt === null ? null : rtt * 1000, lossPct, jitterMs: jitter * 1000 });
  }

  #uplink(readings: Reading[], now: number): NetworkQuality {
    const senders = readings.filter((r) => r.target.sends);
    if (now - this.#lastUplink >= this.#downMs) return NetworkQuality.down;
    if (this.#d.sending() && now - this.#lastSent >= this.#downMs) return NetworkQuality.down;
    if (senders.length === 0) return NetworkQuality.unknown;
    let lossPct = 0;
    let jitter = 0;
    let rtt: number | null = null;
    for (const r of senders) {
      lossPct = Math.max(lossPct, r.digest.remoteFractionLost * 100);
      jitter = Math.max(jitter, r.digest.remoteJitter);
      const r1 = r.digest.remoteRtt ?? r.digest.pairRtt;
      if (r1 !== null) rtt = Math.max(rtt ?? 0, r1);
    }
    return grade({ rttMs: rtt === null ? null : rtt * 1000, lossPct, jitterMs: jitter * 1000 });
  }
}
