/**
 * Graceful SIGTERM of the real `opencall-server` (issue #18) during a call load: the process exits
 * cleanly within its bound, every socket is closed with 1001 "going away", no request of a device
 * in a call is lost (in-flight ones are answered, later ones re-sent to the next process), those
 * devices resume their sessions on the restarted server with their calls intact, and every call
 * ends with its record.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallEngine, CallMediaType } from '@opencall/client';
import { adminQuery, restPost } from './fixtures/durabilityClients.js';
import { startCli } from './helpers/cliServer.js';
import type { CliServer } from './helpers/cliServer.js';
import { TEST_APP_ID, TEST_SECRET, sig } from './helpers/server.js';
import { Recorder, sleep } from './helpers/users.js';

const SHUTDOWN_TIMEOUT_MS = 4000;
/** The CLI's own grace past shutdownTimeoutMs (packages/server/src/cli/serve.ts). */
const EXIT_GRACE_MS = 5000;

const dir = mkdtempSync(join(tmpdir(), 'opencall-shutdown-'));
const dbFile = join(dir, 'opencall.db');
const keyFile = join(dir, 'secret-key');
writeFileSync(keyFile, TEST_SECRET, { mode: 0o600 });
const args = ['--storage', dbFile, '--secret-key-file', keyFile, '--sfu', 'none', '--web-app', 'false', '--default-ring-timeout-seconds', '120', '--shutdown-timeout-ms', String(SHUTDOWN_TIMEOUT_MS),
  // A call load from a few users: well past the per-user call-start limit meant for floods, and
  // past the per-connection frame rate too (a caller cycling call/hang-up every ~25 ms on a fast
  // machine sends 60+ frames a second; a refused hang-up would read as a lost request).
  '--limits', JSON.stringify({ callsPerMinutePerUser: 100_000, messagesPerSecondPerConnection: 10_000 })];

interface Client {
  id: string;
  engine: CallEngine;
  rec: Recorder;
  /** Close codes the engine reported when its connection dropped. */
  drops: number[];
}
const clients: Client[] = [];
let server: CliServer | undefined;
after(async () => {
  await Promise.all(clients.map((c) => c.engine.unInit().catch(() => undefined)));
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function client(url: string, id: string): Promise<Client> {
  const drops: number[] = [];
  const engine = new CallEngine({
    serverUrl: url,
    sdkAppId: TEST_APP_ID,
    // The first attempt after 1001 is immediate (SignalingClient.test.ts); with one node it finds
    // nothing listening yet, and the backoff then waits for the next process.
    reconnectInitialDelayMs: 100,
    reconnectMaxDelayMs: 400,
    // Requests wait for the next process; starting it through tsx on a busy test machine can take
    // far longer than a production restart.
    reconnectWaitMs: 90_000,
    logger: {
      warn: (msg, fields) => {
        if (msg === 'connection lost, reconnecting') drops.push(Number(fields?.['code']));
      },
      error: () => undefined,
    },
  });
  const rec = new Recorder();
  engine.addObserver(rec.observer);
  await engine.init(id, sig(id));
  const c = { id, engine, rec, drops };
  clients.push(c);
  return c;
}

describe('SIGTERM during a call load', () => {
  it('drains, exits within the bound, and nothing is lost: clients resume on the next process', async () => {
    server = await startCli(args);
    const port = server.port;
    const url = server.url;

    // A call that stays up across the restart.
    const alice = await client(url, 'alice');
    const bob = await client(url, 'bob');
    const { callId: longCall } = await alice.engine.call('bob', CallMediaType.audio);
    await bob.rec.waitFor('onCallReceived');
    await bob.engine.accept();
    await alice.rec.waitFor('onCallBegin');

    // Pairs calling each other in a loop: call, ring, accept, talk, hang up.
    const callIds = new Set<string>([longCall]);
    const failures: string[] = [];
    let running = true;
    const cyclesAfterRestart = new Map<string, number>();
    let restarted = false;
    const loop = async (caller: Client, callee: Client): Promise<void> => {
      while (running) {
        let step = 'call';
        try {
          const { callId } = await caller.engine.call(callee.id, CallMediaType.audio);
          callIds.add(callId);
          step = 'ring';
          await callee.rec.waitFor('onCallReceived', (a) => a[0] === callId, 90_000);
          step = 'accept';
          await callee.engine.accept();
          step = 'begin';
          await caller.rec.waitFor('onCallBegin', (a) => a[0] === callId, 90_000);
          await sleep(20);
          step = 'hangup';
          await caller.engine.hangup();
          step = 'end';
          await callee.rec.waitFor('onCallEnd', (a) => a[0] === callId, 90_000);
          if (restarted) cyclesAfterRestart.set(caller.id, (cyclesAfterRestart.get(caller.id) ?? 0) + 1);
        } catch (err) {
          failures.push(`${caller.id} ${step}: ${String(err)}`);
          await caller.engine.hangup().catch(() => undefined);
          await sleep(200);
        }
      }
    };
    const pairs: [Client, Client][] = [];
    for (let i = 0; i < 3; i++) pairs.push([await client(url, `caller${i}`), await client(url, `callee${i}`)]);
    const loops = pairs.map(([a, b]) => loop(a, b));
    await sleep(1500);
    const before = callIds.size;
    assert.ok(before > pairs.length + 1, `the load is running (${before} calls)`);

    const stopped = await server.stop('SIGTERM');
    assert.equal(stopped.code, 0, server.output());
    assert.ok(stopped.ms < SHUTDOWN_TIMEOUT_MS + EXIT_GRACE_MS, `exited in ${stopped.ms} ms`);
    assert.match(server.output(), /drained: stopped accepting/);
    for (const c of clients) assert.deepEqual(c.drops, [1001], `${c.id} was told "going away"`);

    // The next process (systemd's restart) on the same file and port.
    server = await startCli(args, {}, port);
    restarted = true;
    // Every loop completes whole cycles on the new process.
    const deadline = Date.now() + 120_000;
    while (pairs.some(([a]) => (cyclesAfterRestart.get(a.id) ?? 0) < 2) && Date.now() < deadline) await sleep(100);
    running = false;
    await Promise.all(loops);
    // Only devices in a call get their session back after a restart (SessionManager.restore); an
    // idle device signs in to a new session, and a call it asked for meanwhile is refused with
    // a clear error (never half-done). Devices in calls lose nothing.
    const unexpected = failures.filter((f) => !/^caller\d call: .*session could not be resumed/.test(f));
    assert.deepEqual(unexpected, [], 'no request in a call failed: in-flight ones were answered, the rest re-sent');
    for (const [a] of pairs) assert.ok((cyclesAfterRestart.get(a.id) ?? 0) >= 2, `${a.id} calls again after the restart`);

    // The long call survived: the sessions resumed (a lost session would have ended it as offline).
    assert.ok(!alice.rec.names().includes('onCallEnd') && !bob.rec.names().includes('onCallEnd'), alice.rec.lines().join(' '));
    await alice.engine.hangup();
    const end = await bob.rec.waitFor('onCallEnd', (a) => a[0] === longCall);
    assert.ok(Number(end.args[4]) >= 1500, 'its duration spans the restart');

    // Every call has its record, and the database is sound.
    for (const callId of callIds) {
      const r = await restPost(server.url, '/v4/call_record_http_srv/get_record_by_callid', { CallId: callId }, { query: adminQuery() });
      assert.equal(r.body.ActionStatus, 'OK', `${callId}: ${r.body.ErrorInfo}`);
    }
    await Promise.all(clients.map((c) => c.engine.unInit()));
    clients.length = 0;
    assert.equal((await server.stop('SIGTERM')).code, 0);
    server = undefined;
    const db = new Database(dbFile, { readonly: true });
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
  });
});
