/**
 * `npm run cluster`: three OpenCall nodes on PostgreSQL + Redis behind nginx, on this machine, in
 * one command (SPEC §8, docs/cluster.md). Ctrl-C stops everything.
 *
 *   npm run cluster [-- --port 3000 --nodes 3]
 *
 * nginx listens on --port (default 3000) with deploy/nginx/cluster.conf; nodes n1…nN on the next
 * ports. PostgreSQL and Redis come from OPENCALL_STORAGE (default: database `opencall_cluster` on
 * postgres://root@127.0.0.1:5432, created when missing) and OPENCALL_REDIS (redis://127.0.0.1:6379);
 * every other OPENCALL_* variable (e.g. OPENCALL_SECRET_KEY) reaches every node. The nodes share
 * one working folder, ./data/cluster, so development mode's generated key is the same on all of
 * them (n1 starts first and creates it).
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TEST_REDIS, ensureDatabase, probe } from '../test/helpers/cluster.js';
import { nginxBinary, startNginx } from '../test/helpers/nginx.js';
import type { TestNginx } from '../test/helpers/nginx.js';
import { startNodeProcess } from '../test/helpers/processServer.js';
import type { NodeProcess } from '../test/helpers/processServer.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const port = flag('port', 3000);
const count = flag('nodes', 3);

function fail(message: string): never {
  process.stderr.write(`npm run cluster: ${message}\n`);
  process.exit(1);
}

if (!nginxBinary()) fail('nginx is not installed (Debian: apt-get install nginx-light)');
const missing = await probe();
if (missing && !process.env.OPENCALL_STORAGE) fail(`PostgreSQL and Redis are needed: not reachable: ${missing}`);
const storage = process.env.OPENCALL_STORAGE ?? (await ensureDatabase('opencall_cluster'));
const redis = process.env.OPENCALL_REDIS ?? TEST_REDIS;
const clusterName = process.env.OPENCALL_CLUSTER_NAME ?? 'opencall';
const cwd = fileURLToPath(new URL('../data/cluster/', import.meta.url));
mkdirSync(cwd, { recursive: true });

const nodes: NodeProcess[] = [];
let lb: TestNginx | undefined;
let stopping = false;
async function stopAll(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stderr.write('\nstopping nginx and the nodes…\n');
  await lb?.stop();
  await Promise.all(nodes.map((n) => n.stop()));
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const start = (i: number): Promise<NodeProcess> =>
    startNodeProcess({
      name: `n${i}`,
      entry: 'dist',
      cwd,
      options: { storage, redis, clusterName, nodeId: `n${i}`, port: port + i, logLevel: 'warn' },
    });
  // n1 first: it migrates the schema and, in development mode, creates the shared key.
  nodes.push(await start(1));
  nodes.push(...(await Promise.all(Array.from({ length: count - 1 }, (_, k) => start(k + 2)))));
  lb = await startNginx(nodes.map((n) => n.port), port);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll(1);
}

const health = await nodes[0]!.healthz();
process.stdout.write(
  `\nOpenCall cluster "${clusterName}" is running at ${lb!.url.replace('127.0.0.1', 'localhost')}  (nginx, pid ${lb!.pid})\n` +
    nodes.map((n) => `  ${n.name}  ${n.url}  pid ${n.pid}\n`).join('') +
    `  storage ${storage.replace(/\/\/[^@/]*@/, '//')}  redis ${redis}  (live nodes: ${health.cluster?.nodes.join(', ') ?? 'not reported: cluster mode not in this build'})\n` +
    `Ctrl-C stops everything.\n`,
);
// A node that dies by itself is reported once; the others go on (that is the point of a cluster).
const reported = new Set<string>();
setInterval(() => {
  for (const n of nodes) {
    if (n.running || stopping || reported.has(n.name)) continue;
    reported.add(n.name);
    process.stderr.write(`${n.name} stopped:\n${n.output().slice(-2000)}\n`);
  }
}, 2_000);
