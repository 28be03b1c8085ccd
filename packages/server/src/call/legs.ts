/**
 * What happens to legs and to the call: connecting, leaving, invitee outcomes, canceling and
 * ending. Shared by the command handlers in machine.ts; pure (writes only to the Tx).
 */
import { CallEndReason, CallRole } from '@opencall/protocol/wire';
import type { CallRecord } from '@opencall/protocol/wire';
import { devicesOf } from './effects.js';
import type { Tx } from './effects.js';
import { pushWithdraw } from './pushEffects.js';
import { ACTIVE_LEG_STATES } from './types.js';
import type { CallState, LegState, Member } from './types.js';

/** Members with an active leg (calling, invited, ringing or connected). */
export function activeMembers(s: CallState): Member[] {
  return Object.values(s.members).filter((m) => ACTIVE_LEG_STATES.has(m.state));
}

/** Connected members. */
export function connectedMembers(s: CallState): Member[] {
  return Object.values(s.members).filter((m) => m.state === 'joined');
}

/** Members whose invitation is still outstanding (rung or waiting for a device). */
export function pendingInvitees(s: CallState): Member[] {
  return Object.values(s.members).filter((m) => m.state === 'ringing' || m.state === 'invited');
}

/** A fresh member record for an invitee's (next) leg. */
export function newLeg(prev: Member | undefined, userId: string, state: LegState, deadline: number | null): Member {
  return {
    userId,
    attempt: (prev?.attempt ?? 0) + 1,
    state,
    ringingDevices: [],
    ignoredDevices: [],
    deviceId: null,
    ringDeadline: deadline,
    joinedAt: null,
    connectedMs: prev?.connectedMs ?? 0,
    everJoined: prev?.everJoined ?? false,
    endReason: null,
  };
}

/** Rings `deviceId` for member `m` (an invitee): sends onCallReceived and records ringing time. */
export function ringDevice(tx: Tx, m: Member, deviceId: string): void {
  const s = tx.s;
  if (!m.ringingDevices.includes(deviceId)) m.ringingDevices.push(deviceId);
  m.state = 'ringing';
  s.ringingAt[m.userId] ??= tx.now;
  tx.trace(m.userId, deviceId, 'rung');
  tx.toDevice(m.userId, deviceId, {
    name: 'onCallReceived',
    callerId: s.callerId,
    calleeIdList: [...s.inviteList],
    mediaType: s.mediaType,
    info: tx.info(m.userId),
  });
}

/** Closes a leg that ended without (or after) connecting. */
function closeLeg(tx: Tx, m: Member, state: LegState, reason: CallEndReason): void {
  if (m.state === 'invited' || m.state === 'ringing') {
    // An invitation ends: the trace says how, and a pushed notification is taken back.
    tx.trace(m.userId, null, state);
    pushWithdraw(tx, m, state as Exclude<LegState, 'calling' | 'invited' | 'ringing' | 'joined' | 'left'>);
  }
  if (m.state === 'joined' && m.joinedAt !== null) m.connectedMs += tx.now - m.joinedAt;
  m.state = state;
  m.ringingDevices = [];
  m.ignoredDevices = [];
  m.ringDeadline = null;
  m.joinedAt = null;
  m.endReason = reason;
}

/** Members other than `userId` who hear about `userId`'s outcome (SPEC §5.3: in 1-to-1 only the caller). */
function outcomeAudience(s: CallState, userId: string): Member[] {
  return activeMembers(s).filter((p) => p.userId !== userId && (s.scene !== 'single' || p.userId === s.callerId));
}

const OUTCOME_EVENT = {
  rejected: 'onUserReject',
  noResponse: 'onUserNoResponse',
  busy: 'onUserLineBusy',
} as const;

const OUTCOME_REASON = {
  rejected: CallEndReason.reject,
  noResponse: CallEndReason.noResponse,
  busy: CallEndReason.lineBusy,
} as const;

const OUTCOME_ACTION = { rejected: 'Reject', noResponse: 'NotAnswer', busy: 'Reject' } as const;

/**
 * An invitee's invitation ends without connecting (reject, no answer, busy). The invitee's still
 * ringing devices have been told already by the caller of this function when needed.
 */
export function inviteeOutcome(tx: Tx, m: Member, outcome: 'rejected' | 'noResponse' | 'busy'): void {
  const s = tx.s;
  const reason = OUTCOME_REASON[outcome];
  closeLeg(tx, m, outcome, reason);
  for (const p of outcomeAudience(s, m.userId)) tx.toMember(p, { name: OUTCOME_EVENT[outcome], userId: m.userId });
  tx.memberChanged([{ userId: m.userId, action: OUTCOME_ACTION[outcome] }]);
  // A call that never connected ends when no invitee is left ringing.
  if (s.phase === 'ringing' && pendingInvitees(s).length === 0) {
    const caller = s.members[s.callerId];
    if (caller) for (const d of devicesOf(caller)) tx.notConnected(caller, d, reason, m.userId);
    endCall(tx, reason, m.userId);
  }
}

/** Terminal leg state of a pending leg by the reason its devices were told. */
const LEG_END: Partial<Record<CallEndReason, LegState>> = {
  [CallEndReason.canceled]: 'canceled',
  [CallEndReason.offline]: 'offline',
  [CallEndReason.endByServer]: 'endByServer',
};

/** Tells every still-ringing invitee (and the calling caller) that the call is over without them. */
function cancelPending(tx: Tx, reason: CallEndReason, byUserId: string): void {
  for (const m of activeMembers(tx.s)) {
    if (m.state === 'joined') continue;
    for (const d of devicesOf(m)) tx.notConnected(m, d, reason, byUserId);
  }
}

/** The caller cancels a call nobody answered yet (hangup → canceled; dropped → offline). */
export function cancelCall(tx: Tx, reason: CallEndReason.canceled | CallEndReason.offline): void {
  cancelPending(tx, reason, tx.s.callerId);
  tx.memberChanged([{ userId: tx.s.callerId, action: reason === CallEndReason.offline ? 'Offline' : 'Cancel_Invite' }]);
  endCall(tx, reason, tx.s.callerId, reason);
}

/**
 * Connects member `m` on `deviceId`. The first connection also connects the caller and starts the
 * call; later ones announce the joiner to everyone connected.
 */
export function connect(tx: Tx, m: Member, deviceId: string, action: 'Accept' | 'Join'): void {
  const s = tx.s;
  const others = connectedMembers(s);
  if (m.state === 'invited' || m.state === 'ringing') {
    tx.trace(m.userId, deviceId, action === 'Accept' ? 'accepted' : 'joined');
    pushWithdraw(tx, m, 'accepted');
  }
  m.state = 'joined';
  m.deviceId = deviceId;
  m.joinedAt = tx.now;
  m.everJoined = true;
  m.ringingDevices = [];
  m.ignoredDevices = [];
  m.ringDeadline = null;
  m.endReason = null;
  const begin = { name: 'onCallBegin', mediaType: s.mediaType } as const;
  if (s.phase === 'ringing') {
    const caller = s.members[s.callerId]!;
    caller.state = 'joined';
    caller.joinedAt = tx.now;
    caller.everJoined = true;
    s.phase = 'active';
    s.acceptedAt ??= tx.now;
    tx.toMember(caller, { ...begin, info: tx.info(caller.userId) });
    tx.toMember(caller, { name: 'onUserJoin', userId: m.userId });
    tx.toMember(m, { ...begin, info: tx.info(m.userId) });
    tx.toMember(m, { name: 'onUserJoin', userId: caller.userId });
  } else {
    tx.toMember(m, { ...begin, info: tx.info(m.userId) });
    for (const o of others) tx.toMember(m, { name: 'onUserJoin', userId: o.userId });
    for (const o of others) tx.toMember(o, { name: 'onUserJoin', userId: m.userId });
  }
  tx.memberChanged([{ userId: m.userId, action }]);
}

/** Total connected ms of a member up to now. */
export function connectedTotal(m: Member, now: number): number {
  return m.connectedMs + (m.state === 'joined' && m.joinedAt !== null ? now - m.joinedAt : 0);
}

/**
 * A connected member leaves (hangup or offline). The call goes on while two or more stay
 * connected; otherwise it ends for everyone.
 */
export function leave(tx: Tx, m: Member, reason: CallEndReason.hangup | CallEndReason.offline): void {
  const s = tx.s;
  const total = connectedTotal(m, tx.now);
  const end = { name: 'onCallEnd', mediaType: s.mediaType, reason, userId: m.userId } as const;
  tx.toMember(m, { ...end, totalTime: total, info: tx.info(m.userId) });
  closeLeg(tx, m, reason === CallEndReason.offline ? 'offline' : 'left', reason);
  const rest = connectedMembers(s);
  for (const o of rest) tx.toMember(o, { name: 'onUserLeave', userId: m.userId });
  tx.memberChanged([{ userId: m.userId, action: reason === CallEndReason.offline ? 'Offline' : 'Hangup' }]);
  if (rest.length >= 2) {
    // The call goes on without them: their own record is due now, not when the call ends.
    if (!s.isEphemeralCall) tx.effects.push({ kind: 'record', userId: m.userId, record: buildRecord(s, m.userId, { reason, at: tx.now }) });
    m.ownRecord = true;
    return;
  }
  for (const o of rest) tx.toMember(o, { ...end, totalTime: connectedTotal(o, tx.now), info: tx.info(o.userId) });
  cancelPending(tx, CallEndReason.canceled, m.userId);
  endCall(tx, reason, m.userId);
}

/** Admin end: everyone gets their final event with `endByServer`. */
export function endByServer(tx: Tx, adminId: string): void {
  const s = tx.s;
  for (const m of connectedMembers(s)) {
    tx.toMember(m, {
      name: 'onCallEnd',
      mediaType: s.mediaType,
      reason: CallEndReason.endByServer,
      userId: adminId,
      totalTime: connectedTotal(m, tx.now),
      info: tx.info(m.userId),
    });
  }
  cancelPending(tx, CallEndReason.endByServer, adminId);
  endCall(tx, CallEndReason.endByServer, adminId, CallEndReason.endByServer);
}

/**
 * Ends the call: closes every active leg, writes records and the end-call webhook. Legs still
 * pending end with `pendingReason` (what their devices were told).
 */
export function endCall(tx: Tx, reason: CallEndReason, byUserId: string, pendingReason = CallEndReason.canceled): void {
  const s = tx.s;
  for (const m of activeMembers(s)) {
    if (m.state === 'joined') closeLeg(tx, m, 'left', reason);
    else closeLeg(tx, m, LEG_END[pendingReason] ?? 'canceled', pendingReason);
  }
  s.phase = 'ended';
  s.endedAt = tx.now;
  s.endReason = reason;
  s.endedBy = byUserId;
  if (!s.isEphemeralCall) {
    for (const r of buildRecords(s)) if (!s.members[r.userId]?.ownRecord) tx.effects.push({ kind: 'record', userId: r.userId, record: r.record });
  }
  tx.endCallWebhook();
}

/** One record per user per call (the caller and everyone ever invited). */
export function buildRecords(s: CallState): { userId: string; record: CallRecord }[] {
  const users = [s.callerId, ...s.inviteList.filter((u) => u !== s.callerId)];
  return users.map((userId) => ({ userId, record: buildRecord(s, userId) }));
}

/**
 * The record of one user. `own`: their part ended (`reason`, `at`) while the call goes on, so the
 * record ends there; otherwise it describes the call's end.
 */
export function buildRecord(s: CallState, userId: string, own?: { reason: CallEndReason; at: number }): CallRecord {
  const m = s.members[userId];
  const isCaller = userId === s.callerId;
  return {
    callId: s.callId,
    inviter: s.callerId,
    inviteList: [...s.inviteList],
    chatGroupId: s.chatGroupId,
    scene: s.scene,
    mediaType: s.mediaType,
    role: isCaller ? CallRole.caller : CallRole.called,
    result: isCaller ? 'outgoing' : m?.everJoined ? 'incoming' : 'missed',
    beginTime: s.createdAt,
    totalTime: m ? m.connectedMs : 0,
    // The caller and anyone who connected see how the call ended; a missed callee sees their own outcome.
    endReason: own?.reason ?? ((isCaller || m?.everJoined ? s.endReason : m?.endReason) ?? s.endReason ?? CallEndReason.unknown),
    timings: {
      invitedAt: s.createdAt,
      ringingAt: { ...s.ringingAt },
      acceptedAt: s.acceptedAt,
      mediaConnectedAt: s.mediaConnectedAt,
      endedAt: own?.at ?? s.endedAt,
    },
  };
}
