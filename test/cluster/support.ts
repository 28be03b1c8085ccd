/**
 * Shared by the cluster suites (SPEC §8): one real cluster per file (three CLI node processes on a
 * fresh PostgreSQL database and a unique Redis prefix, nginx in front), real CallEngines
 * (signaling only) pinned to a node by its URL, and the ways a test learns where a device landed.
 * Suites skip loudly without PostgreSQL/Redis, and fail under CI=true.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngine, CallMediaType } from '@opencall/client';
import type { CallEngineOptions } from '@opencall/client';
import { clusterServicesAvailable, startCluster } from '../helpers/cluster.js';
import type { ClusterOptions, TestCluster } from '../helpers/cluster.js';
import type { NodeProcess } from '../helpers/processServer.js';
import { TEST_APP_ID, sig } from '../helpers/server.js';
import { Recorder, sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';

/** Whether PostgreSQL and Redis are here (probed once at load: a suite needs it to decide `skip`). */
export const clusterAvailable = await clusterServicesAvailable();
/** `describe` option: skip (loudly, see above) when the services are missing. */
export const skipWithoutCluster = clusterAvailable ? false : 'PostgreSQL/Redis not reachable';

/** Signs a user in through a node, a list of nodes, or a URL (see {@link useCluster}). */
export type DeviceFn = (userId: string, to: NodeProcess | NodeProcess[] | string, opts?: Partial<CallEngineOptions> & { init?: boolean }) => Promise<TestUser>;

/** The test cluster of this file, started in `before`, stopped in `after`; engines signed out first. */
export function useCluster(options: ClusterOptions = {}): { readonly cluster: TestCluster; device: DeviceFn } {
  let cluster: TestCluster | undefined;
  const engines: CallEngine[] = [];
  before(async () => {
    if (!clusterAvailable) return;
    cluster = await startCluster(options);
    const h = await cluster.nodes[0]!.healthz();
    // Until cluster mode exists every node would be a lone server on its own: say so plainly.
    assert.ok(h.cluster, `node n1 reports no cluster in /healthz (is cluster mode implemented?): ${JSON.stringify(h)}`);
  }, { timeout: 240_000 });
  after(async () => {
    await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
    if (cluster) {
      const failures = cluster.nodes.filter((n) => !n.running).map((n) => n.name);
      if (failures.length) console.warn(`cluster nodes not running at the end: ${failures.join(', ')}`);
      await cluster.stop();
    }
  }, { timeout: 60_000 });

  /**
   * Signs `userId` in through `to`: a node (pinned there: its URL only), a list of nodes (the
   * engine picks one and fails over), or a URL (nginx).
   */
  async function device(userId: string, to: NodeProcess | NodeProcess[] | string, opts: Partial<CallEngineOptions> & { init?: boolean } = {}): Promise<TestUser> {
    const serverUrl = typeof to === 'string' ? to : Array.isArray(to) ? to.map((n) => n.url) : to.url;
    const engine = new CallEngine({
      serverUrl, sdkAppId: TEST_APP_ID, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200,
      logger: { warn: () => undefined }, ...opts,
    });
    engines.push(engine);
    const rec = new Recorder();
    engine.addObserver(rec.observer);
    if (opts.init !== false) await engine.init(userId, sig(userId));
    return { id: userId, engine, rec };
  }

  return {
    get cluster(): TestCluster {
      assert.ok(cluster, 'cluster not started');
      return cluster;
    },
    device,
  };
}

let counter = 0;
/** A user id no other test of the run uses. */
export const fresh = (prefix: string): string => `${prefix}${process.pid % 1000}x${++counter}`;

/** Recorded events with the varying totalTime of onCallEnd replaced by `ms`. */
export function seen(rec: Recorder): string[] {
  return rec.lines().map((l) => l.replace(/^(onCallEnd\(callId,\d+,\d+,[^,]+,)\d+,/, '$1ms,'));
}

/** WebSocket connections per node (`/healthz`), dead nodes as -1. */
export async function connections(nodes: readonly NodeProcess[]): Promise<number[]> {
  return Promise.all(nodes.map((n) => (n.running ? n.healthz().then((h) => h.connections, () => -1) : Promise.resolve(-1))));
}

/**
 * Runs `signIn` (one new device) and returns the node it landed on: the one whose connection
 * count went up. Tests of one file run one at a time, so nothing else connects meanwhile.
 */
export async function landedOn<T>(nodes: readonly NodeProcess[], signIn: () => Promise<T>): Promise<{ node: NodeProcess; value: T }> {
  const before = await connections(nodes);
  const value = await signIn();
  for (let i = 0; i < 20; i++) {
    const after = await connections(nodes);
    const up = nodes.filter((_, k) => (after[k] ?? 0) > (before[k] ?? 0));
    if (up.length === 1) return { node: up[0]!, value };
    await sleep(25);
  }
  throw new Error('could not tell which node the device landed on');
}

/** `caller` calls `callees`, each accepts; resolves connected with every recorder cleared. */
export async function connectAll(caller: TestUser, ...callees: TestUser[]): Promise<string> {
  const { callId } = await caller.engine.calls(callees.map((c) => c.id), CallMediaType.audio);
  for (const c of callees) {
    await c.rec.waitFor('onCallReceived');
    await c.engine.accept();
  }
  for (const c of callees) await caller.rec.waitFor('onUserJoin', (args) => args[0] === c.id);
  await sleep(150);
  for (const u of [caller, ...callees]) u.rec.clear();
  return callId;
}
