/**
 * Turns a transition's push and trace effects into the rows `Storage.commit` writes in the same
 * transaction as the state (SPEC §9): a crash after the commit loses no push, and nothing on the
 * call path waits for a provider.
 */
import type { Effect } from '../call/types.js';
import type { NewPushRow, TraceRow } from '../storage/push.js';

/** How long a withdrawal stays worth sending: a device that was offline may still show the invite. */
export const WITHDRAW_TTL_MS = 60 * 60 * 1000;

/** The queue rows and trace steps of one commit. */
export function pushRowsOf(callId: string, effects: readonly Effect[], now: number): { pushes: NewPushRow[]; trace: TraceRow[] } {
  const pushes: NewPushRow[] = [];
  const trace: TraceRow[] = [];
  for (const e of effects) {
    if (e.kind === 'push') {
      const invite = e.payload.type === 'call.invite';
      pushes.push({
        callId,
        userId: e.userId,
        kind: invite ? 'invite' : 'withdraw',
        payload: JSON.stringify(e.payload),
        createdAt: now,
        expiresAt: invite ? e.payload.deadline : Math.max(now, e.payload.deadline) + WITHDRAW_TTL_MS,
      });
    } else if (e.kind === 'trace') {
      trace.push({ callId, userId: e.userId, deviceId: e.deviceId, step: e.step, time: now, detail: e.detail ? JSON.stringify(e.detail) : null });
    }
  }
  return { pushes, trace };
}
