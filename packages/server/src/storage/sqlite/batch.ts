/**
 * Group commit for the SQLite adapter: the writes made during one event-loop turn share one
 * transaction. The first write of a turn opens it (`BEGIN IMMEDIATE`); each write runs in its own
 * savepoint, so one that fails rolls back alone; a `setImmediate` commits them all together.
 * Every caller gets a promise that settles when its write is durable, and nothing that depends on
 * a write (an event, a response) may leave before that promise resolves: durability is what it
 * was with one transaction per write, while a commit's WAL pages, locks and syscalls are paid
 * once per turn instead of once per write (under load, pages shared by many commits — the same
 * index leaves — are written once).
 *
 * Reads on this connection see the writes of the open transaction, which is what the single
 * process that owns this file wants: a later command reads the state an earlier one staged.
 */
import type Database from 'better-sqlite3';

interface Pending {
  promise: Promise<void>;
  resolve(): void;
  reject(err: unknown): void;
}

function pending(): Pending {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every writer awaits its own `.then` of this promise; this keeps a batch nobody waits for
  // (all its writes failed in their savepoints) from raising an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** The open batch of one connection. */
export class WriteBatch {
  readonly #db: Database.Database;
  readonly #onRollback: () => void;
  /** Runs a function in a savepoint of the open transaction (better-sqlite3 nests that way). */
  readonly #savepoint: <T>(fn: () => T) => T;
  #open: Pending | null = null;

  /**
   * @param db the connection (this class owns its transactions from now on)
   * @param onRollback called when a whole batch failed to commit (caches of written rows are stale)
   */
  constructor(db: Database.Database, onRollback: () => void) {
    this.#db = db;
    this.#onRollback = onRollback;
    const tx = db.transaction((fn: () => unknown) => fn());
    this.#savepoint = tx as <T>(fn: () => T) => T;
  }

  /**
   * Runs `fn` (synchronous SQLite work) in the open batch, opening one if needed. Throws what `fn`
   * throws (its writes rolled back, the batch's others kept). Returns `fn`'s result and a promise
   * that resolves once the batch is committed, or rejects with the commit's error.
   */
  run<T>(fn: () => T): { result: T; durable: Promise<void> } {
    let batch = this.#open;
    if (!batch) {
      // IMMEDIATE takes the write lock up front, so another process writing the same file queues
      // on busy_timeout instead of failing with SQLITE_BUSY on a lock upgrade.
      this.#db.exec('BEGIN IMMEDIATE');
      batch = this.#open = pending();
      setImmediate(() => this.flush());
    }
    const result = this.#savepoint(fn);
    return { result, durable: batch.promise };
  }

  /** Runs `fn` in the batch and waits until it is durable. */
  async write<T>(fn: () => T): Promise<T> {
    const { result, durable } = this.run(fn);
    await durable;
    return result;
  }

  /**
   * Resolves once the batch open now (if any) has settled, committed or not: a reader that must
   * not act on staged rows (answering a re-sent request from its stored outcome) waits for it.
   */
  async settled(): Promise<void> {
    await this.#open?.promise.catch(() => {});
  }

  /** Commits the open batch now (at the end of the turn, and before closing). */
  flush(): void {
    const batch = this.#open;
    if (!batch) return;
    this.#open = null;
    if (!this.#db.open) {
      batch.reject(new Error('the database was closed before the batch committed'));
      return;
    }
    try {
      this.#db.exec('COMMIT');
    } catch (err) {
      // Disk full, I/O error: nothing of the batch is stored, and its writers are told so.
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      this.#onRollback();
      batch.reject(err);
      return;
    }
    batch.resolve();
  }
}
