/**
 * SPEC §8, a node dies (SIGKILL, no goodbye): its devices that come back on another node within
 * `heartbeatTimeoutMs` resume with nothing visible to peers and get what they missed; the others
 * leave their calls as `offline` within `heartbeatTimeoutMs` + 2 s, decided by the survivors;
 * ring deadlines of that node's calls fire on time (± 1 s); `/healthz` stops listing it. Every
 * test restarts what it killed, and signs its devices out so the next one can tell where a new
 * device landed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectAll, fresh, seen, skipWithoutCluster } from './support.js';
import { CallMediaType } from '@opencall/client';
import { HEARTBEAT_MS, R, useDeathCluster, untilNodes } from './deaths.js';

const { ctx, nodes, others, track } = useDeathCluster();

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
