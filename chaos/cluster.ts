/**
 * The cluster system under test (SPEC §8): three CLI node processes on a fresh PostgreSQL database
 * and a unique Redis prefix, nginx in front (test/helpers/cluster.ts). A crash SIGKILLs one random
 * node and starts it again on the same port; clients reach the cluster through nginx, so their
 * reconnections land on whichever node answers. Each node reaches PostgreSQL through its own TCP
 * proxy, so a database pause can stall one node's queries (or every node's) mid-transaction, and
 * its own Redis proxy, so a Redis pause can hold one node's beats, device logs and pub/sub; a
 * stall SIGSTOPs a node, which keeps its sockets but says nothing until SIGCONT.
 */
import { mkdirSync } from 'node:fs';
import type { ServerOptions } from '@opencall/server';
import { clusterServicesAvailable, startCluster } from '../test/helpers/cluster.js';
import type { TestCluster } from '../test/helpers/cluster.js';
import type { TcpProxy } from '../test/helpers/tcpProxy.js';
import type { Rng } from './rng.js';
import type { SystemUnderTest } from './singleNode.js';

/** Whether PostgreSQL and Redis answer on loopback (the cluster mode needs both). */
export const clusterAvailable = clusterServicesAvailable;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Three nodes behind nginx. */
export class ClusterSystem implements SystemUnderTest {
  private constructor(
    private readonly cluster: TestCluster,
    private readonly rng: Rng,
  ) {}

  /** Starts the cluster with `options` on every node; `rng` picks which node dies. */
  static async start(options: ServerOptions, rng: Rng, nodes = 3): Promise<ClusterSystem> {
    // storage/redis/clusterName/nodeId come from the helper; the rest is the run's.
    const rest: Record<string, unknown> = { ...options };
    delete rest.storage;
    delete rest.port;
    // CHAOS_NODE_LOGS=<dir>: every node logs at info level into <dir>/n<i>.log (a post-mortem).
    const logDir = process.env.CHAOS_NODE_LOGS;
    if (logDir) mkdirSync(logDir, { recursive: true });
    const cluster = await startCluster({
      nodes, startTimeoutMs: 120_000, dbProxy: true, redisProxy: true,
      options: { ...rest, logLevel: logDir ? 'info' : 'error' },
      ...(logDir ? { logDir } : {}),
    });
    return new ClusterSystem(cluster, rng);
  }

  get port(): number {
    return this.cluster.lb!.port;
  }

  get restUrl(): string {
    return this.cluster.url;
  }

  async kill(downMs: number): Promise<void> {
    const node = this.rng.pick(this.cluster.nodes.filter((n) => n.running));
    if (!node) return;
    await node.kill();
    await sleep(downMs);
    await node.restart();
  }

  /**
   * Holds one node's database traffic (or every node's, one time in three) for `ms`; then lets
   * it flow on, or, one time in five, cuts those connections instead (queries in flight fail with
   * a lost connection, their outcome unknown to the node).
   */
  async pauseDb(ms: number): Promise<string> {
    return this.#hold(this.cluster.dbProxies, ms);
  }

  /** Pauses some of `proxies` (one per node) for `ms`, then resumes or cuts them; says which. */
  async #hold(proxies: readonly TcpProxy[], ms: number): Promise<string> {
    const { nodes } = this.cluster;
    const picked = this.rng.chance(1 / 3) ? nodes.map((_, i) => i) : [this.rng.int(0, nodes.length - 1)];
    for (const i of picked) proxies[i]!.pause();
    await sleep(ms);
    const cut = this.rng.chance(0.2);
    for (const i of picked) {
      const p = proxies[i]!;
      if (cut) {
        p.sever();
        p.restore();
      } else p.resume();
    }
    return `${picked.map((i) => nodes[i]!.name).join(',')}${cut ? ' cut' : ''}`;
  }

  /**
   * Holds one node's Redis traffic (or every node's, one time in three) for `ms`, then lets it
   * flow on or, one time in five, cuts those connections (commands in flight and pub/sub messages
   * on the way are lost; the clients reconnect).
   */
  async pauseRedis(ms: number): Promise<string> {
    return this.#hold(this.cluster.redisProxies, ms);
  }

  /** SIGSTOPs a random running node for `ms`, then SIGCONTs it; resolves with its name. */
  async stallNode(ms: number): Promise<string | null> {
    const node = this.rng.pick(this.cluster.nodes.filter((n) => n.running));
    const pid = node?.pid;
    if (!node || pid === undefined) return null;
    process.kill(pid, 'SIGSTOP');
    try {
      await sleep(ms);
    } finally {
      // The same incarnation only (a stopped process cannot exit, so the pid is still its own).
      if (node.pid === pid) process.kill(pid, 'SIGCONT');
    }
    return node.name;
  }

  dispose(): Promise<void> {
    return this.cluster.stop();
  }
}
