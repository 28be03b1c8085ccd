/**
 * The short chaos run CI does (issue 15): one server on SQLite, 12 simulated users, a fixed seed,
 * a minute of faults (server SIGKILL + restart, connection cuts and blackholes, users going
 * silent, a failing and a hanging webhook receiver). The checker must find no broken promise.
 * Longer runs: `npm run chaos -- --duration 600` (RELIABILITY.md).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { formatViolation } from '../chaos/checker.js';
import { runChaos } from '../chaos/run.js';

it('a minute of chaos on one node (SQLite), seed 7: no violation', { timeout: 600_000 }, async () => {
  const r = await runChaos({ seed: 7, durationMs: 60_000 });
  const faults = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`chaos seed 7: ${r.calls} calls; faults: ${faults}; ${r.violations.length} violation(s)`);
  assert.ok(r.calls > 0 && r.history.faults.length > 0, 'the run made calls and injected faults');
  assert.equal(r.violations.length, 0, r.violations.map((v) => formatViolation(v, r.history)).join('\n'));
});
