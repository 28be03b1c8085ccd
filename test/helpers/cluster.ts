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
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startNginx } from './nginx.js';
import { startTcpProxy } from './tcpProxy.js';
import type { TcpProxy } from './tcpProxy.js';
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
export function probe(): Promise<string | null> {
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

/** Creates database `name` on {@link TEST_POSTGRES} unless it exists; resolves with its URL. */
export async function ensureDatabase(name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const exists = (await psql(`SELECT 1 FROM pg_database WHERE datname = '${name}'`)).trim() === '1';
  if (!exists) await psql(`CREATE DATABASE ${name}`);
  return `${TEST_POSTGRES}/${name}`;
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
  /** How long each node may take to answer /healthz (default 60 s: three tsx start-ups on two busy cores). */
  startTimeoutMs?: number;
  /** Extra environment of every node (e.g. a test-only hook). */
  env?: NodeJS.ProcessEnv;
  /**
   * Connect each node to PostgreSQL through its own TCP proxy (`dbProxies[i]` for `nodes[i]`), so
   * a test can stall (`pause()`) or cut (`sever()`) one node's database connections mid-query.
   */
  dbProxy?: boolean;
  /**
   * Connect each node to Redis through its own TCP proxy (`redisProxies[i]` for `nodes[i]`), so a
   * test can stall or cut one node's link to the cluster's directory, logs and pub/sub.
   */
  redisProxy?: boolean;
  /** Append each node's output to `<logDir>/n<i>.log` (a post-mortem of a failed run). */
  logDir?: string;
}

/** A running test cluster. */
export interface TestCluster {
  readonly db: TestDatabase;
  readonly clusterName: string;
  readonly nodes: NodeProcess[];
  /** With `dbProxy`: the proxy between `nodes[i]` and PostgreSQL (it outlives the node's restarts); else empty. */
  readonly dbProxies: TcpProxy[];
  /** With `redisProxy`: the proxy between `nodes[i]` and Redis (it outlives the node's restarts); else empty. */
  readonly redisProxies: TcpProxy[];
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
  // 'info': a node that does not come up shows how far it got (the last 4 kB go into the error).
  logLevel: 'info',
  heartbeatTimeoutMs: 1500,
  defaultRingTimeoutSeconds: 2,
  webApp: false,
} as const;

const LOCK = join(tmpdir(), 'opencall-cluster-start.lock');

/**
 * One cluster start-up at a time across test files (they run in parallel): each start compiles
 * three servers through tsx on two cores, and two at once can each take over a minute. A lock
 * older than three minutes belongs to a run that died and is taken over.
 */
async function startLock(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmSync(LOCK, { recursive: true, force: true });
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 180_000) rmSync(LOCK, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Starts a database, N nodes named n1…nN and nginx in front. */
export async function startCluster(o: ClusterOptions = {}): Promise<TestCluster> {
  const db = await createTestDatabase();
  const clusterName = uniqueClusterName();
  const nodes: NodeProcess[] = [];
  const dbProxies: TcpProxy[] = [];
  const redisProxies: TcpProxy[] = [];
  let lb: TestNginx | undefined;
  const stop = async (): Promise<void> => {
    await lb?.stop();
    // A paused proxy would keep a stopping node's pool waiting: let it go first.
    for (const p of [...dbProxies, ...redisProxies]) p.restore();
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all([...dbProxies, ...redisProxies].map((p) => p.close()));
    await db.drop();
    await dropClusterKeys(clusterName);
  };
  /** `url` as node i reaches it through its own new proxy, kept in `proxies[i - 1]` (it outlives the node's restarts). */
  const viaProxy = async (url: string, defaultPort: number, proxies: TcpProxy[], i: number): Promise<string> => {
    const u = new URL(url);
    const proxy = await startTcpProxy(Number(u.port || defaultPort), u.hostname);
    proxies[i - 1] = proxy;
    u.host = `127.0.0.1:${proxy.port}`;
    return u.href;
  };
  const start = async (i: number): Promise<NodeProcess> =>
    startNodeProcess({
      name: `n${i}`,
      startTimeoutMs: o.startTimeoutMs ?? 60_000,
      ...(o.env ? { env: o.env } : {}),
      ...(o.logDir ? { logFile: join(o.logDir, `n${i}.log`) } : {}),
      options: { ...CLUSTER_TEST_OPTIONS, ...o.options, storage: o.dbProxy ? await viaProxy(db.url, 5432, dbProxies, i) : db.url, redis: o.redisProxy ? await viaProxy(TEST_REDIS, 6379, redisProxies, i) : TEST_REDIS, clusterName, nodeId: `n${i}` },
    });
  const release = await startLock();
  try {
    // n1 alone first (it creates the schema), then the others together: the advisory-locked
    // migration is tested elsewhere (test/storage-postgres); here start-up must simply be quick.
    nodes.push(await start(1));
    const started = await Promise.allSettled(Array.from({ length: (o.nodes ?? 3) - 1 }, (_, k) => start(k + 2)));
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (o.nginx !== false) lb = await startNginx(nodes.map((n) => n.port));
  } catch (err) {
    release();
    await stop().catch(() => undefined);
    throw err;
  }
  release();
  return { db, clusterName, nodes, dbProxies, redisProxies, lb, url: lb?.url ?? (nodes[0] as NodeProcess).url, stop };
}
