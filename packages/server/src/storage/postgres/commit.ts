/**
 * `commit` on PostgreSQL as ONE prepared statement: the version-checked call write and every
 * derived row (memberships, timer and its claim, records, outbox) are data-modifying CTEs of a
 * single statement, which PostgreSQL runs atomically. A commit therefore costs one round trip and
 * no BEGIN/COMMIT. Under load the commits of one turn go together instead (commitBatch.ts,
 * GroupCommit.ts); this form writes a commit alone, and each change of a refused batch on retry.
 *
 * Every derived CTE reads from `c` (the call row written), so a lost version race writes nothing
 * else and returns 0 rows. Memberships are upserted in user-id order: two commits that cross
 * (A→B and B→A at the same instant) take the busy index's entries in the same order, so one waits
 * for the other instead of deadlocking, then fails on the unique index.
 */
import postgres from 'postgres';
import { tencentCallResult } from '../callResult.js';
import { MAX_TRACE_ROWS_PER_CALL } from '../push.js';
import { packEvents } from '../packedEvents.js';
import { BUSY_LEG_STATES, BusyConflictError, RequestCommittedError, VersionConflictError, type CallChange, type Membership } from '../Storage.js';

/** Everything after the call write, shared by the insert and update forms ($1–$14). */
const DERIVED = `
  new_members AS (
    SELECT u AS user_id, s AS state FROM unnest($1::text[], $2::text[]) AS m(u, s)
  ),
  gone_members AS (
    DELETE FROM memberships m USING c
    WHERE m.call_id = c.call_id AND m.user_id <> ALL ($1::text[])
  ),
  kept_members AS (
    INSERT INTO memberships (user_id, call_id, state)
    SELECT n.user_id, c.call_id, n.state FROM new_members n, c ORDER BY n.user_id
    ON CONFLICT (user_id, call_id) DO UPDATE SET state = excluded.state
      WHERE memberships.state <> excluded.state
  ),
  gone_timer AS (
    DELETE FROM timers t USING c WHERE t.call_id = c.call_id AND $3::bigint IS NULL
  ),
  kept_timer AS (
    -- A commit decides the next deadline afresh: any claim on the old one is void.
    INSERT INTO timers (call_id, due_at) SELECT c.call_id, $3::bigint FROM c WHERE $3::bigint IS NOT NULL
    ON CONFLICT (call_id) DO UPDATE SET due_at = excluded.due_at, claimed_by = NULL, claimed_until = NULL
      WHERE timers.due_at <> excluded.due_at OR timers.claimed_by IS NOT NULL
  ),
  new_records AS (
    INSERT INTO records (user_id, call_id, begin_time, result, deleted, record)
    SELECT r.u, r.id, r.b, r.res, false, r.rec
    FROM c, unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[]) AS r(u, id, b, res, rec)
    ON CONFLICT (user_id, call_id) DO UPDATE SET begin_time = excluded.begin_time, result = excluded.result,
      deleted = false, record = excluded.record
  ),
  new_hooks AS (
    INSERT INTO webhook_outbox (event_id, call_id, seq, command, body, created_at, next_attempt_at)
    SELECT w.e, w.id, w.s, w.cmd, w.body, w.t, w.t
    FROM c, unnest($9::text[], $10::text[], $11::integer[], $12::text[], $13::text[], $14::bigint[])
      WITH ORDINALITY AS w(e, id, s, cmd, body, t, n)
    ORDER BY w.n
  ),
  new_pushes AS (
    INSERT INTO push_queue (call_id, user_id, kind, payload, created_at, expires_at, next_attempt_at)
    SELECT c.call_id, p.u, p.k, p.body, p.t, p.x, p.t
    FROM c, unnest($24::text[], $25::text[], $26::text[], $27::bigint[], $28::bigint[]) WITH ORDINALITY AS p(u, k, body, t, x, n)
    ORDER BY p.n
  ),
  new_trace AS (
    INSERT INTO call_trace (call_id, user_id, device_id, step, time, detail)
    SELECT c.call_id, s.u, s.d, s.st, s.t, s.det
    FROM c, unnest($29::text[], $30::text[], $31::text[], $32::bigint[], $33::text[]) WITH ORDINALITY AS s(u, d, st, t, det, n)
    -- The per-call cap (MAX_TRACE_ROWS_PER_CALL), counted before this commit's rows.
    WHERE (SELECT count(*) FROM call_trace x WHERE x.call_id = c.call_id) < ${MAX_TRACE_ROWS_PER_CALL}
    ORDER BY s.n
  ),
  new_request AS (
    -- A request commits at most once: a second run's commit fails on the primary key, whole.
    INSERT INTO requests (user_id, device_id, request_id, result, events, created_at)
    SELECT r.u, r.d, r.id, r.res, r.ev, r.t
    FROM c, unnest($34::text[], $35::text[], $36::bigint[], $37::text[], $38::text[], $39::bigint[]) AS r(u, d, id, res, ev, t)
  ),
  new_device_events AS (
    -- The commit's events as one row (storage/packedEvents.ts), none when it sent nothing.
    INSERT INTO commit_events (created_at, events)
    SELECT $41::bigint, $40::text FROM c WHERE $40::text IS NOT NULL
  )
  SELECT count(*)::integer AS n FROM c`;

/** A new call: inserted unless the id exists (then it is a lost race: 0 rows). */
const INSERT_SQL = `
  WITH c AS (
    INSERT INTO calls (call_id, version, phase, scene, created_at, ended_at, call_result, ephemeral, state)
    VALUES ($15, $16, $17, $18, $19, $20, $21, $22, $23)
    ON CONFLICT (call_id) DO NOTHING
    RETURNING call_id
  ),${DERIVED}`;

/**
 * A next version, written only over the expected one ($22); created_at and ephemeral never change.
 * $23 is always null: it only keeps the push/trace parameters ($24–$33) at the insert form's places.
 */
const UPDATE_SQL = `
  WITH c AS (
    UPDATE calls SET version = $16, phase = $17, scene = $18, ended_at = $19, call_result = $20, state = $21
    WHERE call_id = $15 AND version = $22 AND $23::text IS NULL
    RETURNING call_id
  ),${DERIVED}`;

/** The statement and its parameters for `change`. */
export function commitStatement(change: CallChange): { text: string; params: postgres.ParameterOrJSON<never>[] } {
  const { state, expectedVersion } = change;
  const members = sortedMembers(change);
  // A record listed twice for one user: the last wins, as a replacing insert would leave it.
  const records = [...new Map(change.records.map((r) => [`${r.userId}\u0000${r.record.callId}`, r])).values()];
  const derived: postgres.ParameterOrJSON<never>[] = [
    members.map((m) => m.userId),
    members.map((m) => m.state),
    change.timerDueAt,
    records.map((r) => r.userId),
    records.map((r) => r.record.callId),
    records.map((r) => r.record.beginTime),
    records.map((r) => r.record.result),
    records.map((r) => JSON.stringify(r.record)),
    change.webhooks.map((w) => w.eventId),
    change.webhooks.map((w) => w.callId),
    change.webhooks.map((w) => w.seq),
    change.webhooks.map((w) => w.command),
    change.webhooks.map((w) => w.body),
    change.webhooks.map((w) => w.createdAt),
  ];
  const callResult = state.phase === 'ended' ? tencentCallResult(state.endReason) : null;
  const json = JSON.stringify(state);
  if (expectedVersion === 0) {
    const head = [state.callId, state.version, state.phase, state.scene, state.createdAt, state.endedAt, callResult, state.isEphemeralCall, json];
    return { text: INSERT_SQL, params: [...derived, ...head, ...pushParams(change), ...replayParams(change)] };
  }
  const head = [state.callId, state.version, state.phase, state.scene, state.endedAt, callResult, json, expectedVersion, null];
  return { text: UPDATE_SQL, params: [...derived, ...head, ...pushParams(change), ...replayParams(change)] };
}

/**
 * The change's memberships in user-id order (the order rows are written in), refusing a membership
 * of another call or a user listed twice before anything reaches the database.
 */
export function sortedMembers(change: CallChange): Membership[] {
  const { state } = change;
  const members = [...change.memberships].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
  for (const m of members) {
    if (m.callId !== state.callId) throw new Error(`membership of ${m.callId} committed with ${state.callId}`);
  }
  if (new Set(members.map((m) => m.userId)).size !== members.length) {
    throw new Error(`call ${state.callId}: a user listed twice in memberships`);
  }
  return members;
}

/** The stored request and device-event parameters ($34–$41) of a change. */
function replayParams(change: CallChange): postgres.ParameterOrJSON<never>[] {
  const r = change.request ? [change.request] : [];
  const events = change.deviceEvents ?? [];
  return [
    r.map((x) => x.userId),
    r.map((x) => x.deviceId),
    r.map((x) => x.requestId),
    r.map((x) => x.result),
    r.map((x) => x.events),
    r.map((x) => x.createdAt),
    events.length > 0 ? packEvents(events) : null,
    events[0]?.createdAt ?? null,
  ];
}

/** The push queue and trace parameters ($24–$33) of a change. */
function pushParams(change: CallChange): postgres.ParameterOrJSON<never>[] {
  const pushes = change.pushes ?? [];
  const trace = (change.trace ?? []).filter((t) => t.callId === change.state.callId);
  return [
    pushes.map((p) => p.userId),
    pushes.map((p) => p.kind),
    pushes.map((p) => p.payload),
    pushes.map((p) => p.createdAt),
    pushes.map((p) => p.expiresAt),
    trace.map((t) => t.userId),
    trace.map((t) => t.deviceId),
    trace.map((t) => t.step),
    trace.map((t) => t.time),
    trace.map((t) => t.detail),
  ];
}

/** `Key (user_id)=(bob) already exists.`: the user the busy index refused. */
const BUSY_KEY = /^Key \(user_id\)=\((.*)\) already exists/;

/**
 * Maps a failed commit's error onto the Storage contract: the busy index → BusyConflictError;
 * the request's row already there (its request committed before) → RequestCommittedError;
 * a deadlock or serialization failure → VersionConflictError (the caller re-reads and retries);
 * anything else unchanged.
 */
export function mapCommitError(e: unknown, change: CallChange): unknown {
  if (!(e instanceof postgres.PostgresError)) return e;
  if (e.code === '23505' && e.constraint_name === 'memberships_one_busy_leg') {
    const named = BUSY_KEY.exec(e.detail ?? '')?.[1];
    // The detail names the user unless the server hides key values; then name the first busy leg.
    const fallback = change.memberships.filter((m) => BUSY_LEG_STATES.has(m.state)).map((m) => m.userId).sort()[0];
    return new BusyConflictError(named ?? fallback ?? '');
  }
  if (e.code === '23505' && e.constraint_name === 'requests_pkey' && change.request) {
    const r = change.request;
    return new RequestCommittedError(r.userId, r.deviceId, r.requestId);
  }
  if (e.code === '40P01' || e.code === '40001') return new VersionConflictError(change.state.callId);
  return e;
}
