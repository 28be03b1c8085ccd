/**
 * Fixtures of the storage contract suite (`contract.ts`, `contractCluster.ts`): small, valid call
 * states, changes, records and outbox rows that tests adjust with overrides.
 */
import { CallEndReason, CallMediaType, CallRole, type CallRecord } from '@opencall/protocol/wire';
import type { CallState, LegState, Member } from '../call/types.js';
import type { CallChange, Membership, NewOutboxRow, Storage } from './Storage.js';

/** What a test gets from the adapter factory. */
export interface Made {
  storage: Storage;
  /** Opens the same data again (persistent adapters only). */
  reopen?: () => Promise<Storage>;
  /** Runs after the storage is closed when the test ends (drop a test database). */
  dispose?: () => Promise<void>;
}

/** A member in `state` with neutral totals. */
export function member(userId: string, state: LegState): Member {
  return {
    userId,
    attempt: 1,
    state,
    ringingDevices: state === 'ringing' ? ['dev-1'] : [],
    ignoredDevices: [],
    deviceId: state === 'calling' || state === 'joined' ? 'dev-1' : null,
    ringDeadline: state === 'ringing' ? 31_000 : null,
    joinedAt: state === 'joined' ? 2_000 : null,
    connectedMs: 0,
    everJoined: state === 'joined',
    endReason: null,
  };
}

/** A fresh alice → bob call at version 1, with overrides. */
export function callState(callId: string, over: Partial<CallState> = {}): CallState {
  return {
    callId,
    version: 1,
    phase: 'ringing',
    scene: 'single',
    mediaType: CallMediaType.video,
    callerId: 'alice',
    inviteList: ['bob'],
    roomId: { strRoomId: `room-${callId}` },
    userData: 'hello',
    chatGroupId: '',
    isEphemeralCall: false,
    offlinePushInfo: { title: 'Call', isDisablePush: false },
    callerProfile: { userId: 'alice', nickname: 'Alice', avatar: 'https://a.example/a.png' },
    ringTimeoutMs: 30_000,
    members: { alice: member('alice', 'calling'), bob: member('bob', 'ringing') },
    createdAt: 1_000,
    acceptedAt: null,
    mediaConnectedAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    ringingAt: { bob: 1_010 },
    webhookSeq: 0,
    ...over,
  };
}

/** The state after `prev`, one version later. */
export function next(prev: CallState, over: Partial<CallState> = {}): CallState {
  return { ...structuredClone(prev), version: prev.version + 1, ...over };
}

/** A change writing `state` over the version before it, nothing else unless overridden. */
export function change(state: CallState, over: Partial<CallChange> = {}): CallChange {
  return { state, expectedVersion: state.version - 1, memberships: [], timerDueAt: null, records: [], webhooks: [], ...over };
}

/** A record of `callId` as alice's outgoing call, with overrides. */
export function record(callId: string, over: Partial<CallRecord> = {}): CallRecord {
  return {
    callId,
    inviter: 'alice',
    inviteList: ['bob'],
    chatGroupId: '',
    scene: 'single',
    mediaType: CallMediaType.audio,
    role: CallRole.caller,
    result: 'outgoing',
    beginTime: 1_000,
    totalTime: 5_000,
    endReason: CallEndReason.hangup,
    timings: { invitedAt: 1_000, ringingAt: { bob: 1_010 }, acceptedAt: 2_000, mediaConnectedAt: 2_100, endedAt: 7_000 },
    ...over,
  };
}

/** An outbox row of `callId` created at `createdAt`. */
export function hook(callId: string, eventId: string, seq: number, createdAt: number): NewOutboxRow {
  return { eventId, callId, seq, command: 'Call.CallbackAfterStartCall', body: `{"seq":${seq}}`, createdAt };
}

/** Ids of states or records, for order assertions. */
export function ids(items: { callId: string }[]): string[] {
  return items.map((i) => i.callId);
}

/** One membership row of `callId`. */
export function leg(userId: string, callId: string, state: LegState): Membership {
  return { userId, callId, state };
}
