/**
 * The dispatcher against a real node:http receiver on 127.0.0.1 and real storage (memory and a
 * SQLite file): signed delivery, retries through 500s and hangs, order per call, dead rows,
 * restarts on the same file and parallel calls. Tiny retry settings keep it fast.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CallMediaType } from '@opencall/protocol/wire';
import { pino } from 'pino';
import type { CallState, WebhookCommand } from '../call/types.js';
import { MemoryStorage, SqliteStorage, type Storage } from '../storage/index.js';
import { verifyWebhook } from './sign.js';
import { WebhookDispatcher, retryDelayMs, type WebhookDispatcherOptions } from './WebhookDispatcher.js';

const SECRET = 'whsec_test';
const SDK_APP_ID = 1400000000;
const RETRY = { initialDelayMs: 20, maxDelayMs: 200, maxAgeMs: 60_000, timeoutMs: 300 };
/** For tests not about timeouts: a loaded CI machine must not turn a slow answer into a retry. */
const CALM = { ...RETRY, timeoutMs: 2000 };
// Node loads its fetch implementation on first use; do it before any timed request.
before(() => fetch('http://127.0.0.1:1').then(() => {}, () => {}));
const dir = mkdtempSync(join(tmpdir(), 'opencall-webhooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

/** One request as the receiver saw it. */
interface Hit {
  path: string;
  /** Raw query string, `?` included. */
  search: string;
  headers: IncomingHttpHeaders;
  raw: Buffer;
  /** From the headers; `callId` is the event id without its `.seq`. */
  eventId: string;
  callId: string;
  seq: number;
  /** Status answered, or 'hang' when the receiver never answered. */
  status: number | 'hang';
}

/** What the receiver does with a request: a status, no answer at all, or a custom answer. */
type Reply = number | 'hang' | { status: number; send: (res: ServerResponse) => void };

/** A real HTTP receiver whose behaviour the test sets per request. */
class Receiver {
  readonly hits: Hit[] = [];
  /** Highest number of simultaneous requests seen for one call. */
  maxPerCall = 0;
  reply: (hit: Hit, index: number) => Reply = () => 200;
  readonly #open = new Map<string, number>();
  private constructor(readonly url: string) {}

  static async start(t: TestContext): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const r = new Receiver(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/opencall?token=a%20b`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const eventId = String(req.headers['x-opencall-event-id']);
        const callId = eventId.slice(0, eventId.lastIndexOf('.'));
        const seq = Number(req.headers['x-opencall-sequence']);
        const hit: Hit = { path: u.pathname, search: u.search, headers: req.headers, raw: Buffer.concat(chunks), eventId, callId, seq, status: 'hang' };
        const open = (r.#open.get(hit.callId) ?? 0) + 1;
        r.#open.set(hit.callId, open);
        r.maxPerCall = Math.max(r.maxPerCall, open);
        res.on('close', () => r.#open.set(hit.callId, (r.#open.get(hit.callId) ?? 1) - 1));
        const reply = r.reply(hit, r.hits.length);
        r.hits.push(hit);
        if (typeof reply === 'object') {
          hit.status = reply.status;
          reply.send(res);
        } else if (reply !== 'hang') {
          hit.status = reply;
          res.writeHead(reply, { 'content-type': 'text/plain' }).end(reply < 300 ? 'ok' : 'nope');
        }
      });
    });
    t.after(() => void server.close(() => {}).closeAllConnections());
    return r;
  }

  /** Event ids answered with a 2xx, in arrival order, optionally for one call. */
  acked(callId?: string): string[] {
    return this.hits.filter((h) => typeof h.status === 'number' && h.status < 300 && (!callId || h.callId === callId)).map((h) => h.eventId);
  }
}

/** Polls `check` until it holds. */
async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Waits until `d` has recorded `n` deliveries and nothing is in flight (the receiver sees a 2xx first). */
function delivered(d: WebhookDispatcher, n: number, timeoutMs?: number): Promise<void> {
  return until(() => d.stats().delivered === n && d.stats().inFlight === 0, `${n} deliveries`, timeoutMs);
}

/** A minimal call state at `version` (the shape storage.test.ts uses). */
function state(callId: string, version: number): CallState {
  return {
    callId, version, phase: 'ringing', scene: 'single', mediaType: CallMediaType.audio, callerId: 'alice',
    inviteList: ['bob'], roomId: { intRoomId: 7 }, userData: '', chatGroupId: '', isEphemeralCall: false,
    offlinePushInfo: null, callerProfile: null, ringTimeoutMs: 30_000, members: {}, createdAt: 1_000,
    acceptedAt: null, mediaConnectedAt: null, endedAt: null, endReason: null, endedBy: null, ringingAt: {},
    webhookSeq: version,
  };
}

/** The stored body of event `callId.seq`: odd spacing and non-ASCII prove it is sent byte for byte. */
function bodyOf(callId: string, seq: number, command: WebhookCommand): string {
  return `{"CallbackCommand":"${command}", "CallId" : "${callId}","Seq":${seq},"Note":"héllo ✓"}`;
}

/** Writes outbox rows the way the CallService does: one versioned commit per transition. */
class Calls {
  readonly #versions = new Map<string, number>();
  readonly #seqs = new Map<string, number>();
  constructor(readonly storage: Storage) {}

  /** Commits one transition of `callId` enqueuing `count` webhooks; returns their event ids. */
  async enqueue(callId: string, count = 1, command: WebhookCommand = 'Call.CallbackAfterMemberChanged'): Promise<string[]> {
    const version = (this.#versions.get(callId) ?? 0) + 1;
    this.#versions.set(callId, version);
    const webhooks = [];
    for (let i = 0; i < count; i++) {
      const seq = (this.#seqs.get(callId) ?? 0) + 1;
      this.#seqs.set(callId, seq);
      webhooks.push({ eventId: `${callId}.${seq}`, callId, seq, command, body: bodyOf(callId, seq, command), createdAt: Date.now() });
    }
    await this.storage.commit({ state: state(callId, version), expectedVersion: version - 1, memberships: [], timerDueAt: null, records: [], webhooks });
    return webhooks.map((w) => w.eventId);
  }
}

/** Log lines captured from pino. */
type LogLine = { level: number; msg: string; eventId?: string };

/**
 * A dispatcher on `storage` with test defaults. The dispatcher and then the storage are closed
 * when the test ends, in that order (node:test runs `after` hooks in registration order).
 */
function dispatcher(t: TestContext, storage: Storage, url: string, over: Partial<WebhookDispatcherOptions> = {}) {
  const lines: LogLine[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  const d = new WebhookDispatcher({ storage, url, secret: SECRET, sdkAppId: SDK_APP_ID, retry: CALM, log, pollIntervalMs: 50, ...over });
  t.after(() => d.close().then(() => storage.close()));
  return { d, lines };
}

/** Asserts that every request of each call came after its predecessor's 2xx. */
function assertOrderedPerCall(r: Receiver): void {
  const acked = new Set<string>();
  for (const h of r.hits) {
    if (h.seq > 1) assert.ok(acked.has(`${h.callId}.${h.seq - 1}`), `${h.eventId} sent before ${h.callId}.${h.seq - 1} was acknowledged`);
    if (typeof h.status === 'number' && h.status < 300) acked.add(h.eventId);
  }
  assert.equal(r.maxPerCall, 1, 'at most one request per call in flight');
}

const storages: [string, () => Storage][] = [
  ['memory', () => new MemoryStorage()],
  ['sqlite file', () => new SqliteStorage(join(dir, `db-${fileSeq++}.db`))],
];

for (const [name, makeStorage] of storages) {
  describe(`WebhookDispatcher on ${name}`, () => {
    it('POSTs the exact stored body, signed, with the query parameters and headers', async (t) => {
      const storage = makeStorage();
      const r = await Receiver.start(t);
      const { d } = dispatcher(t, storage, r.url);
      d.start();
      const ids = await new Calls(storage).enqueue('c1', 2, 'Call.CallbackAfterStartCall');
      d.kick();
      await delivered(d, 2);
      assert.deepEqual(r.acked(), ids);
      for (const [i, h] of r.hits.entries()) {
        assert.equal(h.path, '/hooks/opencall');
        // The url's own query is kept byte for byte, the Tencent parameters follow it.
        assert.equal(h.search, `?token=a%20b&SdkAppid=${SDK_APP_ID}&CallbackCommand=Call.CallbackAfterStartCall&contenttype=json`);
        assert.equal(h.headers['content-type'], 'application/json');
        assert.equal(h.headers['x-opencall-event-id'], `c1.${i + 1}`);
        assert.equal(h.headers['x-opencall-sequence'], String(i + 1));
        assert.ok(h.raw.equals(Buffer.from(bodyOf('c1', i + 1, 'Call.CallbackAfterStartCall'), 'utf8')));
        assert.equal(verifyWebhook(h.raw, h.headers, SECRET), true);
        assert.equal(verifyWebhook(h.raw, h.headers, 'other'), false);
      }
      assert.deepEqual(d.stats(), { delivered: 2, failed: 0, dead: 0, inFlight: 0, purged: 0 });
      assert.deepEqual(await d.backlog(), { depth: 0, oldestCreatedAt: null });
    });

    it('retries through a 500 and a hang past timeoutMs, keeping event ids and order per call', async (t) => {
      const storage = makeStorage();
      const r = await Receiver.start(t);
      // Three 500s, then two hangs, then a healthy receiver.
      r.reply = (_hit, i) => (i < 3 ? 500 : i < 5 ? 'hang' : 200);
      const { d, lines } = dispatcher(t, storage, r.url, { retry: RETRY });
      d.start();
      const calls = new Calls(storage);
      const a = [...(await calls.enqueue('A', 2)), ...(await calls.enqueue('A', 1))];
      const b = await calls.enqueue('B', 2);
      d.kick();
      await delivered(d, 5);
      assert.deepEqual(r.acked('A'), a);
      assert.deepEqual(r.acked('B'), b);
      assertOrderedPerCall(r);
      const failedHits = r.hits.filter((h) => h.status !== 200);
      assert.deepEqual(failedHits.map((h) => h.status), [500, 500, 500, 'hang', 'hang']);
      for (const f of failedHits) {
        // The retry is the same event: same id, sequence and bytes, signed afresh with its send time.
        const ok = r.hits.find((h) => h.eventId === f.eventId && h.status === 200);
        assert.ok(ok, `${f.eventId} finally delivered`);
        assert.ok(ok.raw.equals(f.raw));
        assert.equal(verifyWebhook(f.raw, f.headers, SECRET), true);
        assert.equal(verifyWebhook(ok.raw, ok.headers, SECRET), true);
        assert.equal(ok.headers['x-opencall-sequence'], f.headers['x-opencall-sequence']);
      }
      // Every hit but the five counted deliveries was a failed attempt (on a loaded machine a 200
      // can itself arrive after timeoutMs and be retried, so count hits rather than assume five).
      assert.deepEqual(d.stats(), { delivered: 5, failed: r.hits.length - 5, dead: 0, inFlight: 0, purged: 0 });
      assert.ok(r.hits.length - 5 >= 5, 'the three 500s and two hangs were all counted as failures');
      assert.ok(lines.some((l) => l.msg.includes('will retry') && JSON.stringify(l).includes('timed out after 300 ms')));
      assert.deepEqual(await d.backlog(), { depth: 0, oldestCreatedAt: null });
    });

    it('gives a row up after maxAgeMs, logs it, and then delivers the rest of the call', async (t) => {
      const storage = makeStorage();
      const r = await Receiver.start(t);
      r.reply = (hit) => (hit.eventId === 'D.1' ? 503 : 200);
      const { d, lines } = dispatcher(t, storage, r.url, { retry: { ...CALM, maxAgeMs: 150 } });
      d.start();
      await new Calls(storage).enqueue('D', 2);
      d.kick();
      await delivered(d, 1);
      assert.deepEqual(r.acked('D'), ['D.2']);
      const tries = r.hits.filter((h) => h.eventId === 'D.1').length;
      assert.ok(tries >= 2, `D.1 retried before giving up (${tries} tries)`);
      // D.2 waited for D.1 to be given up: nothing of D.2 arrived before D.1's last try.
      assert.ok(r.hits.findIndex((h) => h.eventId === 'D.2') > r.hits.findLastIndex((h) => h.eventId === 'D.1'));
      const dead = lines.find((l) => l.level === 50 && l.eventId === 'D.1');
      assert.ok(dead, 'an error log names the dead event');
      assert.deepEqual(d.stats(), { delivered: 1, failed: tries, dead: 1, inFlight: 0, purged: 0 });
      assert.deepEqual(await d.backlog(), { depth: 0, oldestCreatedAt: null });
    });

    it('runs calls in parallel while each call arrives in seq order', async (t) => {
      const storage = makeStorage();
      const r = await Receiver.start(t);
      // A's receiver is slow; B must not queue behind it.
      const slow = { status: 204, send: (res: ServerResponse) => void setTimeout(() => res.writeHead(204).end(), 40) };
      r.reply = (hit) => (hit.callId === 'A' ? slow : 200);
      const { d } = dispatcher(t, storage, r.url);
      const calls = new Calls(storage);
      for (let i = 0; i < 4; i++) {
        await calls.enqueue('A');
        await calls.enqueue('B');
      }
      d.start();
      await delivered(d, 8);
      assert.deepEqual(r.hits.filter((h) => h.callId === 'A').map((h) => h.seq), [1, 2, 3, 4]);
      assert.deepEqual(r.hits.filter((h) => h.callId === 'B').map((h) => h.seq), [1, 2, 3, 4]);
      const order = r.hits.map((h) => h.callId).join('');
      // B did not queue behind A's slow answers: it started before A's second and finished before A's last.
      assert.ok(order.indexOf('B') < order.indexOf('A', order.indexOf('A') + 1), `B started early: ${order}`);
      assert.ok(order.lastIndexOf('B') < order.lastIndexOf('A'), `B finished first: ${order}`);
      assert.equal(r.maxPerCall, 1);
      assert.equal(d.stats().delivered, 8);
    });
  });
}

describe('WebhookDispatcher lifecycle and edges', () => {
  it('a new dispatcher on the same SQLite file delivers what the closed one left pending', async (t) => {
    const path = join(dir, 'restart.db');
    const r = await Receiver.start(t);
    r.reply = () => 'hang';
    const first = new SqliteStorage(path);
    // A long timeout: close() must abort the hung requests, not wait them out.
    const { d: d1 } = dispatcher(t, first, r.url, { retry: { ...RETRY, timeoutMs: 10_000 } });
    d1.start();
    const calls = new Calls(first);
    const ids = [...(await calls.enqueue('R', 3)), ...(await calls.enqueue('S', 1))];
    d1.kick();
    await until(() => r.hits.length === 2, 'one hung request per call');
    const t0 = Date.now();
    await d1.close();
    assert.ok(Date.now() - t0 < 1000, 'close aborted the hung requests');
    assert.deepEqual(d1.stats(), { delivered: 0, failed: 0, dead: 0, inFlight: 0, purged: 0 });
    await first.close();

    const second = new SqliteStorage(path);
    const pending = await second.dueWebhooks(Date.now(), 10);
    assert.deepEqual(pending.map((p) => [p.eventId, p.attempts]), ids.map((id) => [id, 0]), 'an aborted try is no attempt');
    r.reply = () => 200;
    const { d: d2 } = dispatcher(t, second, r.url);
    d2.start();
    await delivered(d2, 4);
    assert.deepEqual(r.acked('R'), ['R.1', 'R.2', 'R.3']);
    assert.deepEqual(r.acked('S'), ['S.1']);
    assert.deepEqual(r.hits.slice(0, 2).map((h) => h.eventId).sort(), ['R.1', 'S.1'], 'the hung events came back with the same ids');
    assert.deepEqual(await d2.backlog(), { depth: 0, oldestCreatedAt: null });
  });

  it('kick() delivers at once instead of waiting for the poll; close() stops everything', async (t) => {
    const storage = new MemoryStorage();
    const r = await Receiver.start(t);
    const { d } = dispatcher(t, storage, r.url, { pollIntervalMs: 60_000, secret: undefined });
    d.kick(); // before start(): ignored
    d.start();
    const calls = new Calls(storage);
    await calls.enqueue('K');
    await sleep(150);
    assert.equal(r.hits.length, 0, 'the poll is long and nothing kicked');
    d.kick();
    await delivered(d, 1, 500);
    assert.equal(r.hits[0]!.headers['x-opencall-signature'], undefined, 'no secret, no signature');
    await d.close().then(() => d.close());
    await calls.enqueue('K');
    d.kick();
    d.start();
    await sleep(100);
    assert.equal(r.hits.length, 1, 'closed dispatchers stay closed');
  });

  it('treats a huge 2xx body as success, a redirect as failure, and keeps a short error', async (t) => {
    const storage = new MemoryStorage();
    const r = await Receiver.start(t);
    // An endless 200 body: the dispatcher must stop reading after 64 KiB and still count success.
    const endless = {
      status: 200,
      send: (res: ServerResponse): void => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 120);
        const pump = (): void => void (res.destroyed || (res.write(chunk) ? setImmediate(pump) : res.once('drain', pump)));
        pump();
      },
    };
    const huge500 = { status: 500, send: (res: ServerResponse) => void res.writeHead(500).end('x'.repeat(200_000)) };
    r.reply = (hit) => (hit.callId === 'big' ? endless : hit.callId === 'redir' ? 302 : hit.callId === 'err' ? huge500 : 200);
    const { d } = dispatcher(t, storage, r.url, { retry: { ...CALM, initialDelayMs: 60_000 } });
    d.start();
    const calls = new Calls(storage);
    await calls.enqueue('big');
    await calls.enqueue('redir');
    await calls.enqueue('err');
    d.kick();
    await until(() => d.stats().delivered === 1 && d.stats().failed === 2 && d.stats().inFlight === 0, 'one success, two failures');
    assert.deepEqual(r.acked(), ['big.1']);
    const failed = await storage.dueWebhooks(Date.now() + 120_000, 10);
    const errors = Object.fromEntries(failed.map((f) => [f.eventId, f.lastError]));
    assert.equal(errors['redir.1'], 'HTTP 302: nope');
    assert.match(errors['err.1'] ?? '', /^HTTP 500: x{200}…$/);
    await d.close();
  });

  it('never starts a row twice when it settles while a scan is reading the outbox', async (t) => {
    const inner = new MemoryStorage();
    // A slow outbox read widens the window in which a scan's snapshot goes stale.
    const slowDue = async (now: number, limit: number) => {
      const rows = await inner.dueWebhooks(now, limit);
      await sleep(15);
      return rows;
    };
    const storage = new Proxy(inner, {
      get: (target, key): unknown => (key === 'dueWebhooks' ? slowDue : (Reflect.get(target, key) as unknown)),
    });
    const r = await Receiver.start(t);
    const { d } = dispatcher(t, storage, r.url, { pollIntervalMs: 1 });
    const calls = new Calls(inner);
    const ids = [...(await calls.enqueue('X', 3)), ...(await calls.enqueue('Y', 3))];
    d.start();
    await delivered(d, 6);
    await sleep(50);
    assert.deepEqual(r.hits.map((h) => h.eventId).sort(), ids.sort(), 'each event exactly once');
    assertOrderedPerCall(r);
  });

  it('backs off exponentially with ±20 % jitter up to maxDelayMs', () => {
    const retry = { initialDelayMs: 1000, maxDelayMs: 300_000 };
    assert.deepEqual([0, 1, 2, 3].map((n) => retryDelayMs(n, retry, 0.5)), [1000, 2000, 4000, 8000]);
    assert.equal(retryDelayMs(0, retry, 0), 800);
    assert.equal(retryDelayMs(0, retry, 0.999999), 1200);
    assert.equal(retryDelayMs(20, retry, 0.5), 300_000);
    assert.equal(retryDelayMs(5000, retry, 0.999999), 360_000);
  });

  it('refuses a non-http webhook url at construction', () => {
    const log = pino({ level: 'silent' });
    assert.throws(() => new WebhookDispatcher({ storage: new MemoryStorage(), url: 'ftp://x/y', sdkAppId: 1, retry: RETRY, log }), /http/);
    assert.throws(() => new WebhookDispatcher({ storage: new MemoryStorage(), url: 'not a url', sdkAppId: 1, retry: RETRY, log }));
  });
});
