/**
 * The persisted shape of a call and the commands and effects of the pure state machine.
 * A call is one JSON document (`CallState`) saved with a version; everything the machine decides
 * is returned as data (`Effect`) and applied by the CallService.
 */
import type {
  CallEndReason,
  CallMediaType,
  CallParams,
  CallRecord,
  CallScene,
  OfflinePushInfo,
  RoomId,
  ServerEvent,
  UserProfile,
} from '@opencall/protocol/wire';

/**
 * State of one user's current leg in a call. A leg is (user × device × attempt):
 * `invited` (no device reached yet) → `ringing` → `joined` → `left`, or it ends without joining.
 * The caller's leg starts as `calling`.
 */
export type LegState =
  | 'calling'
  | 'invited'
  | 'ringing'
  | 'joined'
  | 'left'
  | 'rejected'
  | 'busy'
  | 'noResponse'
  | 'canceled'
  | 'offline'
  | 'endByServer';

/** Leg states in which the user takes part in the call (a device may be rung or connected). */
export const ACTIVE_LEG_STATES: ReadonlySet<LegState> = new Set(['calling', 'invited', 'ringing', 'joined']);

/** One user in a call: their current leg plus totals across earlier legs. */
export interface Member {
  userId: string;
  /** 1 for the first leg; a `join` after an ended leg opens the next attempt. */
  attempt: number;
  state: LegState;
  /** Devices being rung (states invited/ringing). */
  ringingDevices: string[];
  /** Devices that chose `ignore` during this ringing. */
  ignoredDevices: string[];
  /** The device that is calling or connected. */
  deviceId: string | null;
  /** Ring deadline, ms epoch (invited/ringing only). */
  ringDeadline: number | null;
  /** When this leg connected. */
  joinedAt: number | null;
  /** Connected ms accumulated over ended legs. */
  connectedMs: number;
  /** True once the user has ever been connected in this call. */
  everJoined: boolean;
  /** Profile of the caller is kept on the call; others' only when needed. */
  endReason: CallEndReason | null;
  /**
   * Deadline (ms epoch) of this leg's invitation when an offline push announced it (SPEC §9):
   * a withdraw push follows when the invitation ends, and the action token is bound to it.
   */
  pushDeadline?: number | null;
  /**
   * True once this user's record was written because their part ended while the call went on (a
   * group call they left): the call's end does not overwrite it. A later `join` opens a new leg
   * without it, so the final record then covers the whole.
   */
  ownRecord?: boolean;
}

/** Call-level status. */
export type CallPhase = 'ringing' | 'active' | 'ended';

/** The whole persisted state of one call. */
export interface CallState {
  callId: string;
  version: number;
  phase: CallPhase;
  scene: CallScene;
  mediaType: CallMediaType.audio | CallMediaType.video;
  callerId: string;
  /** Every user ever invited, in invitation order (the caller excluded). */
  inviteList: string[];
  roomId: RoomId;
  userData: string;
  chatGroupId: string;
  isEphemeralCall: boolean;
  offlinePushInfo: OfflinePushInfo | null;
  callerProfile: UserProfile | null;
  ringTimeoutMs: number;
  /** Members by user id (the caller included). Insertion order = join order for the event lists. */
  members: Record<string, Member>;
  createdAt: number;
  /** First time two users were connected. */
  acceptedAt: number | null;
  mediaConnectedAt: number | null;
  endedAt: number | null;
  endReason: CallEndReason | null;
  /** Who ended the call (the user whose action or absence ended it). */
  endedBy: string | null;
  /** First time each invitee's device rang, ms epoch. */
  ringingAt: Record<string, number>;
  /** Per-call webhook sequence (increasing in the order events happened). */
  webhookSeq: number;
}

/** Facts about the world outside this call that a command needs; gathered by the service. */
export interface UserContext {
  /** Users (among those named) busy in another call. */
  busy: ReadonlySet<string>;
  /** Devices to ring for each named user that is signed in (empty/absent: signed out). */
  devices: Readonly<Record<string, readonly string[]>>;
}

/** Commands the machine accepts. `deviceId` is the device that sent the request. */
export type Command =
  | {
      type: 'start';
      callId: string;
      userId: string;
      deviceId: string;
      callees: string[];
      mediaType: CallMediaType.audio | CallMediaType.video;
      params: CallParams;
      ringTimeoutMs: number;
      maxParticipants: number;
      callerProfile: UserProfile | null;
      ctx: UserContext;
    }
  | { type: 'accept'; userId: string; deviceId: string }
  | { type: 'reject'; userId: string; deviceId: string }
  | { type: 'ignore'; userId: string; deviceId: string }
  | { type: 'hangup'; userId: string; deviceId: string }
  | {
      type: 'invite';
      userId: string;
      deviceId: string;
      userIds: string[];
      maxParticipants: number;
      params: Pick<CallParams, 'userData' | 'timeout' | 'offlinePushInfo'>;
      ctx: UserContext;
    }
  | { type: 'join'; userId: string; deviceId: string; busyElsewhere: boolean; maxParticipants: number }
  | { type: 'switchMediaType'; userId: string; deviceId: string; mediaType: CallMediaType.audio | CallMediaType.video }
  /** A device of `userId` signed in and should ring for pending invitations. */
  | { type: 'deviceOnline'; userId: string; deviceId: string; busyElsewhere: boolean }
  /** A device is gone: heartbeat lost past the window, or signed out by a newer sign-in. */
  | { type: 'deviceOffline'; userId: string; deviceId: string }
  /** Timers: handle every deadline that has passed. */
  | { type: 'tick' }
  /** Admin `end_call`. */
  | { type: 'endByServer'; adminId: string }
  /** The media path connected for the first time (timings.mediaConnectedAt). */
  | { type: 'mediaConnected' }
  /** Decline from a push notification (`POST /push/action`, action `reject`); no device involved. */
  | { type: 'pushReject'; userId: string };

/** Who an event goes to. */
export interface Target {
  userId: string;
  deviceId: string;
}

/** Webhook callback commands (SPEC §6.3). */
export type WebhookCommand =
  | 'Call.CallbackAfterStartCall'
  | 'Call.CallbackAfterMemberChanged'
  | 'Call.CallbackAfterEndCall';

/** Why a pushed invitation was withdrawn: how the invitee's leg ended, or `accepted`. */
export type PushWithdrawReason = 'accepted' | 'rejected' | 'noResponse' | 'busy' | 'canceled' | 'offline' | 'endByServer';

/** The push payload of SPEC §9 as the machine decides it (the action token is added on send). */
export interface PushPayload {
  type: 'call.invite' | 'call.withdraw';
  callId: string;
  callerId: string;
  callerProfile: UserProfile | null;
  mediaType: CallMediaType.audio | CallMediaType.video;
  scene: CallScene;
  /** The invitation's ring deadline, ms epoch. */
  deadline: number;
  offlinePushInfo: OfflinePushInfo | null;
  /** On `call.withdraw`. */
  reason?: PushWithdrawReason;
}

/** Effects as data. Durable ones are written with the state; sends run after the commit. */
export type Effect =
  | { kind: 'send'; to: Target; event: ServerEvent }
  /** An offline push to every registration of `userId` (durable queue, sent after the commit). */
  | { kind: 'push'; userId: string; payload: PushPayload }
  /** One step of the call's delivery trace (SPEC §9), written with the state. */
  | { kind: 'trace'; userId: string; deviceId: string | null; step: string; detail?: Record<string, unknown> }
  | { kind: 'webhook'; command: WebhookCommand; seq: number; body: Record<string, unknown> }
  | { kind: 'record'; userId: string; record: CallRecord };

/** Output of a transition. */
export interface TransitionResult {
  state: CallState;
  effects: Effect[];
  /** Data for the requester's response (e.g. invited user ids). */
  reply?: unknown;
}
