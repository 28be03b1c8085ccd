/**
 * Shared by the node-death suites: a cluster with a short heartbeat, tracked devices signed out
 * after each test, and every killed node restarted before the next one.
 */
import { afterEach } from 'node:test';
import { CallEndReason } from '@opencall/client';
import type { NodeProcess } from '../helpers/processServer.js';
import { sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';
import { clusterAvailable, useCluster } from './support.js';

/** Short, so deaths are decided quickly; not shorter, so a busy machine does not drop live devices. */
export const HEARTBEAT_MS = 2000;

/** Sets up this file's cluster and per-test clean-up (call once at the top of a suite file). */
export function useDeathCluster(): {
  ctx: ReturnType<typeof useCluster>;
  nodes: () => NodeProcess[];
  others: (n: NodeProcess) => NodeProcess[];
  track: (u: Promise<TestUser>) => Promise<TestUser>;
  untilNodes: (on: readonly NodeProcess[], expected: string[], timeoutMs: number) => Promise<number>;
} {
  const ctx = useCluster({ options: { heartbeatTimeoutMs: HEARTBEAT_MS } });
  const nodes = (): NodeProcess[] => ctx.cluster.nodes;
  const others = (n: NodeProcess): NodeProcess[] => nodes().filter((x) => x !== n);
  const users: TestUser[] = [];
  const track = async (u: Promise<TestUser>): Promise<TestUser> => {
    const t = await u;
    users.push(t);
    return t;
  };
  afterEach(async () => {
    if (!clusterAvailable) return;
    await Promise.all(users.splice(0).map((u) => u.engine.unInit().catch(() => undefined)));
    // Whatever a test killed comes back, and every node sees every other again.
    for (const n of nodes()) if (!n.running) await n.restart();
    await untilNodes(nodes(), ['n1', 'n2', 'n3'], 10_000);
  }, { timeout: 60_000 });
  return { ctx, nodes, others, track, untilNodes };
}

/** Polls every running node in `on` until its /healthz cluster.nodes is `expected`; resolves with the ms it took. */
export async function untilNodes(on: readonly NodeProcess[], expected: string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const lists = await Promise.all(on.filter((n) => n.running).map(async (n) => [...((await n.healthz()).cluster?.nodes ?? [])].sort().join(',')));
    if (lists.every((l) => l === expected.join(','))) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`cluster.nodes still ${lists.join(' | ')}, expected ${expected.join(',')}`);
    await sleep(100);
  }
}

/** End reasons, short. */
export const R = CallEndReason;
