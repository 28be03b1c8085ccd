/**
 * Group commit on PostgreSQL: the changes of several calls (and trace steps appended on their own)
 * as ONE statement, so a busy node pays
 * one parse/bind/execute, one executor start per table and one WAL flush for a whole event-loop
 * turn of commits instead of one each (see GroupCommit.ts for when a batch is sent).
 *
 * Each change keeps its own guard: a new call is inserted only when its id is free, a next version
 * only over the expected one, and every derived row (memberships, timer, records, outbox, pushes,
 * trace, stored request, device events) is written only for the calls whose row was written. The
 * statement returns those call ids; a change missing from them lost its version race
 * (VersionConflictError) while the others stand. A batch never holds two changes of one call, nor
 * two rows with one key of an `ON CONFLICT DO UPDATE` (PostgreSQL refuses to update a row twice
 * in one statement): `batchKeys` tells the queue where to cut.
 *
 * What can fail the statement as a whole (the busy index refusing one change's leg, a deadlock
 * with another node) fails every change in it; the queue then commits them one by one
 * (commit.ts), which names the one loser exactly as an unbatched commit would.
 */
import postgres from 'postgres';
import { tencentCallResult } from '../callResult.js';
import { MAX_TRACE_ROWS_PER_CALL, type TraceRow } from '../push.js';
import type { CallChange } from '../Storage.js';
import { sortedMembers } from './commit.js';
import { packEvents } from '../packedEvents.js';

/** The batch statement ($1–$55). */
export const BATCH_SQL = `
  WITH b AS (
    SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
      $8::text[], $9::boolean[], $10::text[], $11::bigint[])
      AS b(call_id, version, expected, phase, scene, created_at, ended_at, call_result, ephemeral, state, due)
    -- Call rows are locked in id order, so two nodes' batches sharing calls queue rather than deadlock.
    ORDER BY call_id
  ),
  c_new AS (
    INSERT INTO calls (call_id, version, phase, scene, created_at, ended_at, call_result, ephemeral, state)
    SELECT call_id, version, phase, scene, created_at, ended_at, call_result, ephemeral, state FROM b
    WHERE expected = 0 ORDER BY call_id
    ON CONFLICT (call_id) DO NOTHING
    RETURNING call_id
  ),
  c_next AS (
    -- created_at and ephemeral never change after the insert.
    UPDATE calls SET version = b.version, phase = b.phase, scene = b.scene, ended_at = b.ended_at,
      call_result = b.call_result, state = b.state
    FROM b WHERE calls.call_id = b.call_id AND b.expected <> 0 AND calls.version = b.expected
    RETURNING calls.call_id
  ),
  c AS (
    SELECT b.call_id, b.due FROM b WHERE b.call_id IN (SELECT call_id FROM c_new UNION ALL SELECT call_id FROM c_next)
  ),
  new_members AS (
    SELECT m.k AS call_id, m.u AS user_id, m.s AS state FROM unnest($12::text[], $13::text[], $14::text[]) AS m(k, u, s)
    WHERE m.k IN (SELECT call_id FROM c)
  ),
  gone_members AS (
    DELETE FROM memberships m USING c
    WHERE m.call_id = c.call_id
      AND NOT EXISTS (SELECT 1 FROM new_members n WHERE n.call_id = m.call_id AND n.user_id = m.user_id)
  ),
  kept_members AS (
    -- In user-id order, as a single commit: crossed commits queue on the busy index instead of deadlocking.
    INSERT INTO memberships (user_id, call_id, state)
    SELECT user_id, call_id, state FROM new_members ORDER BY user_id, call_id
    ON CONFLICT (user_id, call_id) DO UPDATE SET state = excluded.state
      WHERE memberships.state <> excluded.state
  ),
  gone_timer AS (
    DELETE FROM timers t USING c WHERE t.call_id = c.call_id AND c.due IS NULL
  ),
  kept_timer AS (
    -- A commit decides the next deadline afresh: any claim on the old one is void.
    INSERT INTO timers (call_id, due_at) SELECT call_id, due FROM c WHERE due IS NOT NULL ORDER BY call_id
    ON CONFLICT (call_id) DO UPDATE SET due_at = excluded.due_at, claimed_by = NULL, claimed_until = NULL
      WHERE timers.due_at <> excluded.due_at OR timers.claimed_by IS NOT NULL
  ),
  new_records AS (
    INSERT INTO records (user_id, call_id, begin_time, result, deleted, record)
    SELECT r.u, r.id, r.b, r.res, false, r.rec
    FROM unnest($15::text[], $16::text[], $17::text[], $18::bigint[], $19::text[], $20::text[]) AS r(k, u, id, b, res, rec)
    WHERE r.k IN (SELECT call_id FROM c)
    ON CONFLICT (user_id, call_id) DO UPDATE SET begin_time = excluded.begin_time, result = excluded.result,
      deleted = false, record = excluded.record
  ),
  new_hooks AS (
    INSERT INTO webhook_outbox (event_id, call_id, seq, command, body, created_at, next_attempt_at)
    SELECT w.e, w.id, w.s, w.cmd, w.body, w.t, w.t
    FROM unnest($21::text[], $22::text[], $23::text[], $24::integer[], $25::text[], $26::text[], $27::bigint[])
      WITH ORDINALITY AS w(k, e, id, s, cmd, body, t, n)
    WHERE w.k IN (SELECT call_id FROM c)
    ORDER BY w.n
  ),
  new_pushes AS (
    INSERT INTO push_queue (call_id, user_id, kind, payload, created_at, expires_at, next_attempt_at)
    SELECT p.k, p.u, p.kind, p.body, p.t, p.x, p.t
    FROM unnest($28::text[], $29::text[], $30::text[], $31::text[], $32::bigint[], $33::bigint[])
      WITH ORDINALITY AS p(k, u, kind, body, t, x, n)
    WHERE p.k IN (SELECT call_id FROM c)
    ORDER BY p.n
  ),
  new_trace AS (
    INSERT INTO call_trace (call_id, user_id, device_id, step, time, detail)
    SELECT s.k, s.u, s.d, s.st, s.t, s.det
    FROM unnest($34::text[], $35::text[], $36::text[], $37::text[], $38::bigint[], $39::text[])
      WITH ORDINALITY AS s(k, u, d, st, t, det, n)
    -- The per-call cap (MAX_TRACE_ROWS_PER_CALL), counted before this commit's rows.
    WHERE s.k IN (SELECT call_id FROM c)
      AND (SELECT count(*) FROM call_trace x WHERE x.call_id = s.k) < ${MAX_TRACE_ROWS_PER_CALL}
    ORDER BY s.n
  ),
  new_request AS (
    -- A request commits at most once: a second run's row fails the statement on the primary key,
    -- and GroupCommit then retries change by change, so exactly that change gets
    -- RequestCommittedError (commit.ts, mapCommitError).
    INSERT INTO requests (user_id, device_id, request_id, result, events, created_at)
    SELECT r.u, r.d, r.id, r.res, r.ev, r.t
    FROM unnest($40::text[], $41::text[], $42::text[], $43::bigint[], $44::text[], $45::text[], $46::bigint[])
      AS r(k, u, d, id, res, ev, t)
    WHERE r.k IN (SELECT call_id FROM c)
  ),
  new_device_events AS (
    -- Each commit's events as one row (storage/packedEvents.ts), in the batch's order.
    INSERT INTO commit_events (created_at, events)
    SELECT e.t, e.ev
    FROM unnest($47::text[], $48::text[], $49::bigint[]) WITH ORDINALITY AS e(k, ev, t, n)
    WHERE e.k IN (SELECT call_id FROM c)
    ORDER BY e.n
  ),
  appended_trace AS (
    -- Steps reported outside any transition (appendTrace: 'received', push outcomes), same cap.
    INSERT INTO call_trace (call_id, user_id, device_id, step, time, detail)
    SELECT s.k, s.u, s.d, s.st, s.t, s.det
    FROM unnest($50::text[], $51::text[], $52::text[], $53::text[], $54::bigint[], $55::text[])
      WITH ORDINALITY AS s(k, u, d, st, t, det, n)
    WHERE (SELECT count(*) FROM call_trace x WHERE x.call_id = s.k) < ${MAX_TRACE_ROWS_PER_CALL}
    ORDER BY s.n
  )
  SELECT call_id FROM c`;

/**
 * The keys `change` would write that must be unique within one statement: its call, its records'
 * (user, call) and its stored request. A change sharing one with a change already in a batch starts
 * the next batch.
 */
export function batchKeys(change: CallChange): string[] {
  const keys = [`c\u0000${change.state.callId}`];
  for (const r of change.records) keys.push(`r\u0000${r.userId}\u0000${r.record.callId}`);
  const q = change.request;
  if (q) keys.push(`q\u0000${q.userId}\u0000${q.deviceId}\u0000${q.requestId}`);
  return keys;
}

/** Column arrays, filled change by change. */
type Columns = unknown[][];
const columns = (n: number): Columns => Array.from({ length: n }, () => []);
function push(cols: Columns, ...values: unknown[]): void {
  for (let i = 0; i < values.length; i++) cols[i]!.push(values[i]);
}

/**
 * The batch statement's parameters for `changes` (at most one per call: see `batchKeys`) and the
 * trace steps `appended` outside them.
 */
export function batchParams(changes: readonly CallChange[], appended: readonly TraceRow[] = []): postgres.ParameterOrJSON<never>[] {
  const calls = columns(11);
  const members = columns(3);
  const records = columns(6);
  const hooks = columns(7);
  const pushes = columns(6);
  const trace = columns(6);
  const requests = columns(7);
  const events = columns(3);
  for (const change of changes) {
    const { state, expectedVersion } = change;
    const k = state.callId;
    const callResult = state.phase === 'ended' ? tencentCallResult(state.endReason) : null;
    push(calls, k, state.version, expectedVersion, state.phase, state.scene, state.createdAt, state.endedAt, callResult, state.isEphemeralCall, JSON.stringify(state), change.timerDueAt);
    for (const m of sortedMembers(change)) push(members, k, m.userId, m.state);
    // A record listed twice for one user: the last wins, as a replacing insert would leave it.
    for (const r of new Map(change.records.map((r) => [`${r.userId}\u0000${r.record.callId}`, r])).values()) {
      push(records, k, r.userId, r.record.callId, r.record.beginTime, r.record.result, JSON.stringify(r.record));
    }
    for (const w of change.webhooks) push(hooks, k, w.eventId, w.callId, w.seq, w.command, w.body, w.createdAt);
    for (const p of change.pushes ?? []) push(pushes, k, p.userId, p.kind, p.payload, p.createdAt, p.expiresAt);
    for (const t of change.trace ?? []) if (t.callId === k) push(trace, k, t.userId, t.deviceId, t.step, t.time, t.detail);
    const q = change.request;
    if (q) push(requests, k, q.userId, q.deviceId, q.requestId, q.result, q.events, q.createdAt);
    const sent = change.deviceEvents ?? [];
    if (sent.length > 0) push(events, k, packEvents(sent), sent[0]!.createdAt);
  }
  const free = columns(6);
  for (const t of appended) push(free, t.callId, t.userId, t.deviceId, t.step, t.time, t.detail);
  // Each column is an array of the one type its parameter is cast to.
  return [...calls, ...members, ...records, ...hooks, ...pushes, ...trace, ...requests, ...events, ...free] as postgres.ParameterOrJSON<never>[];
}
