/** The `bench:cluster` section of BENCHMARKS.md: one row per configuration, CPU per cycle per tier. */
import type { LoadResult } from './lib/load.js';
import type { RunContext } from './report.js';

/** One configuration's window. */
export interface ClusterRun {
  name: string;
  result: LoadResult;
  /** Cores used per process group over the window. */
  cores: Record<string, number>;
  /** CPU ms per full call cycle per process group. */
  msPerCycle: Record<string, number>;
  /** On PostgreSQL: statements (≈ transactions) and rows written per cycle in the bench database. */
  postgresPerCycle?: { statements: number; rows: number };
}

const f = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(x < 10 ? 2 : 1));

/** Markdown for the runs, with per-tier cycles per second per core (the capacity model's inputs). */
export function clusterMarkdown(runs: ClusterRun[], s: { pairs: number; workers: number; warmupMs: number; durationMs: number }, ctx: RunContext): string {
  const m = ctx.machine;
  const tiers = (r: ClusterRun): string =>
    Object.entries(r.msPerCycle)
      .map(([k, v]) => `${k} ${f(v)} ms (${f(r.cores[k])} cores)`)
      .join('; ');
  const perCore = (r: ClusterRun): string => {
    const nodes = Object.entries(r.msPerCycle).filter(([k]) => k === 'node' || /^n\d+$/.test(k)).reduce((a, [, v]) => a + v, 0);
    const rows: [string, number][] = [['OpenCall nodes', nodes]];
    for (const k of ['nginx', 'postgres', 'redis']) if (r.msPerCycle[k] !== undefined) rows.push([k, r.msPerCycle[k]]);
    return rows.map(([k, v]) => `${k} ${v > 0 ? Math.round(1000 / v) : '—'}`).join(', ');
  };
  const relay = runs.find((r) => r.name.startsWith('(r)'));
  const ratio = (r: ClusterRun): string => (relay && r !== relay ? `${(r.result.cyclesPerSec / relay.result.cyclesPerSec).toFixed(3)}×` : '');
  const pg = (r: ClusterRun): string => (r.postgresPerCycle ? `${r.postgresPerCycle.statements} / ${r.postgresPerCycle.rows}` : '');
  return [
    `Command: \`${ctx.command}\` — ${m.date.slice(0, 16).replace('T', ' ')} UTC — ${m.nproc} cores (${m.cpuModel}), ${m.ramGiB} GiB RAM, ` +
      `Node ${m.node}, load average ${m.loadAvg1} at start (shared machine). ${s.pairs} pairs, ${s.workers} client worker processes, ` +
      `${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s measured, one window per configuration, in one run. ` +
      'Everything (nodes, nginx, PostgreSQL, Redis, the load clients) shares the same cores: two cores cannot show scale-up, the per-cycle costs can.',
    '',
    '| configuration | cycles/s | ÷ relay | errors | invite→onCallReceived p50/p90/p99 ms | accept→onCallBegin p50/p90/p99 ms | hangup→onCallEnd p50/p90/p99 ms | CPU per cycle per process group (cores used) | PostgreSQL statements / rows written per cycle |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => {
      const l = r.result.latency;
      return `| ${r.name} | ${r.result.cyclesPerSec} | ${ratio(r)} | ${r.result.errors} | ${f(l.invite.p50)} / ${f(l.invite.p90)} / ${f(l.invite.p99)} | ` +
        `${f(l.accept.p50)} / ${f(l.accept.p90)} / ${f(l.accept.p99)} | ${f(l.hangup.p50)} / ${f(l.hangup.p90)} / ${f(l.hangup.p99)} | ${tiers(r)} | ${pg(r)} |`;
    }),
    '',
    'Call cycles per second one fully busy core of each tier would carry (1000 ÷ its CPU ms per cycle):',
    '',
    ...runs.filter((r) => r !== relay).map((r) => `- ${r.name}: ${perCore(r)}`),
    '',
    '"postgres" is the backends serving the bench database; "postgres (shared background)" is the server\'s own ' +
      'processes (WAL writer, checkpointer), shared with anything else using that server; redis-server is shared too.',
  ].join('\n');
}
