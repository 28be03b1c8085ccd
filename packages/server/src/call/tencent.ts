/**
 * Tencent-shaped projections of a call (SPEC §6.2/§6.3): the `TencentCallRecord` used by REST and
 * the end-call webhook, and the user lists of the other webhooks. Times are Unix seconds.
 */
import { CallMediaType } from '@opencall/protocol/wire';
import { tencentCallResult } from '../storage/callResult.js';

export { tencentCallResult };
import type { CallState, Member } from './types.js';

const sec = (ms: number | null): number => (ms === null ? 0 : Math.floor(ms / 1000));

/** Tencent's media type name. */
export function tencentMediaType(s: CallState): 'Audio' | 'Video' {
  return s.mediaType === CallMediaType.video ? 'Video' : 'Audio';
}

/** The record of a call in Tencent's REST shape. */
export interface TencentCallRecord {
  CallId: string;
  Caller_Account: string;
  CalleeList_Account: string[];
  MediaType: 'Audio' | 'Video';
  CallType: 'SingleCall' | 'MultiCall';
  StartTime: number;
  AcceptTime: number;
  EndTime: number;
  CallResult: string;
  RoomId: string;
  RoomIdType: 1 | 2;
  Timings: {
    invitedAt: number;
    ringingAt: Record<string, number>;
    acceptedAt: number | null;
    mediaConnectedAt: number | null;
    endedAt: number | null;
  };
}

/** Room id as Tencent reports it: the string id when set, else the numeric one. */
export function roomIdOf(s: CallState): { RoomId: string; RoomIdType: 1 | 2 } {
  if (s.roomId.strRoomId) return { RoomId: s.roomId.strRoomId, RoomIdType: 2 };
  return { RoomId: String(s.roomId.intRoomId ?? 0), RoomIdType: 1 };
}

/** Builds the Tencent record of a call (ended or not). */
export function tencentRecord(s: CallState): TencentCallRecord {
  return {
    CallId: s.callId,
    Caller_Account: s.callerId,
    CalleeList_Account: [...s.inviteList],
    MediaType: tencentMediaType(s),
    CallType: s.scene === 'single' ? 'SingleCall' : 'MultiCall',
    StartTime: sec(s.createdAt),
    AcceptTime: sec(s.acceptedAt),
    EndTime: sec(s.endedAt),
    CallResult: s.phase === 'ended' ? tencentCallResult(s.endReason) : 'Calling',
    ...roomIdOf(s),
    Timings: {
      invitedAt: s.createdAt,
      ringingAt: { ...s.ringingAt },
      acceptedAt: s.acceptedAt,
      mediaConnectedAt: s.mediaConnectedAt,
      endedAt: s.endedAt,
    },
  };
}

/** Webhook status of a member: `Calling` when calling or connected, `Waiting` when rung. */
export function webhookStatus(m: Member): 'Calling' | 'Waiting' | null {
  if (m.state === 'calling' || m.state === 'joined') return 'Calling';
  if (m.state === 'ringing' || m.state === 'invited') return 'Waiting';
  return null;
}

/** The `UserList` of a webhook: everyone currently in the call with their status. */
export function webhookUserList(s: CallState): { User_Account: string; Status: 'Calling' | 'Waiting' }[] {
  const out: { User_Account: string; Status: 'Calling' | 'Waiting' }[] = [];
  for (const m of Object.values(s.members)) {
    const st = webhookStatus(m);
    if (st) out.push({ User_Account: m.userId, Status: st });
  }
  return out;
}
