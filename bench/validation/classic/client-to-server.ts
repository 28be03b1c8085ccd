/**
 * Messages a client sends. Every message is `{ v, id, type, data }`; `id` correlates the server's
 * response. One schema per message; unknown fields are stripped, unknown types refused.
 */
import { z } from 'zod';
import {
  CallIdSchema,
  CallParamsSchema,
  DeviceIdSchema,
  IceCandidateSchema,
  MediaPcSchema,
  MediaSignalKindSchema,
  MediaTypeSchema,
  UserIdSchema,
} from './common.js';
import { RecentCallsFilterSchema } from './records.js';
import { PushTargetSchema } from './push.js';

/** Most user ids one request may name (maxParticipants is enforced by the server). */
const MAX_IDS = 64;

/** The `data` schema of each client message type. */
export const ClientMessageSchemas = {
  /** First message on a socket: authenticate, or resume a previous session. */
  auth: z.object({
    sdkAppId: z.number().int(),
    userId: UserIdSchema,
    userSig: z.string().min(1).max(8192),
    deviceId: DeviceIdSchema,
    /** Resume: the session id the server gave earlier and the last event seq this device processed. */
    resume: z.object({ sessionId: z.string().max(64), lastSeq: z.number().int().min(0) }).optional(),
    /** Multi-device ringing opt-in (policy `multi`). */
    multiDevice: z.boolean().optional(),
  }),
  /** Heartbeat. */
  ping: z.object({}),
  /** Sign this device out now (unInit): its calls see it leave as `offline` at once. */
  logout: z.object({}),
  /** Start a call (`calls()`). */
  'call.start': z.object({
    userIds: z.array(UserIdSchema).min(1).max(MAX_IDS),
    mediaType: MediaTypeSchema,
    params: CallParamsSchema.optional(),
  }),
  /** Accept the ringing call. */
  'call.accept': z.object({ callId: CallIdSchema }),
  /** Reject the ringing call. */
  'call.reject': z.object({ callId: CallIdSchema }),
  /** Ignore the ringing call on this device (the caller sees busy when every device ignored). */
  'call.ignore': z.object({ callId: CallIdSchema }),
  /** Hang up / cancel / reject, depending on state. */
  'call.hangup': z.object({ callId: CallIdSchema }),
  /** Invite more users into a running call. */
  'call.invite': z.object({
    callId: CallIdSchema,
    userIds: z.array(UserIdSchema).min(1).max(MAX_IDS),
    params: CallParamsSchema.pick({ userData: true, timeout: true, offlinePushInfo: true }).optional(),
  }),
  /** Join a running call (or move it to this device). */
  'call.join': z.object({ callId: CallIdSchema }),
  /** Switch audio ↔ video in a connected 1-to-1 call. */
  'call.switchMediaType': z.object({ callId: CallIdSchema, mediaType: MediaTypeSchema }),
  /**
   * Relay a WebRTC signal (SDP or ICE) to another participant's device, or to the SFU
   * (docs/media.md has the exchange).
   */
  'media.signal': z.object({
    callId: CallIdSchema,
    to: z.union([UserIdSchema, z.literal('sfu')]),
    signal: z.object({
      kind: MediaSignalKindSchema,
      sdp: z.string().max(65536).optional(),
      candidate: IceCandidateSchema.nullable().optional(),
      feeds: z.array(z.number()).max(16).optional(),
      pc: MediaPcSchema.optional(),
      /** On an SFU `offer` with `pc: 'pub'`: a new peer connection (not a renegotiation of the old one). */
      fresh: z.boolean().optional(),
    }),
  }),
  /**
   * This device's microphone/camera state, relayed to the other participants. `connected: true`
   * reports that this device's media path is up (the call's `timings.mediaConnectedAt`).
   */
  'media.state': z.object({ callId: CallIdSchema, audio: z.boolean(), video: z.boolean(), connected: z.boolean().optional() }),
  /** Set the user's nickname and avatar. */
  'profile.set': z.object({ nickname: z.string().max(128), avatar: z.string().max(2048) }),
  /** Read profiles. */
  'profile.get': z.object({ userIds: z.array(UserIdSchema).min(1).max(100) }),
  /** Opt this device in or out of multi-device ringing. */
  'device.multi': z.object({ enable: z.boolean() }),
  /** Recent call records of the signed-in user. */
  'records.query': RecentCallsFilterSchema,
  /** Register this user's device for offline pushes (SPEC §9). */
  'push.register': z.object({ target: PushTargetSchema }),
  /** Remove a push registration. */
  'push.unregister': z.object({ target: PushTargetSchema }),
  /** `onCallReceived` fired on this device (the delivery trace's `received` step). */
  'call.received': z.object({ callId: CallIdSchema }),
  /** Delete the user's own copies of records. */
  'records.delete': z.object({ callIds: z.array(CallIdSchema).min(1).max(500) }),
} as const;

/** A client message type. */
export type ClientMessageType = keyof typeof ClientMessageSchemas;
/** The payload of client message `T`. */
export type ClientMessageData<T extends ClientMessageType> = z.infer<(typeof ClientMessageSchemas)[T]>;
/** A parsed client message. */
export type ClientMessage = {
  [T in ClientMessageType]: { v: 1; id: number; type: T; data: ClientMessageData<T> };
}[ClientMessageType];

/** The envelope every client message shares. */
export const ClientEnvelopeSchema = z.object({
  v: z.number().int(),
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  type: z.string().max(64),
  data: z.unknown().optional(),
});
