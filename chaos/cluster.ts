/**
 * The cluster system under test (SPEC §8): three CLI node processes on a fresh PostgreSQL database
 * and a unique Redis prefix, nginx in front (test/helpers/cluster.ts). A crash SIGKILLs one random
 * node and starts it again on the same port; clients reach the cluster through nginx, so their
 * reconnections land on whichever node answers.
 */
import type { ServerOptions } from '@opencall/server';
import { clusterServicesAvailable, startCluster } from '../test/helpers/cluster.js';
import type { TestCluster } from '../test/helpers/cluster.js';
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
    return new ClusterSystem(await startCluster({ nodes, startTimeoutMs: 120_000, options: { ...rest, logLevel: 'error' } }), rng);
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

  dispose(): Promise<void> {
    return this.cluster.stop();
  }
}
