/**
 * One commit's device events as one stored value (SQLite schema 7, PostgreSQL migration 4): a JSON
 * array of `[userId, deviceId, eid, event]`, so a commit writes one row instead of one row (and
 * two index entries) per event. Forgetting a device leaves a tombstone, the last commit row whose
 * events it hides, that reads honour.
 */
import type { DeviceEventRow } from './Storage.js';

/** One stored event inside a packed commit. */
type PackedEvent = [userId: string, deviceId: string, eid: string, event: unknown];

/** A stored commit row as the adapters read it. */
export interface PackedCommitRow {
  /** Commit order. */
  id: number;
  createdAt: number;
  events: string;
}

/** A device's tombstone: events in commit rows up to `upto` are hidden from it. */
export interface ForgottenDevice {
  userId: string;
  deviceId: string;
  upto: number;
}

/** The events of one commit as one JSON array; each event's JSON text is spliced in as it is. */
export function packEvents(events: readonly DeviceEventRow[]): string {
  let out = '[';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (i > 0) out += ',';
    out += `[${JSON.stringify(e.userId)},${JSON.stringify(e.deviceId)},${JSON.stringify(e.eid)},${e.event}]`;
  }
  return `${out}]`;
}

const deviceKey = (userId: string, deviceId: string): string => `${userId}\n${deviceId}`;

/** The events of `rows` (any order) in commit order, those a tombstone hides left out. */
export function unpackEvents(rows: readonly PackedCommitRow[], forgotten: readonly ForgottenDevice[]): DeviceEventRow[] {
  const hidden = new Map<string, number>();
  for (const f of forgotten) hidden.set(deviceKey(f.userId, f.deviceId), f.upto);
  const out: DeviceEventRow[] = [];
  for (const row of [...rows].sort((a, b) => a.id - b.id)) {
    for (const [userId, deviceId, eid, event] of JSON.parse(row.events) as PackedEvent[]) {
      const upto = hidden.get(deviceKey(userId, deviceId));
      if (upto !== undefined && row.id <= upto) continue;
      out.push({ userId, deviceId, eid, event: JSON.stringify(event), createdAt: row.createdAt });
    }
  }
  return out;
}
