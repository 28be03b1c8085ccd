/**
 * Issue 15, the first crash window, on three nodes (PostgreSQL + Redis): a node commits a device's
 * `accept` and dies (SIGKILL) before sending anything. The test-only hook
 * OPENCALL_TEST_CRASH_AFTER_COMMIT (storage/crashHook.ts), armed on every node for one user id,
 * makes the node that commits that user's request kill itself right after the commit. The device
 * resumes on another node and re-sends `accept`: it must resolve from the stored outcome (not
 * -1203), and both users must get the committed events (the callee with the answer, the caller,
 * on a surviving node, from the dead node's stored events sent again) exactly once.
 */
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEndReason, CallMediaType } from '@opencall/client';
import type { NodeProcess } from '../helpers/processServer.js';
import type { TestUser } from '../helpers/users.js';
import { landedOn, skipWithoutCluster, useCluster } from './support.js';

/** The one user whose committed requests kill the node that commits them. */
const HOOKED = `kxb${randomBytes(3).toString('hex')}`;
const ctx = useCluster({ options: { heartbeatTimeoutMs: 6000, defaultRingTimeoutSeconds: 60 }, env: { OPENCALL_TEST_CRASH_AFTER_COMMIT: HOOKED } });

const count = (u: TestUser, name: string): number => u.rec.events.filter((e) => e.name === name).length;

/** Resolves once `n`'s process has exited. */
async function dead(n: NodeProcess): Promise<void> {
  const until = Date.now() + 30_000;
  while (n.running) {
    if (Date.now() > until) throw new Error(`${n.name} is still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('cluster: a request committed on a node that dies before answering (issue 15)', { skip: skipWithoutCluster }, () => {
  it('accept() re-sent on another node resolves from the stored outcome; caller and callee each see the call begin and end once', async () => {
    const nodes = ctx.cluster.nodes;
    const { node: home, value: b } = await landedOn(nodes, () => ctx.device(HOOKED, nodes));
    const survivor = nodes.find((n) => n !== home)!;
    const a = await ctx.device(`kxa${randomBytes(3).toString('hex')}`, survivor);
    try {
      await a.engine.calls([b.id], CallMediaType.audio);
      await b.rec.waitFor('onCallReceived');
      const accepting = b.engine.accept();
      await dead(home);
      await accepting; // not -1203: answered by another node from the stored outcome
      await b.rec.waitFor('onCallBegin', () => true, 10_000);
      // The caller's node lives: it hears of the accept from the dead node's events sent again.
      await a.rec.waitFor('onCallBegin', () => true, 15_000);
      await a.rec.waitFor('onUserJoin', () => true, 10_000);
      await a.engine.hangup();
      await b.rec.waitFor('onCallEnd', () => true, 10_000);
      await a.rec.waitFor('onCallEnd', () => true, 10_000);
      for (const [u, names] of [
        [a, ['onCallBegin', 'onUserJoin', 'onCallEnd']],
        [b, ['onCallReceived', 'onCallBegin', 'onCallEnd']],
      ] as const) {
        for (const name of names) assert.equal(count(u, name), 1, `${u.id} saw ${name} once: ${u.rec.lines().join(', ')}`);
      }
      assert.equal(b.rec.events.find((e) => e.name === 'onCallEnd')!.args[2], CallEndReason.hangup);
    } finally {
      await a.engine.unInit().catch(() => undefined);
      await b.engine.unInit().catch(() => undefined);
      if (!home.running) await home.restart();
    }
  });
});
