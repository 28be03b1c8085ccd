/**
 * Messages the server sends: responses to requests, ordered events, and protocol errors.
 * Call events carry exactly the arguments of the CallObserver callback they drive, by name.
 */
import * as z from '../zod.js';
import { CallMediaType, NetworkQuality } from '../enums.js';
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
export const RelayedSignalSchema = z.looseObject({
  kind: MediaSignalKindSchema,
  sdp: z.optional(z.string()),
  candidate: z.optional(z.nullable(IceCandidateSchema)),
  pc: z.optional(MediaPcSchema),
  fresh: z.optional(z.boolean()),
  streams: z.optional(z.array(SfuStreamSchema)),
});
/** A media signal as a device receives it. */
export type RelayedSignal = z.infer<typeof RelayedSignalSchema>;
/**
 * How a call's media flows: `p2p` (1-to-1), `sfu` (through the server's Janus), `mesh` (a direct
 * connection to each peer: multi/group calls without an SFU).
 */
export const MediaModeSchema = z.enum(['p2p', 'sfu', 'mesh']);
/** How a call's media flows. */
export type MediaMode = z.infer<typeof MediaModeSchema>;

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
  z.object({
    name: z.literal('onCallBegin'),
    callId,
    mediaType: MediaTypeSchema,
    info: ExtraInfoSchema,
    /**
     * The call's media topology when the server knows it as the device connects (a 1-to-1 call:
     * `p2p`): the device then gets no separate `media.topology` event for it. Not an observer
     * argument.
     */
    topology: z.optional(MediaModeSchema),
  }),
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
    mode: MediaModeSchema,
    feeds: z.optional(z.array(z.object({ userId: UserIdSchema, feed: z.number() }))),
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
  seq: z.int(),
  event: ServerEventSchema,
  /**
   * Stable id of an event a call's state change produced (`<callId>:<version>:<n>`). After a
   * server crash such an event may come again (replayed from storage); a client processes each
   * id once. Sent without the callId the event itself carries (`:<version>:<n>`, see
   * {@link wireEventId}).
   */
  eid: z.optional(z.string().check(z.maxLength(200))),
  /**
   * Set on a stored event sent again late (after another node died, or with the answer of a
   * re-sent request): a client skips it when it has already processed a later state of that call.
   */
  replay: z.optional(z.literal(true)),
});
/** An ordered event message. */
export type EventMessage = z.infer<typeof EventMessageSchema>;

/**
 * An event id as sent: `<callId>:<version>:<n>` loses its callId when the event names the same
 * call (`:<version>:<n>`), so the id is not sent twice. {@link fullEventId} restores it.
 */
export function wireEventId(event: ServerEvent, eid: string): string {
  const callId = 'callId' in event ? event.callId : undefined;
  return callId !== undefined && eid.length > callId.length && eid.startsWith(callId) && eid[callId.length] === ':' ? eid.slice(callId.length) : eid;
}

/** The full id of a received event whose `eid` came as {@link wireEventId} made it. */
export function fullEventId(event: ServerEvent, eid: string): string {
  return eid.startsWith(':') && 'callId' in event ? event.callId + eid : eid;
}

/** A protocol error not tied to a request (garbage, oversized frames). */
export const ErrorMessageSchema = z.object({
  v: z.literal(1),
  type: z.literal('error'),
  error: z.object({ code: z.number(), message: z.string() }),
});

/** One message the server sends (a frame holds one, or several in a {@link BatchMessageSchema}). */
export const ServerMessageSchema = z.union([ResponseSchema, EventMessageSchema, ErrorMessageSchema]);
/** One message the server sends. */
export type ServerMessage = z.infer<typeof ServerMessageSchema>;

/**
 * Several messages for one device in one frame, in order: what the server has for a socket by the
 * end of one event-loop turn (the events of a commit, and the response of the request that caused
 * them) leaves as one frame instead of one per message. Each item is a {@link ServerMessageSchema}
 * message (never a batch) that may leave out its `v` (the batch's own covers it), and is checked on
 * its own, so one item a client does not understand does not cost it the others (validate.ts
 * `serverFrameParser`).
 */
export const BatchMessageSchema = z.object({
  v: z.literal(1),
  type: z.literal('batch'),
  m: z.array(z.unknown()),
});
/** Several messages in one frame. */
export type BatchMessage = z.infer<typeof BatchMessageSchema>;

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
