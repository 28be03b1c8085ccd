/**
 * The offline-push tables of SqliteStorage (registrations, push queue, delivery trace): their
 * statements and the writes a commit makes inside the adapter's transaction.
 */
import type Database from 'better-sqlite3';
import { MAX_TRACE_ROWS_PER_CALL, type NewPushRow, type PushKind, type PushProvider, type PushRow, type PushTargetRow, type TraceRow } from '../push.js';

/** Row of `push_queue` as SQLite returns it. */
interface PushDbRow {
  id: number;
  call_id: string;
  user_id: string;
  kind: string;
  payload: string;
  created_at: number;
  expires_at: number;
  attempts: number;
  next_attempt_at: number;
  settled_at: number | null;
  last_error: string | null;
}

function prepare(db: Database.Database) {
  return {
    saveTarget: db.prepare<[string, string, string, string, number]>(
      `INSERT INTO push_targets (user_id, key, provider, target, created_at, seq)
       VALUES (?, ?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM push_targets))
       ON CONFLICT (user_id, key) DO UPDATE SET provider = excluded.provider, target = excluded.target,
         created_at = excluded.created_at, seq = excluded.seq`,
    ),
    trimTargets: db.prepare<[string, string, number]>(
      `DELETE FROM push_targets WHERE user_id = ? AND key NOT IN (
         SELECT key FROM push_targets WHERE user_id = ? ORDER BY seq DESC LIMIT ?)`,
    ),
    removeTarget: db.prepare<[string, string]>('DELETE FROM push_targets WHERE user_id = ? AND key = ?'),
    targets: db.prepare<[string], { userId: string; key: string; provider: string; target: string; createdAt: number }>(
      `SELECT user_id AS userId, key, provider, target, created_at AS createdAt FROM push_targets
       WHERE user_id = ? ORDER BY seq`,
    ),
    enqueue: db.prepare<[string, string, string, string, number, number, number]>(
      `INSERT INTO push_queue (call_id, user_id, kind, payload, created_at, expires_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    due: db.prepare<[number, number], PushDbRow>(
      'SELECT * FROM push_queue WHERE settled_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?',
    ),
    settle: db.prepare<[number, string | null, number]>(
      'UPDATE push_queue SET settled_at = ?, last_error = COALESCE(?, last_error) WHERE id = ?',
    ),
    retry: db.prepare<[number, string, number]>(
      'UPDATE push_queue SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?',
    ),
    // Steps are numbered 1, 2, … per call: the last number is also the count (one seek).
    traceCount: db.prepare<[string], { n: number }>('SELECT COALESCE(MAX(n), 0) AS n FROM call_trace WHERE call_id = ?'),
    appendTrace: db.prepare<[string, number, string, string | null, string, number, string | null]>(
      'INSERT INTO call_trace (call_id, n, user_id, device_id, step, time, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    trace: db.prepare<[string], { callId: string; userId: string; deviceId: string | null; step: string; time: number; detail: string | null }>(
      `SELECT call_id AS callId, user_id AS userId, device_id AS deviceId, step, time, detail
       FROM call_trace WHERE call_id = ? ORDER BY time, n`,
    ),
  };
}

/** Push tables on one connection. Methods are synchronous; the adapter wraps them. */
export class SqlitePush {
  private readonly st: ReturnType<typeof prepare>;
  private readonly saveTx: (row: PushTargetRow, cap: number) => void;
  private readonly appendTx: (rows: readonly TraceRow[]) => void;

  constructor(db: Database.Database) {
    this.st = prepare(db);
    this.saveTx = db.transaction((row: PushTargetRow, cap: number) => {
      this.st.saveTarget.run(row.userId, row.key, row.provider, row.target, row.createdAt);
      this.st.trimTargets.run(row.userId, row.userId, cap);
    });
    this.appendTx = db.transaction((rows: readonly TraceRow[]) => this.writeTrace(rows));
  }

  /** Writes a commit's push rows and trace steps (inside the caller's transaction). */
  writeInCommit(pushes: readonly NewPushRow[], trace: readonly TraceRow[]): void {
    for (const p of pushes) this.st.enqueue.run(p.callId, p.userId, p.kind, p.payload, p.createdAt, p.expiresAt, p.createdAt);
    this.writeTrace(trace);
  }

  private writeTrace(rows: readonly TraceRow[]): void {
    const counts = new Map<string, number>();
    for (const r of rows) {
      const n = counts.get(r.callId) ?? this.st.traceCount.get(r.callId)?.n ?? 0;
      if (n >= MAX_TRACE_ROWS_PER_CALL) continue;
      this.st.appendTrace.run(r.callId, n + 1, r.userId, r.deviceId, r.step, r.time, r.detail);
      counts.set(r.callId, n + 1);
    }
  }

  save(row: PushTargetRow, cap: number): void {
    this.saveTx(row, cap);
  }

  remove(userId: string, key: string): boolean {
    return this.st.removeTarget.run(userId, key).changes > 0;
  }

  targets(userId: string): PushTargetRow[] {
    // The provider column only holds values written from a PushProvider.
    return this.st.targets.all(userId).map((t) => ({ ...t, provider: t.provider as PushProvider }));
  }

  due(now: number, limit: number): PushRow[] {
    return this.st.due.all(now, limit).map((r) => ({
      id: r.id,
      callId: r.call_id,
      userId: r.user_id,
      kind: r.kind as PushKind,
      payload: r.payload,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      settledAt: r.settled_at,
      lastError: r.last_error,
    }));
  }

  settle(id: number, at: number, error: string | null): void {
    this.st.settle.run(at, error, id);
  }

  retry(id: number, nextAttemptAt: number, error: string): void {
    this.st.retry.run(nextAttemptAt, error, id);
  }

  append(rows: readonly TraceRow[]): void {
    this.appendTx(rows);
  }

  trace(callId: string): TraceRow[] {
    return this.st.trace.all(callId);
  }
}
