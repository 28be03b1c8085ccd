/**
 * The promises about what the server keeps and tells the backend (SPEC §6): a REST record for
 * every call that agrees with what the users saw, and every webhook event id delivered, in order
 * per call, doubled only where at-least-once delivery allows it.
 */
import { byTime } from './legs.js';
import type { Leg } from './legs.js';
import type { Fault, Hook, RecordView, Violation } from './types.js';

/** SPEC §6.2: CallResult from the reason the call ended with. */
const RESULT_OF_REASON: Record<number, string> = { 0: 'Interrupt', 1: 'NormalEnd', 2: 'Reject', 3: 'NotAnswer', 4: 'Offline', 5: 'CallBusy', 6: 'Cancel', 9: 'Interrupt' };

/**
 * The caller of a call as its legs show it: the callerId of any `onCallReceived`, else the user
 * whose `calls` resolved with it. `onCallReceived` comes first: under glare (SPEC §5.1) a `calls`
 * that reached the server while the callee's own call to this user rang here resolves with *that*
 * call, whose caller is the other user.
 */
function callerOf(legs: readonly Leg[]): string | undefined {
  let fromCalls: string | undefined;
  for (const leg of legs) {
    for (const e of leg.entries) {
      if (e.kind === 'event' && e.name === 'onCallReceived') return String(e.args[1]);
      if (e.kind === 'action' && e.name === 'calls' && e.ok) fromCalls ??= e.user;
    }
  }
  return fromCalls;
}

/** A group call: more than one invitee at the start, or three users or more with a part in it. */
function isGroup(legs: readonly Leg[]): boolean {
  if (new Set(legs.map((l) => l.user)).size >= 3) return true;
  return legs.some((l) =>
    l.entries.some(
      (e) =>
        (e.kind === 'event' && e.name === 'onCallReceived' && Array.isArray(e.args[2]) && e.args[2].length > 1) ||
        (e.kind === 'action' && e.name === 'calls' && Array.isArray(e.args[0]) && e.args[0].length > 1),
    ),
  );
}

/** Every call seen has a REST record whose caller, acceptance and result agree with the users' view. */
export function checkRecords(legs: readonly Leg[], records: Readonly<Record<string, RecordView | null>>): Violation[] {
  const perCall = new Map<string, Leg[]>();
  for (const leg of legs) perCall.set(leg.callId, [...(perCall.get(leg.callId) ?? []), leg]);
  const out: Violation[] = [];
  for (const [callId, calls] of perCall) {
    const slice = calls.flatMap((l) => l.entries).sort(byTime);
    const r = records[callId];
    if (!r) {
      out.push({ kind: 'record-missing', message: `REST has no record of ${callId}`, slice });
      continue;
    }
    const caller = callerOf(calls);
    if (caller !== undefined && r.Caller_Account !== caller) {
      out.push({ kind: 'record-mismatch', message: `${callId}: record says caller ${r.Caller_Account}, users saw ${caller}`, slice });
    }
    const connected = calls.some((l) => l.beginT !== undefined);
    if (connected !== r.AcceptTime > 0) {
      out.push({ kind: 'record-mismatch', message: `${callId}: AcceptTime ${r.AcceptTime} but users ${connected ? 'did' : 'never'} connect`, slice });
    }
    // The call's result is the reason one of its legs ended with (other-device reasons are per
    // device). An `offline` ending naming the device's own user may be the client's own verdict
    // after a session it could not resume: that user never learned how the call ended. In a group
    // call an ending naming the device's own user tells how that user's part ended (a reject, an
    // ignore, a hang-up), not how the call did: it goes on while someone still rings or two stay
    // connected (SPEC §5.3), and its end names whoever ended it to the others.
    const group = isGroup(calls);
    const told = calls
      .flatMap((l) => l.terminals)
      .filter((e) => !(e.args[3] === e.user && (Number(e.args[2]) === 4 || group)));
    const seen = new Set(told.map((e) => RESULT_OF_REASON[Number(e.args[2])]).filter((x) => x !== undefined));
    if (seen.size > 0 && !seen.has(r.CallResult)) {
      out.push({ kind: 'record-mismatch', message: `${callId}: CallResult ${r.CallResult}, users saw endings ${[...seen].join('/')}`, slice });
    }
  }
  return out;
}

const acked = (h: Hook): boolean => typeof h.status === 'number' && h.status >= 200 && h.status < 300;

/**
 * Webhooks: per call, the acknowledged sequence numbers are 1..n with the end-call event last;
 * nothing of a call is sent before its predecessor was acknowledged; an event acknowledged once
 * comes again only if a kill overlaps the time between (it could not have recorded the ack) or a
 * request timeout went by (it may not have seen the answer); the
 * end-call webhook's result equals the REST record's; every call the users saw has its webhooks.
 */
export function checkHooks(
  hooks: readonly Hook[],
  faults: readonly Fault[],
  callIds: Iterable<string>,
  records: Readonly<Record<string, RecordView | null>>,
  webhookTimeoutMs: number,
): Violation[] {
  const out: Violation[] = [];
  const perCall = new Map<string, Hook[]>();
  for (const h of [...hooks].sort(byTime)) perCall.set(h.callId, [...(perCall.get(h.callId) ?? []), h]);
  for (const id of callIds) if (!perCall.has(id)) out.push({ kind: 'webhook-gap', message: `no webhook of ${id} arrived`, slice: [] });
  const kills = faults.filter((f) => f.kind === 'serverKill' || f.kind === 'nodeKill');
  for (const [callId, list] of perCall) {
    const seqs = [...new Set(list.filter(acked).map((h) => h.seq))].sort((a, b) => a - b);
    const max = seqs[seqs.length - 1] ?? 0;
    if (seqs.length !== max) {
      const missing = Array.from({ length: max }, (_, i) => i + 1).filter((s) => !seqs.includes(s));
      out.push({ kind: 'webhook-gap', message: `${callId}: webhook seq ${missing.join(',')} never acknowledged (got ${seqs.join(',')})`, slice: list });
    }
    const last = list.find((h) => acked(h) && h.seq === max);
    if (!last || last.command !== 'Call.CallbackAfterEndCall') {
      out.push({ kind: 'webhook-gap', message: `${callId}: the last acknowledged webhook is ${last?.command ?? 'none'}, not the end-call event`, slice: list });
    }
    const ends = new Set(list.filter((h) => h.command === 'Call.CallbackAfterEndCall').map((h) => h.seq));
    if (ends.size > 1) out.push({ kind: 'webhook-doubled', message: `${callId}: ${ends.size} different end-call events`, slice: list });
    const r = records[callId];
    if (last?.callResult !== undefined && r && last.callResult !== r.CallResult) {
      out.push({ kind: 'record-mismatch', message: `${callId}: end-call webhook says ${last.callResult}, REST ${r.CallResult}`, slice: list });
    }
    const firstAck = new Map<number, number>();
    for (const h of list) {
      const prevAck = firstAck.get(h.seq - 1);
      if (h.seq > 1 && (prevAck === undefined || prevAck > h.t)) {
        out.push({ kind: 'webhook-order', message: `${h.eventId} sent before ${callId}.${h.seq - 1} was acknowledged`, slice: list });
      }
      const ackedAt = firstAck.get(h.seq);
      // A kill logged from just before the acknowledgement still counts: the fault is logged when
      // the injector starts it, the process dies a moment later (maybe before it recorded the ack).
      const crashed = ackedAt !== undefined && kills.some((k) => k.end >= ackedAt && k.t <= h.t);
      if (ackedAt !== undefined && !crashed && h.t - ackedAt < webhookTimeoutMs) {
        out.push({ kind: 'webhook-doubled', message: `${h.eventId} delivered again ${h.t - ackedAt} ms after it was acknowledged, with no crash and no timeout in between`, slice: list });
      }
      if (acked(h) && ackedAt === undefined) firstAck.set(h.seq, h.t);
    }
  }
  return out;
}
