/**
 * Embedded default storage on SQLite (better-sqlite3). Safe for several processes on one file:
 * WAL lets readers proceed during a write, `busy_timeout` queues writers, and the version guard in
 * `commit` turns a lost race into VersionConflictError instead of a silent overwrite.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { CallRecord, RecentCallsFilter, UserProfile } from '@opencall/protocol/wire';
import type { CallState, LegState } from '../../call/types.js';
import { tencentCallResult } from '../callResult.js';
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
import { startCheckpointer, type Checkpointer } from './checkpointer.js';
import { prepareClaims, type SqliteClaims } from './claims.js';
import {
  ENDED_WHERE,
  UNDELIVERED,
  asUser,
  byUser,
  parse,
  toOutboxRow,
  type CallRowParams,
  type EndedParams,
  type OutboxDbRow,
  type RecordsParams,
} from './rows.js';
import { migrate } from './schema.js';
import type { PushRow, PushTargetRow, TraceRow } from '../push.js';
import { SqlitePush } from './SqlitePush.js';
import { SqliteReplay } from './SqliteReplay.js';
import { WriteBatch } from './batch.js';

/** Default page size of `queryRecords`. */
const DEFAULT_RECORD_LIMIT = 100;

/** What this connection last wrote for a call's derived rows (to write only what changed). */
interface Written {
  version: number;
  memberships: Map<string, string>;
  timerDueAt: number | null;
}

/** The derived rows of a call not stored yet. */
const NOTHING_WRITTEN: Omit<Written, 'version'> = { memberships: new Map(), timerDueAt: null };

/** Builds every statement once; better-sqlite3 statements are reusable and cheap to run. */
function prepareAll(db: Database.Database) {
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
    // Run just before purgeCalls with the same arguments: it picks the same calls.
    purgeTraces: db.prepare<[number, number, number]>(
      `DELETE FROM call_trace WHERE call_id IN (
         SELECT call_id FROM calls WHERE created_at < ? AND phase = 'ended' AND ended_at < ?
         ORDER BY created_at LIMIT ?)`,
    ),
    // Settled rows are outside the due index: a bounded scan, at most once per retention run.
    purgePushes: db.prepare<[number, number]>(
      `DELETE FROM push_queue WHERE id IN (
         SELECT id FROM push_queue WHERE settled_at IS NOT NULL AND settled_at < ? ORDER BY id LIMIT ?)`,
    ),
    purgeRecords: db.prepare<[number, number]>(
      `DELETE FROM records WHERE rowid IN (SELECT rowid FROM records WHERE begin_time < ? ORDER BY begin_time LIMIT ?)`,
    ),
    backlog: db.prepare<[], { depth: number; oldest: number | null }>(
      `SELECT COUNT(*) AS depth, MIN(created_at) AS oldest FROM webhook_outbox WHERE ${UNDELIVERED}`,
    ),
  };
}

/** Storage in one SQLite file (or `:memory:`). */
export class SqliteStorage implements Storage {
  /** Reported by /healthz. */
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmts: ReturnType<typeof prepareAll>;
  private readonly claims: SqliteClaims;
  private readonly push: SqlitePush;
  private readonly replay: SqliteReplay;
  /** The open group-commit batch (batch.ts): every write of this adapter goes through it. */
  private readonly batch: WriteBatch;
  /** Derived rows this connection wrote per live call; dropped when the call has none left. */
  private readonly written = new Map<string, Written>();
  private readonly checkpointer: Checkpointer | null = null;
  private readonly deleteTx: (userId: string, callIds: string[]) => string[];
  private closed = false;

  /** Opens (creating if needed) the database at `path`; `:memory:` gives a private in-memory one. */
  constructor(path: string) {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // busy_timeout first: the other pragmas and the migration may already wait on another process.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode loses at most the last commits on power loss, never consistency.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    try {
      migrate(this.db);
    } catch (e) {
      this.db.close();
      throw e;
    }
    if (path !== ':memory:' && path !== '') this.checkpointer = startCheckpointer(this.db, path, () => this.closed);
    this.stmts = prepareAll(this.db);
    this.claims = prepareClaims(this.db);
    this.push = new SqlitePush(this.db);
    this.replay = new SqliteReplay(this.db);
    // A batch that fails to commit leaves the remembered rows unknown: rewrite them in full next.
    this.batch = new WriteBatch(this.db, () => this.written.clear());
    this.deleteTx = this.db.transaction((userId: string, callIds: string[]) => {
      const deleted: string[] = [];
      for (const callId of new Set(callIds)) {
        if (this.stmts.deleteRecord.run(userId, callId).changes > 0) deleted.push(callId);
      }
      return deleted;
    });
  }

  /** Loads a call, or null. */
  async getCall(callId: string): Promise<CallState | null> {
    const row = this.stmts.getCall.get(callId);
    return row ? parse<CallState>(row.state) : null;
  }

  /** Writes a transition atomically; throws VersionConflictError when another writer won. */
  async commit(change: CallChange): Promise<void> {
    await this.stage(change).durable;
  }

  /**
   * Writes a transition into this turn's batch (group commit, batch.ts): all of it or, when it
   * throws (a version or busy conflict), none of it. `durable` resolves once the batch is
   * committed; nothing that depends on the change may be sent before.
   */
  stage(change: CallChange): { durable: Promise<void> } {
    const callId = change.state.callId;
    try {
      const { result: written, durable } = this.batch.run(() => this.applyChange(change));
      if (written) this.written.set(callId, written);
      else this.written.delete(callId);
      return { durable };
    } catch (e) {
      // Another writer may have changed the rows: the next commit rewrites them in full.
      this.written.delete(callId);
      throw e;
    }
  }

  /**
   * Body of the commit transaction; any throw rolls back everything written so far. Returns what
   * is now stored for the call's memberships and timer (null when none is left).
   */
  private applyChange(change: CallChange): Written | null {
    const { state, expectedVersion } = change;
    if (state.version !== expectedVersion + 1) {
      throw new Error(`call ${state.callId}: version ${state.version} does not follow ${expectedVersion}`);
    }
    const row: CallRowParams = {
      callId: state.callId,
      version: state.version,
      phase: state.phase,
      scene: state.scene,
      createdAt: state.createdAt,
      endedAt: state.endedAt,
      callResult: state.phase === 'ended' ? tencentCallResult(state.endReason) : null,
      ephemeral: state.isEphemeralCall ? 1 : 0,
      state: JSON.stringify(state),
    };
    const written =
      expectedVersion === 0 ? this.stmts.insertCall.run(row) : this.stmts.updateCall.run({ ...row, expected: expectedVersion });
    if (written.changes === 0) throw new VersionConflictError(state.callId);

    const memberships = new Map<string, string>();
    for (const m of [...change.memberships].sort(byUser)) {
      if (m.callId !== state.callId) throw new Error(`membership of ${m.callId} committed with ${state.callId}`);
      memberships.set(m.userId, m.state);
    }
    // The primary key would refuse it in a full rewrite; refuse it on the diff path too.
    if (memberships.size !== change.memberships.length) throw new Error(`call ${state.callId}: a user listed twice in memberships`);
    // A new call has no rows yet; a call this connection wrote at exactly the previous version has
    // the rows it remembers (the version guard above proves nobody wrote in between). Writing only
    // the differences keeps WAL pages per commit down. Anything else: replace them all.
    const mine = this.written.get(state.callId);
    const known = expectedVersion === 0 ? NOTHING_WRITTEN : mine?.version === expectedVersion ? mine : null;
    if (known) this.writeDiff(state.callId, known, memberships, change.timerDueAt);
    else {
      this.stmts.deleteMemberships.run(state.callId);
      for (const [userId, legState] of memberships) asUser(userId, () => this.stmts.insertMembership.run(userId, state.callId, legState));
      this.stmts.deleteTimer.run(state.callId);
      if (change.timerDueAt !== null) this.stmts.insertTimer.run(state.callId, change.timerDueAt);
    }
    for (const { userId, record } of change.records) {
      this.stmts.insertRecord.run(userId, record.callId, record.beginTime, record.result, JSON.stringify(record));
    }
    for (const w of change.webhooks) {
      this.stmts.insertOutbox.run(w.eventId, w.callId, w.seq, w.command, w.body, w.createdAt, w.createdAt);
    }
    this.push.writeInCommit(change.pushes ?? [], change.trace ?? []);
    this.replay.writeInCommit(change.request, change.deviceEvents ?? []);
    return memberships.size > 0 || change.timerDueAt !== null
      ? { version: state.version, memberships, timerDueAt: change.timerDueAt }
      : null;
  }

  /** Brings a call's membership and timer rows from `known` to the new values. */
  private writeDiff(callId: string, known: Omit<Written, 'version'>, memberships: Map<string, string>, timerDueAt: number | null): void {
    if (memberships.size === 0 && known.memberships.size > 0) this.stmts.deleteMemberships.run(callId);
    else {
      for (const userId of known.memberships.keys()) if (!memberships.has(userId)) this.stmts.deleteMembership.run(userId, callId);
      for (const [userId, legState] of memberships) {
        const was = known.memberships.get(userId);
        if (was === undefined) asUser(userId, () => this.stmts.insertMembership.run(userId, callId, legState));
        else if (was !== legState) asUser(userId, () => this.stmts.updateMembership.run(legState, userId, callId));
      }
    }
    if (timerDueAt === known.timerDueAt) {
      // Same deadline, but another process may have claimed it since: the commit voids the claim.
      if (timerDueAt !== null) this.stmts.unclaimTimer.run(callId);
      return;
    }
    if (timerDueAt === null) this.stmts.deleteTimer.run(callId);
    else if (known.timerDueAt === null) this.stmts.insertTimer.run(callId, timerDueAt);
    else this.stmts.updateTimer.run(timerDueAt, callId);
  }

  /** Active memberships of a user, by call id. */
  async membershipsOf(userId: string): Promise<Membership[]> {
    // The column only ever holds values written from a LegState.
    return this.stmts.membershipsOf.all(userId).map((m) => ({ ...m, state: m.state as LegState }));
  }

  /** Calls not yet ended, oldest first. */
  async activeCalls(): Promise<CallState[]> {
    return this.stmts.activeCalls.all().map((r) => parse<CallState>(r.state));
  }

  /** Armed timers, earliest first. */
  async timers(): Promise<{ callId: string; dueAt: number }[]> {
    return this.stmts.timers.all();
  }

  /** Claims due, unclaimed (or expired) timers for `holder`, earliest first. */
  async claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): Promise<ClaimedTimer[]> {
    return this.batch.write(() => this.claims.claimDueTimers(holder, now, leaseMs, limit));
  }

  /** Takes a free or expired lease, or renews the holder's own. */
  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    return this.batch.write(() => this.claims.acquireLease(name, holder, ttlMs, now));
  }

  /** Drops the lease if `holder` still holds it. */
  async releaseLease(name: string, holder: string): Promise<void> {
    await this.batch.write(() => this.claims.releaseLease(name, holder));
  }

  /** Ended calls for the admin API, newest created first, with the total before paging. */
  async endedCalls(filter: EndedCallsFilter): Promise<{ total: number; calls: CallState[] }> {
    const params: EndedParams = {
      startTime: filter.startTime,
      endTime: filter.endTime,
      callResult: filter.callResult ?? null,
      sceneA: filter.scene === undefined ? null : filter.scene,
      // 'multi' on the admin API covers both multi-party scenes.
      sceneB: filter.scene === 'multi' ? 'group' : (filter.scene ?? null),
    };
    // Read both in one transaction so the count and the page come from the same snapshot.
    return this.db.transaction(() => ({
      total: this.stmts.endedCount.get(params)?.n ?? 0,
      calls: this.stmts.endedPage
        .all({ ...params, limit: filter.limit, offset: filter.offset })
        .map((r) => parse<CallState>(r.state)),
    }))();
  }

  /** A user's visible records, newest `beginTime` first. */
  async queryRecords(userId: string, filter: RecentCallsFilter): Promise<CallRecord[]> {
    return this.stmts.queryRecords
      .all({
        userId,
        begin: filter.begin ?? null,
        end: filter.end ?? null,
        result: filter.result ?? null,
        limit: filter.limit ?? DEFAULT_RECORD_LIMIT,
        offset: filter.offset ?? 0,
      })
      .map((r) => parse<CallRecord>(r.record));
  }

  /** Soft-deletes the user's visible copies; returns the ids deleted now, in input order. */
  async deleteRecords(userId: string, callIds: string[]): Promise<string[]> {
    return this.batch.write(() => this.deleteTx(userId, callIds));
  }

  /** Inserts or replaces a profile. */
  async setProfile(profile: UserProfile): Promise<void> {
    await this.batch.write(() => this.stmts.setProfile.run(profile.userId, profile.nickname, profile.avatar));
  }

  /** Profiles of the named users that have one, in input order without duplicates. */
  async getProfiles(userIds: string[]): Promise<UserProfile[]> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return [];
    const byId = new Map(this.stmts.getProfiles.all(JSON.stringify(unique)).map((p) => [p.userId, p]));
    return unique.flatMap((id) => byId.get(id) ?? []);
  }

  /** Undelivered, live rows due at `now`, by id. */
  async dueWebhooks(now: number, limit: number): Promise<OutboxRow[]> {
    return this.stmts.dueWebhooks.all(now, limit).map(toOutboxRow);
  }

  /** Undelivered, live rows of a call queued before `beforeId`. */
  async pendingBefore(callId: string, beforeId: number): Promise<number> {
    return this.stmts.pendingBefore.get(callId, beforeId)?.n ?? 0;
  }

  /** Marks a row delivered. */
  async markWebhookDelivered(id: number, at: number): Promise<void> {
    await this.batch.write(() => this.stmts.markDelivered.run(at, id));
  }

  /** Counts a failed attempt and reschedules (or buries) the row. */
  async markWebhookFailed(id: number, nextAttemptAt: number, error: string, dead: boolean): Promise<void> {
    await this.batch.write(() => this.stmts.markFailed.run(nextAttemptAt, error, dead ? 1 : 0, id));
  }

  /** Depth and age of the undelivered backlog. */
  async webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    const row = this.stmts.backlog.get();
    return { depth: row?.depth ?? 0, oldestCreatedAt: row?.oldest ?? null };
  }

  /** Deletes up to `limit` settled rows older than `settledBefore`, oldest first. */
  async purgeWebhooks(settledBefore: number, limit: number): Promise<number> {
    return this.batch.write(() => this.stmts.purgeWebhooks.run(settledBefore, settledBefore, limit).changes);
  }

  /** Retention of ended calls and records (see Storage). */
  async purgeHistory(before: number, limit: number): Promise<{ calls: number; records: number }> {
    return this.batch.write(() => {
      // A call's delivery trace goes with it, and so do push rows settled long ago.
      this.stmts.purgeTraces.run(before, before, limit);
      this.stmts.purgePushes.run(before, limit);
      return {
        calls: this.stmts.purgeCalls.run(before, before, limit).changes,
        records: this.stmts.purgeRecords.run(before, limit).changes,
      };
    });
  }

  /** Stores a registration (same key replaced), trimming the user's oldest beyond `cap`. */
  async savePushTarget(row: PushTargetRow, cap: number): Promise<void> {
    await this.batch.write(() => this.push.save(row, cap));
  }

  /** Removes one registration. */
  async removePushTarget(userId: string, key: string): Promise<boolean> {
    return this.batch.write(() => this.push.remove(userId, key));
  }

  /** A user's registrations, oldest first. */
  async pushTargets(userId: string): Promise<PushTargetRow[]> {
    return this.push.targets(userId);
  }

  /** Pending push rows due at `now`, by id. */
  async duePushes(now: number, limit: number): Promise<PushRow[]> {
    return this.push.due(now, limit);
  }

  /** Settles a push row. */
  async settlePush(id: number, at: number, error: string | null): Promise<void> {
    await this.batch.write(() => this.push.settle(id, at, error));
  }

  /** Reschedules a push row after a failed attempt. */
  async retryPush(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.batch.write(() => this.push.retry(id, nextAttemptAt, error));
  }

  /** Appends trace steps. */
  async appendTrace(rows: TraceRow[]): Promise<void> {
    await this.batch.write(() => this.push.append(rows));
  }

  /** A call's trace in order. */
  async callTrace(callId: string): Promise<TraceRow[]> {
    return this.push.trace(callId);
  }

  /** The stored outcome of a request, or null. */
  async requestResult(userId: string, deviceId: string, requestId: number): Promise<StoredRequest | null> {
    // The answer goes straight to the device: an outcome staged in the open batch is read only
    // once that batch is durable (or rolled back, and then it is gone and the request runs again).
    await this.batch.settled();
    return this.replay.request(userId, deviceId, requestId);
  }

  /** Forgets a device's stored requests and events (a new session of the device). */
  async forgetDevice(userId: string, deviceId: string): Promise<void> {
    await this.batch.write(() => this.replay.forget(userId, deviceId));
  }

  /** Device events since `since`, in commit order. */
  async recentDeviceEvents(since: number): Promise<DeviceEventRow[]> {
    return this.replay.eventsSince(since);
  }

  /** Retention of stored requests and device events. */
  async purgeReplay(before: number, limit: number): Promise<{ requests: number; events: number }> {
    return this.batch.write(() => this.replay.purge(before, limit));
  }

  /** Closes the database (checkpointing the WAL). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.batch.flush();
    await this.checkpointer?.stop();
    this.db.close();
  }
}
