/**
 * Storage behind one small interface, implemented by memory (tests), SQLite (embedded default) and
 * PostgreSQL (cluster mode, SPEC §8). `commit` is the single write path for call state: the new
 * state, its derived indexes (memberships, next timer), records and webhook-outbox rows land in one
 * transaction guarded by a version check, and the store itself refuses a second busy leg for a
 * user, so the rule holds across processes. Every adapter passes `contract.ts`.
 */
import type { CallRecord, RecentCallsFilter, UserProfile } from '@opencall/protocol/wire';
import type { CallState, LegState, WebhookCommand } from '../call/types.js';
import type { NewPushRow, PushRow, PushTargetRow, TraceRow } from './push.js';

/** The stored row of an active membership: user `userId` has an active leg in `callId`. */
export interface Membership {
  userId: string;
  callId: string;
  state: LegState;
}

/** A webhook waiting in (or delivered from) the durable outbox. */
export interface OutboxRow {
  /** Monotonic row id. */
  id: number;
  /** Stable across retries (`X-OpenCall-Event-Id`). */
  eventId: string;
  callId: string;
  /** Per-call sequence (`X-OpenCall-Sequence`). */
  seq: number;
  command: WebhookCommand;
  /** The exact JSON body to POST. */
  body: string;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
  /** True once given up (past `maxAgeMs`). */
  dead: boolean;
}

/** A new outbox row. */
export type NewOutboxRow = Pick<OutboxRow, 'eventId' | 'callId' | 'seq' | 'command' | 'body' | 'createdAt'>;

/**
 * A request's outcome, stored with the state change it made so a re-sent request (same user,
 * device and id) is answered, not run again, even by another process or node.
 */
export interface StoredRequest {
  userId: string;
  deviceId: string;
  /** The client's request id (increasing per signaling client; see `forgetRequests`). */
  requestId: number;
  /** The response `data`, as JSON. */
  result: string;
  /** What the commit sent the requesting device, as a JSON array of `{ eid, event }`. */
  events: string;
  /** ms epoch (retention). */
  createdAt: number;
}

/** An event a commit sent to one device, kept for replay after a crash (see `recentDeviceEvents`). */
export interface DeviceEventRow {
  userId: string;
  deviceId: string;
  /** Stable event id, `<callId>:<version>:<n>`. */
  eid: string;
  /** The ServerEvent, as JSON. */
  event: string;
  /** ms epoch. */
  createdAt: number;
}

/** Everything one transition writes. */
export interface CallChange {
  /** The new state; its `version` must be `expectedVersion + 1`. */
  state: CallState;
  /** The version read before the transition; 0 when the call is new. */
  expectedVersion: number;
  /** All active memberships of this call after the change (replaces the previous set). */
  memberships: Membership[];
  /** The call's next deadline (ms epoch), or null for none. */
  timerDueAt: number | null;
  /** Per-user records to insert (the call just ended). */
  records: { userId: string; record: CallRecord }[];
  /** Webhooks to enqueue. */
  webhooks: NewOutboxRow[];
  /** Offline pushes to enqueue (SPEC §9). */
  pushes?: NewPushRow[];
  /** Delivery-trace steps decided by this transition (devices rung, outcomes). */
  trace?: TraceRow[];
  /** The request that made this change, with its result (idempotent re-sends). */
  request?: StoredRequest;
  /** The events this change sends to devices (replayed to them after a crash). */
  deviceEvents?: DeviceEventRow[];
}

/** Filter over ended calls for the admin REST API. */
export interface EndedCallsFilter {
  /** ms epoch, inclusive, on the call's creation time. */
  startTime: number;
  endTime: number;
  /** Tencent CallResult name (`NormalEnd`, `Cancel`, ...). */
  callResult?: string;
  scene?: 'single' | 'multi';
  limit: number;
  offset: number;
}

/** Thrown by `commit` when the stored version is not `expectedVersion` (another writer won). */
export class VersionConflictError extends Error {
  /** Stable name for `instanceof`-free checks across package copies. */
  override readonly name = 'VersionConflictError';
  constructor(
    /** The call whose write lost. */
    readonly callId: string,
  ) {
    super(`version conflict on call ${callId}`);
  }
}

/**
 * Thrown by `commit` when the change's request (same user, device and request id) has committed
 * already: a request changes a call at most once. Two runs of one request can overlap when its
 * client re-sends it after a reconnection (to any node) while the first run is still stalled
 * (a paused database, a stopped node); the later commit must not start a second call or apply a
 * second accept. Nothing of the refused commit is written; answer from the stored outcome.
 */
export class RequestCommittedError extends Error {
  /** Stable name for `instanceof`-free checks across package copies. */
  override readonly name = 'RequestCommittedError';
  constructor(
    readonly userId: string,
    readonly deviceId: string,
    readonly requestId: number,
  ) {
    super(`request ${requestId} of ${userId}/${deviceId} has committed already`);
  }
}

/**
 * Leg states that make a user busy for other calls (SPEC §5.1). At most one membership per user
 * may be in one of them; the SQL adapters enforce it with a partial unique index.
 */
export const BUSY_LEG_STATES: ReadonlySet<LegState> = new Set<LegState>(['calling', 'ringing', 'joined']);

/**
 * Thrown by `commit` when the new memberships would give a user a second busy leg (SPEC §5.1),
 * another call having taken that user first. Nothing of the refused commit is written; the caller
 * re-reads and decides again (the user is now busy).
 */
export class BusyConflictError extends Error {
  /** Stable name for `instanceof`-free checks across package copies. */
  override readonly name = 'BusyConflictError';
  constructor(
    /** The user already busy in another call. */
    readonly userId: string,
  ) {
    super(`user ${userId} is already busy in another call`);
  }
}

/** The error's `name`, compared instead of `instanceof` so that copies of this package agree. */
const nameOf = (err: unknown): string => String((err as { name?: unknown } | null)?.name);

/** True for the commit refusals that mean "another writer won: run the command again on fresh facts". */
export function isConflict(err: unknown): boolean {
  const name = nameOf(err);
  return name === 'VersionConflictError' || name === 'BusyConflictError';
}

/** True when the commit was refused because its request has committed already ({@link RequestCommittedError}). */
export function isRequestCommitted(err: unknown): boolean {
  return nameOf(err) === 'RequestCommittedError';
}

/** True for every commit refusal: the storage says for certain that nothing of the commit was written. */
export function isRefusal(err: unknown): boolean {
  return isConflict(err) || isRequestCommitted(err);
}

/** A call timer handed to one holder by `claimDueTimers`. */
export interface ClaimedTimer {
  callId: string;
  /** The deadline that was due (ms epoch). */
  dueAt: number;
}

/** Which adapter a storage is (reported by /healthz). */
export type StorageKind = 'memory' | 'sqlite' | 'postgres';

/** The storage interface every adapter implements. */
export interface Storage {
  /** Reported by /healthz. */
  readonly kind: StorageKind;
  /** Loads a call (active or ended), or null. */
  getCall(callId: string): Promise<CallState | null>;
  /**
   * Writes a transition atomically with a version check; throws VersionConflictError when another
   * writer won, BusyConflictError when a membership in `BUSY_LEG_STATES` would be a user's second.
   * Clears any claim on the call's timer (the commit decided its next deadline).
   */
  commit(change: CallChange): Promise<void>;
  /**
   * Group commit (optional; the single-process SQLite adapter has it): writes the change into the
   * current batch at once, throwing what `commit` would reject with, and returns `durable`, which
   * settles when the batch is committed. Later reads of this adapter already see the change;
   * nothing that depends on it may leave the process before `durable` resolves.
   */
  stage?(change: CallChange): { durable: Promise<void> };
  /** Active memberships of a user (at most a few). */
  membershipsOf(userId: string): Promise<Membership[]>;
  /** Every call not yet ended (start-up recovery). */
  activeCalls(): Promise<CallState[]>;
  /** Every armed call timer (start-up recovery). */
  timers(): Promise<{ callId: string; dueAt: number }[]>;
  /**
   * Claims up to `limit` timers due at `now` (earliest first) whose claim is absent or expired
   * (`claimedUntil <= now`), for `holder` until `now + leaseMs`. While a claim is live no other
   * call hands the same timer out; a commit of the call clears it.
   */
  claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): Promise<ClaimedTimer[]>;

  /**
   * Takes or renews lease `name` for `holder` until `now + ttlMs`. True when `holder` holds it now:
   * it was free, expired (`expiresAt <= now`), or already `holder`'s.
   */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives lease `name` up if `holder` still holds it (compare-and-delete). */
  releaseLease(name: string, holder: string): Promise<void>;
  /** Ended calls for the admin API, newest first, with the total count; ephemeral calls are never listed. */
  endedCalls(filter: EndedCallsFilter): Promise<{ total: number; calls: CallState[] }>;

  /** A user's records, newest `beginTime` first, deleted ones excluded. */
  queryRecords(userId: string, filter: RecentCallsFilter): Promise<CallRecord[]>;
  /** Soft-deletes the user's own copies; returns the call ids that were deleted. */
  deleteRecords(userId: string, callIds: string[]): Promise<string[]>;

  /** Sets a user's profile. */
  setProfile(profile: UserProfile): Promise<void>;
  /** Profiles of the given users that have one. */
  getProfiles(userIds: string[]): Promise<UserProfile[]>;

  /** Undelivered, not-dead outbox rows due at `now`, oldest first (by id). */
  dueWebhooks(now: number, limit: number): Promise<OutboxRow[]>;
  /** Undelivered, not-dead rows of one call with id < `beforeId` (ordering guard). */
  pendingBefore(callId: string, beforeId: number): Promise<number>;
  /** Marks a row delivered. */
  markWebhookDelivered(id: number, at: number): Promise<void>;
  /** Records a failed attempt; `dead` gives up on the row. */
  markWebhookFailed(id: number, nextAttemptAt: number, error: string, dead: boolean): Promise<void>;
  /** Undelivered, not-dead row count and the oldest such row's createdAt. */
  webhookBacklog(): Promise<{ depth: number; oldestCreatedAt: number | null }>;
  /**
   * Retention: deletes up to `limit` settled rows, oldest first: delivered rows with
   * `deliveredAt < settledBefore` and dead rows with `nextAttemptAt < settledBefore` (the
   * dispatcher stamps a dead row's `nextAttemptAt` with the time it gave up). Undelivered live rows
   * are never touched. Returns how many rows were deleted.
   */
  purgeWebhooks(settledBefore: number, limit: number): Promise<number>;

  /**
   * History retention: deletes up to `limit` ended calls with `endedAt < before` and up to `limit`
   * records (deleted or not) with `beginTime < before`, oldest first. Live calls are never
   * touched. Returns how many calls and records were deleted.
   */
  purgeHistory(before: number, limit: number): Promise<{ calls: number; records: number }>;

  /**
   * Stores a push registration (replacing one with the same key) and drops the user's oldest
   * ones beyond `cap`.
   */
  savePushTarget(row: PushTargetRow, cap: number): Promise<void>;
  /** Removes a registration; true when one was removed. */
  removePushTarget(userId: string, key: string): Promise<boolean>;
  /** A user's registrations, oldest first. */
  pushTargets(userId: string): Promise<PushTargetRow[]>;
  /** Pending push rows due at `now`, oldest first (by id). */
  duePushes(now: number, limit: number): Promise<PushRow[]>;
  /** Settles a push row (sent, skipped or given up), with the last error if any. */
  settlePush(id: number, at: number, error: string | null): Promise<void>;
  /** Records a failed attempt of a push row and when to try again. */
  retryPush(id: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Appends delivery-trace steps (kept up to MAX_TRACE_ROWS_PER_CALL per call). */
  appendTrace(rows: TraceRow[]): Promise<void>;
  /** A call's trace, in the order the steps happened (time, then insertion). */
  callTrace(callId: string): Promise<TraceRow[]>;

  /** The stored outcome of request `requestId` of (user, device), or null. */
  requestResult(userId: string, deviceId: string, requestId: number): Promise<StoredRequest | null>;
  /**
   * Forgets every stored request and device event of (user, device): a new session of the device
   * starts (a fresh sign-in, whose new client numbers requests from 1 again, or a resume too late),
   * and what was stored for its old session must neither answer nor be replayed to the new one.
   */
  forgetDevice(userId: string, deviceId: string): Promise<void>;
  /** Device events with `createdAt >= since`, in commit order (restart recovery). */
  recentDeviceEvents(since: number): Promise<DeviceEventRow[]>;
  /**
   * Retention: deletes up to `limit` stored requests and up to `limit` stored device-event rows
   * with `createdAt < before`, oldest first. Returns how many rows of each were deleted (an adapter
   * may store one commit's events as one row, so `events` counts rows, not events).
   */
  purgeReplay(before: number, limit: number): Promise<{ requests: number; events: number }>;

  /** Releases resources. Idempotent. */
  close(): Promise<void>;
}
