/** Schemas shared by several wire messages. */
import { z } from 'zod';
import { CALL_ID_PATTERN, DEVICE_ID_PATTERN, RESERVED_USER_IDS, USER_ID_PATTERN } from '@opencall/protocol/wire';
import { CallEndReason, CallMediaType, CallRole } from '@opencall/protocol/wire';

/** A user id: 1–32 bytes of `[A-Za-z0-9_-]`, never a reserved id (`sfu`). */
export const UserIdSchema = z
  .string()
  .regex(USER_ID_PATTERN, 'user id must be 1-32 of [A-Za-z0-9_-]')
  .refine((id) => !RESERVED_USER_IDS.has(id), 'this user id is reserved');
/** A call id. */
export const CallIdSchema = z.string().regex(CALL_ID_PATTERN, 'malformed call id');
/** A device id chosen by the engine instance. */
export const DeviceIdSchema = z.string().regex(DEVICE_ID_PATTERN, 'malformed device id');
/** Audio or video (none is never valid on the wire). */
export const MediaTypeSchema = z.union([z.literal(CallMediaType.audio), z.literal(CallMediaType.video)]);
/** Any end reason. */
export const EndReasonSchema = z.enum(CallEndReason);
/** Any role. */
export const RoleSchema = z.enum(CallRole);

/** Room id of a call: numeric or string, as in TUICallEngine. */
export const RoomIdSchema = z.object({
  intRoomId: z.number().int().min(0).max(4294967295).optional(),
  strRoomId: z.string().max(64).optional(),
});
/** Room id of a call. */
export type RoomId = z.infer<typeof RoomIdSchema>;

/** Longest text field of `offlinePushInfo` (title, sounds, channel ids). */
const PUSH_TEXT_MAX = 256;

/**
 * Offline push payload (Tencent's `OfflinePushInfo`): stored with the invitation and handed to the
 * app's backend in webhooks and pushes. Only the documented fields are accepted, each bounded;
 * anything else is stripped, so a client can neither inject fields into backends' push payloads
 * nor store an unbounded structure on a call.
 */
export const OfflinePushInfoSchema = z.object({
  title: z.string().max(PUSH_TEXT_MAX).optional(),
  desc: z.string().max(1024).optional(),
  /** App-defined extra text for the push (Tencent: `ext`). */
  ext: z.string().max(4096).optional(),
  ignoreIOSBadge: z.boolean().optional(),
  iOSSound: z.string().max(PUSH_TEXT_MAX).optional(),
  androidSound: z.string().max(PUSH_TEXT_MAX).optional(),
  androidOPPOChannelID: z.string().max(PUSH_TEXT_MAX).optional(),
  androidVIVOClassification: z.number().int().min(0).max(1).optional(),
  androidXiaoMiChannelID: z.string().max(PUSH_TEXT_MAX).optional(),
  androidFCMChannelID: z.string().max(PUSH_TEXT_MAX).optional(),
  androidHuaWeiCategory: z.string().max(PUSH_TEXT_MAX).optional(),
  isDisablePush: z.boolean().optional(),
  iOSPushType: z.number().int().min(0).max(1).optional(),
});
/** Offline push payload. */
export type OfflinePushInfo = z.infer<typeof OfflinePushInfoSchema>;

/** Optional parameters of `calls()` / `inviteUser()` (TUICallEngine's `TUICallParams`). */
export const CallParamsSchema = z.object({
  roomId: RoomIdSchema.optional(),
  /** Ring seconds; 0 or absent = server default. */
  timeout: z.number().int().min(0).max(3600).optional(),
  userData: z.string().max(4096).optional(),
  chatGroupId: z.string().max(128).optional(),
  isEphemeralCall: z.boolean().optional(),
  offlinePushInfo: OfflinePushInfoSchema.optional(),
});
/** Optional parameters of `calls()` / `inviteUser()`. */
export type CallParams = z.infer<typeof CallParamsSchema>;

/** A user's public profile. */
export const UserProfileSchema = z.object({
  userId: UserIdSchema,
  nickname: z.string().max(128),
  avatar: z.string().max(2048),
});
/** A user's public profile. */
export type UserProfile = z.infer<typeof UserProfileSchema>;

/** Extra information handed to call observers (TUICallObserverExtraInfo). */
export const ExtraInfoSchema = z.object({
  roomId: RoomIdSchema,
  role: RoleSchema,
  userData: z.string(),
  chatGroupId: z.string(),
  isEphemeralCall: z.boolean(),
  callerProfile: UserProfileSchema.optional(),
});
/** Extra information handed to call observers. */
export type CallObserverExtraInfo = z.infer<typeof ExtraInfoSchema>;

/**
 * What a media signal carries: SDP `offer`/`answer`, a trickled ICE `candidate`, a request to
 * `restart` ICE (or, from the server, to publish afresh), an SFU `subscribe` (rebuild this
 * device's subscriber connection), or `leave` (that device's media is gone: drop the connection).
 */
export const MediaSignalKindSchema = z.enum(['offer', 'answer', 'candidate', 'restart', 'subscribe', 'leave']);
/** Which peer connection a signal belongs to: to a peer (`p2p`), or this device's SFU publisher/subscriber. */
export const MediaPcSchema = z.enum(['pub', 'sub', 'p2p']);
/** A trickled ICE candidate (`RTCIceCandidateInit`); `null` in a signal means end of candidates. */
export const IceCandidateSchema = z.object({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
});
