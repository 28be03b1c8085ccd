/**
 * A commit whose answer was lost. A connection to the database cut after the server committed
 * (a network blip, a failover, the chaos run's `cut`) makes the commit throw although its change
 * is stored: the call has moved on, but nobody was told. The requesting device learns the outcome
 * when it re-sends (signaling/storedRequests.ts); the other members would never hear of it (a
 * callee left ringing or in a call that ended, then "busy" for everyone). So the service asks
 * the database whether the change landed and, when it did, sends its events as if the commit had
 * answered. The events carry their commit's ids (`<callId>:<version>:<n>`), so a device that
 * somehow gets one twice drops the second.
 */
import { isDeepStrictEqual } from 'node:util';
import { MachineError } from './MachineError.js';
import type { CallState } from './types.js';
import { isRefusal } from '../storage/Storage.js';
import type { Storage } from '../storage/Storage.js';

/** True when a failed commit may nevertheless have been stored (the error is not a refusal). */
export function outcomeUnknown(err: unknown): boolean {
  if (err instanceof MachineError) return false;
  // postgres.js gives up on a query with QUEUE_TIMEOUT before sending it (PG_QUEUE_TIMEOUT_S).
  if ((err as { code?: unknown } | null)?.code === 'QUEUE_TIMEOUT') return false;
  return !isRefusal(err);
}

/** How long {@link landed} keeps asking a database that does not answer, ms. */
export const LANDED_CHECK_MS = 8000;

/**
 * True when the stored call is exactly `state` (the change landed); false when it is not, or when
 * the database did not answer within `withinMs` (then the outcome stays unknown: the caller
 * reports the original error, and the members learn the state from their next command or a
 * resume, as after any failed command).
 */
export async function landed(storage: Pick<Storage, 'getCall'>, state: CallState, withinMs = LANDED_CHECK_MS): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  // Stored JSON drops undefined fields (and PostgreSQL's jsonb reorders keys, which deep equality
  // ignores): compare with what the store would give back.
  const expected = JSON.parse(JSON.stringify(state)) as unknown;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1000)) {
    try {
      const stored = await storage.getCall(state.callId);
      return stored !== null && stored.version === state.version && isDeepStrictEqual(JSON.parse(JSON.stringify(stored)), expected);
    } catch {
      if (Date.now() + wait > deadline) return false;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
