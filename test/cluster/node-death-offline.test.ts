/**
 * SPEC §8, a node dies (SIGKILL, no goodbye): its devices that come back on another node within
 * `heartbeatTimeoutMs` resume with nothing visible to peers and get what they missed; the others
 * leave their calls as `offline` within `heartbeatTimeoutMs` + 2 s, decided by the survivors;
 * ring deadlines of that node's calls fire on time (± 1 s); `/healthz` stops listing it. Every
 * test restarts what it killed, and signs its devices out so the next one can tell where a new
 * device landed.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { NodeProcess } from '../helpers/processServer.js';
import { sleep } from '../helpers/users.js';
import type { TestUser } from '../helpers/users.js';
import { clusterAvailable, connectAll, fresh, seen, skipWithoutCluster, useCluster } from './support.js';

const R = CallEndReason;
/** Short, so deaths are decided quickly; not shorter, so a busy machine does not drop live devices. */
const HEARTBEAT_MS = 2000;
const ctx = useCluster({ options: { heartbeatTimeoutMs: HEARTBEAT_MS } });
const nodes = (): NodeProcess[] => ctx.cluster.nodes;
const others = (n: NodeProcess): NodeProcess[] => nodes().filter((x) => x !== n);

const users: TestUser[] = [];
async function track(u: Promise<TestUser>): Promise<TestUser> {
  const t = await u;
  users.push(t);
  return t;
}
afterEach(async () => {
  if (!clusterAvailable) return;
  await Promise.all(users.splice(0).map((u) => u.engine.unInit().catch(() => undefined)));
  // Whatever a test killed comes back, and every node sees every other again.
  for (const n of nodes()) if (!n.running) await n.restart();
  await untilNodes(nodes(), ['n1', 'n2', 'n3'], 10_000);
}, { timeout: 60_000 });

/** Polls every running node in `on` until its /healthz cluster.nodes is `expected`; resolves with the ms it took. */
async function untilNodes(on: readonly NodeProcess[], expected: string[], timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const lists = await Promise.all(on.filter((n) => n.running).map(async (n) => [...((await n.healthz()).cluster?.nodes ?? [])].sort().join(',')));
    if (lists.every((l) => l === expected.join(','))) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`cluster.nodes still ${lists.join(' | ')}, expected ${expected.join(',')}`);
    await sleep(100);
  }
}

describe('cluster: a node dies (SIGKILL) and its devices do not come back', { skip: skipWithoutCluster }, () => {
  it('a node dies with a connected device and a ringing caller pinned to it: the survivors tell their peers offline within heartbeatTimeoutMs + 2 s, and /healthz drops it', async () => {
    const [home, other] = [nodes()[1]!, nodes()[2]!];
    // Pinned: no other URL to go to, so these devices cannot come back.
    const a = await track(ctx.device(fresh('oa'), home));
    const b = await track(ctx.device(fresh('ob'), other));
    const c = await track(ctx.device(fresh('oc'), home));
    const d = await track(ctx.device(fresh('od'), nodes()[0]!));
    await connectAll(a, b);
    await c.engine.calls([d.id], CallMediaType.audio, { timeout: 30 });
    await d.rec.waitFor('onCallReceived');
    d.rec.clear();
    const t0 = Date.now();
    await home.kill();
    const [ended, cancelled, dropped] = await Promise.all([
      b.rec.waitFor('onCallEnd', () => true, HEARTBEAT_MS + 4_000).then(() => Date.now() - t0),
      d.rec.waitFor('onCallCancelled', () => true, HEARTBEAT_MS + 4_000).then(() => Date.now() - t0),
      untilNodes(others(home), ['n1', 'n3'], 8_000),
    ]);
    assert.ok(ended <= HEARTBEAT_MS + 2_000, `connected peer told after ${ended} ms (limit ${HEARTBEAT_MS + 2_000})`);
    assert.ok(cancelled <= HEARTBEAT_MS + 2_000, `invitee told after ${cancelled} ms (limit ${HEARTBEAT_MS + 2_000})`);
    assert.ok(dropped <= HEARTBEAT_MS + 3_000, `/healthz dropped n2 after ${dropped} ms`);
    assert.deepEqual(seen(b.rec), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.offline},${a.id},ms,info(2))`]);
    assert.deepEqual(d.rec.lines(), [`onCallNotConnected(callId,1,${R.offline},${c.id},info(2))`, `onCallCancelled(${c.id})`]);
    assert.equal(home.running, false, 'decided while the dead node is still down');
    await home.restart();
    await untilNodes(nodes(), ['n1', 'n2', 'n3'], 8_000);
    assert.equal((await home.healthz()).cluster?.nodeId, 'n2');
  });
});
