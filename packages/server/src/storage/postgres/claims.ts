/**
 * Timer claims and named leases on PostgreSQL: how several nodes share the ring-timeout timers
 * and singleton jobs without a coordinator (SPEC §8). Each operation is one statement, so it needs
 * no explicit transaction and costs one round trip.
 */
import type { Sql } from 'postgres';
import type { ClaimedTimer } from '../Storage.js';

/**
 * Claims due timers whose claim is absent or expired. `FOR UPDATE SKIP LOCKED` (graphile-worker's
 * getJobs) lets nodes claiming at the same instant each take different rows instead of queueing
 * on one another; a row a commit is rewriting is skipped too, and found on the next poll.
 */
const CLAIM_SQL = `
  UPDATE timers t SET claimed_by = $1, claimed_until = $2::bigint + $3::bigint
  FROM (
    SELECT call_id FROM timers
    WHERE due_at <= $2::bigint AND (claimed_until IS NULL OR claimed_until <= $2::bigint)
    ORDER BY due_at, call_id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
  ) due
  WHERE t.call_id = due.call_id
  RETURNING t.call_id AS "callId", t.due_at AS "dueAt"`;

/**
 * Takes lease `$1` for `$2`: inserted when free, overwritten only when it is the holder's own or
 * expired. No row back means another holder has it (Synapse's lock upsert).
 */
const ACQUIRE_SQL = `
  INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3::bigint + $4::bigint)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
    WHERE leases.holder = excluded.holder OR leases.expires_at <= $3::bigint
  RETURNING holder`;

/** Compare-and-delete: a holder that lost its lease cannot drop the new holder's. */
const RELEASE_SQL = 'DELETE FROM leases WHERE name = $1 AND holder = $2';

/** Claims up to `limit` due timers for `holder` until `now + leaseMs`, earliest first. */
export async function claimDueTimers(sql: Sql, holder: string, now: number, leaseMs: number, limit: number): Promise<ClaimedTimer[]> {
  if (limit <= 0) return [];
  const rows = await sql.unsafe<ClaimedTimer[]>(CLAIM_SQL, [holder, now, leaseMs, limit], { prepare: true });
  // RETURNING comes back in no promised order: sort like the query that chose the rows.
  return rows
    .map((r) => ({ callId: r.callId, dueAt: r.dueAt }))
    .sort((a, b) => a.dueAt - b.dueAt || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0));
}

/** True when `holder` holds lease `name` until `now + ttlMs` after this call. */
export async function acquireLease(sql: Sql, name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
  const rows = await sql.unsafe(ACQUIRE_SQL, [name, holder, now, ttlMs], { prepare: true });
  return rows.length > 0;
}

/** Drops lease `name` if `holder` still holds it. */
export async function releaseLease(sql: Sql, name: string, holder: string): Promise<void> {
  await sql.unsafe(RELEASE_SQL, [name, holder], { prepare: true });
}
