/**
 * The memory adapter's stored requests and device events (see Storage: `requestResult`,
 * `recentDeviceEvents`), kept apart from MemoryStorage so each file stays small.
 */
import type { DeviceEventRow, StoredRequest } from '../Storage.js';

/** Key of a stored request; NUL cannot occur in user or device ids. */
function requestKey(userId: string, deviceId: string, requestId: number): string {
  return `${userId}\u0000${deviceId}\u0000${requestId}`;
}

/** Stored requests by key and device events in commit order. */
export class MemoryReplay {
  readonly #requests = new Map<string, StoredRequest>();
  /** Commit order; purges remove from the front (rows are appended with increasing times). */
  #events: DeviceEventRow[] = [];

  /** Writes a commit's rows (the caller has made every check: this cannot fail). */
  write(request: StoredRequest | undefined, events: readonly DeviceEventRow[]): void {
    if (request) this.#requests.set(requestKey(request.userId, request.deviceId, request.requestId), { ...request });
    for (const e of events) this.#events.push({ ...e });
  }

  /** The stored outcome of a request, or null. */
  request(userId: string, deviceId: string, requestId: number): StoredRequest | null {
    const r = this.#requests.get(requestKey(userId, deviceId, requestId));
    return r ? { ...r } : null;
  }

  /** Forgets a device's stored requests and events. */
  forget(userId: string, deviceId: string): void {
    for (const [k, r] of this.#requests) if (r.userId === userId && r.deviceId === deviceId) this.#requests.delete(k);
    this.#events = this.#events.filter((e) => e.userId !== userId || e.deviceId !== deviceId);
  }

  /** Device events created at or after `since`, in commit order. */
  eventsSince(since: number): DeviceEventRow[] {
    return this.#events.filter((e) => e.createdAt >= since).map((e) => ({ ...e }));
  }

  /** Deletes up to `limit` of each older than `before`, oldest first. */
  purge(before: number, limit: number): { requests: number; events: number } {
    const old = [...this.#requests.entries()]
      .filter(([, r]) => r.createdAt < before)
      .sort(([, a], [, b]) => a.createdAt - b.createdAt)
      .slice(0, limit);
    for (const [k] of old) this.#requests.delete(k);
    let events = 0;
    this.#events = this.#events.filter((e) => {
      if (events >= limit || e.createdAt >= before) return true;
      events++;
      return false;
    });
    return { requests: old.length, events };
  }
}
