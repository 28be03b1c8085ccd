/**
 * The SQLite adapter's stored requests and device events (see Storage: `requestResult`,
 * `recentDeviceEvents`). `writeInCommit` runs inside the commit transaction, so a request's
 * outcome and the events it caused exist exactly when its state change does.
 */
import type Database from 'better-sqlite3';
import { RequestCommittedError } from '../Storage.js';
import type { DeviceEventRow, StoredRequest } from '../Storage.js';

/** Prepared statements of the two tables. */
export class SqliteReplay {
  readonly #insertRequest: Database.Statement<[string, string, number, string, string, number]>;
  readonly #insertEvent: Database.Statement<[string, string, string, string, number]>;
  readonly #request: Database.Statement<[string, string, number], StoredRequest>;
  readonly #forget: Database.Statement<[string, string]>;
  readonly #forgetEvents: Database.Statement<[string, string]>;
  readonly #since: Database.Statement<[number], DeviceEventRow>;
  readonly #purgeRequests: Database.Statement<[number, number]>;
  readonly #purgeEvents: Database.Statement<[number, number]>;

  constructor(db: Database.Database) {
    // A request commits at most once: writeInCommit refuses a second run's commit.
    this.#insertRequest = db.prepare(
      `INSERT INTO requests (user_id, device_id, request_id, result, events, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.#insertEvent = db.prepare('INSERT INTO device_events (user_id, device_id, eid, event, created_at) VALUES (?, ?, ?, ?, ?)');
    this.#request = db.prepare(
      `SELECT user_id AS userId, device_id AS deviceId, request_id AS requestId, result, events, created_at AS createdAt
       FROM requests WHERE user_id = ? AND device_id = ? AND request_id = ?`,
    );
    this.#forget = db.prepare('DELETE FROM requests WHERE user_id = ? AND device_id = ?');
    this.#forgetEvents = db.prepare('DELETE FROM device_events WHERE user_id = ? AND device_id = ?');
    this.#since = db.prepare(
      `SELECT user_id AS userId, device_id AS deviceId, eid, event, created_at AS createdAt
       FROM device_events WHERE created_at >= ? ORDER BY id`,
    );
    this.#purgeRequests = db.prepare(
      `DELETE FROM requests WHERE rowid IN (SELECT rowid FROM requests WHERE created_at < ? ORDER BY created_at LIMIT ?)`,
    );
    this.#purgeEvents = db.prepare(
      `DELETE FROM device_events WHERE id IN (SELECT id FROM device_events WHERE created_at < ? ORDER BY id LIMIT ?)`,
    );
  }

  /**
   * Writes a commit's rows; call inside the commit transaction. Throws RequestCommittedError when
   * the request has committed already (the transaction then writes nothing).
   */
  writeInCommit(request: StoredRequest | undefined, events: readonly DeviceEventRow[]): void {
    if (request) {
      if (this.request(request.userId, request.deviceId, request.requestId)) {
        throw new RequestCommittedError(request.userId, request.deviceId, request.requestId);
      }
      this.#insertRequest.run(request.userId, request.deviceId, request.requestId, request.result, request.events, request.createdAt);
    }
    for (const e of events) this.#insertEvent.run(e.userId, e.deviceId, e.eid, e.event, e.createdAt);
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

  /** Device events created at or after `since`, in commit order. */
  eventsSince(since: number): DeviceEventRow[] {
    return this.#since.all(since);
  }

  /** Deletes up to `limit` of each older than `before`, oldest first. */
  purge(before: number, limit: number): { requests: number; events: number } {
    return { requests: this.#purgeRequests.run(before, limit).changes, events: this.#purgeEvents.run(before, limit).changes };
  }
}
