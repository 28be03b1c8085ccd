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
import type { NodeProcess } from '../helpers/processServer.js';
import { sleep } from '../helpers/users.js';
import { connectAll, connections, fresh, landedOn, seen, skipWithoutCluster } from './support.js';
import { CallMediaType } from '@opencall/client';
import { HEARTBEAT_MS, R, useDeathCluster } from './deaths.js';

const { ctx, nodes, others, track } = useDeathCluster();

describe('cluster: a node dies (SIGKILL) and its devices come back elsewhere', { skip: skipWithoutCluster }, () => {
  it("the caller's node dies while its invitation rings: the deadline fires on time and the caller resumes elsewhere unnoticed", async () => {
    const { node: home, value: a } = await landedOn(nodes(), () => track(ctx.device(fresh('da'), nodes())));
    const b = await track(ctx.device(fresh('db'), others(home)[0]!));
    const t0 = Date.now();
    await a.engine.calls([b.id], CallMediaType.audio, { timeout: 4 });
    await b.rec.waitFor('onCallReceived');
    await sleep(500);
    await home.kill();
    await a.rec.waitFor('onCallCancelled', () => true, 8_000);
    const elapsed = Date.now() - t0;
    assert.ok(Math.abs(elapsed - 4000) <= 1000, `the deadline fired after ${elapsed} ms (4000 ± 1000)`);
    assert.deepEqual(a.rec.lines(), [`onUserNoResponse(${b.id})`, `onCallNotConnected(callId,1,${R.noResponse},${b.id},info(1))`, `onCallCancelled(${a.id})`]);
    await b.rec.waitFor('onCallCancelled');
    assert.deepEqual(b.rec.lines().slice(1), [`onCallNotConnected(callId,1,${R.noResponse},${b.id},info(2))`, `onCallCancelled(${b.id})`]);
    assert.equal(a.engine.isInitialized, true);
    // The caller is reachable on the node it moved to.
    await b.engine.calls([a.id], CallMediaType.audio);
    await a.rec.waitFor('onCallReceived');
    await b.engine.hangup();
  });

  it('a node dies mid-call: the device resumes through nginx on another node, gets what it missed, and the peers see nothing', async () => {
    const { node: home, value: a } = await landedOn(nodes(), () => track(ctx.device(fresh('ma'), ctx.cluster.url)));
    const [nb, nc] = others(home) as [NodeProcess, NodeProcess];
    const b = await track(ctx.device(fresh('mb'), nb));
    const c = await track(ctx.device(fresh('mc'), nc));
    const callId = await connectAll(b, a, c);
    const before = await connections(others(home));
    await home.kill();
    // Something happens while the device is away (or just back): c leaves.
    await c.engine.hangup();
    await a.rec.waitFor('onUserLeave', () => true, 5_000);
    const after = await connections(others(home));
    assert.equal(after.reduce((x, y) => x + y, 0), before.reduce((x, y) => x + y, 0) + 1, 'the device reconnected to a live node');
    // Well past the moment a device that did not come back would have been declared gone.
    await sleep(HEARTBEAT_MS + 2_500);
    assert.deepEqual(a.rec.lines(), [`onUserLeave(${c.id})`], 'replayed once, nothing else');
    assert.deepEqual(b.rec.lines(), [`onUserLeave(${c.id})`], 'the peer saw nothing of the move');
    assert.equal(a.engine.currentCall?.callId, callId);
    assert.deepEqual(a.engine.currentCall?.connectedUserIds, [b.id]);
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(b.rec).slice(1), [`onUserLeave(${a.id})`, `onCallEnd(callId,1,${R.hangup},${a.id},ms,info(1))`]);
  });
});
