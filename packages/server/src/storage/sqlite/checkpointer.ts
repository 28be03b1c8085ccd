/**
 * The SQLite adapter's WAL checkpointer: a worker thread that checkpoints off the event loop.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Runs WAL checkpoints in a worker thread on its own connection. A checkpoint fsyncs the WAL and
 * the database; done by the committing connection (SQLite's auto-checkpoint) those fsyncs stalled
 * the event loop and were the largest single cost of a commit under load. Plain CommonJS, run
 * with `eval` so it needs no file of its own in `src/` and `dist/`.
 */
const CHECKPOINTER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
// A checkpoint copies pages through its own buffer: this connection needs no page cache.
db.pragma('cache_size = 16');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy (another process checkpoints): next round */ }
};
const timer = setInterval(checkpoint, workerData.everyMs);
parentPort.once('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/** How often the checkpointer runs, ms: often, so the frames it has not copied yet stay few. */
const CHECKPOINT_EVERY_MS = 50;
/**
 * WAL pages (4 KiB) after which the committing connection checkpoints itself. The WAL restarts
 * from its beginning only after a checkpoint copied every frame, which one racing a busy writer
 * rarely does; the writer then copies the small remainder itself (also the path if the thread dies).
 */
const FALLBACK_AUTOCHECKPOINT = 20_000;

/** A running checkpointer thread. */
export interface Checkpointer {
  /** Stops the thread and waits until it closed its connection. */
  stop(): Promise<void>;
}

/**
 * Starts the checkpointer for the file database `db` at `path`. If the thread dies, SQLite's own
 * auto-checkpoint takes over at its usual size (unless `closed()` says the database is gone).
 */
export function startCheckpointer(db: Database.Database, path: string, closed: () => boolean): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT}`);
  const worker = new Worker(CHECKPOINTER, {
    eval: true,
    execArgv: [],
    workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path, everyMs: CHECKPOINT_EVERY_MS },
  });
  worker.unref();
  worker.on('error', () => {
    if (!closed()) db.pragma('wal_autocheckpoint = 1000');
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    stop: async () => {
      // Referenced again so the process waits for the thread to close its connection.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}
