/**
 * The short chaos runs CI does (issue 15): 12 simulated users, fixed seeds, a minute of faults
 * (server or node SIGKILL + restart, connection cuts and blackholes, users going silent, a failing
 * and a hanging webhook receiver) on one node (SQLite) and on three nodes (PostgreSQL + Redis
 * behind nginx; skipped without those services, failed under CI=true). The checker must find no
 * broken promise.
 * Longer runs: `npm run chaos -- --duration 600` (RELIABILITY.md).
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { formatViolation } from '../chaos/checker.js';
import { runChaos } from '../chaos/run.js';
import type { ChaosOptions } from '../chaos/run.js';
import { clusterServicesAvailable } from './helpers/cluster.js';

const cluster = await clusterServicesAvailable();
if (!cluster && process.env.CI === 'true') throw new Error('PostgreSQL and Redis are required in CI for the cluster chaos run');

/** Runs a minute of chaos and asserts the checker found nothing. */
async function minute(o: Partial<ChaosOptions> & { seed: number }): Promise<void> {
  const r = await runChaos({ durationMs: 60_000, ...o });
  const faults = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`chaos ${o.mode ?? 'single'} seed ${o.seed}: ${r.calls} calls; faults: ${faults}; ${r.violations.length} violation(s)`);
  assert.ok(r.calls > 0 && r.history.faults.length > 0, 'the run made calls and injected faults');
  assert.equal(r.violations.length, 0, r.violations.map((v) => formatViolation(v, r.history)).join('\n'));
}

it('a minute of chaos on one node (SQLite), seed 7: no violation', { timeout: 600_000 }, () => minute({ seed: 7 }));

it('a minute of chaos on three nodes (PostgreSQL + Redis), seed 5: no violation', { timeout: 900_000, skip: cluster ? false : 'PostgreSQL/Redis not reachable' }, () =>
  minute({ seed: 5, mode: 'cluster' }));
