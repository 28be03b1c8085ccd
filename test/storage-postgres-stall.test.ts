/**
 * PostgresStorage when its database stalls and its connections are cut (the chaos run's
 * `dbPause`): a query that finds no usable connection for PG_QUEUE_TIMEOUT_S fails without ever
 * being sent (it must not run long after its command gave up: a late call.start rang a call its
 * caller had been told failed), and once the database is back the pool is usable within about a
 * second (postgres.js's default backoff left it waiting 10–20 s). The database sits behind a
 * TCP proxy that holds or cuts the connections.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callState, change } from '../packages/server/src/storage/contractFixtures.js';
import { PG_QUEUE_TIMEOUT_S, PostgresStorage } from '../packages/server/src/storage/postgres/PostgresStorage.js';
import { createTestDatabase, pgUnavailable, type TestDatabase } from './helpers/pg.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcpProxy.js';

const unavailable = await pgUnavailable();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('PostgresStorage behind a stalling, cut connection', { skip: unavailable ?? false }, () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let s: PostgresStorage;
  before(async () => {
    db = await createTestDatabase();
    const u = new URL(db.url);
    proxy = await startTcpProxy(Number(u.port || 5432), u.hostname);
    u.host = `127.0.0.1:${proxy.port}`;
    s = await PostgresStorage.open(u.href);
  });
  after(async () => {
    proxy?.restore();
    await s?.close();
    await proxy?.close();
    await db?.drop();
  });

  /** Holds the connections for `ms`, then cuts them; new connections are held again at once. */
  async function stallAndCut(ms: number): Promise<void> {
    proxy.pause();
    await sleep(ms);
    proxy.sever();
    proxy.restore();
    proxy.pause();
  }

  it('a commit that waited in vain for a connection fails, never runs later, and the pool is back within about a second', async () => {
    await s.getCall('warm-up');
    await stallAndCut(300);
    await sleep(100); // the pool has seen its connection close
    // Issued while no connection is usable: it waits for one, then gives up without being sent.
    const t0 = Date.now();
    const late = s.commit(change(callState('late-call')));
    const refused = assert.rejects(late, (e: unknown) => (e as { code?: string }).code === 'QUEUE_TIMEOUT');
    // Meanwhile the outage goes on: every connection the pool opens is held, then cut.
    for (let i = 0; i < 3; i++) await stallAndCut(1500);
    await refused;
    const waited = Date.now() - t0;
    assert.ok(waited >= PG_QUEUE_TIMEOUT_S * 1000 - 50 && waited < PG_QUEUE_TIMEOUT_S * 1000 + 1500, `gave up after ${waited} ms`);
    // The database is back: the pool reconnects within about a second.
    proxy.resume();
    proxy.restore();
    const t1 = Date.now();
    assert.equal(await s.getCall('nothing'), null);
    assert.ok(Date.now() - t1 < 2000, `the first query after the outage took ${Date.now() - t1} ms`);
    // Long after, the refused commit has still not happened.
    await sleep(1000);
    assert.equal(await s.getCall('late-call'), null);
  });
});
