/**
 * Timer claims and named leases on SQLite, the statements behind `claimDueTimers`,
 * `acquireLease` and `releaseLease`. Each is one statement, so it is atomic on its own even with
 * several processes on one file (SQLite serialises writers).
 */
import type Database from 'better-sqlite3';
import type { ClaimedTimer } from '../Storage.js';

/** Parameters of the timer claim. */
interface ClaimParams {
  holder: string;
  now: number;
  until: number;
  limit: number;
}

/** Parameters of a lease take-or-renew. */
interface LeaseParams {
  name: string;
  holder: string;
  now: number;
  until: number;
}

/** The claim and lease operations of one connection. */
export interface SqliteClaims {
  claimDueTimers(holder: string, now: number, leaseMs: number, limit: number): ClaimedTimer[];
  acquireLease(name: string, holder: string, ttlMs: number, now: number): boolean;
  releaseLease(name: string, holder: string): void;
}

/** Prepares the claim and lease statements on `db` (schema version 3 or later). */
export function prepareClaims(db: Database.Database): SqliteClaims {
  // A claim is live while now < claimed_until; an expired one is taken over like a free timer.
  const claim = db.prepare<ClaimParams, ClaimedTimer>(
    `UPDATE timers SET claimed_by = @holder, claimed_until = @until
     WHERE call_id IN (
       SELECT call_id FROM timers
       WHERE due_at <= @now AND (claimed_until IS NULL OR claimed_until <= @now)
       ORDER BY due_at, call_id LIMIT @limit)
     RETURNING call_id AS callId, due_at AS dueAt`,
  );
  // Insert when free; overwrite only the holder's own row or an expired one; no row back = refused.
  const acquire = db.prepare<LeaseParams, { holder: string }>(
    `INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @until)
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE leases.holder = excluded.holder OR leases.expires_at <= @now
     RETURNING holder`,
  );
  const release = db.prepare<[string, string]>('DELETE FROM leases WHERE name = ? AND holder = ?');
  return {
    claimDueTimers: (holder, now, leaseMs, limit) =>
      // RETURNING comes back in no promised order: sort like the query that chose the rows.
      claim
        .all({ holder, now, until: now + leaseMs, limit: Math.max(0, limit) })
        .sort((a, b) => a.dueAt - b.dueAt || (a.callId < b.callId ? -1 : a.callId > b.callId ? 1 : 0)),
    acquireLease: (name, holder, ttlMs, now) => acquire.get({ name, holder, now, until: now + ttlMs }) !== undefined,
    releaseLease: (name, holder) => {
      release.run(name, holder);
    },
  };
}
