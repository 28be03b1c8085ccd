/**
 * Stored requests and device events on PostgreSQL outside the commit statement, which writes
 * them itself (commit.ts: `new_request`, `new_device_events`).
 */
import type { Sql } from 'postgres';
import type postgres from 'postgres';
import type { DeviceEventRow, StoredRequest } from '../Storage.js';

const Q = {
  request: `SELECT user_id AS "userId", device_id AS "deviceId", request_id AS "requestId", result, events,
      created_at AS "createdAt"
    FROM requests WHERE user_id = $1 AND device_id = $2 AND request_id = $3`,
  forget: 'DELETE FROM requests WHERE user_id = $1 AND device_id = $2',
  forgetEvents: 'DELETE FROM device_events WHERE user_id = $1 AND device_id = $2',
  since: `SELECT user_id AS "userId", device_id AS "deviceId", eid, event, created_at AS "createdAt"
    FROM device_events WHERE created_at >= $1 ORDER BY id`,
  purgeRequests: `DELETE FROM requests WHERE (user_id, device_id, request_id) IN (
      SELECT user_id, device_id, request_id FROM requests WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
  purgeEvents: `DELETE FROM device_events WHERE id IN (
      SELECT id FROM device_events WHERE created_at < $1 ORDER BY id LIMIT $2)`,
} as const;

/** The two tables through one pool. */
export class PostgresReplay {
  constructor(private readonly sql: Sql<{ bigint: number }>) {}

  private q<T extends object>(text: string, params: postgres.ParameterOrJSON<never>[]): Promise<T[]> {
    return this.sql.unsafe<T[]>(text, params, { prepare: true });
  }

  /** The stored outcome of a request, or null. */
  async request(userId: string, deviceId: string, requestId: number): Promise<StoredRequest | null> {
    const [r] = await this.q<StoredRequest>(Q.request, [userId, deviceId, requestId]);
    return r ? { ...r } : null;
  }

  /** Forgets a device's stored requests and events. */
  async forget(userId: string, deviceId: string): Promise<void> {
    await this.q(Q.forget, [userId, deviceId]);
    await this.q(Q.forgetEvents, [userId, deviceId]);
  }

  /** Device events created at or after `since`, in commit order. */
  async eventsSince(since: number): Promise<DeviceEventRow[]> {
    return (await this.q<DeviceEventRow>(Q.since, [since])).map((r) => ({ ...r }));
  }

  /** Deletes up to `limit` of each older than `before`, oldest first. */
  async purge(before: number, limit: number): Promise<{ requests: number; events: number }> {
    const requests = await this.sql.unsafe(Q.purgeRequests, [before, limit], { prepare: true });
    const events = await this.sql.unsafe(Q.purgeEvents, [before, limit], { prepare: true });
    return { requests: requests.count, events: events.count };
  }
}
