/**
 * Queues a node's commits (and trace appends) and sends those of one event-loop turn to
 * PostgreSQL together (commitBatch.ts): under load a busy node's commands finish their reads in
 * the same turn, so their writes share one statement and one WAL flush. Each commit's promise
 * settles only after the statement holding it returned, so nothing a change causes is sent
 * before it is durable.
 *
 * At most `inFlight` statements run at once; commits arriving meanwhile wait and go together in
 * the next, which is what makes batches grow with load (as SQLite's group commit does with its
 * one writer). Alone, a commit waits only for the end of the current turn. The price: a
 * statement waiting on a row another node holds delays the node's later commits as long (one in
 * flight measured fastest, bench/micro/callService.ts; 2 and 4 were slower).
 */
import { VersionConflictError, type CallChange } from '../Storage.js';
import type { TraceRow } from '../push.js';
import { batchKeys } from './commitBatch.js';

/** One queued write: a change, or trace steps appended on their own. */
interface Pending {
  change: CallChange | null;
  trace: readonly TraceRow[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** How a batch reaches the database. */
export interface BatchWriter {
  /** Writes one change on its own; throws its mapped error (VersionConflictError, BusyConflictError, …). */
  one(change: CallChange): Promise<void>;
  /** Appends trace steps on their own. */
  trace(rows: readonly TraceRow[]): Promise<void>;
  /**
   * Writes several changes and appended trace steps in one statement; returns the ids of the calls
   * written (the others lost their version race).
   */
  many(changes: readonly CallChange[], trace: readonly TraceRow[]): Promise<Set<string>>;
  /**
   * True when `err`, thrown by `many`, proves the statement wrote nothing (the server refused it).
   * Only then are its items retried one by one; a lost connection may have lost only the answer,
   * and re-running a change that did commit would report it as a version conflict.
   */
  rolledBack(err: unknown): boolean;
}

/** Options of {@link GroupCommit}. */
export interface GroupCommitOptions {
  /** Statements at once (default 1). */
  inFlight?: number;
  /** Changes per statement at most (default 64): bounds the statement's size and its lock set. */
  maxBatch?: number;
}

/** The commit queue of one storage. */
export class GroupCommit {
  readonly #writer: BatchWriter;
  readonly #inFlight: number;
  readonly #maxBatch: number;
  #queue: Pending[] = [];
  #running = 0;
  #scheduled = false;

  constructor(writer: BatchWriter, o: GroupCommitOptions = {}) {
    this.#writer = writer;
    this.#inFlight = o.inFlight ?? 1;
    this.#maxBatch = o.maxBatch ?? 64;
  }

  /** Queues `change`; resolves once it is durable, rejects with the error its own commit would have. */
  commit(change: CallChange): Promise<void> {
    return this.#enqueue(change, []);
  }

  /** Queues trace steps to append; resolves once they are durable. */
  appendTrace(rows: readonly TraceRow[]): Promise<void> {
    return this.#enqueue(null, rows);
  }

  #enqueue(change: CallChange | null, trace: readonly TraceRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ change, trace, resolve, reject });
      this.#schedule();
    });
  }

  /** Writes one queued item on its own. */
  #one(p: Pending): Promise<void> {
    return (p.change ? this.#writer.one(p.change) : this.#writer.trace(p.trace)).then(p.resolve, p.reject);
  }

  /** Sends at the end of this turn (setImmediate: after the I/O callbacks that queued the turn's commits). */
  #schedule(): void {
    if (this.#scheduled || this.#running >= this.#inFlight) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    while (this.#running < this.#inFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#running++;
      void this.#send(batch).finally(() => {
        this.#running--;
        if (this.#queue.length > 0) this.#schedule();
      });
    }
  }

  /** The longest prefix of the queue with no key twice (batchKeys), up to maxBatch. */
  #take(): Pending[] {
    const seen = new Set<string>();
    let n = 0;
    for (; n < this.#queue.length && n < this.#maxBatch; n++) {
      const { change } = this.#queue[n]!;
      const keys = change ? batchKeys(change) : [];
      if (n > 0 && keys.some((k) => seen.has(k))) break;
      for (const k of keys) seen.add(k);
    }
    return this.#queue.splice(0, Math.max(n, 1));
  }

  async #send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) return this.#one(batch[0]!);
    let written: Set<string>;
    try {
      const changes = batch.flatMap((p) => (p.change ? [p.change] : []));
      written = await this.#writer.many(changes, batch.flatMap((p) => p.trace));
    } catch (err) {
      if (!this.#writer.rolledBack(err)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // The server refused the statement as a whole (a busy leg, a deadlock): nothing of it was
      // written. One by one, in order, each item gets exactly its own outcome.
      for (const p of batch) await this.#one(p);
      return;
    }
    for (const p of batch) {
      if (!p.change || written.has(p.change.state.callId)) p.resolve();
      else p.reject(new VersionConflictError(p.change.state.callId));
    }
  }
}
