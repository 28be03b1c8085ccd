/**
 * Cluster storage on PostgreSQL (SPEC §8) through `postgres` (postgres.js): a pool of pipelining
 * connections and automatically prepared statements. Same semantics as the SQLite adapter for
 * every Storage method (both pass `contract.ts`); what spans nodes is decided by the database:
 * the version check per call, the busy index per user, `SKIP LOCKED` timer claims and leases.
 *
 * Open with `PostgresStorage.open(url)`: it connects and migrates (see `schema.ts`) before the
 * storage is handed out, so a bad URL or an unreachable server fails start-up, not the first call.
 */
import postgres, { type Sql } from 'postgres';
import type { CallRecord, RecentCallsFilter, UserProfile } from '@opencall/protocol/wire';
import type { CallState, LegState, WebhookCommand } from '../../call/types.js';
import {
  VersionConflictError,
  type CallChange,
  type ClaimedTimer,
  type DeviceEventRow,
  type EndedCallsFilter,
  type Membership,
  type OutboxRow,
  type Storage,
  type StoredRequest,
} from '../Storage.js';
import { acquireLease, claimDueTimers, releaseLease } from './claims.js';
import { commitStatement, mapCommitError, sortedMembers } from './commit.js';
import { BATCH_SQL, batchParams } from './commitBatch.js';
import { GroupCommit } from './GroupCommit.js';
import { GroupRead } from './GroupRead.js';
import { migrate } from './schema.js';
import { PostgresPush } from './PostgresPush.js';
import { PostgresReplay } from './PostgresReplay.js';
import type { PushRow, PushTargetRow, TraceRow } from '../push.js';

/** Default page size of `queryRecords`, as in the other adapters. */
const DEFAULT_RECORD_LIMIT = 100;

/** Connections per node: commits are one statement each, so a few pipelining connections suffice. */
const POOL_SIZE = 10;

/**
 * How long a query may wait for a usable connection before it fails without ever being sent
 * (`QUEUE_TIMEOUT`), seconds. Without it a command waits for as long as the pool takes to
 * reconnect and then runs late: its client gave up on it long before (a request times out after
 * 10 s) and may have moved on, so a late `call.start` rang a call its caller believed had failed
 * (chaos run, database paused and its connections cut).
 */
export const PG_QUEUE_TIMEOUT_S = 4;

/**
 * Seconds between reconnection attempts: 50 ms doubling to at most 1 s. postgres.js's default
 * (3^n / 100 s, up to 20 s) left a node without a database for 10–20 s after a short outage
 * whose connections were cut twice in a row.
 */
export function pgBackoff(retries: number): number {
  return Math.min(0.05 * 2 ** Math.max(0, retries - 1), 1);
}

/** Row of `webhook_outbox` as selected below. */
interface OutboxDbRow {
  id: number;
  event_id: string;
  call_id: string;
  seq: number;
  command: string;
  body: string;
  created_at: number;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
  dead: boolean;
}

/** Converts a database row to the interface shape. */
function toOutboxRow(r: OutboxDbRow): OutboxRow {
  return {
    id: r.id,
    eventId: r.event_id,
    callId: r.call_id,
    seq: r.seq,
    // Only this adapter writes the column, always from a WebhookCommand.
    command: r.command as WebhookCommand,
    body: r.body,
    createdAt: r.created_at,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
    dead: r.dead,
  };
}

/** Parses a JSON column this adapter wrote from a value of type T. */
function parse<T>(json: string): T {
  return JSON.parse(json) as T;
}

/** Same filter for the page and its count, so `total` always describes the paged rows. */
const ENDED_WHERE = `phase = 'ended' AND NOT ephemeral AND created_at BETWEEN $1 AND $2
  AND ($3::text IS NULL OR call_result = $3) AND ($4::text IS NULL OR scene = $4 OR scene = $5)`;

/** Rows still waiting for delivery; spelled like the partial indexes' WHERE so they are used. */
const UNDELIVERED = 'delivered_at IS NULL AND NOT dead';

/** Every statement with parameters, prepared once per connection by postgres.js. */
const Q = {
  getCalls: 'SELECT call_id AS "callId", state FROM calls WHERE call_id = ANY ($1::text[])',
  membershipsOf: `SELECT user_id AS "userId", call_id AS "callId", state FROM memberships
    WHERE user_id = ANY ($1::text[]) ORDER BY user_id, call_id`,
  activeCalls: `SELECT state FROM calls WHERE phase <> 'ended' ORDER BY created_at, call_id`,
  timers: 'SELECT call_id AS "callId", due_at AS "dueAt" FROM timers ORDER BY due_at, call_id',
  endedCount: `SELECT count(*)::integer AS n FROM calls WHERE ${ENDED_WHERE}`,
  endedPage: `SELECT state FROM calls WHERE ${ENDED_WHERE} ORDER BY created_at DESC, call_id DESC LIMIT $6 OFFSET $7`,
  queryRecords: `SELECT record FROM records
    WHERE user_id = $1 AND NOT deleted
      AND ($2::bigint IS NULL OR begin_time >= $2) AND ($3::bigint IS NULL OR begin_time <= $3)
      AND ($4::text IS NULL OR result = $4)
    ORDER BY begin_time DESC, call_id DESC LIMIT $5 OFFSET $6`,
  deleteRecords: `UPDATE records SET deleted = true
    WHERE user_id = $1 AND call_id = ANY ($2::text[]) AND NOT deleted RETURNING call_id AS "callId"`,
  setProfile: `INSERT INTO profiles (user_id, nickname, avatar) VALUES ($1, $2, $3)
    ON CONFLICT (user_id) DO UPDATE SET nickname = excluded.nickname, avatar = excluded.avatar`,
  getProfiles: 'SELECT user_id AS "userId", nickname, avatar FROM profiles WHERE user_id = ANY ($1::text[])',
  dueWebhooks: `SELECT * FROM webhook_outbox WHERE ${UNDELIVERED} AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
  pendingBefore: `SELECT count(*)::integer AS n FROM webhook_outbox WHERE ${UNDELIVERED} AND call_id = $1 AND id < $2`,
  markDelivered: 'UPDATE webhook_outbox SET delivered_at = $1 WHERE id = $2',
  markFailed: `UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, dead = $3
    WHERE id = $4`,
  backlog: `SELECT count(*)::integer AS depth, min(created_at) AS oldest FROM webhook_outbox WHERE ${UNDELIVERED}`,
  purgeWebhooks: `DELETE FROM webhook_outbox WHERE id IN (
      SELECT id FROM webhook_outbox
      WHERE (delivered_at IS NOT NULL AND delivered_at < $1) OR (delivered_at IS NULL AND dead AND next_attempt_at < $1)
      ORDER BY id LIMIT $2)`,
  // History retention: ended calls only (the partial listing index covers non-ephemeral ones).
  // A call's delivery trace goes with it (call_trace has no foreign key: steps may be written
  // before the call row exists on another node).
  purgeCalls: `WITH gone AS (
      DELETE FROM calls WHERE call_id IN (
        SELECT call_id FROM calls WHERE phase = 'ended' AND ended_at < $1 ORDER BY created_at LIMIT $2)
      RETURNING call_id),
    steps AS (DELETE FROM call_trace WHERE call_id IN (SELECT call_id FROM gone))
    SELECT count(*)::int AS n FROM gone`,
  purgePushes: `DELETE FROM push_queue WHERE id IN (
      SELECT id FROM push_queue WHERE settled_at IS NOT NULL AND settled_at < $1 ORDER BY id LIMIT $2)`,
  purgeRecords: `DELETE FROM records WHERE (user_id, call_id) IN (
      SELECT user_id, call_id FROM records WHERE begin_time < $1 ORDER BY begin_time LIMIT $2)`,
} as const;

/** bigint columns (ms times, outbox ids) read as numbers: every value this adapter stores fits 2^53. */
const BIGINT_AS_NUMBER = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };

/** Storage in one PostgreSQL database, shared by every node of a cluster. */
export class PostgresStorage implements Storage {
  /** Reported by /healthz. */
  readonly kind = 'postgres';
  private closed = false;
  private readonly push: PostgresPush;
  private readonly replay: PostgresReplay;
  private readonly group: GroupCommit;
  /** State JSON by call id: parsed per caller, so no two callers share (and mutate) one object. */
  private readonly calls: GroupRead<string | null>;
  private readonly members: GroupRead<Membership[]>;

  private constructor(private readonly sql: Sql<{ bigint: number }>) {
    this.push = new PostgresPush(sql);
    this.replay = new PostgresReplay(sql);
    this.calls = new GroupRead(async (ids) => {
      const rows = await this.q<{ callId: string; state: string }>(Q.getCalls, [ids]);
      return new Map(rows.map((r) => [r.callId, r.state]));
    }, null);
    this.members = new GroupRead(async (users) => {
      const byUser = new Map<string, Membership[]>();
      for (const m of await this.q<{ userId: string; callId: string; state: string }>(Q.membershipsOf, [users])) {
        // The column only ever holds values written from a LegState.
        const row = { userId: m.userId, callId: m.callId, state: m.state as LegState };
        const list = byUser.get(m.userId);
        if (list) list.push(row);
        else byUser.set(m.userId, [row]);
      }
      return byUser;
    }, []);
    this.group = new GroupCommit({
      one: (c) => this.#commitOne(c),
      trace: (rows) => this.push.append(rows),
      // An error answered by the server aborted the statement's implicit transaction.
      rolledBack: (e) => e instanceof postgres.PostgresError,
      many: async (cs, trace) => new Set((await this.q<{ call_id: string }>(BATCH_SQL, batchParams(cs, trace))).map((r) => r.call_id)),
    });
  }

  /** Connects to `url` (`postgres://` or `postgresql://`), migrates the schema, and returns the storage. */
  static async open(url: string): Promise<PostgresStorage> {
    const sql = postgres(url, {
      max: POOL_SIZE,
      queue_timeout: PG_QUEUE_TIMEOUT_S,
      backoff: pgBackoff,
      types: { bigint: BIGINT_AS_NUMBER },
      // NOTICEs (e.g. "relation already exists, skipping") are not the operator's business.
      onnotice: () => {},
      connection: { application_name: 'opencall' },
    });
    try {
      await migrate(sql);
    } catch (e) {
      await sql.end({ timeout: 1 });
      throw e;
    }
    return new PostgresStorage(sql);
  }

  /** Runs one prepared statement. */
  private q<T extends object>(text: string, params: postgres.ParameterOrJSON<never>[]): Promise<T[]> {
    return this.sql.unsafe<T[]>(text, params, { prepare: true });
  }

  /** Loads a call, or null (read with the other calls asked for in this turn: GroupRead.ts). */
  async getCall(callId: string): Promise<CallState | null> {
    const json = await this.calls.get(callId);
    return json === null ? null : parse<CallState>(json);
  }

  /**
   * Writes a transition; throws VersionConflictError or BusyConflictError. The commits of one
   * event-loop turn share one statement (GroupCommit.ts), each with its own version guard.
   */
  async commit(change: CallChange): Promise<void> {
    const { state, expectedVersion } = change;
    if (state.version !== expectedVersion + 1) {
      throw new Error(`call ${state.callId}: version ${state.version} does not follow ${expectedVersion}`);
    }
    // A malformed change fails here, for its caller alone, not for the batch it would join.
    sortedMembers(change);
    await this.group.commit(change);
  }

  /** One change in one statement (commit.ts). */
  async #commitOne(change: CallChange): Promise<void> {
    const { text, params } = commitStatement(change);
    let written: { n: number }[];
    try {
      written = await this.q<{ n: number }>(text, params);
    } catch (e) {
      throw mapCommitError(e, change);
    }
    if (written[0]?.n !== 1) throw new VersionConflictError(change.state.callId);
  }

  /** Active memberships of a user, by call id (read with the turn's other users: GroupRead.ts). */
  async membershipsOf(userId: string): Promise<Membership[]> {
    // A copy per caller: callers may sort or filter what they get.
    return (await this.members.get(userId)).map((m) => ({ ...m }));
  }

  /** Calls not yet ended, oldest first. */
  async activeCalls(): Promise<CallState[]> {
    return (await this.q<{ state: string }>(Q.activeCalls, [])).map((r) => parse<CallState>(r.state));
  }

  /** Armed timers, earliest first. */
  async timers(): Promise<{ callId: string; dueAt: number }[]> {
    return (await this.q<ClaimedTimer>(Q.timers, [])).map((r) => ({ callId: r.callId, dueAt: r.dueAt }));
  }

  /** Claims due timers whose claim is absent or expired, earliest first (`SKIP LOCKED`). */
  claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): Promise<ClaimedTimer[]> {
    return claimDueTimers(this.sql, holder, now, leaseMs, limit);
  }

  /** Takes a free or expired lease, or renews the holder's own. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return acquireLease(this.sql, name, holder, ttlMs, now);
  }

  /** Drops the lease if `holder` still holds it. */
  releaseLease(name: string, holder: string): Promise<void> {
    return releaseLease(this.sql, name, holder);
  }

  /** Ended calls for the admin API, newest created first, with the total before paging. */
  async endedCalls(filter: EndedCallsFilter): Promise<{ total: number; calls: CallState[] }> {
    const params = [
      filter.startTime,
      filter.endTime,
      filter.callResult ?? null,
      filter.scene ?? null,
      // 'multi' on the admin API covers both multi-party scenes.
      filter.scene === 'multi' ? 'group' : (filter.scene ?? null),
    ];
    // One snapshot for both, so the count always describes the page.
    const [count, page] = await this.sql.begin('isolation level repeatable read read only', (tx) => [
      tx.unsafe<{ n: number }[]>(Q.endedCount, params, { prepare: true }),
      tx.unsafe<{ state: string }[]>(Q.endedPage, [...params, filter.limit, filter.offset], { prepare: true }),
    ]);
    return { total: count[0]?.n ?? 0, calls: page.map((r) => parse<CallState>(r.state)) };
  }

  /** A user's visible records, newest `beginTime` first. */
  async queryRecords(userId: string, filter: RecentCallsFilter): Promise<CallRecord[]> {
    const rows = await this.q<{ record: string }>(Q.queryRecords, [
      userId,
      filter.begin ?? null,
      filter.end ?? null,
      filter.result ?? null,
      filter.limit ?? DEFAULT_RECORD_LIMIT,
      filter.offset ?? 0,
    ]);
    return rows.map((r) => parse<CallRecord>(r.record));
  }

  /** Soft-deletes the user's visible copies; returns the ids deleted now, in input order. */
  async deleteRecords(userId: string, callIds: string[]): Promise<string[]> {
    const unique = [...new Set(callIds)];
    if (unique.length === 0) return [];
    const deleted = new Set((await this.q<{ callId: string }>(Q.deleteRecords, [userId, unique])).map((r) => r.callId));
    return unique.filter((id) => deleted.has(id));
  }

  /** Inserts or replaces a profile. */
  async setProfile(profile: UserProfile): Promise<void> {
    await this.q(Q.setProfile, [profile.userId, profile.nickname, profile.avatar]);
  }

  /** Profiles of the named users that have one, in input order without duplicates. */
  async getProfiles(userIds: string[]): Promise<UserProfile[]> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return [];
    const byId = new Map((await this.q<UserProfile>(Q.getProfiles, [unique])).map((p) => [p.userId, p]));
    return unique.flatMap((id) => {
      const p = byId.get(id);
      return p ? [{ userId: p.userId, nickname: p.nickname, avatar: p.avatar }] : [];
    });
  }

  /** Undelivered, live rows due at `now`, by id. */
  async dueWebhooks(now: number, limit: number): Promise<OutboxRow[]> {
    return (await this.q<OutboxDbRow>(Q.dueWebhooks, [now, limit])).map(toOutboxRow);
  }

  /** Undelivered, live rows of a call queued before `beforeId`. */
  async pendingBefore(callId: string, beforeId: number): Promise<number> {
    return (await this.q<{ n: number }>(Q.pendingBefore, [callId, beforeId]))[0]?.n ?? 0;
  }

  /** Marks a row delivered. */
  async markWebhookDelivered(id: number, at: number): Promise<void> {
    await this.q(Q.markDelivered, [at, id]);
  }

  /** Counts a failed attempt and reschedules (or buries) the row. */
  async markWebhookFailed(id: number, nextAttemptAt: number, error: string, dead: boolean): Promise<void> {
    await this.q(Q.markFailed, [nextAttemptAt, error, dead, id]);
  }

  /** Depth and age of the undelivered backlog. */
  async webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    const [row] = await this.q<{ depth: number; oldest: number | null }>(Q.backlog, []);
    return { depth: row?.depth ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }

  /** Deletes up to `limit` settled rows older than `settledBefore`, oldest first. */
  async purgeWebhooks(settledBefore: number, limit: number): Promise<number> {
    const result = await this.sql.unsafe(Q.purgeWebhooks, [settledBefore, limit], { prepare: true });
    return result.count;
  }

  /** Retention of ended calls and records (see Storage). */
  async purgeHistory(before: number, limit: number): Promise<{ calls: number; records: number }> {
    const [calls] = await this.sql.unsafe<{ n: number }[]>(Q.purgeCalls, [before, limit], { prepare: true });
    // Push rows settled long ago go too.
    await this.sql.unsafe(Q.purgePushes, [before, limit], { prepare: true });
    const records = await this.sql.unsafe(Q.purgeRecords, [before, limit], { prepare: true });
    return { calls: calls?.n ?? 0, records: records.count };
  }

  /** Stores a registration (same key replaced), trimming the user's oldest beyond `cap`. */
  savePushTarget(row: PushTargetRow, cap: number): Promise<void> {
    return this.push.save(row, cap);
  }

  /** Removes one registration. */
  removePushTarget(userId: string, key: string): Promise<boolean> {
    return this.push.remove(userId, key);
  }

  /** A user's registrations, oldest first. */
  pushTargets(userId: string): Promise<PushTargetRow[]> {
    return this.push.targets(userId);
  }

  /** Pending push rows due at `now`, by id. */
  duePushes(now: number, limit: number): Promise<PushRow[]> {
    return this.push.due(now, limit);
  }

  /** Settles a push row. */
  settlePush(id: number, at: number, error: string | null): Promise<void> {
    return this.push.settle(id, at, error);
  }

  /** Reschedules a push row after a failed attempt. */
  retryPush(id: number, nextAttemptAt: number, error: string): Promise<void> {
    return this.push.retry(id, nextAttemptAt, error);
  }

  /** Appends trace steps (with the commits of this turn: GroupCommit.ts). */
  appendTrace(rows: TraceRow[]): Promise<void> {
    return rows.length === 0 ? Promise.resolve() : this.group.appendTrace(rows);
  }

  /** A call's trace in order. */
  callTrace(callId: string): Promise<TraceRow[]> {
    return this.push.trace(callId);
  }

  /** The stored outcome of a request, or null. */
  requestResult(userId: string, deviceId: string, requestId: number): Promise<StoredRequest | null> {
    return this.replay.request(userId, deviceId, requestId);
  }

  /** Forgets a device's stored requests and events (a new session of the device). */
  forgetDevice(userId: string, deviceId: string): Promise<void> {
    return this.replay.forget(userId, deviceId);
  }

  /** Device events since `since`, in commit order. */
  recentDeviceEvents(since: number): Promise<DeviceEventRow[]> {
    return this.replay.eventsSince(since);
  }

  /** Retention of stored requests and device events. */
  purgeReplay(before: number, limit: number): Promise<{ requests: number; events: number }> {
    return this.replay.purge(before, limit);
  }

  /** Closes the pool, letting queries in flight finish (up to 5 s). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sql.end({ timeout: 5 });
  }
}
