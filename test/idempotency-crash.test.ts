/**
 * Issue 15, the first crash window, on one node on SQLite: a request whose commit landed just
 * before the server died. The test-only hook OPENCALL_TEST_CRASH_AFTER_COMMIT (storage/crashHook.ts)
 * makes the server SIGKILL itself right after committing a request of the named user, before any
 * event or response of it is sent, so the window is hit every time, not by luck. After a restart
 * on the same file and port, the client's re-sent request must be answered from the stored
 * outcome (not refused with -1203), and every committed event must reach both users exactly once.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CallEngine, CallEndReason, CallMediaType } from '@opencall/client';
import { RestartableServer, restPost } from './fixtures/durabilityClients.js';
import { TEST_APP_ID, sig } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import type { TcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const HOOK = 'OPENCALL_TEST_CRASH_AFTER_COMMIT';
/** A restart on a loaded 2-core machine can take tens of seconds: requests wait that long. */
const PATIENCE_MS = 90_000;

/** A CallEngine that reconnects fast and lets its requests wait out a slow restart. */
async function patientUser(url: string, userId: string): Promise<TestUser> {
  const engine = new CallEngine({
    serverUrl: url,
    sdkAppId: TEST_APP_ID,
    reconnectInitialDelayMs: 50,
    reconnectMaxDelayMs: 300,
    reconnectWaitMs: PATIENCE_MS,
    requestTimeoutMs: PATIENCE_MS,
    logger: { warn: () => undefined, error: () => undefined },
  });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  await engine.init(userId, sig(userId));
  return { id: userId, engine, rec };
}

/** How many times `u` saw `name`. */
const count = (u: TestUser, name: string): number => u.rec.events.filter((e) => e.name === name).length;

/** Resolves when the server process has exited (the hook killed it). */
function exited(srv: RestartableServer): Promise<void> {
  const c = srv.proc.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

describe('a request committed just before a SIGKILL (issue 15)', () => {
  const live: TestUser[] = [];
  const srv = new RestartableServer({ heartbeatTimeoutMs: 60_000, defaultRingTimeoutSeconds: 120 });
  after(async () => {
    await cleanup(...live);
    await srv.dispose();
  });

  it('accept() and hangup() re-sent after the restart resolve from the stored outcome; both users see each event once', async (t) => {
    const caller = 'idem-a';
    const callee = 'idem-b';
    await srv.start({ [HOOK]: callee });
    const a = await patientUser(srv.url, caller);
    const b = await patientUser(srv.url, callee);
    live.push(a, b);

    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');

    // accept: committed, then the process dies before a single frame of it goes out.
    const accepting = b.engine.accept();
    let acceptSettled = false;
    void accepting.then(() => (acceptSettled = true), () => (acceptSettled = true));
    await exited(srv);
    assert.equal(srv.proc.child.signalCode, 'SIGKILL', 'the hook killed the server after the commit');
    assert.equal(acceptSettled, false, 'no answer left the server');
    assert.equal(count(b, 'onCallBegin'), 0);
    assert.equal(count(a, 'onCallBegin'), 0);

    // Same file and port; the hook armed again for the hang-up below.
    const down = Date.now();
    await srv.restart({ [HOOK]: callee });
    t.diagnostic(`restart took ${Date.now() - down} ms`);
    await accepting; // not -1203: answered from the stored outcome
    await b.rec.waitFor('onCallBegin', () => true, PATIENCE_MS);
    await a.rec.waitFor('onCallBegin', () => true, PATIENCE_MS);
    await a.rec.waitFor('onUserJoin', () => true, PATIENCE_MS);

    // hangup: committed (the call ends), then the process dies again before telling anyone.
    const hanging = b.engine.hangup();
    await exited(srv);
    assert.equal(srv.proc.child.signalCode, 'SIGKILL');
    await srv.restart();
    await hanging;
    await b.rec.waitFor('onCallEnd', () => true, PATIENCE_MS);
    // The caller's call ended in that last commit: its event is replayed from storage.
    await a.rec.waitFor('onCallEnd', () => true, PATIENCE_MS);

    // Replayed events the devices had already processed were dropped by event id: each once.
    for (const [u, names] of [
      [a, ['onCallBegin', 'onUserJoin', 'onUserLeave', 'onCallEnd']],
      [b, ['onCallReceived', 'onCallBegin', 'onCallEnd']],
    ] as const) {
      for (const name of names) assert.equal(count(u, name), 1, `${u.id} saw ${name} once: ${u.rec.lines().join(', ')}`);
    }
    const end = (u: TestUser) => u.rec.events.find((e) => e.name === 'onCallEnd')!.args;
    assert.equal(end(a)[2], CallEndReason.hangup, 'the caller learns the real reason, not offline');
    assert.equal(end(b)[2], CallEndReason.hangup);

    // The record agrees: answered, then ended normally.
    const { body } = await restPost(srv.url, '/v4/call_record_http_srv/get_record_by_callid', { CallId: callId });
    assert.equal(body.ErrorCode, 0);
    const rec = body.Response!.CallRecord as { CallResult: string; AcceptTime: number };
    assert.ok(rec.AcceptTime > 0, 'accepted');
    assert.equal(rec.CallResult, 'NormalEnd');
  });
});

describe('events stored for a session its device abandoned (issue 15, found by chaos seed 3)', () => {
  const live: TestUser[] = [];
  const srv = new RestartableServer({ heartbeatTimeoutMs: 1500, defaultRingTimeoutSeconds: 120 });
  let proxy: TcpProxy | undefined;
  after(async () => {
    await cleanup(...live);
    await proxy?.close();
    await srv.dispose();
  });

  it('are not replayed into its new session after a restart: a call it ended locally never comes back', async () => {
    await srv.start();
    proxy = await startTcpProxy(srv.port);
    const a = await patientUser(proxy.url, 'idem-c');
    const b = await patientUser(srv.url, 'idem-d');
    live.push(a, b);
    const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    // The caller drops off the network; the callee answers: the caller's onCallBegin is stored and
    // buffered for a session that will never hear it.
    proxy.blackhole();
    await b.engine.accept();
    // The caller's session times out: its leg ends as offline, and so does the 1-to-1 call.
    await b.rec.waitFor('onCallEnd', () => true, 20_000);
    proxy.restore();
    // Back too late to resume: a new session, the call ended locally.
    await a.rec.waitFor('onCallNotConnected', () => true, 20_000);
    // Connection-state events are kept apart (rec.plumbing): the last one says connected again.
    for (const until = Date.now() + 20_000; a.rec.plumbing.filter((e) => e.name === 'onConnectionStateChanged').at(-1)?.args[0] !== 'connected'; ) {
      assert.ok(Date.now() < until, 'the caller is signed in again');
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = a.rec.lines().length;

    await srv.kill();
    await srv.restart();
    // A new call reaches the caller after the restart: whatever the restart replays came first.
    a.rec.clear();
    await b.engine.calls([a.id], CallMediaType.audio);
    await a.rec.waitFor('onCallReceived', () => true, PATIENCE_MS);
    const stale = a.rec.events.filter((e) => e.args[0] === callId);
    assert.deepEqual(stale.map((e) => e.name), [], `nothing of the ended call after the restart (had ${before} lines before): ${a.rec.lines().join(', ')}`);
    assert.equal(a.engine.currentCall?.callId !== callId, true);
  });
});
