/**
 * The offline-push part of MemoryStorage (registrations, push queue, delivery trace), kept apart
 * so the adapter stays readable. Same semantics as the SQLite tables (both pass `contract.ts`).
 */
import { MAX_TRACE_ROWS_PER_CALL, type NewPushRow, type PushRow, type PushTargetRow, type TraceRow } from '../push.js';

/** Registrations, queue and trace kept in arrays and maps. */
export class MemoryPush {
  /** Registrations in insertion order (oldest first). */
  private targets: PushTargetRow[] = [];
  /** Queue rows in id order. */
  private readonly queue: PushRow[] = [];
  private nextId = 1;
  /** Trace rows per call, in insertion order. */
  private readonly traces = new Map<string, TraceRow[]>();

  /** Inserts a registration (same key replaced) and trims the user's oldest beyond `cap`. */
  save(row: PushTargetRow, cap: number): void {
    this.targets = this.targets.filter((t) => !(t.userId === row.userId && t.key === row.key));
    this.targets.push({ ...row });
    const mine = this.targets.filter((t) => t.userId === row.userId);
    const drop = new Set(mine.slice(0, Math.max(0, mine.length - cap)));
    if (drop.size > 0) this.targets = this.targets.filter((t) => !drop.has(t));
  }

  /** Removes one registration. */
  remove(userId: string, key: string): boolean {
    const before = this.targets.length;
    this.targets = this.targets.filter((t) => !(t.userId === userId && t.key === key));
    return this.targets.length < before;
  }

  /** A user's registrations, oldest first. */
  of(userId: string): PushTargetRow[] {
    return this.targets.filter((t) => t.userId === userId).map((t) => ({ ...t }));
  }

  /** Enqueues rows written by a commit. */
  enqueue(rows: readonly NewPushRow[]): void {
    for (const r of rows) {
      this.queue.push({ ...r, id: this.nextId++, attempts: 0, nextAttemptAt: r.createdAt, settledAt: null, lastError: null });
    }
  }

  /** Pending rows due at `now`, by id. */
  due(now: number, limit: number): PushRow[] {
    return this.queue
      .filter((r) => r.settledAt === null && r.nextAttemptAt <= now)
      .slice(0, limit)
      .map((r) => ({ ...r }));
  }

  /** Settles a row. */
  settle(id: number, at: number, error: string | null): void {
    const r = this.queue.find((q) => q.id === id);
    if (!r) return;
    r.settledAt = at;
    if (error !== null) r.lastError = error;
  }

  /** Counts a failed attempt and reschedules. */
  retry(id: number, nextAttemptAt: number, error: string): void {
    const r = this.queue.find((q) => q.id === id);
    if (!r) return;
    r.attempts += 1;
    r.nextAttemptAt = nextAttemptAt;
    r.lastError = error;
  }

  /** Appends trace rows, each call capped. */
  append(rows: readonly TraceRow[]): void {
    for (const r of rows) {
      const list = this.traces.get(r.callId) ?? [];
      if (list.length >= MAX_TRACE_ROWS_PER_CALL) continue;
      list.push({ ...r });
      this.traces.set(r.callId, list);
    }
  }

  /** A call's trace by time, then insertion. */
  trace(callId: string): TraceRow[] {
    const list = this.traces.get(callId) ?? [];
    // Array.prototype.sort is stable: equal times keep insertion order.
    return list.map((r) => ({ ...r })).sort((a, b) => a.time - b.time);
  }

  /** Drops the traces of calls that are gone (history retention). */
  dropTraces(callIds: readonly string[]): void {
    for (const id of callIds) this.traces.delete(id);
  }

  /** Deletes up to `limit` rows settled before `before`, oldest first; returns how many. */
  purgeSettled(before: number, limit: number): number {
    let n = 0;
    for (let i = 0; i < this.queue.length && n < limit; ) {
      const r = this.queue[i]!;
      if (r.settledAt !== null && r.settledAt < before) {
        this.queue.splice(i, 1);
        n++;
      } else i++;
    }
    return n;
  }
}
