/**
 * SPEC §5.4 heartbeats: a device silent for `heartbeatTimeoutMs` leaves its call as `offline`, with
 * the endings of §5.2/§5.3. Silence is made for real: a TCP proxy that stops passing bytes (the
 * socket stays open, only heartbeats can tell), and a client process killed with SIGKILL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CallEndReason, CallEngine, CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { startTcpProxy } from './helpers/tcpProxy.js';
import type { TcpProxy } from './helpers/tcpProxy.js';
import { Recorder, cleanup, sleep } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const R = CallEndReason;
const HEARTBEAT_TIMEOUT_MS = 1000;
const RING_SECONDS = 4;

let server: RunningServer;
let proxy: TcpProxy;
const everyone: TestUser[] = [];
const children: ChildProcess[] = [];
before(async () => {
  server = await startTestServer({ heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, defaultRingTimeoutSeconds: RING_SECONDS });
  proxy = await startTcpProxy(server.port);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cleanup(...everyone);
  await proxy.close();
  await server.close();
});

let n = 0;
const fresh = (prefix: string): string => `${prefix}${++n}`;

/** Signs a user in; `viaProxy` routes its connection through the proxy the test can silence. */
async function device(userId: string, viaProxy = false): Promise<TestUser> {
  const engine = new CallEngine({
    serverUrl: viaProxy ? proxy.url : server.url,
    sdkAppId: TEST_APP_ID,
    // A silenced device keeps trying to reconnect; its warnings are expected here.
    logger: { warn: () => undefined, error: () => undefined },
  });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  const u = { id: userId, engine, rec };
  everyone.push(u);
  await engine.init(userId, sig(userId));
  return u;
}

/** Recorded events with the varying totalTime of onCallEnd replaced by `ms`. */
function seen(rec: Recorder): string[] {
  return rec.lines().map((l) => l.replace(/^(onCallEnd\(callId,\d+,\d+,[^,]+,)\d+,/, '$1ms,'));
}

const fixture = fileURLToPath(new URL('./fixtures/clientProcess.ts', import.meta.url));

/** A CallEngine in a child process; `next(re)` waits for a stdout line matching `re`. */
function clientProcess(userId: string, role: 'callee' | 'caller', callees: string[] = []): { child: ChildProcess; next(re: RegExp): Promise<RegExpExecArray> } {
  const options = { serverUrl: server.url, sdkAppId: TEST_APP_ID, userId, userSig: sig(userId), role, callees };
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let i = waiters.length - 1; i >= 0; i--) {
      const m = waiters[i]!.re.exec(out);
      if (m) waiters.splice(i, 1)[0]!.resolve(m);
    }
  });
  const next = (re: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const m = re.exec(out);
      if (m) return resolve(m);
      const t = setTimeout(() => reject(new Error(`client process: no ${String(re)} in ${JSON.stringify(out)}; stderr: ${err}`)), 20_000);
      waiters.push({ re, resolve: (x) => (clearTimeout(t), resolve(x)) });
    });
  return { child, next };
}

/** Kills `child` with SIGKILL and waits until it is gone. */
async function killHard(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe('heartbeats (SPEC §5.4)', () => {
  it('a connected device that falls silent leaves after heartbeatTimeoutMs: the peer gets onUserLeave then onCallEnd(offline, that user)', async (t) => {
    const a = await device(fresh('ha'));
    const b = await device(fresh('hb'), true);
    await a.engine.calls([b.id], CallMediaType.audio);
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    await a.rec.waitFor('onUserJoin');
    a.rec.clear();
    const silentAt = Date.now();
    proxy.blackhole();
    const end = await a.rec.waitFor('onCallEnd', () => true, 5000);
    const elapsed = Date.now() - silentAt;
    t.diagnostic(`peer told ${elapsed} ms after the device fell silent (heartbeatTimeoutMs ${HEARTBEAT_TIMEOUT_MS})`);
    proxy.restore();
    assert.deepEqual(seen(a.rec), [`onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.offline},${b.id},ms,info(1))`]);
    // The last ping may have arrived up to one heartbeat interval (timeout / 3) before the silence.
    assert.ok(elapsed >= HEARTBEAT_TIMEOUT_MS * (2 / 3) - 50, `left after ${elapsed} ms: not before the heartbeat timeout`);
    assert.ok(elapsed <= HEARTBEAT_TIMEOUT_MS + 1000, `left after ${elapsed} ms`);
    assert.ok((end.args[4] as number) > 0, 'totalTime counts the connected time');
    const [record] = await a.engine.queryRecentCalls();
    assert.equal(record?.endReason, R.offline);
  });

  it('a caller who falls silent while ringing: every invitee gets onCallNotConnected(offline, caller) then onCallCancelled(caller)', async () => {
    const a = await device(fresh('ha'), true);
    const b = await device(fresh('hb'));
    const c = await device(fresh('hc'));
    await a.engine.calls([b.id, c.id], CallMediaType.video);
    await b.rec.waitFor('onCallReceived');
    await c.rec.waitFor('onCallReceived');
    b.rec.clear();
    c.rec.clear();
    proxy.blackhole();
    await b.rec.waitFor('onCallCancelled', () => true, 5000);
    await c.rec.waitFor('onCallCancelled', () => true, 5000);
    proxy.restore();
    for (const u of [b, c]) assert.deepEqual(u.rec.lines(), [`onCallNotConnected(callId,2,${R.offline},${a.id},info(2))`, `onCallCancelled(${a.id})`]);
  });

  it('three connected and one falls silent: the other two get onUserLeave and the call goes on', async () => {
    const a = await device(fresh('ha'));
    const b = await device(fresh('hb'));
    const c = await device(fresh('hc'), true);
    await a.engine.calls([b.id, c.id], CallMediaType.audio);
    for (const u of [b, c]) {
      await u.rec.waitFor('onCallReceived');
      await u.engine.accept();
    }
    await a.rec.waitFor('onUserJoin', (args) => args[0] === c.id);
    await b.rec.waitFor('onUserJoin', (args) => args[0] === c.id);
    a.rec.clear();
    b.rec.clear();
    proxy.blackhole();
    await a.rec.waitFor('onUserLeave', () => true, 5000);
    await b.rec.waitFor('onUserLeave', () => true, 5000);
    proxy.restore();
    await sleep(100);
    for (const u of [a, b]) assert.deepEqual(u.rec.lines(), [`onUserLeave(${c.id})`]);
    assert.deepEqual(a.engine.currentCall?.connectedUserIds, [b.id]);
    await b.engine.hangup();
    await a.rec.waitFor('onCallEnd');
    assert.deepEqual(seen(a.rec).slice(1), [`onUserLeave(${b.id})`, `onCallEnd(callId,1,${R.hangup},${b.id},ms,info(1))`]);
  });

  it('a callee who falls silent while ringing is treated as signed out: the invitation waits and ends as noResponse at its deadline', async () => {
    const a = await device(fresh('ha'));
    const b = await device(fresh('hb'), true);
    const startedAt = Date.now();
    await a.engine.calls([b.id], CallMediaType.audio, { timeout: 2 });
    await b.rec.waitFor('onCallReceived');
    proxy.blackhole();
    await a.rec.waitFor('onCallCancelled', () => true, 5000);
    const elapsed = Date.now() - startedAt;
    proxy.restore();
    assert.deepEqual(a.rec.lines(), [`onUserNoResponse(${b.id})`, `onCallNotConnected(callId,1,${R.noResponse},${b.id},info(1))`, `onCallCancelled(${a.id})`]);
    assert.ok(elapsed >= 1900, `ended after ${elapsed} ms: at the ring deadline, not when the device went silent`);
  });

  it('a callee process killed with SIGKILL mid-call: the peer gets onUserLeave then onCallEnd(offline, callee); the record says offline', async (t) => {
    const a = await device(fresh('ha'));
    const bId = fresh('hproc');
    const proc = clientProcess(bId, 'callee');
    await proc.next(/READY/);
    const { callId } = await a.engine.calls([bId], CallMediaType.audio);
    const [, connectedId] = await proc.next(/CONNECTED (\S+)/);
    assert.equal(connectedId, callId);
    await a.rec.waitFor('onUserJoin');
    await sleep(200);
    a.rec.clear();
    const killedAt = Date.now();
    await killHard(proc.child);
    const end = await a.rec.waitFor('onCallEnd', () => true, 5000);
    const elapsed = Date.now() - killedAt;
    t.diagnostic(`peer told ${elapsed} ms after SIGKILL (heartbeatTimeoutMs ${HEARTBEAT_TIMEOUT_MS})`);
    assert.deepEqual(seen(a.rec), [`onUserLeave(${bId})`, `onCallEnd(callId,1,${R.offline},${bId},ms,info(1))`]);
    assert.ok(elapsed <= HEARTBEAT_TIMEOUT_MS + 1000, `left ${elapsed} ms after the kill`);
    assert.ok((end.args[4] as number) >= 200, `totalTime ${String(end.args[4])}`);
    const [record] = await a.engine.queryRecentCalls();
    assert.deepEqual([record?.callId, record?.endReason, record?.result], [callId, R.offline, 'outgoing']);
  });

  it('a caller process killed with SIGKILL while its call rings: the invitee gets onCallNotConnected(offline, caller)', async () => {
    const b = await device(fresh('hb'));
    const aId = fresh('hproc');
    const proc = clientProcess(aId, 'caller', [b.id]);
    const [, callId] = await proc.next(/CALLING (\S+)/);
    const received = await b.rec.waitFor('onCallReceived');
    assert.deepEqual(received.args.slice(0, 3), [callId, aId, [b.id]]);
    b.rec.clear();
    await killHard(proc.child);
    await b.rec.waitFor('onCallCancelled', () => true, 5000);
    assert.deepEqual(b.rec.lines(), [`onCallNotConnected(callId,1,${R.offline},${aId},info(2))`, `onCallCancelled(${aId})`]);
    assert.equal(b.engine.currentCall, null, 'nothing stays ringing');
  });
});
