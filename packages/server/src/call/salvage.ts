/**
 * Recovery of a poisoned call: a stored `CallState` that makes the machine throw something other
 * than a MachineError (a state saved before a schema bound existed, e.g. a client structure nested
 * thousands of levels deep that overflows the stack on every command). `salvageState` rebuilds the
 * state field by field from its known shape: every client-supplied part is re-validated through
 * the protocol schemas (which strip unknown keys without walking into them) and dropped when
 * invalid, so the work is bounded whatever the stored document holds. Pure: no clock, no storage.
 */
import { OfflinePushInfoSchema, RoomIdSchema, UserProfileSchema } from '@opencall/protocol/wire';
import type { CallState, Member } from './types.js';

/** Most members or ids a salvaged list keeps (far above any real call: maxParticipants ≤ 50). */
const MAX_LIST = 256;

const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v.slice(0, 4096) : fallback);
const num = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, 256) : null);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.slice(0, MAX_LIST).filter((x): x is string => typeof x === 'string') : []);

function numberRecord(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const k of Object.keys(v).slice(0, MAX_LIST)) {
    const n = (v as Record<string, unknown>)[k];
    if (typeof n === 'number' && Number.isFinite(n)) out[k] = n;
  }
  return out;
}

function salvageMember(userId: string, raw: unknown): Member {
  const m = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  return {
    userId,
    attempt: num(m.attempt, 1),
    state: str(m.state, 'left') as Member['state'],
    ringingDevices: strings(m.ringingDevices),
    ignoredDevices: strings(m.ignoredDevices),
    deviceId: strOrNull(m.deviceId),
    ringDeadline: numOrNull(m.ringDeadline),
    joinedAt: numOrNull(m.joinedAt),
    connectedMs: num(m.connectedMs),
    everJoined: m.everJoined === true,
    endReason: (strOrNull(m.endReason) as Member['endReason']) ?? null,
  };
}

/**
 * A copy of `state` holding only its known fields, each of the expected type, client-supplied
 * parts re-validated (invalid ones dropped). The version is kept, so the save that follows is
 * still checked against concurrent writers.
 */
export function salvageState(state: CallState): CallState {
  const s = state as unknown as Record<string, unknown>;
  const members: Record<string, Member> = {};
  const rawMembers = s.members && typeof s.members === 'object' ? (s.members as Record<string, unknown>) : {};
  for (const userId of Object.keys(rawMembers).slice(0, MAX_LIST)) members[userId] = salvageMember(userId, rawMembers[userId]);
  const push = OfflinePushInfoSchema.safeParse(s.offlinePushInfo);
  const room = RoomIdSchema.safeParse(s.roomId);
  const profile = UserProfileSchema.safeParse(s.callerProfile);
  return {
    callId: str(s.callId),
    version: num(s.version),
    phase: str(s.phase, 'ended') as CallState['phase'],
    scene: str(s.scene, 'single') as CallState['scene'],
    mediaType: s.mediaType === 2 ? 2 : 1,
    callerId: str(s.callerId),
    inviteList: strings(s.inviteList),
    roomId: room.success ? room.data : {},
    userData: str(s.userData),
    chatGroupId: str(s.chatGroupId),
    isEphemeralCall: s.isEphemeralCall === true,
    offlinePushInfo: push.success && s.offlinePushInfo ? push.data : null,
    callerProfile: profile.success ? profile.data : null,
    ringTimeoutMs: num(s.ringTimeoutMs, 30_000),
    members,
    createdAt: num(s.createdAt),
    acceptedAt: numOrNull(s.acceptedAt),
    mediaConnectedAt: numOrNull(s.mediaConnectedAt),
    endedAt: numOrNull(s.endedAt),
    endReason: (strOrNull(s.endReason) as CallState['endReason']) ?? null,
    endedBy: strOrNull(s.endedBy),
    ringingAt: numberRecord(s.ringingAt),
    webhookSeq: num(s.webhookSeq),
  };
}
