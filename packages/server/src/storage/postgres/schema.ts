/**
 * PostgreSQL schema of the cluster store, as numbered migrations recorded in a table. Every node
 * runs `migrate` at start-up inside one transaction that first takes a transaction-scoped advisory
 * lock, so nodes starting together queue on the lock and the schema is built exactly once (the
 * way pg-boss guards its own migrations); a crash mid-way rolls the whole step back.
 *
 * Ids are `COLLATE "C"` so they sort by code point, as SQLite and the memory adapter sort them
 * (ids are ASCII: SPEC §3). Times are bigint ms epoch. Full call states and records are JSON text,
 * like SQLite: the adapter never queries inside them, so the server is spared parsing JSONB on
 * every commit (cast with `::jsonb` for ad-hoc queries).
 */
import type { Sql } from 'postgres';

/** Key of the advisory lock migrations run under (any constant unique to OpenCall). */
export const MIGRATION_LOCK_KEY = 0x0c_a1_1d_b5;

/** One schema step. */
export interface Migration {
  /** 1, 2, … in order; recorded in `opencall_migrations` once applied. */
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every schema step this code knows, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'calls, memberships, timers, records, profiles, webhook outbox, leases',
    statements: [
      `CREATE TABLE calls (
        call_id text COLLATE "C" PRIMARY KEY,
        version integer NOT NULL,
        phase text NOT NULL,
        scene text NOT NULL,
        created_at bigint NOT NULL,
        ended_at bigint,
        call_result text,
        ephemeral boolean NOT NULL DEFAULT false,
        state text NOT NULL
      )`,
      // Start-up recovery reads the live calls; the admin listing reads ended, listed ones.
      `CREATE INDEX calls_live ON calls (created_at, call_id) WHERE phase <> 'ended'`,
      `CREATE INDEX calls_listed ON calls (created_at) WHERE phase = 'ended' AND NOT ephemeral`,
      // No foreign key to calls: the commit statement is the only writer of both, and the check
      // would lock the call row once more per membership.
      `CREATE TABLE memberships (
        user_id text COLLATE "C" NOT NULL,
        call_id text COLLATE "C" NOT NULL,
        state text NOT NULL,
        PRIMARY KEY (user_id, call_id)
      )`,
      `CREATE INDEX memberships_call ON memberships (call_id)`,
      // SPEC §5.1 across nodes: a user has at most one busy leg. Exactly Storage.BUSY_LEG_STATES;
      // the name is matched when mapping the violation to BusyConflictError.
      `CREATE UNIQUE INDEX memberships_one_busy_leg ON memberships (user_id)
        WHERE state IN ('calling', 'ringing', 'joined')`,
      `CREATE TABLE timers (
        call_id text COLLATE "C" PRIMARY KEY,
        due_at bigint NOT NULL,
        claimed_by text,
        claimed_until bigint
      )`,
      `CREATE INDEX timers_due ON timers (due_at)`,
      `CREATE TABLE records (
        user_id text COLLATE "C" NOT NULL,
        call_id text COLLATE "C" NOT NULL,
        begin_time bigint NOT NULL,
        result text NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        record text NOT NULL,
        PRIMARY KEY (user_id, call_id)
      )`,
      `CREATE INDEX records_user_begin ON records (user_id, begin_time DESC, call_id DESC) WHERE NOT deleted`,
      `CREATE TABLE profiles (
        user_id text COLLATE "C" PRIMARY KEY,
        nickname text NOT NULL,
        avatar text NOT NULL
      )`,
      `CREATE TABLE webhook_outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        call_id text COLLATE "C" NOT NULL,
        seq integer NOT NULL,
        command text NOT NULL,
        body text NOT NULL,
        created_at bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        last_error text,
        delivered_at bigint,
        dead boolean NOT NULL DEFAULT false
      )`,
      // Partial: delivered and dead rows pile up, but only the live backlog is ever scanned.
      `CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE delivered_at IS NULL AND NOT dead`,
      `CREATE INDEX webhook_outbox_call ON webhook_outbox (call_id, id) WHERE delivered_at IS NULL AND NOT dead`,
      `CREATE TABLE leases (
        name text PRIMARY KEY,
        holder text NOT NULL,
        expires_at bigint NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'offline push: registrations, push queue, delivery trace (SPEC §9)',
    statements: [
      `CREATE TABLE push_targets (
        user_id text NOT NULL,
        key text NOT NULL,
        provider text NOT NULL,
        target text NOT NULL,
        created_at bigint NOT NULL,
        seq bigserial NOT NULL,
        PRIMARY KEY (user_id, key)
      )`,
      `CREATE TABLE push_queue (
        id bigserial PRIMARY KEY,
        call_id text NOT NULL,
        user_id text NOT NULL,
        kind text NOT NULL,
        payload text NOT NULL,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at bigint NOT NULL,
        settled_at bigint,
        last_error text
      )`,
      // Only the pending rows are ever scanned.
      `CREATE INDEX push_queue_due ON push_queue (next_attempt_at) WHERE settled_at IS NULL`,
      `CREATE TABLE call_trace (
        id bigserial PRIMARY KEY,
        call_id text NOT NULL,
        user_id text NOT NULL,
        device_id text,
        step text NOT NULL,
        time bigint NOT NULL,
        detail text
      )`,
      `CREATE INDEX call_trace_call ON call_trace (call_id, time, id)`,
    ],
  },
  {
    version: 3,
    name: 'stored requests and device events (idempotent re-sends and replay after a crash)',
    statements: [
      `CREATE TABLE requests (
        user_id text COLLATE "C" NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        request_id bigint NOT NULL,
        result text NOT NULL,
        events text NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (user_id, device_id, request_id)
      )`,
      `CREATE INDEX requests_created ON requests (created_at)`,
      `CREATE TABLE device_events (
        id bigserial PRIMARY KEY,
        user_id text COLLATE "C" NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        eid text NOT NULL,
        event text NOT NULL,
        created_at bigint NOT NULL
      )`,
      `CREATE INDEX device_events_created ON device_events (created_at)`,
      `CREATE INDEX device_events_device ON device_events (user_id, device_id)`,
    ],
  },
  {
    version: 4,
    name: 'device events stored one row per commit (throughput, issue 14)',
    statements: [
      // One row per commit holding its events as a JSON array (storage/packedEvents.ts) instead
      // of one row and two index entries per event: ~10 rows fewer per call cycle.
      `CREATE TABLE commit_events (
        id bigserial PRIMARY KEY,
        created_at bigint NOT NULL,
        events text NOT NULL
      )`,
      `CREATE INDEX commit_events_created ON commit_events (created_at)`,
      // Forgetting a device hides its events in rows up to 'upto' instead of rewriting them.
      `CREATE TABLE forgotten_devices (
        user_id text COLLATE "C" NOT NULL,
        device_id text COLLATE "C" NOT NULL,
        upto bigint NOT NULL,
        PRIMARY KEY (user_id, device_id)
      )`,
      `INSERT INTO commit_events (created_at, events)
        SELECT created_at, json_build_array(json_build_array(user_id, device_id, eid, event::json))::text
        FROM device_events ORDER BY id`,
      `DROP TABLE device_events`,
    ],
  },
];

/** Schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database behind `sql` to `SCHEMA_VERSION`, safely when many nodes do it at once.
 * Refuses a database migrated by newer code rather than guess at a schema it does not know.
 * Returns the versions this call applied (empty when another node had done it).
 */
export async function migrate(sql: Sql): Promise<number[]> {
  return sql.begin(async (tx) => {
    // Held until this transaction ends: the next node waits here, then finds the work done.
    await tx.unsafe(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.unsafe(`CREATE TABLE IF NOT EXISTS opencall_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.unsafe<{ version: number }[]>('SELECT version FROM opencall_migrations');
    const done = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > SCHEMA_VERSION) {
      throw new Error(`database schema version ${newest} is newer than supported ${SCHEMA_VERSION}`);
    }
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) await tx.unsafe(statement);
      await tx.unsafe('INSERT INTO opencall_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
