/**
 * Idempotent requests and replayable events (issue 15's first crash window). A request that
 * changes a call stores its outcome in the same transaction as the change, keyed by (user,
 * device, request id); a re-sent request is answered from it instead of run again (which the
 * machine would refuse: -1203 once an `accept` has committed). Every event a commit sends gets a
 * stable id (`<callId>:<version>:<n>`) and is stored too, so events lost with a crashed process
 * between its commit and its sends reach their devices afterwards (clients drop repeated ids).
 */
import type { ServerEvent } from '@opencall/protocol/wire';
import type { DeviceEventRow, StoredRequest } from '../storage/Storage.js';
import type { CallState, Effect } from './types.js';

/** The request a command runs for, passed with it to `CallService.apply`. */
export interface RequestContext {
  userId: string;
  deviceId: string;
  /** The client's request id. */
  requestId: number;
  /** The response `data` for the machine's reply and the new state. */
  respond(reply: unknown, state: CallState): unknown;
  /**
   * False once the request's session no longer speaks for its device here (replaced by a new
   * sign-in, expired, moved to another node, or this node may have been counted dead): checked
   * right before the commit, so a run that stalled (a paused database, a stopped process) does
   * not change a call after its client gave up on it. Absent: always current.
   */
  current?(): boolean;
}

/** An event sent to one device with its stable id. */
export interface IdentifiedEvent {
  eid: string;
  event: ServerEvent;
}

/** The stable id of the `n`-th send of the commit that made `state`. */
export function eventId(state: CallState, n: number): string {
  return `${state.callId}:${state.version}:${n}`;
}

/** Each send effect of a commit with its target and stable id, in order. */
export function sendsOf(state: CallState, effects: readonly Effect[]): { userId: string; deviceId: string; eid: string; event: ServerEvent }[] {
  const out: { userId: string; deviceId: string; eid: string; event: ServerEvent }[] = [];
  for (const e of effects) {
    if (e.kind !== 'send') continue;
    out.push({ userId: e.to.userId, deviceId: e.to.deviceId, eid: eventId(state, out.length), event: e.event });
  }
  return out;
}

/**
 * The rows a commit writes for replay: its request's outcome (with the events it sent the
 * requesting device) and every event it sends.
 */
export function replayRows(
  state: CallState,
  effects: readonly Effect[],
  reply: unknown,
  request: RequestContext | undefined,
  now: number,
): { request?: StoredRequest; deviceEvents: DeviceEventRow[] } {
  const sends = sendsOf(state, effects);
  const deviceEvents = sends.map((s) => ({ userId: s.userId, deviceId: s.deviceId, eid: s.eid, event: JSON.stringify(s.event), createdAt: now }));
  if (!request) return { deviceEvents };
  const mine: IdentifiedEvent[] = sends
    .filter((s) => s.userId === request.userId && s.deviceId === request.deviceId)
    .map((s) => ({ eid: s.eid, event: s.event }));
  return {
    deviceEvents,
    request: {
      userId: request.userId,
      deviceId: request.deviceId,
      requestId: request.requestId,
      result: JSON.stringify(request.respond(reply, state) ?? {}),
      events: JSON.stringify(mine),
      createdAt: now,
    },
  };
}
