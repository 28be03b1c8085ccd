import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NetworkQuality } from '@opencall/protocol/wire';
import { grade, gradeOfMos, mos, MOS_THRESHOLDS, volumeOfLevel } from './quality.js';
import { digestReport, levelBetween, packetsBetween } from './stats.js';
import type { StatLike } from './stats.js';

test('E-model: a clean loopback path is excellent (MOS ≈ 4.4)', () => {
  const m = mos({ rttMs: 1, lossPct: 0, jitterMs: 1 });
  assert.ok(m > 4.35 && m <= 4.5, `MOS ${m}`);
  assert.equal(grade({ rttMs: 1, lossPct: 0, jitterMs: 1 }), NetworkQuality.excellent);
});

test('E-model grades the documented reference paths (docs/network-quality.md)', () => {
  const rows: Array<[string, Parameters<typeof grade>[0], NetworkQuality]> = [
    ['1 % loss, 40 ms RTT', { rttMs: 40, lossPct: 1, jitterMs: 5 }, NetworkQuality.excellent],
    ['5 % loss, 120 ms RTT, 15 ms jitter', { rttMs: 120, lossPct: 5, jitterMs: 15 }, NetworkQuality.good],
    ['10 % loss, 200 ms RTT, 30 ms jitter', { rttMs: 200, lossPct: 10, jitterMs: 30 }, NetworkQuality.poor],
    ['8 % loss, 300 ms RTT, 40 ms jitter', { rttMs: 300, lossPct: 8, jitterMs: 40 }, NetworkQuality.bad],
    ['15 % loss, 390 ms RTT, 60 ms jitter', { rttMs: 390, lossPct: 15, jitterMs: 60 }, NetworkQuality.vBad],
  ];
  for (const [name, path, expected] of rows) assert.equal(grade(path), expected, `${name}: MOS ${mos(path).toFixed(2)}`);
});

test('E-model: more loss, delay or jitter never improves the MOS', () => {
  fc.assert(
    fc.property(
      fc.record({ rttMs: fc.double({ min: 0, max: 2000, noNaN: true }), lossPct: fc.double({ min: 0, max: 100, noNaN: true }), jitterMs: fc.double({ min: 0, max: 500, noNaN: true }) }),
      fc.double({ min: 0, max: 50, noNaN: true }),
      (p, more) => {
        const base = mos(p);
        assert.ok(mos({ ...p, lossPct: Math.min(100, p.lossPct + more) }) <= base + 1e-9);
        assert.ok(mos({ ...p, rttMs: p.rttMs + more * 10 }) <= base + 1e-9);
        assert.ok(mos({ ...p, jitterMs: p.jitterMs + more }) <= base + 1e-9);
        assert.ok(base >= 1 && base <= 4.5);
      },
    ),
  );
});

test('grades follow the MOS thresholds, best first; below the last is vBad', () => {
  for (const [g, min] of MOS_THRESHOLDS) assert.equal(gradeOfMos(min), g);
  assert.equal(gradeOfMos(1), NetworkQuality.vBad);
});

test('volume: −60 dBFS and silence read 0, full scale 100, the measured tone levels in between', () => {
  assert.equal(volumeOfLevel(0), 0);
  assert.equal(volumeOfLevel(0.001), 0);
  assert.equal(volumeOfLevel(1), 100);
  assert.equal(volumeOfLevel(Number.NaN), 0);
  // audioLevel measured for amplitudes 16000 / 4000 / 500 of 32767 (MEDIA-NOTES).
  assert.equal(volumeOfLevel(0.49), 90);
  assert.equal(volumeOfLevel(0.124), 70);
  assert.equal(volumeOfLevel(0.0154), 40);
});

/** The stats of one wrtc receiver as getStats() gives them (trimmed from a real report). */
function report(energy: number, duration: number, received: number, lost: number): StatLike[] {
  return [
    { type: 'inbound-rtp', id: 'in-a', kind: 'audio', mid: '0', packetsReceived: received, packetsLost: lost, jitter: 0.004, audioLevel: 0.25, totalAudioEnergy: energy, totalSamplesDuration: duration },
    { type: 'inbound-rtp', id: 'in-v', kind: 'video', mid: '1', packetsReceived: received / 2, packetsLost: 0, jitter: 0.01 },
    { type: 'inbound-rtp', id: 'in-x', kind: 'audio', mid: '7', packetsReceived: 999 },
    { type: 'media-source', id: 'ms', kind: 'audio', audioLevel: 0.24, totalAudioEnergy: 0.5, totalSamplesDuration: 2 },
    { type: 'outbound-rtp', id: 'out', kind: 'audio', packetsSent: 100 },
    { type: 'remote-inbound-rtp', id: 'ri', kind: 'audio', roundTripTime: 0.12, roundTripTimeMeasurements: 3, fractionLost: 0.05, jitter: 0.02 },
    { type: 'transport', id: 't', selectedCandidatePairId: 'p' },
    { type: 'candidate-pair', id: 'p', state: 'succeeded', nominated: true, currentRoundTripTime: 0.1 },
  ];
}

test('digestReport: inbound streams by user (unknown mids skipped), the local source, RTCP and STUN RTT', () => {
  const d = digestReport(report(1, 2, 100, 4), (s) => ({ '0': 'bob', '1': 'bob' })[s.mid ?? '']);
  assert.deepEqual([...d.inbound.keys()], ['bob']);
  const bob = d.inbound.get('bob')!;
  assert.equal(bob.packetsReceived, 150);
  assert.equal(bob.packetsLost, 4);
  assert.equal(bob.jitter, 0.01);
  assert.deepEqual(bob.audio, { energy: 1, duration: 2, level: 0.25 });
  assert.equal(d.localAudio?.level, 0.24);
  assert.equal(d.packetsSent, 100);
  assert.equal(d.remoteRtt, 0.12);
  assert.equal(d.remoteFractionLost, 0.05);
  assert.equal(d.pairRtt, 0.1);
});

test('levelBetween: RMS of the interval; 0 when nothing played; the instant level on a first reading', () => {
  assert.ok(Math.abs(levelBetween({ energy: 1, duration: 2, level: 0.3 }, { energy: 1.04, duration: 3, level: 0.3 }) - 0.2) < 1e-9);
  assert.equal(levelBetween({ energy: 1, duration: 2, level: 0.3 }, { energy: 1, duration: 2, level: 0.3 }), 0);
  assert.equal(levelBetween(undefined, { energy: 1, duration: 2, level: 0.3 }), 0.3);
  assert.equal(levelBetween(null, null), 0);
});

test('packetsBetween: deltas, and null after a counter reset (a replaced connection)', () => {
  const a = { audio: null, packetsReceived: 100, packetsLost: 2, jitter: 0 };
  assert.deepEqual(packetsBetween(a, { ...a, packetsReceived: 190, packetsLost: 12 }), { received: 90, lost: 10 });
  assert.equal(packetsBetween(a, { ...a, packetsReceived: 5 }), null);
});
