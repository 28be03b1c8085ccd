/**
 * Offline-push decisions of the machine (SPEC §9), pure like the rest of it: an invitee that no
 * device would ring gets a `call.invite` push, and when that invitation ends for any reason a
 * `call.withdraw` push takes the notification back. Both are effects written to the durable push
 * queue with the state; nothing here waits for a provider.
 */
import type { Tx } from './effects.js';
import type { Member, PushPayload, PushWithdrawReason } from './types.js';

function payload(tx: Tx, type: PushPayload['type'], deadline: number): PushPayload {
  const s = tx.s;
  return {
    type,
    callId: s.callId,
    callerId: s.callerId,
    callerProfile: s.callerProfile ? { ...s.callerProfile } : null,
    mediaType: s.mediaType,
    scene: s.scene,
    deadline,
    offlinePushInfo: s.offlinePushInfo ? { ...s.offlinePushInfo } : null,
  };
}

/**
 * Announces `m`'s invitation by push (no device of theirs would ring). A call whose
 * `offlinePushInfo.isDisablePush` is set pushes nothing, as with Tencent.
 */
export function pushInvite(tx: Tx, m: Member): void {
  if (m.ringDeadline === null || tx.s.offlinePushInfo?.isDisablePush) return;
  m.pushDeadline = m.ringDeadline;
  tx.effects.push({ kind: 'push', userId: m.userId, payload: payload(tx, 'call.invite', m.ringDeadline) });
  tx.trace(m.userId, null, 'push.queued', { kind: 'invite' });
}

/** Withdraws `m`'s pushed invitation, if one was pushed; call when the invitation ends. */
export function pushWithdraw(tx: Tx, m: Member, reason: PushWithdrawReason): void {
  const deadline = m.pushDeadline;
  if (deadline === undefined || deadline === null) return;
  tx.effects.push({ kind: 'push', userId: m.userId, payload: { ...payload(tx, 'call.withdraw', deadline), reason } });
  tx.trace(m.userId, null, 'push.queued', { kind: 'withdraw', reason });
}
