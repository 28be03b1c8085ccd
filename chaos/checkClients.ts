/**
 * The promises about what clients see (SPEC §5): one terminal event per leg, nobody connected in
 * two calls at once, every invitation resolved in time, nothing doubled within a leg.
 */
import { byTime } from './legs.js';
import type { Leg, Orphan } from './legs.js';
import type { Action, Entry, Fault, Promises, SeenEvent, Violation } from './types.js';

/** Each leg ends with exactly one terminal event, and no leg is left open at the end of the run. */
export function checkTerminals(legs: readonly Leg[], orphans: readonly Orphan[]): Violation[] {
  const out: Violation[] = [];
  for (const o of orphans) {
    out.push({
      kind: 'terminal-count',
      message: `${o.entry.device} got ${o.entry.name} for ${String(o.entry.args[0])} ${o.leg ? 'after that leg had already ended' : 'without ever being in that call'}`,
      slice: o.leg ? o.leg.entries : [o.entry],
    });
  }
  for (const leg of legs) {
    if (leg.terminals.length === 0 && leg.abandonedT === undefined) {
      out.push({ kind: 'leg-open', message: `${leg.device}'s leg of ${leg.callId} never ended`, slice: leg.entries });
    }
  }
  return out;
}

/** When a leg stopped counting as connected for the user (its end, or the user signing in elsewhere). */
function connectedUntil(leg: Leg, inits: readonly Action[], endedAt: number): number {
  let until = leg.terminals[0]?.t ?? leg.abandonedT ?? endedAt;
  // Under the `kick` policy a new sign-in ends the old device's calls at once, even if the old
  // device hears of it later.
  for (const a of inits) if (a.device !== leg.device && a.t > (leg.beginT ?? leg.startT) && a.t < until) until = a.t;
  return until;
}

/** No user is ever connected in two calls at once (across all their devices). */
export function checkBusy(legs: readonly Leg[], entries: readonly Entry[], endedAt: number): Violation[] {
  const inits = entries.filter((e): e is Action => e.kind === 'action' && e.name === 'init');
  const perUser = new Map<string, { leg: Leg; from: number; to: number }[]>();
  for (const leg of legs) {
    if (leg.beginT === undefined) continue;
    const own = inits.filter((a) => a.user === leg.user);
    const span = { leg, from: leg.beginT, to: connectedUntil(leg, own, endedAt) };
    perUser.set(leg.user, [...(perUser.get(leg.user) ?? []), span]);
  }
  const out: Violation[] = [];
  for (const [user, spans] of perUser) {
    spans.sort((a, b) => a.from - b.from);
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length && spans[j]!.from < spans[i]!.to; j++) {
        const a = spans[i]!;
        const b = spans[j]!;
        if (a.leg.callId === b.leg.callId) continue;
        out.push({
          kind: 'busy-overlap',
          message: `${user} was connected in ${a.leg.callId} and ${b.leg.callId} at once (${b.from}..${Math.min(a.to, b.to)})`,
          slice: [...a.leg.entries, ...b.leg.entries].sort(byTime),
        });
      }
    }
  }
  return out;
}

/**
 * Milliseconds of `[from, to]` during which a fault kept `user` (any of `user`, when a list), or
 * everyone, from hearing the server. Overlapping faults count twice: the budget errs on the
 * generous side.
 */
export function faultedMs(faults: readonly Fault[], user: string | readonly string[], from: number, to: number): number {
  const users = typeof user === 'string' ? [user] : user;
  let ms = 0;
  for (const f of faults) {
    if (f.kind === 'webhookFail' || f.kind === 'webhookHang') continue;
    if (f.user !== undefined && !users.includes(f.user)) continue;
    const a = Math.max(from, f.t);
    const b = Math.min(to, f.end);
    if (b > a) ms += b - a;
  }
  return ms;
}

/**
 * Every invitation resolves (connects or ends) within ring timeout + heartbeat + slack of the
 * device hearing of it, plus whatever time a fault kept that device or the server away.
 */
export function checkInvitations(legs: readonly Leg[], faults: readonly Fault[], p: Promises, endedAt: number): Violation[] {
  const out: Violation[] = [];
  for (const leg of legs) {
    const resolvedT = Math.min(leg.beginT ?? Infinity, leg.terminals[0]?.t ?? Infinity, leg.abandonedT ?? Infinity);
    const budget = p.ringTimeoutMs + p.heartbeatMs + p.slackMs;
    // Faults extend the budget; a fault in the extension extends it again (bounded by the run).
    let deadline = leg.startT + budget;
    for (let i = 0; i < 5; i++) deadline = leg.startT + budget + faultedMs(faults, leg.user, leg.startT, deadline);
    if (resolvedT <= deadline || (resolvedT === Infinity && endedAt <= deadline)) continue;
    out.push({
      kind: 'invite-unresolved',
      message: `${leg.device}'s invitation to ${leg.callId} ${resolvedT === Infinity ? 'never resolved' : `resolved after ${resolvedT - leg.startT} ms`} (budget ${deadline - leg.startT} ms)`,
      slice: leg.entries,
    });
  }
  return out;
}

/** Within a leg nothing is doubled: one `onCallReceived`, one `onCallBegin`, joins and leaves alternate per user. */
export function checkDoubles(legs: readonly Leg[]): Violation[] {
  const out: Violation[] = [];
  for (const leg of legs) {
    const seen = leg.entries.filter((e): e is SeenEvent => e.kind === 'event');
    const report = (what: string): void => void out.push({ kind: 'event-doubled', message: `${leg.device} in ${leg.callId}: ${what}`, slice: leg.entries });
    for (const name of ['onCallReceived', 'onCallBegin']) {
      if (seen.filter((e) => e.name === name).length > 1) report(`${name} twice`);
    }
    const present = new Set<string>();
    let connected = false;
    for (const e of seen) {
      const u = String(e.args[0]);
      if (e.name === 'onCallBegin') connected = true;
      if (e.name === 'onUserJoin') {
        if (present.has(u)) report(`onUserJoin(${u}) twice without a leave`);
        present.add(u);
      } else if (e.name === 'onUserLeave' && connected) {
        // Ringing devices may hear of leaves too; only a connected one tracks who is present.
        if (!present.has(u)) report(`onUserLeave(${u}) without a join`);
        present.delete(u);
      }
    }
  }
  return out;
}
