/**
 * Storage entry point: picks an adapter from a configuration string and re-exports the interface.
 * The contract suite (`contract.ts`) is deliberately not re-exported: it imports node:test.
 */
import { MemoryStorage } from './memory/MemoryStorage.js';
import { SqliteStorage } from './sqlite/SqliteStorage.js';
import type { Storage } from './Storage.js';

export { VersionConflictError } from './Storage.js';
export type { CallChange, EndedCallsFilter, Membership, NewOutboxRow, OutboxRow, Storage } from './Storage.js';
export { MemoryStorage } from './memory/MemoryStorage.js';
export { SqliteStorage } from './sqlite/SqliteStorage.js';
export { tencentCallResult } from './callResult.js';

/** Prefix that forces SQLite, so an in-memory SQLite database can be asked for explicitly. */
const SQLITE_PREFIX = 'sqlite:';

/**
 * Opens the storage named by `spec`:
 * - `:memory:` → MemoryStorage (tests, throwaway demos);
 * - `sqlite:<path>` → SqliteStorage on `<path>`, so `sqlite::memory:` is an in-memory SQLite
 *   database (exercises the SQL path without a file);
 * - anything else → SqliteStorage on that file path (the embedded default).
 */
export function openStorage(spec: string): Storage {
  if (spec === ':memory:') return new MemoryStorage();
  if (spec.startsWith(SQLITE_PREFIX)) return new SqliteStorage(spec.slice(SQLITE_PREFIX.length));
  return new SqliteStorage(spec);
}
