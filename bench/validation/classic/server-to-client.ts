/**
 * Messages the server sends: responses to requests, ordered events, and protocol errors.
 * Call events carry exactly the arguments of the CallObserver callback they drive, by name.
 */
import { z } from 'zod';
import { CallMediaType, NetworkQuality } from '@opencall/protocol/wire';
import {
  CallIdSchema,
  EndReasonSchema,
  ExtraInfoSchema,
  IceCandidateSchema,
  MediaPcSchema,
  MediaSignalKindSchema,
  MediaTypeSchema,
  UserIdSchema,
} from './common.js';

const callId = CallIdSchema;

/** One m-line of an SFU subscriber offer: whose media arrives on `mid`. */
export const SfuStreamSchema = z.object({
  mid: z.string(),
  kind: z.enum(['audio', 'video', 'data']),
  userId: z.string(),
  feed: z.number(),
});
/** One m-line of an SFU subscriber offer. */
export type SfuStream = z.infer<typeof SfuStreamSchema>;

/**
 * A media signal as a device receives it. Besides what clients send, the SFU's subscriber offers
 * carry `streams` (the mid → user map that labels the incoming tracks) and `fresh: true` when the
 * offer starts a new subscriber connection that replaces the device's previous one.
 */
export const RelayedSignalSchema = z
  .object({
    kind: MediaSignalKindSchema,
    sdp: z.string().optional(),
    candidate: IceCandidateSchema.nullable().optional(),
    pc: MediaPcSchema.optional(),
    fresh: z.boolean().optional(),
    streams: z.array(SfuStreamSchema).optional(),
  })
  .loose();
/** A media signal as a device receives it. */
export type RelayedSignal = z.infer<typeof RelayedSignalSchema>;
const userEvent = <N extends string>(name: N) =>
  z.object({ name: z.literal(name), callId, userId: UserIdSchema });

/** Every event the server pushes to a device. `name` is the observer callback it drives. */
export const ServerEventSchema = z.discriminatedUnion('name', [
  z.object({
    name: z.literal('onCallReceived'),
    callId,
    callerId: UserIdSchema,
    calleeIdList: z.array(UserIdSchema),
    mediaType: MediaTypeSchema,
    info: ExtraInfoSchema,
  }),
  z.object({
    name: z.literal('onCallNotConnected'),
    callId,
    mediaType: MediaTypeSchema,
    reason: EndReasonSchema,
    userId: UserIdSchema,
    info: ExtraInfoSchema,
  }),
  z.object({ name: z.literal('onCallBegin'), callId, mediaType: MediaTypeSchema, info: ExtraInfoSchema }),
  z.object({
    name: z.literal('onCallEnd'),
    callId,
    mediaType: MediaTypeSchema,
    reason: EndReasonSchema,
    userId: UserIdSchema,
    totalTime: z.number(),
    info: ExtraInfoSchema,
  }),
  z.object({
    name: z.literal('onCallMediaTypeChanged'),
    callId,
    oldType: z.enum(CallMediaType),
    newType: z.enum(CallMediaType),
  }),
  userEvent('onUserInviting'),
  userEvent('onUserReject'),
  userEvent('onUserNoResponse'),
  userEvent('onUserLineBusy'),
  userEvent('onUserJoin'),
  userEvent('onUserLeave'),
  z.object({ name: z.literal('onCallCancelled'), callId, userId: UserIdSchema }),
  z.object({ name: z.literal('onUserAudioAvailable'), callId, userId: UserIdSchema, isAvailable: z.boolean() }),
  z.object({ name: z.literal('onUserVideoAvailable'), callId, userId: UserIdSchema, isAvailable: z.boolean() }),
  z.object({
    name: z.literal('onUserNetworkQualityChanged'),
    callId,
    list: z.array(z.object({ userId: UserIdSchema, quality: z.enum(NetworkQuality) })),
  }),
  /** A relayed WebRTC signal from another participant (or the SFU, `from: 'sfu'`). */
  z.object({
    name: z.literal('media.signal'),
    callId,
    from: z.string(),
    signal: RelayedSignalSchema,
  }),
  /** The call's media topology: peer-to-peer or through the SFU. */
  z.object({
    name: z.literal('media.topology'),
    callId,
    mode: z.enum(['p2p', 'sfu', 'mesh']),
    feeds: z.array(z.object({ userId: UserIdSchema, feed: z.number() })).optional(),
  }),
  z.object({ name: z.literal('onKickedOffline') }),
  z.object({ name: z.literal('onUserSigExpired') }),
]);
/** Every event the server pushes to a device. */
export type ServerEvent = z.infer<typeof ServerEventSchema>;
/** Names of server events. */
export type ServerEventName = ServerEvent['name'];
/** The server event named `N`. */
export type ServerEventOf<N extends ServerEventName> = Extract<ServerEvent, { name: N }>;

/** Response to request `id`. */
export const ResponseSchema = z.discriminatedUnion('ok', [
  z.object({ v: z.literal(1), type: z.literal('response'), id: z.number(), ok: z.literal(true), data: z.unknown() }),
  z.object({
    v: z.literal(1),
    type: z.literal('response'),
    id: z.number(),
    ok: z.literal(false),
    error: z.object({ code: z.number(), message: z.string() }),
  }),
]);
/** Response to a request. */
export type ResponseMessage = z.infer<typeof ResponseSchema>;

/** An ordered event: `seq` increases by one per device session, so gaps are detectable and replayable. */
export const EventMessageSchema = z.object({
  v: z.literal(1),
  type: z.literal('event'),
  seq: z.number().int(),
  event: ServerEventSchema,
});
/** An ordered event message. */
export type EventMessage = z.infer<typeof EventMessageSchema>;

/** A protocol error not tied to a request (garbage, oversized frames). */
export const ErrorMessageSchema = z.object({
  v: z.literal(1),
  type: z.literal('error'),
  error: z.object({ code: z.number(), message: z.string() }),
});

/** Anything the server sends. */
export const ServerMessageSchema = z.union([ResponseSchema, EventMessageSchema, ErrorMessageSchema]);
/** Anything the server sends. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/** ICE server handed to clients (STUN, or TURN with time-limited credentials). */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Data of a successful `auth` response. */
export interface AuthResult {
  sessionId: string;
  /** True when a previous session was resumed and missed events are being replayed. */
  resumed: boolean;
  /** The last event seq the server has sent on this session before replaying. */
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  /** UserSig expiry, ms epoch. */
  expireAt: number;
  serverTime: number;
  iceServers: IceServer[];
  maxParticipants: number;
  devicePolicy: 'kick' | 'multi';
  /** Largest frame the server accepts (`limits.maxMessageBytes`); larger requests fail with -1202 before sending. */
  maxMessageBytes: number;
}

/** Data of a successful `call.start` response. */
export interface StartCallResult {
  callId: string;
}
