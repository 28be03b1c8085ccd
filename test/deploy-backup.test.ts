/**
 * `opencall-server backup --to FILE` (issue #18): a copy taken with the real command while a
 * server is under a call load, restored as docs/deploy.md says (the file becomes the storage of a
 * fresh server), holds every call that had ended before the backup began, each with its records,
 * and passes `PRAGMA integrity_check`. Storage that cannot be backed up this way is refused clearly.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallMediaType } from '@opencall/client';
import type { RunningServer } from '@opencall/server';
import { adminQuery, restPost } from './fixtures/durabilityClients.js';
import { runCli } from './helpers/cliServer.js';
import { startTestServer } from './helpers/server.js';
import { cleanup, sleep, user } from './helpers/users.js';
import type { TestUser } from './helpers/users.js';

const dir = mkdtempSync(join(tmpdir(), 'opencall-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every ended call the admin REST API lists (ephemeral ones never are). */
async function endedCallIds(server: RunningServer): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let page = 1; ; page++) {
    const r = await restPost(server.url, '/v4/call_record_http_srv/get_record_by_filter', { StartTime: 0, NumberPerPage: 100, Page: page }, { query: adminQuery() });
    assert.equal(r.body.ActionStatus, 'OK', r.body.ErrorInfo);
    const list = (r.body.Response as { CallRecordList: { CallId: string }[] }).CallRecordList;
    for (const c of list) ids.add(c.CallId);
    if (list.length < 100) return ids;
  }
}

describe('backup while running, restore on a fresh server', () => {
  it('the copy holds every call ended before it began, with records, and is sound', async () => {
    const dbFile = join(dir, 'live', 'opencall.db');
    mkdirSync(join(dir, 'live'));
    const server = await startTestServer({ storage: dbFile, defaultRingTimeoutSeconds: 15, limits: { messagesPerSecondPerConnection: 1000, callsPerMinutePerUser: 100_000 } });
    const users: TestUser[] = [];
    let running = true;
    const loop = async (a: TestUser, b: TestUser): Promise<void> => {
      while (running) {
        const { callId } = await a.engine.call(b.id, CallMediaType.audio);
        await b.rec.waitFor('onCallReceived', (x) => x[0] === callId, 60_000);
        await b.engine.accept();
        await a.rec.waitFor('onCallBegin', (x) => x[0] === callId, 60_000);
        await a.engine.hangup();
        await b.rec.waitFor('onCallEnd', (x) => x[0] === callId, 60_000);
      }
    };
    try {
      for (let i = 0; i < 3; i++) users.push(await user(server, `a${i}`), await user(server, `b${i}`));
      const loops = [0, 1, 2].map((i) => loop(users[2 * i]!, users[2 * i + 1]!));
      await sleep(1000);

      const endedBefore = await endedCallIds(server);
      assert.ok(endedBefore.size >= 3, `the load ran (${endedBefore.size} calls)`);
      const backupFile = join(dir, 'opencall-backup.db');
      const r = await runCli(['backup', '--storage', dbFile, '--to', backupFile]);
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { to: string; calls: number; records: number; schemaVersion: number; bytes: number };
      assert.equal(report.to, backupFile);
      assert.ok(report.calls >= endedBefore.size, `${report.calls} calls in the copy`);
      assert.equal(statSync(backupFile).mode & 0o777, 0o600, 'it holds everyone\'s call history');
      // The load goes on after the backup: the live database moves past the copy.
      await sleep(500);
      running = false;
      await Promise.all(loops);
      const endedLive = await endedCallIds(server);
      assert.ok(endedLive.size > endedBefore.size);

      // Restore (docs/deploy.md): the backup file becomes the storage of a fresh server.
      mkdirSync(join(dir, 'restored'));
      const restoredFile = join(dir, 'restored', 'opencall.db');
      copyFileSync(backupFile, restoredFile);
      assert.ok(!existsSync(`${backupFile}-wal`), 'one self-contained file');
      const check = new Database(restoredFile, { readonly: true });
      assert.equal(check.pragma('integrity_check', { simple: true }), 'ok');
      check.close();
      const restored = await startTestServer({ storage: restoredFile });
      try {
        const endedRestored = await endedCallIds(restored);
        for (const id of endedBefore) assert.ok(endedRestored.has(id), `${id} ended before the backup and is in it`);
        for (const id of endedRestored) assert.ok(endedLive.has(id), `${id} in the copy is a real call`);
        // Each restored call has its participants' records (what the users see in their history).
        // A call still running in the copy is ended by the restored server (its devices never
        // come back), so the listing is read again after the history.
        const alice = await user(restored, 'a0');
        const history = await alice.engine.queryRecentCalls({ limit: 500 });
        const listed = await endedCallIds(restored);
        const mine = [...listed].filter((id) => history.some((h) => h.callId === id));
        assert.ok(mine.length > 0 && history.length === mine.length, `a0 sees ${history.length} records, ${mine.length} of the ${listed.size} listed calls`);
        await cleanup(alice);
      } finally {
        await restored.close();
      }
    } finally {
      running = false;
      await cleanup(...users);
      await server.close();
    }
  });
});

describe('backup refuses what it cannot copy', () => {
  const cases: [string, string[], RegExp][] = [
    ['no --to', ['--storage', '/tmp/x.db'], /--to FILE is required/],
    ['in-memory storage', ['--storage', ':memory:', '--to', '/tmp/x.db'], /in memory; there is nothing to back up/],
    ['PostgreSQL', ['--storage', 'postgres://127.0.0.1/opencall', '--to', '/tmp/x.db'], /use pg_dump/],
    ['a missing database', ['--storage', '/nonexistent/opencall.db', '--to', '/tmp/x.db'], /cannot open .*nonexistent.*opencall\.db/],
  ];
  for (const [name, args, error] of cases) {
    it(name, async () => {
      const r = await runCli(['backup', ...args]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, error);
    });
  }

  it('takes the storage from --config like the server does', async () => {
    const db = join(dir, 'cfg.db');
    copyFileSync(new URL('./fixtures/schema-v2.db', import.meta.url), db);
    const cfg = join(dir, 'cfg.yaml');
    writeFileSync(cfg, `storage: ${db}\nsecretKey: k\n`);
    const r = await runCli(['backup', '--config', cfg, '--to', join(dir, 'cfg-backup.db')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { records: number }).records, 10, 'the fixture\'s records');
  });

  it('a file that is not an OpenCall database', async () => {
    const db = join(dir, 'other.db');
    new Database(db).close();
    const r = await runCli(['backup', '--storage', db, '--to', join(dir, 'other-backup.db')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not an OpenCall database/);
    assert.ok(!existsSync(join(dir, 'other-backup.db')), 'nothing left behind');
  });
});
