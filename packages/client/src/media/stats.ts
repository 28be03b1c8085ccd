/**
 * Reading getStats() reports into the few numbers volume and quality need, per connection and per
 * remote user. Pure: the meter keeps the previous digest of each connection and asks for deltas.
 * Counters restart when a connection is replaced, so a negative delta counts as "no data".
 * @packageDocumentation
 */

/** The stats fields used here (a subset of RTCStats dictionaries; every field optional). */
export interface StatLike {
  type: string;
  id?: string;
  kind?: string;
  mid?: string;
  trackIdentifier?: string;
  packetsReceived?: number;
  packetsLost?: number;
  packetsSent?: number;
  jitter?: number;
  audioLevel?: number;
  totalAudioEnergy?: number;
  totalSamplesDuration?: number;
  roundTripTime?: number;
  roundTripTimeMeasurements?: number;
  fractionLost?: number;
  currentRoundTripTime?: number;
  selectedCandidatePairId?: string;
  state?: string;
  nominated?: boolean;
}

/** Audio energy counters (RMS over an interval = sqrt(Δenergy / Δduration)). */
export interface Energy {
  energy: number;
  duration: number;
  /** Instant level 0–1 when the stats give one (fallback when energy is missing). */
  level: number | null;
}

/** What one remote user's inbound streams on one connection add up to. */
export interface InboundDigest {
  audio: Energy | null;
  packetsReceived: number;
  packetsLost: number;
  /** Largest interarrival jitter of the user's streams, seconds. */
  jitter: number;
}

/** The digest of one connection's report. */
export interface ReportDigest {
  inbound: Map<string, InboundDigest>;
  /** The local microphone (media-source), if this connection sends it. */
  localAudio: Energy | null;
  packetsSent: number;
  /** Round-trip time measured by RTCP on what this connection sends, seconds (null: none yet). */
  remoteRtt: number | null;
  /** Largest loss fraction (0–1) the far end reports for what this connection sends. */
  remoteFractionLost: number;
  /** Largest jitter (s) the far end reports for what this connection sends. */
  remoteJitter: number;
  /** STUN round-trip time of the selected candidate pair, seconds (null: none). */
  pairRtt: number | null;
}

const num = (v: number | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Digests a report. `userOf` names the remote user of an inbound stream (by `mid`, track id or the
 * connection itself); streams it cannot name are skipped.
 */
export function digestReport(stats: Iterable<StatLike>, userOf: (stat: StatLike) => string | undefined): ReportDigest {
  const d: ReportDigest = { inbound: new Map(), localAudio: null, packetsSent: 0, remoteRtt: null, remoteFractionLost: 0, remoteJitter: 0, pairRtt: null };
  const byId = new Map<string, StatLike>();
  let selectedPair: string | undefined;
  for (const s of stats) {
    if (s.id) byId.set(s.id, s);
    switch (s.type) {
      case 'inbound-rtp': {
        const user = userOf(s);
        if (!user) break;
        const u = d.inbound.get(user) ?? { audio: null, packetsReceived: 0, packetsLost: 0, jitter: 0 };
        d.inbound.set(user, u);
        u.packetsReceived += num(s.packetsReceived);
        u.packetsLost += Math.max(0, num(s.packetsLost));
        u.jitter = Math.max(u.jitter, num(s.jitter));
        if (s.kind === 'audio') u.audio = addEnergy(u.audio, s);
        break;
      }
      case 'media-source':
        if (s.kind === 'audio') d.localAudio = addEnergy(d.localAudio, s);
        break;
      case 'outbound-rtp':
        d.packetsSent += num(s.packetsSent);
        break;
      case 'remote-inbound-rtp':
        // roundTripTime reads 0 until the first RTCP round trip: unknown, not instant.
        if (num(s.roundTripTimeMeasurements) > 0 || num(s.roundTripTime) > 0) d.remoteRtt = Math.max(d.remoteRtt ?? 0, num(s.roundTripTime));
        d.remoteFractionLost = Math.max(d.remoteFractionLost, num(s.fractionLost));
        d.remoteJitter = Math.max(d.remoteJitter, num(s.jitter));
        break;
      case 'transport':
        selectedPair ??= s.selectedCandidatePairId;
        break;
      default:
        break;
    }
  }
  const pair = selectedPair ? byId.get(selectedPair) : [...byId.values()].find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
  if (pair && typeof pair.currentRoundTripTime === 'number') d.pairRtt = pair.currentRoundTripTime;
  return d;
}

function addEnergy(prev: Energy | null, s: StatLike): Energy {
  const level = typeof s.audioLevel === 'number' ? s.audioLevel : null;
  return {
    energy: (prev?.energy ?? 0) + num(s.totalAudioEnergy),
    duration: (prev?.duration ?? 0) + num(s.totalSamplesDuration),
    level: level === null ? (prev?.level ?? null) : Math.max(prev?.level ?? 0, level),
  };
}

/**
 * RMS level (0–1) between two energy readings; the instant level when the stats carry no energy;
 * 0 when no audio was played in between (muted, nothing arriving).
 */
export function levelBetween(prev: Energy | null | undefined, next: Energy | null | undefined): number {
  if (!next) return 0;
  // No energy counters at all (older stats): the instant level is all there is.
  if (next.duration === 0 && next.energy === 0) return next.level ?? 0;
  // First reading, or counters restarted with a new connection: no interval yet.
  if (!prev || next.duration < prev.duration) return next.level ?? 0;
  const dd = next.duration - prev.duration;
  if (dd <= 0) return 0;
  return Math.sqrt(Math.max(0, next.energy - prev.energy) / dd);
}

/** Packets received and lost between two digests of a user's streams (null after a counter reset). */
export function packetsBetween(prev: InboundDigest | undefined, next: InboundDigest | undefined): { received: number; lost: number } | null {
  if (!next) return null;
  if (!prev) return { received: next.packetsReceived, lost: next.packetsLost };
  const received = next.packetsReceived - prev.packetsReceived;
  const lost = next.packetsLost - prev.packetsLost;
  if (received < 0 || lost < 0) return null;
  return { received, lost };
}
