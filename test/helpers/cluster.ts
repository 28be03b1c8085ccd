/**
 * A real OpenCall cluster for a test: a fresh PostgreSQL database, a unique `clusterName` (the
 * prefix of every Redis key), N node processes of the CLI and nginx in front. Everything is
 * removed afterwards: the database is dropped and only this cluster's Redis keys are deleted
 * (never FLUSHALL: Redis is shared with other runs).
 *
 * PostgreSQL and Redis come from OPENCALL_TEST_POSTGRES (default postgres://root@127.0.0.1:5432)
 * and OPENCALL_TEST_REDIS (default redis://127.0.0.1:6379); `psql` and `redis-cli` do the admin.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { startNginx } from './nginx.js';
import type { TestNginx } from './nginx.js';
import { startNodeProcess } from './processServer.js';
import type { NodeProcess } from './processServer.js';
import { TEST_APP_ID, TEST_SECRET } from './server.js';

const run = promisify(execFile);

/** PostgreSQL server URL (no database) the tests create their databases on. */
export const TEST_POSTGRES = (process.env.OPENCALL_TEST_POSTGRES ?? 'postgres://root@127.0.0.1:5432').replace(/\/+$/, '');
/** Redis URL the tests use. */
export const TEST_REDIS = process.env.OPENCALL_TEST_REDIS ?? 'redis://127.0.0.1:6379';

function redisArgs(): string[] {
  const u = new URL(TEST_REDIS);
  const args = ['-h', u.hostname, '-p', u.port || '6379'];
  if (u.pathname.length > 1) args.push('-n', u.pathname.slice(1));
  return args;
}

async function psql(sql: string): Promise<string> {
  const { stdout } = await run('psql', [`${TEST_POSTGRES}/postgres`, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], { timeout: 15_000 });
  return stdout;
}

async function redisCli(...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', [...redisArgs(), ...args], { timeout: 15_000 });
  return stdout;
}

let available: Promise<string | null> | undefined;

/** Null when PostgreSQL and Redis both answer, else why not. */
function probe(): Promise<string | null> {
  available ??= (async () => {
    const missing: string[] = [];
    await psql('SELECT 1').catch((e: Error) => missing.push(`PostgreSQL at ${TEST_POSTGRES} (${e.message.split('\n')[0]})`));
    const pong = await redisCli('PING').catch((e: Error) => e.message.split('\n')[0]);
    if (pong?.trim() !== 'PONG') missing.push(`Redis at ${TEST_REDIS} (${pong?.trim()})`);
    return missing.length ? missing.join('; ') : null;
  })();
  return available;
}

/**
 * True when PostgreSQL and Redis answer. When they do not: throws under CI=true (the suite must
 * fail there), else warns loudly and returns false so the suite skips.
 */
export async function clusterServicesAvailable(): Promise<boolean> {
  const why = await probe();
  if (!why) return true;
  if (process.env.CI === 'true') throw new Error(`cluster tests need PostgreSQL and Redis; not reachable: ${why}`);
  console.warn(`\n*** cluster tests SKIPPED: not reachable: ${why} ***\n`);
  return false;
}

/** A database made for one test run. */
export interface TestDatabase {
  /** `postgres://…/<name>`: the nodes' `storage`. */
  readonly url: string;
  readonly name: string;
  /** Drops the database (disconnecting whoever is still on it). */
  drop(): Promise<void>;
}

/** Creates an empty database `opencall_t_<random>`. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `opencall_t_${randomBytes(6).toString('hex')}`;
  await psql(`CREATE DATABASE ${name}`);
  return {
    url: `${TEST_POSTGRES}/${name}`,
    name,
    drop: async () => {
      await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** A `clusterName` no other run uses (letters, digits and `_`, as the option allows). */
export function uniqueClusterName(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

/** Deletes every Redis key of `clusterName` (`opencall:<clusterName>:*`) and nothing else. */
export async function dropClusterKeys(clusterName: string): Promise<number> {
  if (!/^[A-Za-z0-9_.-]+$/.test(clusterName)) throw new Error(`refusing to delete keys of cluster ${clusterName}`);
  const keys = (await redisCli('--scan', '--pattern', `opencall:${clusterName}:*`)).split('\n').filter(Boolean);
  for (let i = 0; i < keys.length; i += 500) await redisCli('DEL', ...keys.slice(i, i + 500));
  return keys.length;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** How many nodes (default 3). */
  nodes?: number;
  /** Server options for every node (test secret, signaling only, short timeouts by default). */
  options?: Record<string, unknown>;
  /** Start nginx in front (default true). */
  nginx?: boolean;
  /** How long each node may take to start (default: startNodeProcess's). */
  startTimeoutMs?: number;
}

/** A running test cluster. */
export interface TestCluster {
  readonly db: TestDatabase;
  readonly clusterName: string;
  readonly nodes: NodeProcess[];
  /** nginx in front of the nodes (absent with `nginx: false`). */
  readonly lb: TestNginx | undefined;
  /** The URL clients use: nginx's, else the first node's. */
  readonly url: string;
  /** Stops nginx and every node, drops the database and the cluster's Redis keys. */
  stop(): Promise<void>;
}

/** Test defaults of every node: the test secret, no media, short heartbeat and ring timeouts. */
export const CLUSTER_TEST_OPTIONS = {
  secretKey: TEST_SECRET,
  sdkAppId: TEST_APP_ID,
  sfu: 'none',
  logLevel: 'warn',
  heartbeatTimeoutMs: 1500,
  defaultRingTimeoutSeconds: 2,
  webApp: false,
} as const;

/** Starts a database, N nodes named n1…nN (started together, as a deployment does) and nginx. */
export async function startCluster(o: ClusterOptions = {}): Promise<TestCluster> {
  const db = await createTestDatabase();
  const clusterName = uniqueClusterName();
  const nodes: NodeProcess[] = [];
  let lb: TestNginx | undefined;
  const stop = async (): Promise<void> => {
    await lb?.stop();
    await Promise.all(nodes.map((n) => n.stop()));
    await db.drop();
    await dropClusterKeys(clusterName);
  };
  try {
    const started = await Promise.allSettled(
      Array.from({ length: o.nodes ?? 3 }, (_, i) =>
        startNodeProcess({
          name: `n${i + 1}`,
          ...(o.startTimeoutMs ? { startTimeoutMs: o.startTimeoutMs } : {}),
          options: { ...CLUSTER_TEST_OPTIONS, ...o.options, storage: db.url, redis: TEST_REDIS, clusterName, nodeId: `n${i + 1}` },
        }),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (o.nginx !== false) lb = await startNginx(nodes.map((n) => n.port));
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { db, clusterName, nodes, lb, url: lb?.url ?? (nodes[0] as NodeProcess).url, stop };
}
