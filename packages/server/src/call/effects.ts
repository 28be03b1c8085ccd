/**
 * The effect builder used by the pure machine: collects sends, webhooks and records for one
 * transition. It never performs I/O; the CallService applies the effects after the commit.
 */
import { CallRole } from '@opencall/protocol/wire';
import type { CallObserverExtraInfo, ServerEvent } from '@opencall/protocol/wire';
import { tencentRecord, webhookUserList } from './tencent.js';
import type { CallState, Effect, Member, WebhookCommand } from './types.js';

/** Distributes `Omit` over a union, so each event keeps its own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event without its `callId` (the builder fills it in). */
export type CallEventBody = DistributiveOmit<ServerEvent, 'callId'>;

/** Devices that currently receive a member's call events. */
export function devicesOf(m: Member): string[] {
  switch (m.state) {
    case 'calling':
    case 'joined':
      return m.deviceId ? [m.deviceId] : [];
    case 'ringing':
      return m.ringingDevices.filter((d) => !m.ignoredDevices.includes(d));
    default:
      return [];
  }
}

/** One transition's working set: the state being changed, the clock, and the effects so far. */
export class Tx {
  /** Effects in the order they happened. */
  readonly effects: Effect[] = [];

  constructor(
    /** The state being transitioned (a private copy). */
    readonly s: CallState,
    /** The transition's clock, ms epoch. */
    readonly now: number,
  ) {}

  /** Observer info for `userId` in this call. */
  info(userId: string): CallObserverExtraInfo {
    const s = this.s;
    const info: CallObserverExtraInfo = {
      roomId: { ...s.roomId },
      role: userId === s.callerId ? CallRole.caller : CallRole.called,
      userData: s.userData,
      chatGroupId: s.chatGroupId,
      isEphemeralCall: s.isEphemeralCall,
    };
    if (s.callerProfile) info.callerProfile = { ...s.callerProfile };
    return info;
  }

  /** Sends an event to one device of `userId`. */
  toDevice(userId: string, deviceId: string, event: CallEventBody): void {
    const e = { ...event, callId: this.s.callId } as ServerEvent;
    // A 1-to-1 call's media is peer-to-peer from its start: the begin event says so, and the media
    // relay sends no separate `media.topology` for it (one frame less per device and call).
    if (e.name === 'onCallBegin' && this.s.scene === 'single') e.topology = 'p2p';
    this.effects.push({ kind: 'send', to: { userId, deviceId }, event: e });
  }

  /** Sends an event to every device through which `m` takes part right now. */
  toMember(m: Member, event: CallEventBody): void {
    for (const d of devicesOf(m)) this.toDevice(m.userId, d, event);
  }

  /** `onCallNotConnected` followed by the deprecated `onCallCancelled`, on one device. */
  notConnected(m: Member, deviceId: string, reason: number, byUserId: string): void {
    const s = this.s;
    this.toDevice(m.userId, deviceId, {
      name: 'onCallNotConnected',
      mediaType: s.mediaType,
      reason,
      userId: byUserId,
      info: this.info(m.userId),
    });
    // SPEC §4: the caller's id when the caller canceled, otherwise the receiving user's own id.
    const cancelledBy = byUserId === s.callerId && m.userId !== s.callerId ? s.callerId : m.userId;
    this.toDevice(m.userId, deviceId, { name: 'onCallCancelled', userId: cancelledBy });
  }

  /** Records one delivery-trace step of `userId` (SPEC §9). */
  trace(userId: string, deviceId: string | null, step: string, detail?: Record<string, unknown>): void {
    this.effects.push({ kind: 'trace', userId, deviceId, step, ...(detail ? { detail } : {}) });
  }

  /** Queues a webhook with the call's next sequence number. */
  webhook(command: WebhookCommand, body: Record<string, unknown>): void {
    const seq = ++this.s.webhookSeq;
    this.effects.push({ kind: 'webhook', command, seq, body: { CallbackCommand: command, ...body, EventTime: this.now } });
  }

  /** `Call.CallbackAfterMemberChanged` for the given user actions. */
  memberChanged(changes: { userId: string; action: string }[], withPush = false): void {
    const body: Record<string, unknown> = {
      CallId: this.s.callId,
      UserList: webhookUserList(this.s),
      ChangedUserList: changes.map((c) => ({ User_Account: c.userId, ActionType: c.action })),
    };
    if (withPush && this.s.offlinePushInfo) body['OfflinePushInfo'] = this.s.offlinePushInfo;
    this.webhook('Call.CallbackAfterMemberChanged', body);
  }

  /** `Call.CallbackAfterEndCall` with the Tencent record. */
  endCallWebhook(): void {
    this.webhook('Call.CallbackAfterEndCall', { CallRecord: tencentRecord(this.s) });
  }
}
