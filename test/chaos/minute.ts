/**
 * Shared by the short chaos runs CI does (issue 15): 12 simulated users, 2 of them with real Node
 * media, fixed seeds, a minute of faults (server or node SIGKILL + restart, connection cuts and
 * blackholes, users going silent, a failing and a hanging webhook receiver; in cluster mode also
 * a node stalled by SIGSTOP and the database paused or cut under one node or all) on one node
 * (SQLite) and on three nodes (PostgreSQL + Redis behind nginx; skipped without those services,
 * failed under CI=true). The checker must find no broken promise.
 * Longer runs: `npm run chaos -- --duration 600` (RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { formatViolation } from '../../chaos/checker.js';
import { runChaos } from '../../chaos/run.js';
import type { ChaosOptions } from '../../chaos/run.js';
import { clusterServicesAvailable } from '../helpers/cluster.js';

/** Whether PostgreSQL and Redis answer (the cluster run needs them). */
export const cluster = await clusterServicesAvailable();
if (!cluster && process.env.CI === 'true') throw new Error('PostgreSQL and Redis are required in CI for the cluster chaos run');

/** Runs a minute of chaos and asserts the checker found nothing. */
export async function minute(o: Partial<ChaosOptions> & { seed: number }): Promise<void> {
  // Two media users cost little (one 160x120 call at a time between them) and keep the media
  // promise checked in CI.
  const r = await runChaos({ durationMs: 60_000, mediaUsers: 2, ...o });
  const faults = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`chaos ${o.mode ?? 'single'} seed ${o.seed}: ${r.calls} calls; faults: ${faults}; ${r.violations.length} violation(s)`);
  assert.ok(r.calls > 0 && r.history.faults.length > 0, 'the run made calls and injected faults');
  assert.equal(r.violations.length, 0, r.violations.map((v) => formatViolation(v, r.history)).join('\n'));
}

