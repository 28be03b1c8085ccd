/**
 * The chaos checker: a pure function from a recorded run to the promises it broke. Each violation
 * carries the minimal slice of history that shows it; `formatViolation` prints it with the seed so
 * the run can be replayed (`npm run chaos -- --seed <seed>`).
 */
import { checkBusy, checkDoubles, checkInvitations, checkTerminals } from './checkClients.js';
import { checkMedia } from './checkMedia.js';
import { checkHooks, checkRecords } from './checkServer.js';
import { cutLegs } from './legs.js';
import type { Entry, Fault, Hook, RunHistory, Violation } from './types.js';

/** Checks every promise against `run`; an empty list means the run kept them all. */
export function check(run: RunHistory): Violation[] {
  const { legs, orphans } = cutLegs(run.entries);
  const callIds = new Set(legs.map((l) => l.callId));
  return [
    ...checkTerminals(legs, orphans),
    ...checkBusy(legs, run.entries, run.endedAt),
    ...checkInvitations(legs, run.faults, run.promises, run.endedAt),
    ...checkDoubles(legs),
    ...checkRecords(legs, run.records),
    ...checkMedia(legs, run.entries, run.faults, run.mediaUsers ?? [], run.promises.mediaSlackMs ?? Infinity, run.endedAt),
    ...(run.promises.webhooks ? checkHooks(run.hooks, run.faults, callIds, run.records, run.promises.webhookTimeoutMs) : []),
  ];
}

/** One history line: time since the run started, who, what. */
export function formatEntry(x: Entry | Hook | Fault, startedAt: number): string {
  const at = `+${((x.t - startedAt) / 1000).toFixed(3)}s`;
  if ('eventId' in x) return `${at} webhook ${x.eventId} ${x.command} → ${x.status}`;
  if (!('kind' in x) || (x.kind !== 'event' && x.kind !== 'action')) {
    const f = x;
    return `${at} FAULT ${f.kind}${f.user ? ` ${f.user}` : ''} until +${((f.end - startedAt) / 1000).toFixed(3)}s`;
  }
  const args = x.args.map((a) => (typeof a === 'object' && a !== null ? JSON.stringify(a) : String(a))).join(', ');
  if (x.kind === 'event') return `${at} ${x.device} ${x.name}(${args})`;
  return `${at} ${x.device} ${x.name}(${args}) → ${x.ok ? 'ok' : `error ${x.code ?? '?'}`} after ${x.end - x.t} ms`;
}

/** A violation as text: kind, message, seed and its slice of history (with faults that overlap it). */
export function formatViolation(v: Violation, run: RunHistory): string {
  const times = v.slice.map((x) => x.t);
  const from = Math.min(...times);
  const to = Math.max(...times);
  const faults = run.faults.filter((f) => f.t <= to && f.end >= from);
  const lines = [...v.slice, ...faults].sort((a, b) => a.t - b.t).map((x) => `    ${formatEntry(x, run.startedAt)}`);
  return [`VIOLATION ${v.kind} (seed ${run.seed}): ${v.message}`, ...lines].join('\n');
}
