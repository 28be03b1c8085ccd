/**
 * Stored requests and device events on PostgreSQL outside the commit statement, which writes
 * them itself (commit.ts: `new_request`, `new_device_events`). A commit's events are one
 * `commit_events` row; forgetting a device leaves a tombstone (storage/packedEvents.ts).
 */
import type { Sql } from 'postgres';
import type postgres from 'postgres';
import type { DeviceEventRow, StoredRequest } from '../Storage.js';
import { unpackEvents, type ForgottenDevice, type PackedCommitRow } from '../packedEvents.js';

const Q = {
  request: `SELECT user_id AS "userId", device_id AS "deviceId", request_id AS "requestId", result, events,
      created_at AS "createdAt"
    FROM requests WHERE user_id = $1 AND device_id = $2 AND request_id = $3`,
  forget: 'DELETE FROM requests WHERE user_id = $1 AND device_id = $2',
  // Every row committed so far is hidden from the device's old session; later ones are not.
  forgetEvents: `INSERT INTO forgotten_devices (user_id, device_id, upto)
    VALUES ($1, $2, (SELECT COALESCE(max(id), 0) FROM commit_events))
    ON CONFLICT (user_id, device_id) DO UPDATE SET upto = excluded.upto`,
  forgotten: 'SELECT user_id AS "userId", device_id AS "deviceId", upto FROM forgotten_devices',
  since: 'SELECT id, created_at AS "createdAt", events FROM commit_events WHERE created_at >= $1',
  purgeRequests: `DELETE FROM requests WHERE (user_id, device_id, request_id) IN (
      SELECT user_id, device_id, request_id FROM requests WHERE created_at < $1 ORDER BY created_at LIMIT $2)`,
  purgeEvents: `DELETE FROM commit_events WHERE id IN (
      SELECT id FROM commit_events WHERE created_at < $1 ORDER BY id LIMIT $2)`,
  // A tombstone below every stored row hides nothing (ids never repeat on PostgreSQL).
  purgeTombstones: `DELETE FROM forgotten_devices
    WHERE upto < (SELECT COALESCE(min(id), 9223372036854775807) FROM commit_events)`,
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

  /** Device events created at or after `since`, in commit order, forgotten devices' left out. */
  async eventsSince(since: number): Promise<DeviceEventRow[]> {
    const rows = await this.q<PackedCommitRow>(Q.since, [since]);
    return unpackEvents(rows, await this.q<ForgottenDevice>(Q.forgotten, []));
  }

  /** Deletes up to `limit` requests and commits' events older than `before`, oldest first. */
  async purge(before: number, limit: number): Promise<{ requests: number; events: number }> {
    const requests = await this.sql.unsafe(Q.purgeRequests, [before, limit], { prepare: true });
    const events = await this.sql.unsafe(Q.purgeEvents, [before, limit], { prepare: true });
    if (events.count > 0) await this.sql.unsafe(Q.purgeTombstones, [], { prepare: true });
    return { requests: requests.count, events: events.count };
  }
}
