/**
 * In-process storage for tests and single-instance demos. It mirrors the SQLite adapter's
 * semantics exactly (both pass `contract.ts`), so tests written against it hold in production.
 * Everything is copied in and out (as JSON data, like the SQLite adapter's rows): callers mutate
 * the states they get (the state machine builds the next state from them) and must never reach
 * the stored copy.
 */
import type { CallRecord, RecentCallsFilter, UserProfile } from '@opencall/protocol/wire';
import { cloneJson } from '../../call/machine.js';
import type { CallState } from '../../call/types.js';
import { tencentCallResult } from '../callResult.js';
import {
  BUSY_LEG_STATES,
  BusyConflictError,
  RequestCommittedError,
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
import type { PushRow, PushTargetRow, TraceRow } from '../push.js';
import { MemoryPush } from './MemoryPush.js';
import { MemoryReplay } from './MemoryReplay.js';

/** One user's copy of a record; deletion is soft so it matches the SQLite adapter. */
interface StoredRecord {
  userId: string;
  record: CallRecord;
  deleted: boolean;
}

/** Default page size of `queryRecords`, shared in spirit with the SQLite adapter. */
const DEFAULT_RECORD_LIMIT = 100;

/** Record map key; NUL cannot occur in user or call ids, so keys cannot collide. */
function recordKey(userId: string, callId: string): string {
  return `${userId}\u0000${callId}`;
}

/** Descending order on (primary, callId): the same total order the SQL queries use. */
function newestFirst(aKey: number, aId: string, bKey: number, bId: string): number {
  if (aKey !== bKey) return bKey - aKey;
  return aId < bId ? 1 : aId > bId ? -1 : 0;
}

/** True when the row still waits for delivery. */
function undelivered(row: OutboxRow): boolean {
  return row.deliveredAt === null && !row.dead;
}

/** True when the row was delivered, or given up, before `at` (retention purge). */
function isSettledBefore(row: OutboxRow, at: number): boolean {
  if (row.deliveredAt !== null) return row.deliveredAt < at;
  return row.dead && row.nextAttemptAt < at;
}

/** An armed timer and who claimed it until when (null: unclaimed). */
interface TimerRow {
  dueAt: number;
  claimedBy: string | null;
  claimedUntil: number | null;
}

/** Storage kept in Maps; lost when the process exits. */
export class MemoryStorage implements Storage {
  /** Reported by /healthz. */
  readonly kind = 'memory';
  private readonly calls = new Map<string, CallState>();
  /** Memberships grouped by call, because every commit replaces one call's set. */
  private readonly memberships = new Map<string, Membership[]>();
  /** The same memberships by user, then call: the busy check and `membershipsOf` look one user up. */
  private readonly byUser = new Map<string, Map<string, Membership>>();
  private readonly timerRows = new Map<string, TimerRow>();
  private readonly leases = new Map<string, { holder: string; expiresAt: number }>();
  private readonly records = new Map<string, StoredRecord>();
  private readonly profiles = new Map<string, UserProfile>();
  /** Rows in id order (ids are assigned increasingly), so scans are already oldest first. */
  private readonly outbox: OutboxRow[] = [];
  private nextOutboxId = 1;
  private readonly push = new MemoryPush();
  private readonly replay = new MemoryReplay();

  /** Loads a copy of a call, or null. */
  async getCall(callId: string): Promise<CallState | null> {
    const state = this.calls.get(callId);
    return state ? cloneJson(state) : null;
  }

  /**
   * Applies a transition. Every check runs before the first write, which is how this adapter
   * gets the all-or-nothing behaviour SQLite gets from its transaction.
   */
  async commit(change: CallChange): Promise<void> {
    const { state, expectedVersion } = change;
    if (state.version !== expectedVersion + 1) {
      throw new Error(`call ${state.callId}: version ${state.version} does not follow ${expectedVersion}`);
    }
    const stored = this.calls.get(state.callId);
    if ((stored?.version ?? 0) !== expectedVersion) throw new VersionConflictError(state.callId);
    for (const m of change.memberships) {
      if (m.callId !== state.callId) throw new Error(`membership of ${m.callId} committed with ${state.callId}`);
    }
    const busyUser = this.busyElsewhere(change);
    if (busyUser !== null) throw new BusyConflictError(busyUser);
    const req = change.request;
    if (req && this.replay.request(req.userId, req.deviceId, req.requestId)) {
      throw new RequestCommittedError(req.userId, req.deviceId, req.requestId);
    }
    if (change.webhooks.length > 0) {
      const eventIds = new Set(this.outbox.map((r) => r.eventId));
      for (const w of change.webhooks) {
        // SQLite's UNIQUE(event_id) would abort the transaction; refuse the same way.
        if (eventIds.has(w.eventId)) throw new Error(`duplicate webhook event id ${w.eventId}`);
        eventIds.add(w.eventId);
      }
    }

    this.calls.set(state.callId, cloneJson(state));
    for (const m of this.memberships.get(state.callId) ?? []) {
      const mine = this.byUser.get(m.userId);
      mine?.delete(state.callId);
      if (mine?.size === 0) this.byUser.delete(m.userId);
    }
    if (change.memberships.length > 0) {
      const copies = cloneJson(change.memberships);
      this.memberships.set(state.callId, copies);
      for (const m of copies) {
        let mine = this.byUser.get(m.userId);
        if (!mine) this.byUser.set(m.userId, (mine = new Map<string, Membership>()));
        mine.set(state.callId, m);
      }
    } else {
      this.memberships.delete(state.callId);
    }
    if (change.timerDueAt === null) this.timerRows.delete(state.callId);
    else this.timerRows.set(state.callId, { dueAt: change.timerDueAt, claimedBy: null, claimedUntil: null });
    for (const { userId, record } of change.records) {
      this.records.set(recordKey(userId, record.callId), { userId, record: cloneJson(record), deleted: false });
    }
    for (const w of change.webhooks) {
      this.outbox.push({
        ...w,
        id: this.nextOutboxId++,
        attempts: 0,
        nextAttemptAt: w.createdAt,
        lastError: null,
        deliveredAt: null,
        dead: false,
      });
    }
    this.push.enqueue(change.pushes ?? []);
    this.push.append(change.trace ?? []);
    this.replay.write(change.request, change.deviceEvents ?? []);
  }

  /** The first user (by id) `change` would give a busy leg while busy in another call, or null. */
  private busyElsewhere(change: CallChange): string | null {
    const wanted = new Set(change.memberships.filter((m) => BUSY_LEG_STATES.has(m.state)).map((m) => m.userId));
    if (wanted.size === 0) return null;
    const taken: string[] = [];
    for (const userId of wanted) {
      for (const [callId, m] of this.byUser.get(userId) ?? []) {
        if (callId !== change.state.callId && BUSY_LEG_STATES.has(m.state)) taken.push(userId);
      }
    }
    return taken.sort()[0] ?? null;
  }

  /** Active memberships of a user, ordered by call id like the SQLite primary key. */
  async membershipsOf(userId: string): Promise<Membership[]> {
    const out = [...(this.byUser.get(userId)?.values() ?? [])].map((m) => cloneJson(m));
    return out.sort((a, b) => (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
  }

  /** Calls not yet ended, oldest first. */
  async activeCalls(): Promise<CallState[]> {
    return [...this.calls.values()]
      .filter((s) => s.phase !== 'ended')
      .sort((a, b) => -newestFirst(a.createdAt, a.callId, b.createdAt, b.callId))
      .map((s) => cloneJson(s));
  }

  /** Armed timers, earliest first. */
  async timers(): Promise<{ callId: string; dueAt: number }[]> {
    return [...this.timerRows]
      .map(([callId, t]) => ({ callId, dueAt: t.dueAt }))
      .sort((a, b) => -newestFirst(a.dueAt, a.callId, b.dueAt, b.callId));
  }

  /** Claims due timers whose claim is absent or expired, earliest first. */
  async claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): Promise<ClaimedTimer[]> {
    const due = (await this.timers()).filter(({ callId, dueAt }) => {
      const until = this.timerRows.get(callId)?.claimedUntil ?? null;
      return dueAt <= now && (until === null || until <= now);
    });
    const claimed = due.slice(0, Math.max(0, limit));
    for (const { callId, dueAt } of claimed) this.timerRows.set(callId, { dueAt, claimedBy: holder, claimedUntil: now + leaseMs });
    return claimed;
  }

  /** Takes a free or expired lease, or renews the holder's own. */
  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const lease = this.leases.get(name);
    if (lease && lease.holder !== holder && lease.expiresAt > now) return false;
    this.leases.set(name, { holder, expiresAt: now + ttlMs });
    return true;
  }

  /** Drops the lease if `holder` still holds it. */
  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  /** Ended calls matching the admin filter, newest created first, with the total before paging. */
  async endedCalls(filter: EndedCallsFilter): Promise<{ total: number; calls: CallState[] }> {
    const matching = [...this.calls.values()]
      .filter(
        (s) =>
          s.phase === 'ended' &&
          !s.isEphemeralCall &&
          s.createdAt >= filter.startTime &&
          s.createdAt <= filter.endTime &&
          (filter.callResult === undefined || tencentCallResult(s.endReason) === filter.callResult) &&
          (filter.scene === undefined || (filter.scene === 'single' ? s.scene === 'single' : s.scene !== 'single')),
      )
      .sort((a, b) => newestFirst(a.createdAt, a.callId, b.createdAt, b.callId));
    return {
      total: matching.length,
      calls: matching.slice(filter.offset, filter.offset + filter.limit).map((s) => cloneJson(s)),
    };
  }

  /** A user's visible records, newest `beginTime` first. */
  async queryRecords(userId: string, filter: RecentCallsFilter): Promise<CallRecord[]> {
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? DEFAULT_RECORD_LIMIT;
    return [...this.records.values()]
      .filter(
        ({ userId: owner, record: r, deleted }) =>
          owner === userId &&
          !deleted &&
          (filter.begin === undefined || r.beginTime >= filter.begin) &&
          (filter.end === undefined || r.beginTime <= filter.end) &&
          (filter.result === undefined || r.result === filter.result),
      )
      .map((s) => s.record)
      .sort((a, b) => newestFirst(a.beginTime, a.callId, b.beginTime, b.callId))
      .slice(offset, offset + limit)
      .map((r) => cloneJson(r));
  }

  /** Soft-deletes the user's visible copies; returns the ids deleted now, in input order. */
  async deleteRecords(userId: string, callIds: string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const callId of callIds) {
      const row = this.records.get(recordKey(userId, callId));
      // A repeated id finds its row already deleted, which also removes duplicates.
      if (!row || row.deleted) continue;
      row.deleted = true;
      deleted.push(callId);
    }
    return deleted;
  }

  /** Inserts or replaces a profile. */
  async setProfile(profile: UserProfile): Promise<void> {
    this.profiles.set(profile.userId, { ...profile });
  }

  /** Profiles of the named users that have one, in input order without duplicates. */
  async getProfiles(userIds: string[]): Promise<UserProfile[]> {
    const out: UserProfile[] = [];
    for (const id of new Set(userIds)) {
      const p = this.profiles.get(id);
      if (p) out.push({ ...p });
    }
    return out;
  }

  /** Undelivered, live rows due at `now`, by id. */
  async dueWebhooks(now: number, limit: number): Promise<OutboxRow[]> {
    return this.outbox
      .filter((r) => undelivered(r) && r.nextAttemptAt <= now)
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  /** Undelivered, live rows of a call queued before `beforeId`. */
  async pendingBefore(callId: string, beforeId: number): Promise<number> {
    return this.outbox.filter((r) => r.callId === callId && r.id < beforeId && undelivered(r)).length;
  }

  /** Marks a row delivered. */
  async markWebhookDelivered(id: number, at: number): Promise<void> {
    const row = this.outbox.find((r) => r.id === id);
    if (row) row.deliveredAt = at;
  }

  /** Counts a failed attempt and reschedules (or buries) the row. */
  async markWebhookFailed(id: number, nextAttemptAt: number, error: string, dead: boolean): Promise<void> {
    const row = this.outbox.find((r) => r.id === id);
    if (!row) return;
    row.attempts += 1;
    row.nextAttemptAt = nextAttemptAt;
    row.lastError = error;
    row.dead = dead;
  }

  /** Depth and age of the undelivered backlog. */
  async webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }> {
    let depth = 0;
    let oldest: number | null = null;
    for (const r of this.outbox) {
      if (!undelivered(r)) continue;
      depth += 1;
      if (oldest === null || r.createdAt < oldest) oldest = r.createdAt;
    }
    return { depth, oldestCreatedAt: oldest };
  }

  /** Deletes up to `limit` settled rows older than `settledBefore`, oldest first. */
  async purgeWebhooks(settledBefore: number, limit: number): Promise<number> {
    let removed = 0;
    // In place, keeping id order: scans rely on the array being oldest first.
    let kept = 0;
    for (const row of this.outbox) {
      if (removed < limit && isSettledBefore(row, settledBefore)) removed += 1;
      else this.outbox[kept++] = row;
    }
    this.outbox.length = kept;
    return removed;
  }

  /** Retention of ended calls and records (see Storage). */
  async purgeHistory(before: number, limit: number): Promise<{ calls: number; records: number }> {
    const calls = [...this.calls.values()]
      .filter((c) => c.phase === 'ended' && c.endedAt !== null && c.endedAt < before)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit);
    for (const c of calls) this.calls.delete(c.callId);
    // A call's delivery trace goes with it, and so do push rows settled long ago.
    this.push.dropTraces(calls.map((c) => c.callId));
    this.push.purgeSettled(before, limit);
    const records = [...this.records.entries()]
      .filter(([, r]) => r.record.beginTime < before)
      .sort(([, a], [, b]) => a.record.beginTime - b.record.beginTime)
      .slice(0, limit);
    for (const [key] of records) this.records.delete(key);
    return { calls: calls.length, records: records.length };
  }

  /** Stores a registration (same key replaced), trimming the user's oldest beyond `cap`. */
  async savePushTarget(row: PushTargetRow, cap: number): Promise<void> {
    this.push.save(row, cap);
  }

  /** Removes one registration. */
  async removePushTarget(userId: string, key: string): Promise<boolean> {
    return this.push.remove(userId, key);
  }

  /** A user's registrations, oldest first. */
  async pushTargets(userId: string): Promise<PushTargetRow[]> {
    return this.push.of(userId);
  }

  /** Pending push rows due at `now`, by id. */
  async duePushes(now: number, limit: number): Promise<PushRow[]> {
    return this.push.due(now, limit);
  }

  /** Settles a push row. */
  async settlePush(id: number, at: number, error: string | null): Promise<void> {
    this.push.settle(id, at, error);
  }

  /** Reschedules a push row after a failed attempt. */
  async retryPush(id: number, nextAttemptAt: number, error: string): Promise<void> {
    this.push.retry(id, nextAttemptAt, error);
  }

  /** Appends trace steps. */
  async appendTrace(rows: TraceRow[]): Promise<void> {
    this.push.append(rows);
  }

  /** A call's trace in order. */
  async callTrace(callId: string): Promise<TraceRow[]> {
    return this.push.trace(callId);
  }

  /** The stored outcome of a request, or null. */
  async requestResult(userId: string, deviceId: string, requestId: number): Promise<StoredRequest | null> {
    return this.replay.request(userId, deviceId, requestId);
  }

  /** Forgets a device's stored requests and events (a new session of the device). */
  async forgetDevice(userId: string, deviceId: string): Promise<void> {
    this.replay.forget(userId, deviceId);
  }

  /** Device events since `since`, in commit order. */
  async recentDeviceEvents(since: number): Promise<DeviceEventRow[]> {
    return this.replay.eventsSince(since);
  }

  /** Retention of stored requests and device events. */
  async purgeReplay(before: number, limit: number): Promise<{ requests: number; events: number }> {
    return this.replay.purge(before, limit);
  }

  /** Nothing to release; kept for the interface. */
  async close(): Promise<void> {}
}
