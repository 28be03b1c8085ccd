/**
 * The dispatcher's retention purge against a real SQLite file and a real node:http receiver:
 * delivered rows go after `retentionMs` from their delivery, dead rows after `retentionMs` from
 * the moment they were given up, purges run at most every `purgeIntervalMs`, and nothing pending
 * is ever deleted. A fake clock drives the dispatcher; rows are counted through a second
 * connection to the same file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CallMediaType } from '@opencall/protocol/wire';
import { pino } from 'pino';
import type { CallState } from '../call/types.js';
import { SqliteStorage } from '../storage/index.js';
import { WebhookDispatcher } from './WebhookDispatcher.js';

const dir = mkdtempSync(join(tmpdir(), 'opencall-retention-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Polls `check` until it holds. */
async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** A minimal call state at `version`. */
function state(callId: string, version: number): CallState {
  return {
    callId, version, phase: 'ringing', scene: 'single', mediaType: CallMediaType.audio, callerId: 'alice',
    inviteList: ['bob'], roomId: { intRoomId: 7 }, userData: '', chatGroupId: '', isEphemeralCall: false,
    offlinePushInfo: null, callerProfile: null, ringTimeoutMs: 30_000, members: {}, createdAt: 1_000,
    acceptedAt: null, mediaConnectedAt: null, endedAt: null, endReason: null, endedBy: null, ringingAt: {},
    webhookSeq: version,
  };
}

describe('WebhookDispatcher retention', () => {
  it('purges delivered rows retentionMs after delivery and dead rows retentionMs after giving up, at most every purgeIntervalMs', async (t) => {
    const path = join(dir, 'retention.db');
    const storage = new SqliteStorage(path);
    const counter = new Database(path, { readonly: true });
    const rows = (): number => (counter.prepare('SELECT COUNT(*) AS n FROM webhook_outbox').get() as { n: number }).n;

    // Call D's receiver always fails, so its row dies; everything else is acknowledged.
    const receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(String(req.headers['x-opencall-event-id']).startsWith('D.') ? 503 : 200).end());
    });
    await new Promise<void>((ok) => receiver.listen(0, '127.0.0.1', ok));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

    const t0 = Date.now();
    let clock = t0;
    const d = new WebhookDispatcher({
      storage, url, secret: 's', sdkAppId: 1, log: pino({ level: 'silent' }), now: () => clock, pollIntervalMs: 10,
      retry: { initialDelayMs: 1, maxDelayMs: 5, maxAgeMs: 1000, timeoutMs: 2000 },
      retentionMs: 10_000, purgeIntervalMs: 5000,
    });
    t.after(async () => {
      await d.close();
      await storage.close();
      counter.close();
      receiver.close();
    });
    const enqueue = (callId: string, seqs: number[]) =>
      storage.commit({
        state: state(callId, 1), expectedVersion: 0, memberships: [], timerDueAt: null, records: [],
        webhooks: seqs.map((seq) => ({ eventId: `${callId}.${seq}`, callId, seq, command: 'Call.CallbackAfterMemberChanged' as const, body: '{}', createdAt: clock })),
      });
    await enqueue('A', [1, 2]);
    await enqueue('D', [1]);
    d.start();
    await until(() => d.stats().delivered === 2 && d.stats().failed >= 1, 'A delivered, D failing');
    // D.1 is past maxAgeMs at its next attempt: given up at t0 + 1500.
    clock = t0 + 1500;
    d.kick();
    await until(() => d.stats().dead === 1, 'D.1 given up');
    assert.equal(rows(), 3, 'settled rows are kept within the retention');

    // A's rows were delivered at t0: past the retention now. D.1 died at t0 + 1500: not yet.
    clock = t0 + 10_500;
    d.kick();
    await until(() => d.stats().purged === 2, 'the delivered rows purged');
    assert.equal(rows(), 1);

    // D.1 is now past its retention, but the last purge ran only 1.5 s ago.
    clock = t0 + 12_000;
    d.kick();
    await sleep(100);
    assert.equal(rows(), 1, 'no purge before purgeIntervalMs');

    clock = t0 + 15_600;
    d.kick();
    await until(() => d.stats().purged === 3, 'the dead row purged');
    assert.equal(rows(), 0);

    // New traffic is delivered as usual after purges.
    await enqueue('B', [1]);
    d.kick();
    await until(() => d.stats().delivered === 3, 'B delivered');
    assert.equal(rows(), 1);
    assert.deepEqual(await d.backlog(), { depth: 0, oldestCreatedAt: null });
  });
});
