/**
 * The SQLite adapter's core statements (calls, memberships, timers, records, profiles, webhook
 * outbox, retention), prepared once per connection: better-sqlite3 statements are reusable and
 * cheap to run. The push, replay and claim tables keep theirs beside their code.
 */
import type Database from 'better-sqlite3';
import type { UserProfile } from '@opencall/protocol/wire';
import { ENDED_WHERE, UNDELIVERED, type CallRowParams, type EndedParams, type OutboxDbRow, type RecordsParams } from './rows.js';

/** Builds every statement once; better-sqlite3 statements are reusable and cheap to run. */
export function prepareAll(db: Database.Database) {
  return {
    getCall: db.prepare<[string], { state: string }>('SELECT state FROM calls WHERE call_id = ?'),
    insertCall: db.prepare<CallRowParams>(
      `INSERT INTO calls (call_id, version, phase, scene, created_at, ended_at, call_result, ephemeral, state)
       VALUES (@callId, @version, @phase, @scene, @createdAt, @endedAt, @callResult, @ephemeral, @state)
       ON CONFLICT (call_id) DO NOTHING`,
    ),
    updateCall: db.prepare<CallRowParams & { expected: number }>(
      // created_at never changes after the insert; leaving it out spares its index a write.
      `UPDATE calls SET version = @version, phase = @phase, scene = @scene,
         ended_at = @endedAt, call_result = @callResult, state = @state
       WHERE call_id = @callId AND version = @expected`,
    ),
    deleteMemberships: db.prepare<[string]>('DELETE FROM memberships WHERE call_id = ?'),
    deleteMembership: db.prepare<[string, string]>('DELETE FROM memberships WHERE user_id = ? AND call_id = ?'),
    updateMembership: db.prepare<[string, string, string]>('UPDATE memberships SET state = ? WHERE user_id = ? AND call_id = ?'),
    // A commit decides the call's next deadline afresh: whatever claim the old one had is void.
    updateTimer: db.prepare<[number, string]>(
      'UPDATE timers SET due_at = ?, claimed_by = NULL, claimed_until = NULL WHERE call_id = ?',
    ),
    unclaimTimer: db.prepare<[string]>(
      'UPDATE timers SET claimed_by = NULL, claimed_until = NULL WHERE call_id = ? AND claimed_by IS NOT NULL',
    ),
    insertMembership: db.prepare<[string, string, string]>(
      'INSERT INTO memberships (user_id, call_id, state) VALUES (?, ?, ?)',
    ),
    membershipsOf: db.prepare<[string], { userId: string; callId: string; state: string }>(
      'SELECT user_id AS userId, call_id AS callId, state FROM memberships WHERE user_id = ? ORDER BY call_id',
    ),
    deleteTimer: db.prepare<[string]>('DELETE FROM timers WHERE call_id = ?'),
    insertTimer: db.prepare<[string, number]>('INSERT INTO timers (call_id, due_at) VALUES (?, ?)'),
    timers: db.prepare<[], { callId: string; dueAt: number }>(
      'SELECT call_id AS callId, due_at AS dueAt FROM timers ORDER BY due_at, call_id',
    ),
    activeCalls: db.prepare<[], { state: string }>(
      `SELECT state FROM calls WHERE phase IN ('ringing', 'active') ORDER BY created_at, call_id`,
    ),
    endedPage: db.prepare<EndedParams & { limit: number; offset: number }, { state: string }>(
      `SELECT state FROM calls WHERE ${ENDED_WHERE}
       ORDER BY created_at DESC, call_id DESC LIMIT @limit OFFSET @offset`,
    ),
    endedCount: db.prepare<EndedParams, { n: number }>(`SELECT COUNT(*) AS n FROM calls WHERE ${ENDED_WHERE}`),
    insertRecord: db.prepare<[string, string, number, string, string]>(
      `INSERT OR REPLACE INTO records (user_id, call_id, begin_time, result, deleted, record)
       VALUES (?, ?, ?, ?, 0, ?)`,
    ),
    queryRecords: db.prepare<RecordsParams, { record: string }>(
      `SELECT record FROM records
       WHERE user_id = @userId AND deleted = 0
         AND (@begin IS NULL OR begin_time >= @begin)
         AND (@end IS NULL OR begin_time <= @end)
         AND (@result IS NULL OR result = @result)
       ORDER BY begin_time DESC, call_id DESC LIMIT @limit OFFSET @offset`,
    ),
    deleteRecord: db.prepare<[string, string]>(
      'UPDATE records SET deleted = 1 WHERE user_id = ? AND call_id = ? AND deleted = 0',
    ),
    setProfile: db.prepare<[string, string, string]>(
      `INSERT INTO profiles (user_id, nickname, avatar) VALUES (?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET nickname = excluded.nickname, avatar = excluded.avatar`,
    ),
    // One statement for any number of ids: the list travels as a JSON array.
    getProfiles: db.prepare<[string], UserProfile>(
      `SELECT user_id AS userId, nickname, avatar FROM profiles
       WHERE user_id IN (SELECT value FROM json_each(?))`,
    ),
    insertOutbox: db.prepare<[string, string, number, string, string, number, number]>(
      `INSERT INTO webhook_outbox (event_id, call_id, seq, command, body, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    dueWebhooks: db.prepare<[number, number], OutboxDbRow>(
      `SELECT * FROM webhook_outbox WHERE ${UNDELIVERED} AND next_attempt_at <= ? ORDER BY id LIMIT ?`,
    ),
    pendingBefore: db.prepare<[string, number], { n: number }>(
      `SELECT COUNT(*) AS n FROM webhook_outbox WHERE ${UNDELIVERED} AND call_id = ? AND id < ?`,
    ),
    markDelivered: db.prepare<[number, number]>('UPDATE webhook_outbox SET delivered_at = ? WHERE id = ?'),
    markFailed: db.prepare<[number, string, number, number]>(
      `UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, dead = ?
       WHERE id = ?`,
    ),
    // Settled rows are outside the partial indexes, so this scans the table; it runs at most once
    // a minute and in bounded batches so one purge never holds the (synchronous) database for long.
    purgeWebhooks: db.prepare<[number, number, number]>(
      `DELETE FROM webhook_outbox WHERE id IN (
         SELECT id FROM webhook_outbox
         WHERE (delivered_at IS NOT NULL AND delivered_at < ?)
            OR (delivered_at IS NULL AND dead = 1 AND next_attempt_at < ?)
         ORDER BY id LIMIT ?)`,
    ),
    // created_at ≤ ended_at, so the created_at index bounds the scan.
    purgeCalls: db.prepare<[number, number, number]>(
      `DELETE FROM calls WHERE call_id IN (
         SELECT call_id FROM calls WHERE created_at < ? AND phase = 'ended' AND ended_at < ?
         ORDER BY created_at LIMIT ?)`,
    ),
    purgeRecords: db.prepare<[number, number]>(
      `DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE begin_time < ? ORDER BY begin_time LIMIT ?)`,
    ),
    backlog: db.prepare<[], { depth: number; oldest: number | null }>(
      `SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM webhook_outbox WHERE ${UNDELIVERED}`,
    ),
  };
}

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareAll>;
