/**
 * The SQLite adapter's stored requests and device events (see Storage: `requestResult`,
 * `recentDeviceEvents`). `writeInCommit` runs inside the commit transaction, so a request's
 * outcome and the events it caused exist exactly when its state change does.
 *
 * A commit's events are one `commit_events` row holding a JSON array of
 * `[userId, deviceId, eid, event]` (schema 7): one B-tree insert per commit instead of three per
 * event. `forgetDevice` leaves those rows alone and records, per device, the last row whose events
 * it hides; reads skip them, and the purge drops tombstones no row needs any more.
 */
import type Database from 'better-sqlite3';
import { RequestCommittedError } from '../Storage.js';
import type { DeviceEventRow, StoredRequest } from '../Storage.js';
import { packEvents, unpackEvents, type ForgottenDevice, type PackedCommitRow } from '../packedEvents.js';

/** Prepared statements of the two tables. */
export class SqliteReplay {
  readonly #insertRequest: Database.Statement<[string, string, number, string, string, number]>;
  readonly #insertEvents: Database.Statement<[number, string]>;
  readonly #request: Database.Statement<[string, string, number], StoredRequest>;
  readonly #forget: Database.Statement<[string, string]>;
  readonly #forgetEvents: Database.Statement<[string, string]>;
  readonly #forgotten: Database.Statement<[], ForgottenDevice>;
  readonly #since: Database.Statement<[number], PackedCommitRow>;
  readonly #purgeRequests: Database.Statement<[number, number]>;
  readonly #purgeEvents: Database.Statement<[number, number]>;
  readonly #purgeTombstones: Database.Statement<[]>;

  constructor(db: Database.Database) {
    // A request commits at most once: writeInCommit refuses a second run's commit.
    this.#insertRequest = db.prepare(
      `INSERT INTO requests (user_id, device_id, request_id, result, events, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#insertEvents = db.prepare('INSERT INTO commit_events (created_at, events) VALUES (?, ?)');
    this.#request = db.prepare(
      `SELECT user_id AS userId, device_id AS deviceId, request_id AS requestId, result, events, created_at AS createdAt
       FROM requests WHERE user_id = ? AND device_id = ? AND request_id = ?`,
    );
    this.#forget = db.prepare('DELETE FROM requests WHERE user_id = ? AND device_id = ?');
    // Rows of this batch are visible here, so the tombstone covers every event committed so far.
    this.#forgetEvents = db.prepare(
      `INSERT INTO forgotten_devices (user_id, device_id, upto)
       VALUES (?, ?, (SELECT COALESCE(MAX(id), 0) FROM commit_events))
       ON CONFLICT (user_id, device_id) DO UPDATE SET upto = excluded.upto`,
    );
    this.#forgotten = db.prepare('SELECT user_id AS userId, device_id AS deviceId, upto FROM forgotten_devices');
    // Through the time index (few recent rows of a long table); unpackEvents restores commit
    // order, since ORDER BY id would make SQLite scan the whole table in id order instead.
    this.#since = db.prepare(
      'SELECT id, created_at AS createdAt, events FROM commit_events INDEXED BY commit_events_created WHERE created_at >= ?',
    );
    this.#purgeRequests = db.prepare(
      `DELETE FROM requests WHERE (user_id, device_id, request_id) IN (
         SELECT user_id, device_id, request_id FROM requests WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
    );
    this.#purgeEvents = db.prepare(
      `DELETE FROM commit_events WHERE id IN (SELECT id FROM commit_events WHERE created_at < ? ORDER BY id LIMIT ?)`,
    );
    // A tombstone below every stored row hides nothing; with no row left none is needed, which
    // also makes a reused id (the table emptied) safe.
    this.#purgeTombstones = db.prepare(
      `DELETE FROM forgotten_devices WHERE upto < (SELECT COALESCE(MIN(id), 9007199254740991) FROM commit_events)`,
    );
  }

  /**
   * Writes a commit's rows; call inside the commit transaction. Throws RequestCommittedError when
   * the request has committed already (the transaction then writes nothing).
   */
  writeInCommit(request: StoredRequest | undefined, events: readonly DeviceEventRow[]): void {
    if (request) {
      try {
        this.#insertRequest.run(request.userId, request.deviceId, request.requestId, request.result, request.events, request.createdAt);
      } catch (e) {
        // The primary key refuses a second run's row: no look-up before every insert.
        if ((e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
          throw new RequestCommittedError(request.userId, request.deviceId, request.requestId);
        }
        throw e;
      }
    }
    if (events.length > 0) this.#insertEvents.run(events[0]!.createdAt, packEvents(events));
  }

  /** The stored outcome of a request, or null. */
  request(userId: string, deviceId: string, requestId: number): StoredRequest | null {
    return this.#request.get(userId, deviceId, requestId) ?? null;
  }

  /** Forgets a device's stored requests and events. */
  forget(userId: string, deviceId: string): void {
    this.#forget.run(userId, deviceId);
    this.#forgetEvents.run(userId, deviceId);
  }

  /** Device events created at or after `since`, in commit order, forgotten devices' left out. */
  eventsSince(since: number): DeviceEventRow[] {
    return unpackEvents(this.#since.all(since), this.#forgotten.all());
  }

  /**
   * Deletes up to `limit` requests and up to `limit` commits' events older than `before`, oldest
   * first; returns how many rows of each went.
   */
  purge(before: number, limit: number): { requests: number; events: number } {
    const requests = this.#purgeRequests.run(before, limit).changes;
    const events = this.#purgeEvents.run(before, limit).changes;
    if (events > 0) this.#purgeTombstones.run();
    return { requests, events };
  }
}
