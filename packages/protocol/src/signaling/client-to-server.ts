/**
 * Messages a client sends. Every message is `{ v, id, type, data }`; `id` correlates the server's
 * response. One schema per message; unknown fields are stripped, unknown types refused.
 */
import * as z from '../zod.js';
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
import { RecentCallsFilterSchema } from '../records.js';
import { PushTargetSchema } from '../push.js';

/** Most user ids one request may name (maxParticipants is enforced by the server). */
const MAX_IDS = 64;

/** The `data` schema of each client message type. */
export const ClientMessageSchemas = {
  /** First message on a socket: authenticate, or resume a previous session. */
  auth: z.object({
    sdkAppId: z.int(),
    userId: UserIdSchema,
    userSig: z.string().check(z.minLength(1), z.maxLength(8192)),
    deviceId: DeviceIdSchema,
    /** Resume: the session id the server gave earlier and the last event seq this device processed. */
    resume: z.optional(z.object({ sessionId: z.string().check(z.maxLength(64)), lastSeq: z.int().check(z.minimum(0)) })),
    /** Multi-device ringing opt-in (policy `multi`). */
    multiDevice: z.optional(z.boolean()),
  }),
  /** Heartbeat. */
  ping: z.object({}),
  /** Sign this device out now (unInit): its calls see it leave as `offline` at once. */
  logout: z.object({}),
  /** Start a call (`calls()`). */
  'call.start': z.object({
    userIds: z.array(UserIdSchema).check(z.minLength(1), z.maxLength(MAX_IDS)),
    mediaType: MediaTypeSchema,
    params: z.optional(CallParamsSchema),
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
    userIds: z.array(UserIdSchema).check(z.minLength(1), z.maxLength(MAX_IDS)),
    params: z.optional(z.pick(CallParamsSchema, { userData: true, timeout: true, offlinePushInfo: true })),
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
      sdp: z.optional(z.string().check(z.maxLength(65536))),
      candidate: z.optional(z.nullable(IceCandidateSchema)),
      feeds: z.optional(z.array(z.number()).check(z.maxLength(16))),
      pc: z.optional(MediaPcSchema),
      /** On an SFU `offer` with `pc: 'pub'`: a new peer connection (not a renegotiation of the old one). */
      fresh: z.optional(z.boolean()),
    }),
  }),
  /**
   * This device's microphone/camera state, relayed to the other participants. `connected: true`
   * reports that this device's media path is up (the call's `timings.mediaConnectedAt`).
   */
  'media.state': z.object({ callId: CallIdSchema, audio: z.boolean(), video: z.boolean(), connected: z.optional(z.boolean()) }),
  /** Set the user's nickname and avatar. */
  'profile.set': z.object({ nickname: z.string().check(z.maxLength(128)), avatar: z.string().check(z.maxLength(2048)) }),
  /** Read profiles. */
  'profile.get': z.object({ userIds: z.array(UserIdSchema).check(z.minLength(1), z.maxLength(100)) }),
  /** Opt this device in or out of multi-device ringing. */
  'device.multi': z.object({ enable: z.boolean() }),
  /** Recent call records of the signed-in user. */
  'records.query': RecentCallsFilterSchema,
  /** Register this user's device for offline pushes (SPEC §9). */
  'push.register': z.object({ target: PushTargetSchema }),
  /** Remove a push registration. */
  'push.unregister': z.object({ target: PushTargetSchema }),
  /**
   * `onCallReceived` fired on this device (the delivery trace's `received` step). A notification
   * ({@link CLIENT_NOTIFICATIONS}): answered only when refused.
   */
  'call.received': z.object({ callId: CallIdSchema }),
  /** The delivery trace of a call the signed-in user was part of (SPEC §9). */
  'call.trace': z.object({ callId: CallIdSchema }),
  /** Delete the user's own copies of records. */
  'records.delete': z.object({ callIds: z.array(CallIdSchema).check(z.minLength(1), z.maxLength(500)) }),
} as const;

/** A client message type. */
export type ClientMessageType = keyof typeof ClientMessageSchemas;

/**
 * Client messages that are notifications, not requests: the server answers one only when it
 * refuses it (a `response` with `ok: false`, for the log), never on success, so a report costs one
 * frame instead of two. The client does not wait for them or re-send them. They still carry an
 * `id` (the envelope's), which names a refused one.
 */
export const CLIENT_NOTIFICATIONS: ReadonlySet<ClientMessageType> = new Set<ClientMessageType>(['call.received']);
/** The payload of client message `T`. */
export type ClientMessageData<T extends ClientMessageType> = z.infer<(typeof ClientMessageSchemas)[T]>;
/** A parsed client message. */
export type ClientMessage = {
  [T in ClientMessageType]: { v: 1; id: number; type: T; data: ClientMessageData<T>; retry?: true };
}[ClientMessageType];

/** The envelope every client message shares. */
export const ClientEnvelopeSchema = z.object({
  v: z.int(),
  id: z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
  type: z.string().check(z.maxLength(64)),
  data: z.optional(z.unknown()),
  /**
   * Set on a request re-sent after a reconnection (same id): it may have run already on a server
   * process that died before answering, so the server looks its stored result up first.
   */
  retry: z.optional(z.literal(true)),
});
