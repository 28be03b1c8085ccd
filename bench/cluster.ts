/**
 * `npm run bench:cluster`: the signaling load of `bench:signaling` (pairs doing full call cycles)
 * against (a) one node on SQLite, (b) one node on PostgreSQL + Redis, (c) three nodes behind nginx
 * (deploy/nginx/cluster.conf) on PostgreSQL + Redis, in one run. Per configuration: cycles/s,
 * latency percentiles, and CPU per cycle of each node, nginx, the PostgreSQL backends of the
 * bench's database (plus PostgreSQL's shared background processes) and redis-server, from /proc.
 *
 *   npm run bench:cluster [-- --pairs 100 --seconds 10 --warmup 2 --workers 2 --only r,a,b,c --no-write]
 *     [--baseline DIR]
 *
 * `r` is the bare `ws` relay of `bench:signaling` (the yardstick issue 14's ratios are taken against);
 * `--baseline DIR` adds (b) run from another checkout's CLI (same database server, same run), for A/B.
 * Configurations on PostgreSQL also report statements (≈ transactions: every statement outside an
 * explicit transaction is one) and rows written per cycle, from `pg_stat_database`.
 *
 * Every node is the real CLI (`opencall-server`) in its own process with the bench server options;
 * each configuration gets a fresh database and Redis prefix, dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_TEST_OPTIONS, TEST_REDIS, clusterServicesAvailable, createTestDatabase, dropClusterKeys, startCluster, uniqueClusterName } from '../test/helpers/cluster.js';
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { startNodeProcess } from '../test/helpers/processServer.js';
import type { NodeProcess } from '../test/helpers/processServer.js';
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { machineInfo, round } from './lib/proc.js';
import { GroupCpu, postgresBackends, postgresBackground, redisServers, withChildren } from './lib/procGroups.js';
import { benchServerOptions, startRelay } from './lib/servers.js';
import type { ServerProcess } from './lib/servers.js';
import { clusterMarkdown } from './clusterReport.js';
import type { ClusterRun } from './clusterReport.js';
import { saveJson, writeSection } from './report.js';
import type { RunContext } from './report.js';
import { line } from './signaling.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, d: number): number => {
  const v = Number(arg(name) ?? d);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
};
const settings = { pairs: num('pairs', 100), workers: num('workers', 2), warmupMs: num('warmup', 2) * 1000, durationMs: num('seconds', 10) * 1000 };
const only = (arg('only') ?? 'a,b,c').split(',');
const baseline = arg('baseline');
const baselineCli = baseline ? join(baseline, 'packages/server/src/cli.ts') : undefined;
if (baselineCli && !existsSync(baselineCli)) throw new Error(`${baselineCli} does not exist`);
const write = !argv.includes('--no-write');
const script = process.env['npm_lifecycle_event'];
const ctx: RunContext = {
  command: script ? `npm run ${script}${argv.length ? ` -- ${argv.join(' ')}` : ''}` : `node --import tsx --conditions=source bench/cluster.ts ${argv.join(' ')}`,
  machine: machineInfo(),
};
const log = (m: string): void => void process.stdout.write(`${m}\n`);

/** Server options of every bench node, minus what each configuration sets itself (port, storage). */
const nodeOptions: Record<string, unknown> = { ...benchServerOptions('unused') };
delete nodeOptions.port;
delete nodeOptions.storage;

/** Statements (transactions) and rows written so far in database `url`, from `pg_stat_database`. */
async function dbCounters(url: string): Promise<{ xacts: number; rows: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // A fresh snapshot of the counters (they are otherwise cached for the transaction).
    await sql`SELECT pg_stat_clear_snapshot()`;
    const [r] = await sql<{ xacts: string; rows: string }[]>`SELECT xact_commit + xact_rollback AS xacts,
      tup_inserted + tup_updated + tup_deleted AS rows FROM pg_stat_database WHERE datname = current_database()`;
    return { xacts: Number(r!.xacts), rows: Number(r!.rows) };
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Statement and row counters over the measured window. Backends report them at most once a
 * second while busy, so the window's edges blur by up to a second's worth: with 8 s windows the
 * per-cycle figures are good to a few per cent.
 */
class DbWindow {
  #start: Promise<{ xacts: number; rows: number }> | null = null;
  #end: Promise<{ xacts: number; rows: number }> | null = null;
  constructor(readonly url: string) {}
  begin(): void {
    this.#start = dbCounters(this.url);
  }
  end(): void {
    this.#end = dbCounters(this.url);
  }
  async perCycle(cycles: number): Promise<{ statements: number; rows: number } | undefined> {
    if (!this.#start || !this.#end || cycles <= 0) return undefined;
    const [a, b] = await Promise.all([this.#start, this.#end]);
    // Minus this probe's own transaction.
    return { statements: round((b.xacts - a.xacts - 1) / cycles, 2), rows: round((b.rows - a.rows) / cycles, 1) };
  }
}

/** Runs the load through `url` with `groups` sampled over the window. */
async function load(name: string, url: string, mainPid: number, groups: Record<string, () => number[]>, dbUrl?: string): Promise<ClusterRun> {
  const cpu = new GroupCpu(groups);
  const db = dbUrl ? new DbWindow(dbUrl) : null;
  const onWindow = {
    begin: () => {
      cpu.begin();
      db?.begin();
    },
    end: () => {
      cpu.end();
      db?.end();
    },
  };
  const server: ServerProcess = { kind: 'opencall', url, pid: mainPid, memory: async () => null, stop: async () => undefined };
  const result: LoadResult = await runLoad({ server, ...settings, onWindow });
  log(`${name}: ${line(result)}`);
  const perCycle = Object.fromEntries(Object.entries(cpu.cores).map(([k, c]) => [k, result.cycles > 0 ? round((c * result.seconds * 1000) / result.cycles, 3) : NaN]));
  const pg = await db?.perCycle(result.cycles);
  log(`${name}: cores ${JSON.stringify(cpu.cores)} ms/cycle ${JSON.stringify(perCycle)}${pg ? ` postgres per cycle ${JSON.stringify(pg)}` : ''}`);
  return { name, result, cores: { ...cpu.cores }, msPerCycle: perCycle, ...(pg ? { postgresPerCycle: pg } : {}) };
}

/** (b): one node on PostgreSQL + Redis, from this tree or from `cli` (another checkout). */
async function onePostgresNode(name: string, cli?: string): Promise<ClusterRun> {
  const db = await createTestDatabase();
  const clusterName = uniqueClusterName();
  const node = await startNodeProcess({ name: 'pg', options: { ...nodeOptions, storage: db.url, redis: TEST_REDIS, clusterName, nodeId: 'b1' }, ...(cli ? { cli } : {}) });
  try {
    await requireCluster(node);
    return await load(name, node.url, node.pid!, {
      node: () => [node.pid!],
      postgres: () => postgresBackends(db.name),
      'postgres (shared background)': postgresBackground,
      redis: redisServers,
    }, db.url);
  } finally {
    await node.stop();
    await db.drop();
    await dropClusterKeys(clusterName);
  }
}

/** Fails unless `node` runs in cluster mode (numbers of a lone SQLite node under a cluster label would mislead). */
async function requireCluster(node: NodeProcess): Promise<void> {
  const h = await node.healthz();
  if (!h.cluster) throw new Error(`${node.name} reports no cluster in /healthz (storage ${h.storage}): cluster mode is not in this build`);
}

const runs: ClusterRun[] = [];

if (only.includes('r')) {
  const relay = await startRelay();
  try {
    const result = await runLoad({ server: relay, ...settings });
    log(`(r) bare relay: ${line(result)}`);
    runs.push({ name: '(r) bare ws relay', result, cores: {}, msPerCycle: {} });
  } finally {
    await relay.stop();
  }
}

if (only.includes('a')) {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-bench-cluster-'));
  const node = await startNodeProcess({ name: 'sqlite', options: { ...nodeOptions, storage: join(dir, 'opencall.db') } });
  try {
    runs.push(await load('(a) one node, SQLite', node.url, node.pid!, { node: () => [node.pid!] }));
  } finally {
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if ((only.includes('b') || only.includes('c')) && !(await clusterServicesAvailable())) throw new Error('PostgreSQL/Redis not reachable');

if (baselineCli && only.includes('b')) runs.push(await onePostgresNode('(b) baseline: one node, PostgreSQL + Redis', baselineCli));
if (only.includes('b')) runs.push(await onePostgresNode('(b) one node, PostgreSQL + Redis'));

if (only.includes('c')) {
  const cluster = await startCluster({ nodes: 3, options: { ...CLUSTER_TEST_OPTIONS, ...nodeOptions } });
  try {
    await requireCluster(cluster.nodes[0]!);
    const lb = cluster.lb!;
    const groups: Record<string, () => number[]> = {};
    for (const n of cluster.nodes) groups[n.name] = () => [n.pid!];
    groups['nginx'] = () => withChildren(lb.pid);
    groups['postgres'] = () => postgresBackends(cluster.db.name);
    groups['postgres (shared background)'] = postgresBackground;
    groups['redis'] = redisServers;
    runs.push(await load('(c) three nodes behind nginx', lb.url, cluster.nodes[0]!.pid!, groups, cluster.db.url));
  } finally {
    await cluster.stop();
  }
}

if (write && runs.length > 0) {
  saveJson('cluster', { ctx, settings, runs });
  writeSection('cluster', 'Cluster: one node on SQLite, on PostgreSQL + Redis, three nodes behind nginx', clusterMarkdown(runs, settings, ctx));
  log('wrote BENCHMARKS.md (section bench:cluster) and bench/results/cluster.json');
}
