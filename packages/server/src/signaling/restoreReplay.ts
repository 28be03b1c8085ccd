/**
 * Restart recovery of device events: a process killed between a commit and its sends (or while a
 * device was away and its events waited in memory) lost those events. Every event a commit sends
 * is stored with it (call/requests.ts), so at start-up each device's recent ones are put back in
 * its restored session's replay buffer, in commit order, before this process commits anything.
 * The device gets them when it resumes; those it had already processed it drops by event id.
 */
import type { ServerEvent } from '@opencall/protocol/wire';
import type { Storage } from '../storage/Storage.js';
import type { Session } from './Session.js';

/**
 * How far back stored events are replayed, beyond the heartbeat window: a device away longer
 * than that window before the crash was gone already; the rest covers the time the server was
 * down (a restart on a loaded machine took up to 40 s in the chaos runs).
 */
export const REPLAY_DOWNTIME_MS = 120_000;

/**
 * Puts the stored events of the last `heartbeatMs + REPLAY_DOWNTIME_MS` into the sessions
 * `ghostOf` returns (creating a replay-only ghost for a device without a live call). Returns how
 * many events were put back.
 */
export async function replayStoredEvents(
  storage: Storage,
  now: number,
  heartbeatMs: number,
  ghostOf: (userId: string, deviceId: string) => Session,
): Promise<number> {
  const rows = await storage.recentDeviceEvents(now - heartbeatMs - REPLAY_DOWNTIME_MS);
  // Marked as replays: a device skips one its call has already moved past.
  for (const r of rows) ghostOf(r.userId, r.deviceId).push(JSON.parse(r.event) as ServerEvent, r.eid, true);
  return rows.length;
}

/**
 * How far before a dead node's last beat its stored events are sent again: a commit's events can
 * lag it by this much on a loaded machine (the node may have committed, then stalled).
 */
export const REPLAY_BEFORE_DEATH_MS = 10_000;

/**
 * Cluster mode: sends every event stored since `since` again, marked as a replay, each device's in
 * commit order. Devices drop the ones they processed (by id) and the ones a later state of their
 * call has overtaken.
 */
export async function replayStoredEventsTo(
  storage: Storage,
  since: number,
  deliver: (userId: string, deviceId: string, event: ServerEvent, eid: string) => void | Promise<void>,
): Promise<number> {
  const rows = await storage.recentDeviceEvents(since);
  for (const r of rows) await deliver(r.userId, r.deviceId, JSON.parse(r.event) as ServerEvent, r.eid);
  return rows.length;
}
