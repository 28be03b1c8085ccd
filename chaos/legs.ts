/**
 * Cuts a recorded history into legs: one device's part in one call, from the moment it learned of
 * the call (`onCallReceived`, a `calls`/`join` that resolved, an `onCallBegin` out of nowhere) to
 * its terminal event (`onCallEnd` / `onCallNotConnected`). Events without a call id
 * (`onUserJoin`, `onUserLeave`, ...) belong to the device's open leg.
 */
import type { Action, Entry, SeenEvent } from './types.js';

/** Callbacks that end a leg. */
export const TERMINALS = new Set(['onCallEnd', 'onCallNotConnected']);

/** One device's part in one call. */
export interface Leg {
  user: string;
  device: string;
  callId: string;
  /** How the device learned of the call. */
  startT: number;
  /** `onCallBegin` time, when it connected. */
  beginT?: number;
  /** Terminal events seen for this leg (exactly one is the promise). */
  terminals: SeenEvent[];
  /** When the leg stopped being this device's concern without a terminal (the device signed out or was replaced). */
  abandonedT?: number;
  /** Every entry of this leg, in order. */
  entries: Entry[];
}

/** Problems found while cutting (a terminal with no leg to end, an event with no leg). */
export interface Orphan {
  entry: SeenEvent;
  /** The leg it would have doubled, if any. */
  leg?: Leg;
}

/** Orders entries by time, then by the recording order within a worker. */
export function byTime<T extends { t: number; n?: number }>(a: T, b: T): number {
  return a.t - b.t || (a.n ?? 0) - (b.n ?? 0);
}

const callIdOf = (e: SeenEvent): string | undefined =>
  ['onCallReceived', 'onCallBegin', 'onCallEnd', 'onCallNotConnected'].includes(e.name) && typeof e.args[0] === 'string'
    ? e.args[0]
    : undefined;

/** Cuts every device's entries into legs; returns them with the orphans (terminals that ended nothing). */
export function cutLegs(entries: readonly Entry[]): { legs: Leg[]; orphans: Orphan[] } {
  const perDevice = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = perDevice.get(e.device) ?? [];
    list.push(e);
    perDevice.set(e.device, list);
  }
  const legs: Leg[] = [];
  const orphans: Orphan[] = [];
  for (const list of perDevice.values()) {
    list.sort(byTime);
    /** Open legs of this device by callId; `current` is the latest one opened. */
    const open = new Map<string, Leg>();
    let current: Leg | undefined;
    const lastClosed = new Map<string, Leg>();
    const openLeg = (e: Entry, callId: string): Leg => {
      const leg: Leg = { user: e.user, device: e.device, callId, startT: e.t, terminals: [], entries: [] };
      open.set(callId, leg);
      legs.push(leg);
      return leg;
    };
    for (const e of list) {
      if (e.kind === 'action') {
        const a: Action = e;
        if (a.ok && a.callId && (a.name === 'calls' || a.name === 'join') && !open.has(a.callId)) current = openLeg(a, a.callId);
        if (a.name === 'unInit' || a.name === 'replaced') {
          for (const leg of open.values()) {
            leg.abandonedT = a.end;
            leg.entries.push(a);
          }
          open.clear();
          current = undefined;
          continue;
        }
        const target = a.callId ? open.get(a.callId) : current;
        target?.entries.push(a);
        continue;
      }
      const callId = callIdOf(e);
      if (callId === undefined) {
        current?.entries.push(e);
        continue;
      }
      let leg = open.get(callId);
      if (TERMINALS.has(e.name)) {
        if (!leg) {
          orphans.push({ entry: e, ...(lastClosed.has(callId) ? { leg: lastClosed.get(callId)! } : {}) });
          lastClosed.get(callId)?.entries.push(e);
          continue;
        }
        leg.entries.push(e);
        leg.terminals.push(e);
        open.delete(callId);
        lastClosed.set(callId, leg);
        if (current === leg) current = undefined;
        continue;
      }
      if (!leg) leg = openLeg(e, callId);
      current = leg;
      leg.entries.push(e);
      if (e.name === 'onCallBegin' && leg.beginT === undefined) leg.beginT = e.t;
    }
  }
  return { legs, orphans };
}
