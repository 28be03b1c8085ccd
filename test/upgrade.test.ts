/**
 * Upgrades (SPEC §2, issue #18): a database written by an older release (checked-in fixtures made
 * by test/fixtures/makeUpgradeFixture.ts before the schema changed) opens with today's code, is
 * migrated forward at start-up, and every record, profile and REST answer is still there.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallEngine } from '@opencall/client';
import { genUserSig, startServer } from '@opencall/server';
import { SCHEMA_VERSION } from '../packages/server/src/storage/sqlite/schema.js';

interface Expected {
  schemaVersion: number;
  secretKey: string;
  sdkAppId: number;
  recentCalls: Record<string, unknown[]>;
  profiles: unknown[];
  rest: { TotalNum: number; CallRecordList: unknown[] };
}

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const fixtures = readdirSync(FIXTURES).filter((f) => /^schema-v\d+\.db$/.test(f));
const tmp = mkdtempSync(join(tmpdir(), 'opencall-upgrade-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('upgrade from an older schema', () => {
  it('has at least one fixture from an older release', () => {
    assert.ok(fixtures.length > 0, `no schema-v*.db in ${FIXTURES}`);
  });

  for (const file of fixtures) {
    it(`${file}: migrates forward at start-up and finds every record`, async () => {
      const expected = JSON.parse(readFileSync(join(FIXTURES, file.replace(/\.db$/, '.expected.json')), 'utf8')) as Expected;
      const dbFile = join(tmp, file);
      copyFileSync(join(FIXTURES, file), dbFile);
      const before = new Database(dbFile, { readonly: true });
      assert.equal(before.pragma('user_version', { simple: true }), expected.schemaVersion, 'the fixture holds the schema it claims');
      before.close();

      const { secretKey, sdkAppId } = expected;
      const server = await startServer({ port: 0, storage: dbFile, secretKey, sdkAppId, sfu: 'none', webApp: false, logLevel: 'silent' });
      const sig = (userId: string): string => genUserSig({ sdkAppId, secretKey, userId, expireSeconds: 600 });
      const engines: CallEngine[] = [];
      try {
        for (const [userId, calls] of Object.entries(expected.recentCalls)) {
          const engine = new CallEngine({ serverUrl: server.url, sdkAppId });
          engines.push(engine);
          await engine.init(userId, sig(userId));
          assert.deepEqual(await engine.queryRecentCalls({ limit: 100 }), calls, `${userId}'s call records`);
        }
        assert.deepEqual(await engines[0]!.getUserProfiles(['alice', 'bob']), expected.profiles, 'profiles');
        const query = new URLSearchParams({ sdkappid: String(sdkAppId), identifier: 'administrator', usersig: sig('administrator'), random: '2', contenttype: 'json' });
        const r = await fetch(`${server.url}/v4/call_record_http_srv/get_record_by_filter?${query}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ StartTime: 0, NumberPerPage: 100 }),
        });
        const body = (await r.json()) as { ActionStatus: string; Response: unknown };
        assert.equal(body.ActionStatus, 'OK');
        assert.deepEqual(body.Response, expected.rest, 'the admin REST listing (ephemeral calls still left out)');
      } finally {
        await Promise.all(engines.map((e) => e.unInit().catch(() => undefined)));
        await server.close();
      }

      const db = new Database(dbFile, { readonly: true });
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'migrated to the current schema');
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      db.close();
    });
  }

  it('refuses a database written by a newer release instead of guessing', async () => {
    const dbFile = join(tmp, 'newer.db');
    copyFileSync(join(FIXTURES, fixtures[0]!), dbFile);
    const db = new Database(dbFile);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    await assert.rejects(startServer({ port: 0, storage: dbFile, secretKey: 'k', sfu: 'none', webApp: false, logLevel: 'silent' }), /schema version \d+ is newer than supported/);
  });
});
