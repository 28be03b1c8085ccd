/**
 * Network quality grading (SPEC §5.5, docs/network-quality.md): a simplified ITU-T G.107 E-model
 * turns round-trip time, packet loss and jitter into an R factor and a MOS (1–4.5), and MOS
 * thresholds give the `NetworkQuality` grade. Pure functions: the numbers come from getStats().
 * @packageDocumentation
 */
import { NetworkQuality } from '@opencall/protocol/wire';

/** What one path measured over a window. */
export interface PathMeasure {
  /** Round-trip time in ms; null when unknown (then only loss and jitter count). */
  rttMs: number | null;
  /** Packets lost, percent 0–100. */
  lossPct: number;
  /** Interarrival jitter in ms. */
  jitterMs: number;
}

/** Model constants (docs/network-quality.md explains each). */
export const E_MODEL = {
  /** R for a perfect path (G.107 default R0 − Is). */
  r0: 93.2,
  /** Fixed one-way delay added by packetization, encoding and the jitter buffer, ms. */
  baseDelayMs: 20,
  /** A jitter buffer holds about twice the jitter. */
  jitterFactor: 2,
  /** Equipment impairment of the codec (Opus at speech rates ≈ 0). */
  ie: 0,
  /** Packet-loss robustness (G.113 value for a codec with loss concealment). */
  bpl: 25.1,
} as const;

/** Lowest MOS of each grade, best first: a MOS below every threshold is `vBad`. */
export const MOS_THRESHOLDS: ReadonlyArray<readonly [NetworkQuality, number]> = [
  [NetworkQuality.excellent, 4.2],
  [NetworkQuality.good, 3.6],
  [NetworkQuality.poor, 3.1],
  [NetworkQuality.bad, 2.6],
];

/** The E-model R factor (0–100) of a path. */
export function rFactor(m: PathMeasure): number {
  const rtt = Math.max(0, m.rttMs ?? 0);
  const d = rtt / 2 + E_MODEL.jitterFactor * Math.max(0, m.jitterMs) + E_MODEL.baseDelayMs;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const p = Math.min(100, Math.max(0, m.lossPct));
  const ieEff = E_MODEL.ie + ((95 - E_MODEL.ie) * p) / (p + E_MODEL.bpl);
  return Math.min(100, Math.max(0, E_MODEL.r0 - id - ieEff));
}

/** MOS (1–4.5) of an R factor (G.107 Annex B). */
export function mosOfR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
}

/** MOS of a path. */
export function mos(m: PathMeasure): number {
  return mosOfR(rFactor(m));
}

/** The grade of a MOS (never `unknown` or `down`: those are decided from whether media flows). */
export function gradeOfMos(value: number): NetworkQuality {
  for (const [grade, min] of MOS_THRESHOLDS) if (value >= min) return grade;
  return NetworkQuality.vBad;
}

/** The grade of a path. */
export function grade(m: PathMeasure): NetworkQuality {
  return gradeOfMos(mos(m));
}

/**
 * Voice volume 0–100 of a linear level (0–1, e.g. an RMS or `audioLevel`): −60 dBFS and below
 * read 0, full scale reads 100.
 */
export function volumeOfLevel(level: number): number {
  if (!(level > 0.001)) return 0;
  const db = 20 * Math.log10(Math.min(1, level));
  return Math.round(Math.min(100, Math.max(0, ((db + 60) / 60) * 100)));
}
