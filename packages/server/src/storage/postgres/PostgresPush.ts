/**
 * The offline-push tables on PostgreSQL (registrations, push queue, delivery trace) outside the
 * commit statement, which writes queue rows and trace steps itself (commit.ts).
 */
import type { Sql } from 'postgres';
import type postgres from 'postgres';
import { MAX_TRACE_ROWS_PER_CALL, type PushKind, type PushProvider, type PushRow, type PushTargetRow, type TraceRow } from '../push.js';

const Q = {
  saveTarget: `INSERT INTO push_targets (user_id, key, provider, target, created_at) VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (user_id, key) DO UPDATE SET provider = excluded.provider, target = excluded.target,
      created_at = excluded.created_at, seq = nextval(pg_get_serial_sequence('push_targets', 'seq'))`,
  trimTargets: `DELETE FROM push_targets WHERE user_id = $1 AND key NOT IN (
    SELECT key FROM push_targets WHERE user_id = $1 ORDER BY seq DESC LIMIT $2)`,
  removeTarget: 'DELETE FROM push_targets WHERE user_id = $1 AND key = $2',
  targets: `SELECT user_id AS "userId", key, provider, target, created_at AS "createdAt" FROM push_targets
    WHERE user_id = $1 ORDER BY seq`,
  due: `SELECT id, call_id AS "callId", user_id AS "userId", kind, payload, created_at AS "createdAt",
      expires_at AS "expiresAt", attempts, next_attempt_at AS "nextAttemptAt", settled_at AS "settledAt", last_error AS "lastError"
    FROM push_queue WHERE settled_at IS NULL AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
  settle: 'UPDATE push_queue SET settled_at = $1, last_error = COALESCE($2, last_error) WHERE id = $3',
  retry: 'UPDATE push_queue SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3',
  append: `INSERT INTO call_trace (call_id, user_id, device_id, step, time, detail)
    SELECT s.c, s.u, s.d, s.st, s.t, s.det
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[]) WITH ORDINALITY AS s(c, u, d, st, t, det, n)
    WHERE (SELECT count(*) FROM call_trace x WHERE x.call_id = s.c) < ${MAX_TRACE_ROWS_PER_CALL}
    ORDER BY s.n`,
  trace: `SELECT call_id AS "callId", user_id AS "userId", device_id AS "deviceId", step, time, detail
    FROM call_trace WHERE call_id = $1 ORDER BY time, id`,
} as const;

/** Push tables through one pool. */
export class PostgresPush {
  constructor(private readonly sql: Sql<{ bigint: number }>) {}

  private q<T extends object>(text: string, params: postgres.ParameterOrJSON<never>[]): Promise<T[]> {
    return this.sql.unsafe<T[]>(text, params, { prepare: true });
  }

  async save(row: PushTargetRow, cap: number): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx.unsafe(Q.saveTarget, [row.userId, row.key, row.provider, row.target, row.createdAt], { prepare: true });
      await tx.unsafe(Q.trimTargets, [row.userId, cap], { prepare: true });
    });
  }

  async remove(userId: string, key: string): Promise<boolean> {
    return (await this.sql.unsafe(Q.removeTarget, [userId, key], { prepare: true })).count > 0;
  }

  async targets(userId: string): Promise<PushTargetRow[]> {
    const rows = await this.q<Omit<PushTargetRow, 'provider'> & { provider: string }>(Q.targets, [userId]);
    // The provider column only holds values written from a PushProvider.
    return rows.map((r) => ({ ...r, provider: r.provider as PushProvider }));
  }

  async due(now: number, limit: number): Promise<PushRow[]> {
    const rows = await this.q<Omit<PushRow, 'kind'> & { kind: string }>(Q.due, [now, limit]);
    return rows.map((r) => ({ ...r, kind: r.kind as PushKind }));
  }

  async settle(id: number, at: number, error: string | null): Promise<void> {
    await this.q(Q.settle, [at, error, id]);
  }

  async retry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.q(Q.retry, [nextAttemptAt, error, id]);
  }

  async append(rows: readonly TraceRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.q(Q.append, [
      rows.map((r) => r.callId),
      rows.map((r) => r.userId),
      rows.map((r) => r.deviceId),
      rows.map((r) => r.step),
      rows.map((r) => r.time),
      rows.map((r) => r.detail),
    ]);
  }

  async trace(callId: string): Promise<TraceRow[]> {
    // Plain objects (postgres.js answers a Result array of row objects).
    return (await this.q<TraceRow>(Q.trace, [callId])).map((r) => ({ callId: r.callId, userId: r.userId, deviceId: r.deviceId, step: r.step, time: r.time, detail: r.detail }));
  }
}
