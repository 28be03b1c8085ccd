/** The level scale of the kit's microphone meter (the meter itself runs in the browser e2e tests). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { levelOf } from './MicMeter.js';

const sine = (amplitude: number, n = 1024): Float32Array => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin((2 * Math.PI * i) / 32));

describe('levelOf', () => {
  it('reads 0 for silence and for −60 dBFS and below, 100 at full scale', () => {
    assert.equal(levelOf(new Float32Array(1024)), 0);
    assert.equal(levelOf(new Float32Array(0)), 0);
    assert.equal(levelOf(sine(0.0005)), 0);
    assert.equal(levelOf(Float32Array.from({ length: 64 }, () => 1)), 100);
  });

  it('is a decibel scale: ten times the amplitude is a third of the range more', () => {
    const quiet = levelOf(sine(0.01));
    const loud = levelOf(sine(0.1));
    assert.ok(quiet > 0 && loud < 100, `${quiet} ${loud}`);
    assert.ok(Math.abs(loud - quiet - 100 / 3) <= 1, `${quiet} → ${loud}`);
  });
});
