/**
 * The webhook bodies of SPEC §6.3, as a receiver sees them after `JSON.parse`. Receivers should
 * ignore fields they do not know: later versions may add some. Times are Unix seconds except
 * `EventTime` and `Timings` (ms epoch).
 */
import type { OfflinePushInfo } from '@opencall/protocol/wire';
import type { TencentCallRecord } from '../call/tencent.js';

export type { OfflinePushInfo, TencentCallRecord };

/** The three callback commands (also sent as the `CallbackCommand` query parameter). */
export type WebhookCallbackCommand = WebhookBody['CallbackCommand'];

/** `Calling`: calling or connected. `Waiting`: invited, ringing or waiting for a sign-in. */
export type WebhookUserStatus = 'Calling' | 'Waiting';

/** What happened to a user in `Call.CallbackAfterMemberChanged`. */
export type WebhookActionType = 'Accept' | 'Reject' | 'NotAnswer' | 'Hangup' | 'Join' | 'Offline' | 'Invite' | 'Cancel_Invite';

/** A user in a `UserList`: everyone with an active part in the call after the change. */
export interface WebhookUser {
  User_Account: string;
  Status: WebhookUserStatus;
}

/** `Call.CallbackAfterStartCall`: a call was created and its invitees are being rung. */
export interface StartCallWebhook {
  CallbackCommand: 'Call.CallbackAfterStartCall';
  CallInfo: {
    CallId: string;
    CallMediaType: 'Audio' | 'Video';
    /** `''` unless the call is a group call. */
    ChatGroupId: string;
    /** The string room id when set, else the numeric one as a string (`"0"` when none). */
    RoomId: string;
    /** 1: numeric room id, 2: string room id. */
    RoomIdType: 1 | 2;
  };
  /** The caller (`Calling`) then every invitee (`Waiting`). */
  UserList: WebhookUser[];
  /** ms epoch. */
  EventTime: number;
}

/** `Call.CallbackAfterMemberChanged`: users were invited, answered, left or went offline. */
export interface MemberChangedWebhook {
  CallbackCommand: 'Call.CallbackAfterMemberChanged';
  CallId: string;
  /** Users still taking part after the change. */
  UserList: WebhookUser[];
  /** Who changed and how. */
  ChangedUserList: { User_Account: string; ActionType: WebhookActionType }[];
  /**
   * The call's `offlinePushInfo`, present on `Invite` changes when an invitee has no signed-in
   * device, so the application can send a push notification.
   */
  OfflinePushInfo?: OfflinePushInfo;
  /** ms epoch. */
  EventTime: number;
}

/** `Call.CallbackAfterEndCall`: the call ended; its record in the REST API's shape. */
export interface EndCallWebhook {
  CallbackCommand: 'Call.CallbackAfterEndCall';
  CallRecord: TencentCallRecord;
  /** ms epoch. */
  EventTime: number;
}

/** Any webhook body; switch on `CallbackCommand`. */
export type WebhookBody = StartCallWebhook | MemberChangedWebhook | EndCallWebhook;
