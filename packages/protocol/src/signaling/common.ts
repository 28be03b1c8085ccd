/** Schemas shared by several wire messages. */
import * as z from '../zod.js';
import { CALL_ID_PATTERN, DEVICE_ID_PATTERN, RESERVED_USER_IDS, USER_ID_PATTERN } from '../ids.js';
import { CallEndReason, CallMediaType, CallRole } from '../enums.js';

/** A user id: 1–32 bytes of `[A-Za-z0-9_-]`, never a reserved id (`sfu`). */
export const UserIdSchema = z.string().check(
  z.regex(USER_ID_PATTERN, 'user id must be 1-32 of [A-Za-z0-9_-]'),
  z.refine((id: string) => !RESERVED_USER_IDS.has(id), 'this user id is reserved'),
);
/** A call id. */
export const CallIdSchema = z.string().check(z.regex(CALL_ID_PATTERN, 'malformed call id'));
/** A device id chosen by the engine instance. */
export const DeviceIdSchema = z.string().check(z.regex(DEVICE_ID_PATTERN, 'malformed device id'));
/** Audio or video (none is never valid on the wire). */
export const MediaTypeSchema = z.union([z.literal(CallMediaType.audio), z.literal(CallMediaType.video)]);
/** Any end reason. */
export const EndReasonSchema = z.enum(CallEndReason);
/** Any role. */
export const RoleSchema = z.enum(CallRole);

/** Room id of a call: numeric or string, as in TUICallEngine. */
export const RoomIdSchema = z.object({
  intRoomId: z.optional(z.int().check(z.minimum(0), z.maximum(4294967295))),
  strRoomId: z.optional(z.string().check(z.maxLength(64))),
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
  title: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  desc: z.optional(z.string().check(z.maxLength(1024))),
  /** App-defined extra text for the push (Tencent: `ext`). */
  ext: z.optional(z.string().check(z.maxLength(4096))),
  ignoreIOSBadge: z.optional(z.boolean()),
  iOSSound: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  androidSound: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  androidOPPOChannelID: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  androidVIVOClassification: z.optional(z.int().check(z.minimum(0), z.maximum(1))),
  androidXiaoMiChannelID: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  androidFCMChannelID: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  androidHuaWeiCategory: z.optional(z.string().check(z.maxLength(PUSH_TEXT_MAX))),
  isDisablePush: z.optional(z.boolean()),
  iOSPushType: z.optional(z.int().check(z.minimum(0), z.maximum(1))),
});
/** Offline push payload. */
export type OfflinePushInfo = z.infer<typeof OfflinePushInfoSchema>;

/** Optional parameters of `calls()` / `inviteUser()` (TUICallEngine's `TUICallParams`). */
export const CallParamsSchema = z.object({
  roomId: z.optional(RoomIdSchema),
  /** Ring seconds; 0 or absent = server default. */
  timeout: z.optional(z.int().check(z.minimum(0), z.maximum(3600))),
  userData: z.optional(z.string().check(z.maxLength(4096))),
  chatGroupId: z.optional(z.string().check(z.maxLength(128))),
  isEphemeralCall: z.optional(z.boolean()),
  offlinePushInfo: z.optional(OfflinePushInfoSchema),
});
/** Optional parameters of `calls()` / `inviteUser()`. */
export type CallParams = z.infer<typeof CallParamsSchema>;

/** A user's public profile. */
export const UserProfileSchema = z.object({
  userId: UserIdSchema,
  nickname: z.string().check(z.maxLength(128)),
  avatar: z.string().check(z.maxLength(2048)),
});
/** A user's public profile. */
export type UserProfile = z.infer<typeof UserProfileSchema>;

/** A list of profiles (the `profile.get` answer). */
export const UserProfileListSchema = z.array(UserProfileSchema);

/** Extra information handed to call observers (TUICallObserverExtraInfo). */
export const ExtraInfoSchema = z.object({
  roomId: RoomIdSchema,
  role: RoleSchema,
  userData: z.string(),
  chatGroupId: z.string(),
  isEphemeralCall: z.boolean(),
  callerProfile: z.optional(UserProfileSchema),
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
  candidate: z.string().check(z.maxLength(1024)),
  sdpMid: z.optional(z.nullable(z.string().check(z.maxLength(64)))),
  sdpMLineIndex: z.optional(z.nullable(z.int().check(z.minimum(0), z.maximum(64)))),
});
