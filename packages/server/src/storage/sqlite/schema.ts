/**
 * SQLite schema of the embedded store. The version lives in `PRAGMA user_version` so a database
 * file says which schema it holds without an extra table; later versions add migration steps.
 */
import type Database from 'better-sqlite3';

/** Schema version this code writes and understands. */
export const SCHEMA_VERSION = 7;

/**
 * Statements creating schema version 1.
 * The full call state is one JSON document (`state`); the other `calls` columns are copies of
 * fields the admin queries filter on, so those queries never parse JSON.
 */
export const SCHEMA_V1: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    phase TEXT NOT NULL,
    scene TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    call_result TEXT,
    state TEXT NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS calls_phase ON calls(phase)`,
  `CREATE INDEX IF NOT EXISTS calls_created_at ON calls(created_at)`,
  // Keyed by user first: the hot lookup is "is this user busy" (membershipsOf).
  `CREATE TABLE IF NOT EXISTS memberships (
    user_id TEXT NOT NULL,
    call_id TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    PRIMARY KEY (user_id, call_id)
  )`,
  // Every commit replaces one call's memberships, which deletes by call_id.
  `CREATE INDEX IF NOT EXISTS memberships_call ON memberships(call_id)`,
  `CREATE TABLE IF NOT EXISTS timers (
    call_id TEXT PRIMARY KEY REFERENCES calls(call_id) ON DELETE CASCADE,
    due_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS records (
    user_id TEXT NOT NULL,
    call_id TEXT NOT NULL,
    begin_time INTEGER NOT NULL,
    result TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL,
    PRIMARY KEY (user_id, call_id)
  )`,
  `CREATE INDEX IF NOT EXISTS records_user_begin ON records(user_id, begin_time)`,
  `CREATE TABLE IF NOT EXISTS profiles (
    user_id TEXT PRIMARY KEY,
    nickname TEXT NOT NULL,
    avatar TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    call_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    command TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    delivered_at INTEGER,
    dead INTEGER NOT NULL DEFAULT 0
  )`,
  // Partial indexes: delivered and dead rows pile up, but only the live backlog is ever scanned.
  `CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(next_attempt_at)
    WHERE delivered_at IS NULL AND dead = 0`,
  `CREATE INDEX IF NOT EXISTS webhook_outbox_call ON webhook_outbox(call_id, id)
    WHERE delivered_at IS NULL AND dead = 0`,
];

/**
 * Statements bringing version 1 to 2: ephemeral calls leave no records (SPEC §6.1), so the admin
 * listing skips them by a column instead of parsing every call's JSON.
 */
export const SCHEMA_V2: readonly string[] = [
  `ALTER TABLE calls ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0`,
  // JSON true reads as 1.
  `UPDATE calls SET ephemeral = 1 WHERE json_extract(state, '$.isEphemeralCall') = 1`,
];

/**
 * Statements bringing version 2 to 3 (cluster-safe rules, SPEC §5.1 and §8): the database refuses
 * a user's second busy leg, timers carry a claim so one of several processes fires each, and
 * named leases pick one process for singleton work (webhook delivery).
 */
export const SCHEMA_V3: readonly string[] = [
  // Exactly the busy states of Storage.BUSY_LEG_STATES; the name is matched in error mapping.
  `CREATE UNIQUE INDEX IF NOT EXISTS memberships_one_busy_leg ON memberships(user_id)
    WHERE state IN ('calling', 'ringing', 'joined')`,
  `ALTER TABLE timers ADD COLUMN claimed_by TEXT`,
  `ALTER TABLE timers ADD COLUMN claimed_until INTEGER`,
  `CREATE INDEX IF NOT EXISTS timers_due ON timers(due_at)`,
  `CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
];

/**
 * Statements bringing version 3 to 4: offline push (SPEC §9): registrations per user, the durable
 * push queue written with the call state, and the per-call delivery trace.
 */
export const SCHEMA_V4: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS push_targets (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    provider TEXT NOT NULL,
    target TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
  )`,
  `CREATE TABLE IF NOT EXISTS push_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    settled_at INTEGER,
    last_error TEXT
  )`,
  // Only the pending rows are ever scanned.
  `CREATE INDEX IF NOT EXISTS push_queue_due ON push_queue(next_attempt_at) WHERE settled_at IS NULL`,
  `CREATE TABLE IF NOT EXISTS call_trace (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT,
    step TEXT NOT NULL,
    time INTEGER NOT NULL,
    detail TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS call_trace_call ON call_trace(call_id, time, id)`,
];

/**
 * Statements bringing version 4 to 5 (throughput, issue 14): the tables every call writes become
 * one B-tree per row instead of two or three. `WITHOUT ROWID` stores a row in its primary-key
 * tree (no separate rowid table); the trace numbers its steps per call (its primary key is
 * (call, n), so the per-call cap is one seek, and no AUTOINCREMENT bookkeeping row is rewritten
 * by every insert); live calls are indexed apart, so an ended call leaves that index once.
 * SQLite cannot convert a table in place: each is rebuilt and its rows copied.
 */
export const SCHEMA_V5: readonly string[] = [
  `CREATE TABLE memberships_v5 (
    user_id TEXT NOT NULL,
    call_id TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    PRIMARY KEY (user_id, call_id)
  ) WITHOUT ROWID`,
  `INSERT INTO memberships_v5 (user_id, call_id, state) SELECT user_id, call_id, state FROM memberships`,
  `DROP TABLE memberships`,
  `ALTER TABLE memberships_v5 RENAME TO memberships`,
  `CREATE INDEX memberships_call ON memberships(call_id)`,
  `CREATE UNIQUE INDEX memberships_one_busy_leg ON memberships(user_id)
    WHERE state IN ('calling', 'ringing', 'joined')`,
  `CREATE TABLE timers_v5 (
    call_id TEXT PRIMARY KEY REFERENCES calls(call_id) ON DELETE CASCADE,
    due_at INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until INTEGER
  ) WITHOUT ROWID`,
  `INSERT INTO timers_v5 (call_id, due_at, claimed_by, claimed_until)
    SELECT call_id, due_at, claimed_by, claimed_until FROM timers`,
  `DROP TABLE timers`,
  `ALTER TABLE timers_v5 RENAME TO timers`,
  `CREATE INDEX timers_due ON timers(due_at)`,
  `CREATE TABLE call_trace_v5 (
    call_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT,
    step TEXT NOT NULL,
    time INTEGER NOT NULL,
    detail TEXT,
    PRIMARY KEY (call_id, n)
  ) WITHOUT ROWID`,
  `INSERT INTO call_trace_v5 (call_id, n, user_id, device_id, step, time, detail)
    SELECT call_id, ROW_NUMBER() OVER (PARTITION BY call_id ORDER BY time, id), user_id, device_id, step, time, detail
    FROM call_trace`,
  `DROP TABLE call_trace`,
  `ALTER TABLE call_trace_v5 RENAME TO call_trace`,
  `DROP INDEX IF EXISTS calls_phase`,
  `CREATE INDEX calls_live ON calls(created_at) WHERE phase IN ('ringing', 'active')`,
];

/**
 * Statements bringing version 5 to 6 (crash windows of issue 15): each request's outcome, stored
 * with the state change it made, so a request re-sent after a crash is answered instead of run
 * again; and the events each commit sent to devices, replayed to them after a restart.
 */
export const SCHEMA_V6: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS requests (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    result TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id, request_id)
  )`,
  `CREATE INDEX IF NOT EXISTS requests_created ON requests(created_at)`,
  // No AUTOINCREMENT (its bookkeeping row would be rewritten by every commit): a rowid is one
  // above the largest present, so id order is commit order for the rows kept.
  `CREATE TABLE IF NOT EXISTS device_events (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    eid TEXT NOT NULL,
    event TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS device_events_created ON device_events(created_at)`,
  `CREATE INDEX IF NOT EXISTS device_events_device ON device_events(user_id, device_id)`,
];

/**
 * Statements bringing version 6 to 7 (throughput, issue 14): a commit's device events are one row
 * (a JSON array) instead of one row per event with two indexes each, which was 12 % of the event
 * loop under load, and stored requests become `WITHOUT ROWID`. Forgetting a device no longer deletes its events; it records the last commit
 * row whose events it hides (`forgotten_devices.upto`), and reads skip them.
 */
export const SCHEMA_V7: readonly string[] = [
  // No AUTOINCREMENT (its bookkeeping row would be rewritten by every commit); the purge never
  // empties the table without also dropping every tombstone, so a reused id hides nothing.
  `CREATE TABLE commit_events (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    events TEXT NOT NULL
  )`,
  `CREATE INDEX commit_events_created ON commit_events(created_at)`,
  `CREATE TABLE forgotten_devices (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    upto INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
  ) WITHOUT ROWID`,
  `INSERT INTO commit_events (created_at, events)
     SELECT created_at, json_array(json_array(user_id, device_id, eid, json(event))) FROM device_events ORDER BY id`,
  `DROP TABLE device_events`,
  // Every request a device sends writes one row: in its primary-key tree alone (no rowid table
  // beside the key's index), one B-tree fewer per request.
  `CREATE TABLE requests_v7 (
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    request_id INTEGER NOT NULL,
    result TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id, request_id)
  ) WITHOUT ROWID`,
  `INSERT INTO requests_v7 SELECT user_id, device_id, request_id, result, events, created_at FROM requests`,
  `DROP TABLE requests`,
  `ALTER TABLE requests_v7 RENAME TO requests`,
  `CREATE INDEX requests_created ON requests(created_at)`,
];

/** Steps by the version they start from: STEPS[v] brings version v to v + 1. */
const STEPS: readonly (readonly string[])[] = [SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7];

/** Names the users a pre-v3 file has busy in two calls (the v3 unique index cannot be built). */
function busyTwice(db: Database.Database): string[] {
  const rows = db
    .prepare<[], { userId: string }>(
      `SELECT user_id AS userId FROM memberships WHERE state IN ('calling', 'ringing', 'joined')
       GROUP BY user_id HAVING COUNT(*) > 1 ORDER BY user_id`,
    )
    .all();
  return rows.map((r) => r.userId);
}

/**
 * Brings `db` to `SCHEMA_VERSION`. Refuses a file written by newer code rather than guess at
 * a schema it does not know. Runs in one transaction so a crash never leaves half a schema.
 */
export function migrate(db: Database.Database): void {
  const current = Number(db.pragma('user_version', { simple: true }));
  if (current > SCHEMA_VERSION) {
    throw new Error(`database schema version ${current} is newer than supported ${SCHEMA_VERSION}`);
  }
  if (current === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (current >= 1 && current < 3) {
      const users = busyTwice(db);
      if (users.length > 0) {
        throw new Error(
          `cannot upgrade the database to schema 3: users ${users.join(', ')} are busy in two calls at once; ` +
            'end those calls with the previous version (or DELETE their extra membership rows), then start again',
        );
      }
    }
    for (let v = current; v < SCHEMA_VERSION; v++) for (const sql of STEPS[v] ?? []) db.exec(sql);
    // PRAGMA takes no bound parameters; the value is a constant of this module.
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
