/**
 * `npm run chaos`: runs the chaos workload under faults and checks the history.
 *
 *   npm run chaos -- [--mode single|cluster] [--seed N] [--seeds N,M,...] [--duration SECONDS] [--users N] [--media-users N] [--out history.json]
 *   npm run chaos -- --check history.json     # re-check a saved history
 *   npm run chaos -- --help
 *
 * Prints the calls made, the faults injected by kind and every violation with its seed and slice
 * of history; exits 1 when any promise was broken.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { check, formatViolation } from './checker.js';
import { runChaos } from './run.js';
import type { FaultKind, RunHistory } from './types.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string' },
    duration: { type: 'string', default: '60' },
    users: { type: 'string', default: '12' },
    'media-users': { type: 'string', default: '3' },
    faults: { type: 'string' },
    mode: { type: 'string', default: 'single' },
    out: { type: 'string' },
    check: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log(`npm run chaos -- [options]
  --mode single|cluster   one node on SQLite (default), or three nodes on PostgreSQL + Redis behind nginx
  --seed N                the seed of the workload and fault schedule (default: from the clock)
  --seeds N,M,...         several runs, one per seed
  --duration SECONDS      length of each run (default 60)
  --users N               simulated users (default 12)
  --media-users N         of those, how many have real Node media (@roamhq/wrtc; default 3, 0 for signaling only)
  --faults KIND=W,...      fault weights instead of the defaults (e.g. nodeStall=3,dbPause=3,cut=1;
                          cluster mode adds dbPause=2,nodeStall=2,redisPause=1 unless named; serverKill is nodeKill there)
  --out FILE.json         save each history (FILE-<seed>.json with --seeds)
  --check FILE.json       re-check a saved history instead of running
Exits 1 when any promise was broken (RELIABILITY.md).`);
  process.exit(0);
}

if (values.check) {
  const history = JSON.parse(readFileSync(values.check, 'utf8')) as RunHistory;
  const violations = check(history);
  for (const v of violations) console.log(formatViolation(v, history));
  console.log(`${violations.length} violation(s)`);
  process.exit(violations.length ? 1 : 0);
}

/** `--faults kind=weight,...` as weights, or undefined for the defaults. */
const weights = values.faults
  ? (Object.fromEntries(values.faults.split(',').map((kv) => [kv.split('=')[0]!, Number(kv.split('=')[1] ?? 1)])) as Partial<Record<FaultKind, number>>)
  : undefined;

const seeds = (values.seeds ?? values.seed ?? String(Date.now() % 100_000)).split(',').map(Number);
let failed = 0;
for (const seed of seeds) {
  const mode = values.mode === 'cluster' ? 'cluster' : 'single';
  const r = await runChaos({ seed, mode, durationMs: Number(values.duration) * 1000, users: Number(values.users), mediaUsers: Number(values['media-users']), ...(weights ? { faults: weights } : {}), log: (l) => console.log(l) });
  if (values.out) writeFileSync(seeds.length > 1 ? values.out.replace(/(\.json)?$/, `-${seed}.json`) : values.out, JSON.stringify(r.history));
  for (const v of r.violations) console.log(formatViolation(v, r.history));
  const faults = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`seed ${seed}: ${r.calls} calls, ${r.history.entries.length} history entries, ${r.history.hooks.length} webhooks; faults: ${faults}; ${r.violations.length} violation(s)`);
  if (r.violations.length) failed++;
}
process.exit(failed ? 1 : 0);
