/**
 * Answers a re-sent request from its stored outcome (call/requests.ts). A client re-sends a
 * request after a reconnection with `retry: true`; the process (or node) that ran it may have
 * died after its commit, so the outcome is looked up in storage, never run twice. The events the
 * commit sent the requesting device go out again first (the crash may have fallen before they
 * did; the client drops event ids it has processed), then the stored response.
 */
import type { ClientMessage, ServerEvent } from '@opencall/protocol';
import type { Storage } from '../storage/Storage.js';
import type { IdentifiedEvent } from '../call/requests.js';
import type { Session } from './Session.js';

/** Message types whose outcome is stored with their commit (the handlers pass a RequestContext). */
export const STORED_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'call.start',
  'call.accept',
  'call.reject',
  'call.ignore',
  'call.hangup',
  'call.invite',
  'call.join',
  'call.switchMediaType',
]);

/** Sends one event to a device (a promise when it goes through the cluster's device log). */
export type DeliverFn = (userId: string, deviceId: string, event: ServerEvent, eid: string, replay: boolean) => void | Promise<void>;

/**
 * The response frame of a re-sent request that committed already, after re-sending its events;
 * null when the request is not a re-send of a stored one (run it).
 */
export async function storedAnswer(storage: Storage, s: Session, msg: ClientMessage, deliver: DeliverFn): Promise<string | null> {
  if (!msg.retry || !STORED_REQUEST_TYPES.has(msg.type)) return null;
  const stored = await storage.requestResult(s.userId, s.deviceId, msg.id);
  if (!stored) return null;
  const events = JSON.parse(stored.events) as IdentifiedEvent[];
  // Marked as replays: the device may have processed a later state of the call meanwhile.
  for (const { eid, event } of events) await deliver(s.userId, s.deviceId, event, eid, true);
  return JSON.stringify({ v: 1, type: 'response', id: msg.id, ok: true, data: JSON.parse(stored.result) as unknown });
}
