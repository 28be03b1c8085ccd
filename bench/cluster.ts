/**
 * `npm run bench:cluster`: the signaling load of `bench:signaling` (pairs doing full call cycles)
 * against (a) one node on SQLite, (b) one node on PostgreSQL + Redis, (c) three nodes behind nginx
 * (deploy/nginx/cluster.conf) on PostgreSQL + Redis, in one run. Per configuration: cycles/s,
 * latency percentiles, and CPU per cycle of each node, nginx, the PostgreSQL backends of the
 * bench's database (plus PostgreSQL's shared background processes) and redis-server, from /proc.
 *
 *   npm run bench:cluster [-- --pairs 100 --seconds 10 --warmup 2 --workers 2 --only a,b,c --no-write]
 *
 * Every node is the real CLI (`opencall-server`) in its own process with the bench server options;
 * each configuration gets a fresh database and Redis prefix, dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_TEST_OPTIONS, TEST_REDIS, clusterServicesAvailable, createTestDatabase, dropClusterKeys, startCluster, uniqueClusterName } from '../test/helpers/cluster.js';
import { startNodeProcess } from '../test/helpers/processServer.js';
import type { NodeProcess } from '../test/helpers/processServer.js';
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { machineInfo, round } from './lib/proc.js';
import { GroupCpu, postgresBackends, postgresBackground, redisServers, withChildren } from './lib/procGroups.js';
import { benchServerOptions } from './lib/servers.js';
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

/** Runs the load through `url` with `groups` sampled over the window. */
async function load(name: string, url: string, mainPid: number, groups: Record<string, () => number[]>): Promise<ClusterRun> {
  const cpu = new GroupCpu(groups);
  const server: ServerProcess = { kind: 'opencall', url, pid: mainPid, memory: async () => null, stop: async () => undefined };
  const result: LoadResult = await runLoad({ server, ...settings, onWindow: cpu });
  log(`${name}: ${line(result)}`);
  const perCycle = Object.fromEntries(Object.entries(cpu.cores).map(([k, c]) => [k, result.cycles > 0 ? round((c * result.seconds * 1000) / result.cycles, 3) : NaN]));
  log(`${name}: cores ${JSON.stringify(cpu.cores)} ms/cycle ${JSON.stringify(perCycle)}`);
  return { name, result, cores: { ...cpu.cores }, msPerCycle: perCycle };
}

/** Fails unless `node` runs in cluster mode (numbers of a lone SQLite node under a cluster label would mislead). */
async function requireCluster(node: NodeProcess): Promise<void> {
  const h = await node.healthz();
  if (!h.cluster) throw new Error(`${node.name} reports no cluster in /healthz (storage ${h.storage}): cluster mode is not in this build`);
}

const runs: ClusterRun[] = [];

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

if (only.includes('b')) {
  const db = await createTestDatabase();
  const clusterName = uniqueClusterName();
  const node = await startNodeProcess({ name: 'pg', options: { ...nodeOptions, storage: db.url, redis: TEST_REDIS, clusterName, nodeId: 'b1' } });
  try {
    await requireCluster(node);
    runs.push(await load('(b) one node, PostgreSQL + Redis', node.url, node.pid!, {
      node: () => [node.pid!],
      postgres: () => postgresBackends(db.name),
      'postgres (shared background)': postgresBackground,
      redis: redisServers,
    }));
  } finally {
    await node.stop();
    await db.drop();
    await dropClusterKeys(clusterName);
  }
}

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
    runs.push(await load('(c) three nodes behind nginx', lb.url, cluster.nodes[0]!.pid!, groups));
  } finally {
    await cluster.stop();
  }
}

if (write && runs.length > 0) {
  saveJson('cluster', { ctx, settings, runs });
  writeSection('cluster', 'Cluster: one node on SQLite, on PostgreSQL + Redis, three nodes behind nginx', clusterMarkdown(runs, settings, ctx));
  log('wrote BENCHMARKS.md (section bench:cluster) and bench/results/cluster.json');
}
