/**
 * Issue 16, server-level findings, each attacked on a real server: development mode on the network
 * (#2), idle and piled-up sockets and trickled HTTP bodies (#3), the replay buffer filled with
 * large SDPs (#4), the rate limit dodged with a percent-encoded path (#5), a timer tick that fails
 * (#8), a webhook replayed under a fresh event id (#9), the admin sig logged through an encoded
 * query key (#11), oversized/binary floods answered before the rate limiter (#12), history
 * retention (#13), security headers (#14), `/metrics` protection and the start-up log (#15).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import WebSocket from 'ws';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { startServer, verifyWebhook } from '@opencall/server';
import { rawSocket } from './helpers/rawSocket.js';
import type { Raw } from './helpers/rawSocket.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';
import { HOOK_SECRET, HookRecorder } from './webhooks-support.js';

const ADMIN_Q = (): string => `sdkappid=${TEST_APP_ID}&identifier=administrator&usersig=${sig('administrator')}&contenttype=json`;

async function signedIn(server: RunningServer, userId: string): Promise<Raw> {
  const r = await rawSocket(server);
  const res = await r.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId, userSig: sig(userId), deviceId: `dev_${userId}` });
  assert.equal(res.ok, true);
  return r;
}

/** Resolves with the close code of `ws`. */
const closed = (ws: WebSocket): Promise<number> => new Promise((r) => ws.once('close', (code) => r(code)));

/** Opens a socket to /ws; resolves with it open, or with the HTTP status that refused the upgrade. */
function upgrade(server: RunningServer): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws`);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', (err) => (/Unexpected server response: (\d+)/.test(err.message) ? resolve(Number(RegExp.$1)) : reject(err)));
  });
}

let server: RunningServer;
before(async () => {
  server = await startTestServer({
    metricsToken: 'metrics-token-0123456789',
    limits: { authTimeoutMs: 400, maxConnectionsPerIp: 6, requestsPerSecondPerIp: 5, messagesPerSecondPerConnection: 20, maxMessageBytes: 1024, replayBufferBytes: 64 * 1024 },
  });
});
after(() => server.close());

describe('#2 development mode never listens on the network by accident', () => {
  it('refuses a non-loopback host without a secret key, unless unsafeDevModeOnNetwork', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'opencall-dev-'));
    try {
      for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
        await assert.rejects(startServer({ host, port: 0, dataDir, logLevel: 'silent', sfu: 'none', webApp: false }), /development mode \(no secretKey\) refuses to listen on/);
      }
      // Loopback is fine (and with a secret key any host is; not started here: tests bind loopback only).
      const dev = await startServer({ host: '127.0.0.1', port: 0, dataDir, logLevel: 'silent', sfu: 'none', webApp: false });
      await dev.close();
      const { checkDevModeHost, parseOptions } = await import('../packages/server/src/config/schema.js');
      assert.doesNotThrow(() => checkDevModeHost(parseOptions({ host: '0.0.0.0', unsafeDevModeOnNetwork: true })));
      assert.doesNotThrow(() => checkDevModeHost(parseOptions({ host: '0.0.0.0', secretKey: 'k' })));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('#3 sockets and requests that hold resources', () => {
  it('a socket that never signs in is closed after authTimeoutMs (4004); a signed-in one stays', async () => {
    const idle = await rawSocket(server);
    const good = await signedIn(server, 'c3_good');
    assert.equal(await closed(idle.ws), 4004);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(good.ws.readyState, WebSocket.OPEN);
    good.close();
  });

  it('sockets per IP are capped at the upgrade (429) and freed on close', async () => {
    const open: WebSocket[] = [];
    for (let i = 0; i < 6; i++) open.push((await upgrade(server)) as WebSocket);
    assert.equal(await upgrade(server), 429);
    const gone = closed(open[0]!);
    open[0]!.close();
    await gone;
    await new Promise((r) => setTimeout(r, 50));
    const again = await upgrade(server);
    assert.ok(again instanceof WebSocket, 'a slot freed by a close is usable');
    for (const ws of [...open.slice(1), again]) ws.terminate();
  });

  it('an HTTP request trickled byte by byte is cut off after httpRequestTimeoutMs', async (t) => {
    const slow = await startTestServer({ limits: { httpRequestTimeoutMs: 600 } });
    t.after(() => slow.close());
    const { port } = new URL(slow.url);
    const sock = connect(Number(port), '127.0.0.1');
    const head = `POST /v4/call_engine_http_srv/end_call?${ADMIN_Q()} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{`;
    sock.write(head);
    const t0 = Date.now();
    const drip = setInterval(() => sock.write(' '), 100);
    let answer = '';
    sock.on('data', (d) => (answer += d.toString()));
    await new Promise<void>((r) => sock.once('close', () => r()));
    clearInterval(drip);
    const ms = Date.now() - t0;
    assert.ok(ms < 3000, `closed after ${ms} ms`);
    assert.match(answer, /^HTTP\/1\.1 408/);
  });
});

describe('#4 the replay buffer is bounded by bytes', () => {
  it('large SDPs relayed to a device are not all held for replay: a resume past the budget starts afresh', async () => {
    const a = await signedIn(server, 'r4_a');
    const b = await rawSocket(server);
    const auth = await b.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'r4_b', userSig: sig('r4_b'), deviceId: 'dev_r4_b' });
    const sessionId = (auth.data as { sessionId: string }).sessionId;
    const callId = ((await a.request(2, 'call.start', { userIds: ['r4_b'], mediaType: 1 })).data as { callId: string }).callId;
    await b.next((f) => f.event?.name === 'onCallReceived');
    await b.request(2, 'call.accept', { callId });
    const seqBefore = Math.max(...b.frames.filter((f) => f.type === 'event').map((f) => (f as { seq?: number }).seq ?? 0));
    // 100 × ~1000-byte SDPs (~100 KB) into a 64 KB budget, paced under the message rate.
    for (let i = 0; i < 100; i++) {
      a.send({ v: 1, id: 100 + i, type: 'media.signal', data: { callId, to: 'r4_b', signal: { kind: 'offer', sdp: `v=0 ${i} ${'a'.repeat(800)}` } } });
      if (i % 10 === 9) {
        b.send({ v: 1, id: 1000 + i, type: 'ping', data: {} }); // heartbeats keep the receiver signed in
        await new Promise((r) => setTimeout(r, 520));
      }
    }
    await b.next((f) => f.event?.name === 'media.signal' && String((f.event['signal'] as { sdp: string }).sdp).startsWith('v=0 99 '), 10_000);
    b.ws.terminate();
    const b2 = await rawSocket(server);
    const resume = await b2.request(1, 'auth', { sdkAppId: TEST_APP_ID, userId: 'r4_b', userSig: sig('r4_b'), deviceId: 'dev_r4_b', resume: { sessionId, lastSeq: seqBefore } });
    assert.equal(resume.ok, true);
    assert.equal((resume.data as { resumed: boolean }).resumed, false, 'the oldest events were dropped, so no resume from before them');
    a.close();
    b2.close();
  });
});

describe('#5 the per-IP rate limit is decided on the matched route', () => {
  it('a percent-encoded path reaches REST and is limited like it', async (t) => {
    // One request per second, a burst of two: 20 back-to-back requests leave at most a few through.
    const s = await startTestServer({ limits: { requestsPerSecondPerIp: 1 } });
    t.after(() => s.close());
    const paths = ['/%764/call_record_http_srv/get_record_by_filter', '/v%34/call_record_http_srv/get_record_by_filter'];
    const statuses: number[][] = [];
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${s.url}${paths[i % 2]}?${ADMIN_Q()}`, { method: 'POST', body: '{}' });
      statuses.push([r.status, ((await r.json()) as { ErrorCode: number }).ErrorCode]);
    }
    assert.deepEqual(statuses[0], [200, 0], 'the encoded path does reach REST');
    assert.ok(statuses.filter(([st, c]) => st === 429 && c === 4029).length >= 14, `limited: ${JSON.stringify(statuses)}`);
    // Unknown routes are limited too; health is not.
    await new Promise((r) => setTimeout(r, 2100));
    const probes = await Promise.all(Array.from({ length: 20 }, () => fetch(`${server.url}/nope`).then((r) => r.status)));
    assert.ok(probes.includes(429));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});

describe('#12 oversized and binary floods go through the rate limiter', () => {
  it('past the rate, oversized and binary frames get 4029, not an answer each', async () => {
    const r = await signedIn(server, 'f12');
    for (let i = 0; i < 100; i++) r.ws.send(i % 2 ? Buffer.alloc(10) : JSON.stringify({ v: 1, id: 10 + i, type: 'ping', data: { pad: 'x'.repeat(2000) } }));
    await r.next(() => r.frames.length >= 100, 3000).catch(() => undefined);
    await new Promise((res) => setTimeout(res, 200));
    const codes = r.frames.filter((f) => f.error).map((f) => f.error!.code);
    const limited = codes.filter((c) => c === 4029).length;
    // Burst of 40 (2 s at 20/s), so at most ~40 frames are read at all.
    assert.ok(limited >= 55, `4029 × ${limited}: ${JSON.stringify(codes.slice(0, 50))}`);
    assert.ok(codes.filter((c) => c === 4003 || c === 4001).length <= 45);
    r.close();
  });
});

describe('#15 /metrics can be protected; #14 security headers', () => {
  it('metricsToken requires a bearer token', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
    const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /opencall_/);
  });

  it('every answer carries CSP, frame, sniffing and referrer headers', async () => {
    for (const path of ['/healthz', '/config.json', '/nope']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /img-src 'self' data: blob:;/, 'remote images never load (no IP leak through avatars)');
      assert.match(csp, /script-src 'self';/);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    }
  });
});

describe('#11 the admin sig is masked in logs however the query key is encoded; #15 start-up log', () => {
  it('?user%73ig=, ?USERSIG= and ?usersig= all authenticate or not, and none is logged in clear', async (t) => {
    const raw: string[] = [];
    const s = await startTestServer({ logLevel: 'trace', logStream: { write: (l: string) => void raw.push(l) }, webhookUrl: 'http://127.0.0.1:9/hook' });
    t.after(() => s.close());
    const adminSig = sig('administrator');
    for (const key of ['user%73ig', 'USER%53IG', 'USERSIG', 'usersig', 'u%ZZ']) {
      await fetch(`${s.url}/v4/call_record_http_srv/get_record_by_filter?sdkappid=${TEST_APP_ID}&identifier=administrator&${key}=${adminSig}&contenttype=json`, { method: 'POST', body: '{}' });
    }
    const leak = raw.find((l) => l.includes(adminSig));
    assert.equal(leak, undefined, `the admin sig leaked: ${leak?.slice(0, 200)}`);
    const startup = JSON.parse(raw.find((l) => l.includes('starting OpenCall server'))!) as { config: Record<string, unknown> };
    assert.equal('webhookSecret' in startup.config, false, 'no secret is not logged as "[redacted]"');
    assert.equal(startup.config['webhooksSigned'], false);
    assert.ok(raw.some((l) => l.includes('WEBHOOKS ARE UNSIGNED')));
    await assert.rejects(startTestServer({ webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: '' }), /webhookSecret: must not be empty/);
  });
});

describe('#9 a captured webhook cannot be replayed under a fresh event id', () => {
  it('the receiver refuses the same bytes and signature with another event id, sequence, or an old timestamp', async (t) => {
    const hooks = await HookRecorder.start();
    const s = await startTestServer({ webhookUrl: hooks.url, webhookSecret: HOOK_SECRET });
    t.after(async () => {
      await s.close();
      await hooks.close();
    });
    const a = await user(s, 'w9_a');
    const { callId } = await a.engine.calls(['w9_b'], CallMediaType.audio);
    const [captured] = await hooks.waitAcked(callId, 1);
    const h = captured!.headers as Record<string, string>;
    assert.equal(verifyWebhook(captured!.raw, h, HOOK_SECRET), true);
    assert.match(h['x-opencall-timestamp']!, /^\d{10}$/);
    assert.equal(verifyWebhook(captured!.raw, { ...h, 'x-opencall-event-id': `${callId}.99`, 'x-opencall-sequence': '99' }, HOOK_SECRET), false);
    assert.equal(verifyWebhook(captured!.raw, h, HOOK_SECRET, { now: Date.now() + 301_000 }), false);
    await cleanup(a);
  });
});

describe('#8 a timer tick that fails is retried', () => {
  it('a ring timeout that hits a locked database (SQLITE_BUSY) still ends the invitation once the lock is gone', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencall-busy-'));
    const file = join(dir, 'opencall.db');
    // Long heartbeats: the server's event loop stalls in busy_timeout; nobody may be swept for it.
    const s = await startTestServer({ storage: file, heartbeatTimeoutMs: 60_000 });
    t.after(async () => {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const a = await user(s, 't8_a');
    const { callId } = await a.engine.calls(['t8_offline'], CallMediaType.audio, { timeout: 1 });
    // Another writer holds the database across the deadline (and the server's 5 s busy_timeout).
    // The server runs in this process and commits each turn's writes at the end of the turn (group
    // commit): a lock wait here would block that commit too, so take the lock without waiting,
    // between the server's turns.
    const db = new Database(file, { timeout: 0 });
    for (;;) {
      try {
        db.exec('BEGIN IMMEDIATE');
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        await new Promise((r) => setImmediate(r));
      }
    }
    await new Promise((r) => setTimeout(r, 1500));
    db.exec('COMMIT');
    db.close();
    await a.rec.waitFor('onUserNoResponse', (x) => x[0] === 't8_offline', 8000);
    await a.rec.waitFor('onCallNotConnected', (x) => x[0] === callId, 3000);
    await cleanup(a);
  });
});

describe('#13 history retention', () => {
  it('ended calls and records older than historyRetentionDays are deleted at start-up; recent ones stay', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'opencall-retention-'));
    const file = join(dir, 'opencall.db');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startTestServer({ storage: file });
    const a = await user(first, 'h13_a');
    const b = await user(first, 'h13_b');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { callId } = await a.engine.calls([b.id], CallMediaType.audio);
      await b.rec.waitFor('onCallReceived', (x) => x[0] === callId);
      const ended = a.rec.waitFor('onCallNotConnected', (x) => x[0] === callId);
      await a.engine.hangup();
      await ended;
      ids.push(callId);
    }
    await cleanup(a, b);
    await first.close();
    // Age the first call by 10 days (as if it had happened then).
    const db = new Database(file);
    const tenDays = 10 * 86_400_000;
    db.prepare('UPDATE calls SET created_at = created_at - ?, ended_at = ended_at - ? WHERE call_id = ?').run(tenDays, tenDays, ids[0]);
    db.prepare('UPDATE records SET begin_time = begin_time - ? WHERE call_id = ?').run(tenDays, ids[0]);
    db.close();

    const s = await startTestServer({ storage: file, historyRetentionDays: 7 });
    t.after(() => s.close());
    const get = async (callId: string): Promise<string> => {
      const res = await fetch(`${s.url}/v4/call_record_http_srv/get_record_by_callid?${ADMIN_Q()}`, { method: 'POST', body: JSON.stringify({ CallId: callId }) });
      return ((await res.json()) as { ActionStatus: string }).ActionStatus;
    };
    const deadline = Date.now() + 3000;
    while ((await get(ids[0]!)) === 'OK' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual([await get(ids[0]!), await get(ids[1]!)], ['FAIL', 'OK']);
    const a2 = await user(s, 'h13_a');
    const records = await a2.engine.queryRecentCalls({});
    assert.deepEqual(records.map((r) => r.callId), [ids[1]]);
    await cleanup(a2);
  });
});
