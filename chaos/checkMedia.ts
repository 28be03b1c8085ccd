/**
 * The media promise (SPEC §7), for users with real Node media: a 1-to-1 call between two of them
 * that both keep connected carries media. Media must start arriving within the slack of both
 * sides being connected, and after a stall it must come back within the slack; the slack is
 * extended by the time a fault kept either user (or the server) away, because the offer, answer
 * and ICE candidates travel through signaling.
 *
 * What arrived is recorded by the workers as `media:flowing` / `media:stalled` entries (see
 * types.ts); group calls are not checked (the run has no SFU: RELIABILITY.md says why).
 */
import { faultedMs } from './checkClients.js';
import { byTime } from './legs.js';
import type { Leg } from './legs.js';
import { MEDIA_STALL_MS } from './types.js';
import type { Action, Entry, Fault, SeenEvent, Violation } from './types.js';

/** The two users of a call that stayed 1-to-1 throughout, or null for a call that was ever more. */
function pairOf(legs: readonly Leg[]): [string, string] | null {
  let pair: [string, string] | null = null;
  for (const leg of legs) {
    for (const e of leg.entries) {
      if (e.kind === 'action') {
        if (e.ok && (e.name === 'inviteUser' || (e.name === 'join' && e.callId === leg.callId))) return null;
        if (e.ok && e.name === 'calls' && e.callId === leg.callId) {
          const callees = e.args[0] as string[];
          if (callees.length !== 1) return null;
          pair ??= [e.user, callees[0]!];
        }
        continue;
      }
      if (e.name === 'onUserInviting') return null;
      if (e.name === 'onCallReceived') {
        const callees = e.args[2] as string[];
        if (!Array.isArray(callees) || callees.length !== 1) return null;
        pair ??= [String(e.args[1]), callees[0]!];
      }
    }
  }
  if (!pair) return null;
  // A third user joining turns the call into a group call.
  for (const leg of legs) {
    for (const e of leg.entries) if (e.kind === 'event' && e.name === 'onUserJoin' && !pair.includes(String(e.args[0]))) return null;
  }
  return pair;
}

/** When a leg stopped being connected: its end, or a sign-in of its user on another device. */
function legEnd(leg: Leg, inits: readonly Action[], endedAt: number): number {
  let end = leg.terminals[0]?.t ?? leg.abandonedT ?? endedAt;
  for (const a of inits) if (a.user === leg.user && a.device !== leg.device && a.t > (leg.beginT ?? leg.startT) && a.t < end) end = a.t;
  return end;
}

/**
 * Every stretch of a checked window (both legs connected) without media, longer than
 * `slackMs` + the faults in it, is a `media-missing` violation.
 */
export function checkMedia(
  legs: readonly Leg[],
  entries: readonly Entry[],
  faults: readonly Fault[],
  mediaUsers: readonly string[],
  slackMs: number,
  endedAt: number,
): Violation[] {
  if (mediaUsers.length < 2) return [];
  const inits = entries.filter((e): e is Action => e.kind === 'action' && e.name === 'init');
  const samples = entries.filter((e): e is SeenEvent => e.kind === 'event' && e.name.startsWith('media:')).sort(byTime);
  const perCall = new Map<string, Leg[]>();
  for (const leg of legs) perCall.set(leg.callId, [...(perCall.get(leg.callId) ?? []), leg]);
  const out: Violation[] = [];
  for (const [callId, callLegs] of perCall) {
    const pair = pairOf(callLegs);
    if (!pair || !pair.every((u) => mediaUsers.includes(u))) continue;
    for (const leg of callLegs) {
      if (leg.beginT === undefined) continue;
      const peer = pair[0] === leg.user ? pair[1] : pair[0];
      for (const other of callLegs) {
        if (other.user !== peer || other.beginT === undefined) continue;
        const from = Math.max(leg.beginT, other.beginT);
        const to = Math.min(legEnd(leg, inits, endedAt), legEnd(other, inits, endedAt));
        if (to <= from) continue;
        const mine = samples.filter((s) => s.device === leg.device && s.args[0] === callId && s.args[1] === peer);
        const gaps: [number, number][] = [];
        const before = mine.filter((s) => s.t <= from).pop();
        let gapFrom: number | null = before?.name === 'media:flowing' ? null : from;
        for (const s of mine) {
          if (s.t <= from || s.t >= to) continue;
          if (s.name === 'media:flowing' && gapFrom !== null) {
            gaps.push([gapFrom, s.t]);
            gapFrom = null;
          } else if (s.name === 'media:stalled' && gapFrom === null) {
            gapFrom = Math.max(from, s.t - MEDIA_STALL_MS);
          }
        }
        if (gapFrom !== null) gaps.push([gapFrom, to]);
        for (const [a, b] of gaps) {
          // Faults extend the budget; a fault in the extension extends it again.
          let budget = slackMs;
          for (let i = 0; i < 5; i++) budget = slackMs + faultedMs(faults, pair, a, a + budget);
          if (b - a <= budget) continue;
          const everFlowed = mine.some((s) => s.name === 'media:flowing' && s.t < b);
          out.push({
            kind: 'media-missing',
            message: `${leg.device} in ${callId}: connected with ${peer} but no media from them for ${b - a} ms ${everFlowed ? 'after a stall' : 'from the start'} (budget ${budget} ms)`,
            slice: [...new Set([...leg.entries, ...other.entries, ...mine])].sort(byTime),
          });
        }
      }
    }
  }
  return out;
}
