/**
 * Storage entry point: picks an adapter from a configuration string and re-exports the interface.
 * The contract suite (`contract.ts`) is deliberately not re-exported: it imports node:test.
 */
import { MemoryStorage } from './memory/MemoryStorage.js';
import { SqliteStorage } from './sqlite/SqliteStorage.js';
import type { Storage } from './Storage.js';

export { BUSY_LEG_STATES, BusyConflictError, RequestCommittedError, VersionConflictError } from './Storage.js';
export type {
  CallChange,
  ClaimedTimer,
  DeviceEventRow,
  EndedCallsFilter,
  Membership,
  NewOutboxRow,
  OutboxRow,
  Storage,
  StorageKind,
  StoredRequest,
} from './Storage.js';
export { MemoryStorage } from './memory/MemoryStorage.js';
// PostgresStorage is not re-exported: openStorage loads it (and postgres.js) only when asked for.
export { SqliteStorage } from './sqlite/SqliteStorage.js';
export type { NewPushRow, PushKind, PushProvider, PushRow, PushTargetRow, TraceRow } from './push.js';
export { MAX_PUSH_TARGETS_PER_USER, MAX_TRACE_ROWS_PER_CALL } from './push.js';
export { tencentCallResult } from './callResult.js';

/** Prefix that forces SQLite, so an in-memory SQLite database can be asked for explicitly. */
const SQLITE_PREFIX = 'sqlite:';

/** The accepted forms, for the error that refuses any other. */
const ACCEPTED = "':memory:', a SQLite file path, 'sqlite:<path>', or a 'postgres://' / 'postgresql://' URL";

/**
 * A leading `scheme:` (two or more letters, so a Windows drive `C:` stays a path): such a spec
 * names a kind of storage, and an unknown one must be refused, never taken as a file name.
 */
const SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/**
 * Opens the storage named by `spec`:
 * - `:memory:` → MemoryStorage (tests, throwaway demos);
 * - `sqlite:<path>` → SqliteStorage on `<path>`, so `sqlite::memory:` is an in-memory SQLite
 *   database (exercises the SQL path without a file);
 * - `postgres://…` or `postgresql://…` → PostgresStorage (cluster mode), connected and migrated
 *   before this resolves;
 * - any other `scheme:` (`mysql://…`, `redis://…`, `postgres:x`) → refused with an Error;
 * - anything else → SqliteStorage on that file path (the embedded default).
 */
export async function openStorage(spec: string): Promise<Storage> {
  if (spec === ':memory:') return new MemoryStorage();
  if (spec.startsWith(SQLITE_PREFIX)) return new SqliteStorage(spec.slice(SQLITE_PREFIX.length));
  if (/^postgres(ql)?:\/\//i.test(spec)) {
    const { PostgresStorage } = await import('./postgres/PostgresStorage.js');
    return PostgresStorage.open(spec);
  }
  const scheme = SCHEME.exec(spec);
  if (scheme) throw new Error(`storage '${redactUrl(spec)}' is not supported: use ${ACCEPTED}`);
  return new SqliteStorage(spec);
}

/** `spec` with any password blanked, fit for an error message or a log line. */
function redactUrl(spec: string): string {
  return spec.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
