/**
 * The client's server URL list (SPEC §8) against real server processes: the engine signs in on a
 * server that answers when the first one it tries is down, and moves to the next one when its
 * server dies. These are two independent single-node servers (SQLite), not a cluster: the second
 * cannot resume the first one's session, so the device falls back to a fresh sign-in by today's
 * rules (SPEC §5.4: its call ends as `offline`, by itself) and is reachable again on the
 * other server. Cluster resume is covered by test/cluster/.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import { freePort, startNodeProcess } from './helpers/processServer.js';
import type { NodeProcess } from './helpers/processServer.js';
import { TEST_APP_ID, TEST_SECRET, sig } from './helpers/server.js';
import { Recorder, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const dirs: string[] = [];
const nodes: NodeProcess[] = [];
const engines: CallEngine[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
  await Promise.all(nodes.map((n) => n.kill()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A single-node server process on its own SQLite file, on `port` when given. */
async function server(port?: number): Promise<NodeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-failover-'));
  dirs.push(dir);
  const node = await startNodeProcess({
    options: {
      storage: join(dir, 'opencall.db'), secretKey: TEST_SECRET, sdkAppId: TEST_APP_ID, sfu: 'none',
      logLevel: 'warn', heartbeatTimeoutMs: 1500, webApp: false, ...(port ? { port } : {}),
    },
  });
  nodes.push(node);
  return node;
}

/** Signs `userId` in with a list of server URLs. */
async function device(userId: string, serverUrl: string[]): Promise<TestUser> {
  const engine = new CallEngine({
    serverUrl, sdkAppId: TEST_APP_ID, reconnectInitialDelayMs: 50, reconnectMaxDelayMs: 200,
    logger: { warn: () => undefined },
  });
  engines.push(engine);
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  await engine.init(userId, sig(userId));
  return { id: userId, engine, rec };
}

describe('client serverUrl list (SPEC §8)', () => {
  it('the first server tried is down: init signs in on the next and calls work there', async () => {
    const up = await server();
    const down = `http://127.0.0.1:${await freePort()}`;
    // Whichever the random start picks, both devices end up on the server that answers.
    const a = await device('fo_a1', [down, up.url]);
    const b = await device('fo_b1', [up.url, down]);
    assert.equal((await up.healthz()).connections, 2);
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onCallBegin');
    await a.engine.hangup();
    await b.rec.waitFor('onCallEnd');
  });

  it('the server dies mid-call: each device moves to the next server, ends its call as offline, and is reachable there', async () => {
    const portB = await freePort();
    const first = await server();
    const urls = [first.url, `http://127.0.0.1:${portB}`];
    // The second server is not up yet: both devices land on the first one.
    const a = await device('fo_a2', urls);
    const b = await device('fo_b2', urls);
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onCallBegin');
    const second = await server(portB);
    a.rec.clear();
    b.rec.clear();

    await first.kill();
    // What the user sees: the call ends by itself as `offline` (the new server cannot resume the
    // old session), nothing else; the engine stays signed in.
    for (const u of [a, b]) {
      const end = await u.rec.waitFor('onCallEnd', () => true, 10_000);
      assert.deepEqual(end.args.slice(0, 4), [callId, CallMediaType.audio, CallEndReason.offline, u.id]);
    }
    await sleep(200);
    for (const u of [a, b]) {
      assert.deepEqual(u.rec.names(), ['onCallEnd'], `${u.id} saw only its call end`);
      assert.equal(u.engine.isInitialized, true);
      assert.equal(u.engine.currentCall, null);
    }
    assert.equal((await second.healthz()).connections, 2);

    // Both are signed in on the second server: a new call rings there.
    await b.engine.calls([a.id], CallMediaType.video);
    const rang = await a.rec.waitFor('onCallReceived');
    assert.equal(rang.args[1], b.id);
    await a.engine.reject();
  });
});
