/**
 * The only place that parses untrusted input: raw socket frames from clients (server side) and from
 * the server (client side). Every failure becomes a stable error code.
 */
import { ClientEnvelopeSchema, ClientMessageSchemas } from './signaling/client-to-server.js';
import type { ClientMessage, ClientMessageType } from './signaling/client-to-server.js';
import { BatchMessageSchema, ErrorMessageSchema, EventMessageSchema, ResponseSchema, ServerMessageSchema } from './signaling/server-to-client.js';
import type { ServerMessage } from './signaling/server-to-client.js';
import { ErrorCode, wireError } from './errors.js';
import type { WireError } from './errors.js';

/** The protocol version this package speaks. */
export const PROTOCOL_VERSION = 1;

/** Result of parsing a client frame: the message, or an error (with the request id when it could be read). */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; id: number | null; error: WireError };

function issueText(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  const path = first.path.map(String).join('.');
  return path ? `${path}: ${first.message}` : first.message;
}

/**
 * Deepest nesting of arrays/objects any client message needs (the deepest schema is 4 levels:
 * envelope → data → signal → candidate). Anything deeper is refused before `JSON.parse`, so no
 * code downstream ever walks a deeply nested client structure.
 */
export const MAX_JSON_DEPTH = 8;

/**
 * True when the JSON text `raw` nests arrays/objects more than `max` levels deep. One pass over
 * the text, no recursion and no allocation, so it is safe on any input (it never throws).
 */
export function jsonTooDeep(raw: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** The schemas a client frame is checked against: the envelope, then the `data` of its type. */
export interface ClientSchemas {
  envelope: typeof ClientEnvelopeSchema;
  messages: typeof ClientMessageSchemas;
}

/**
 * Builds `parseClientMessage` over `schemas`: the protocol's own, or the same schemas through
 * `z.compile` (the server's, see compiled.ts). Size limits are enforced before this (by the
 * socket's maxPayload and the gateway); this checks depth, JSON, envelope, version, type and
 * payload schema.
 */
export function clientMessageParser({ envelope, messages }: ClientSchemas): (raw: string) => ParseResult {
  return (raw) => {
    if (jsonTooDeep(raw)) {
      // Answer the request id when the frame's head carries one, so the sender's promise settles.
      const head = /^\s*\{[^{[]*?"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(raw.slice(0, 200));
      return { ok: false, id: head ? Number(head[1]) : null, error: wireError(ErrorCode.MALFORMED_MESSAGE, `nested deeper than ${MAX_JSON_DEPTH} levels`) };
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return { ok: false, id: null, error: wireError(ErrorCode.MALFORMED_MESSAGE, 'not JSON') };
    }
    const env = envelope.safeParse(json);
    if (!env.success) {
      return { ok: false, id: null, error: wireError(ErrorCode.MALFORMED_MESSAGE, issueText(env.error.issues)) };
    }
    const { id, type, v, retry } = env.data;
    if (v !== PROTOCOL_VERSION) {
      return { ok: false, id, error: wireError(ErrorCode.UNSUPPORTED_VERSION, `server speaks v${PROTOCOL_VERSION}`) };
    }
    if (!Object.hasOwn(messages, type)) {
      return { ok: false, id, error: wireError(ErrorCode.UNKNOWN_MESSAGE_TYPE, type) };
    }
    const schema = messages[type as ClientMessageType];
    const data = schema.safeParse(env.data.data ?? {});
    if (!data.success) {
      return { ok: false, id, error: wireError(ErrorCode.INVALID_PARAMETER, issueText(data.error.issues)) };
    }
    return { ok: true, message: { v: 1, id, type, data: data.data, ...(retry ? { retry } : {}) } as ClientMessage };
  };
}

/** Builds `parseServerMessage` over `schema` (the protocol's `ServerMessageSchema`, or it compiled). */
export function serverMessageParser(schema: typeof ServerMessageSchema): (raw: string) => ServerMessage | null {
  return (raw) => {
    try {
      const r = schema.safeParse(JSON.parse(raw));
      return r.success ? r.data : null;
    } catch {
      return null;
    }
  };
}

/**
 * One message of a server frame: parsed, or refused by its schema (`raw`: the JSON value as it
 * came, so the client can still read a refused event's seq or a refused answer's id).
 */
export type ServerFrameItem = { ok: true; message: ServerMessage } | { ok: false; raw: unknown };

/** The schemas a server frame is checked against: the batch envelope, and each message kind by `type`. */
export interface ServerSchemas {
  batch: typeof BatchMessageSchema;
  response: typeof ResponseSchema;
  event: typeof EventMessageSchema;
  error: typeof ErrorMessageSchema;
}

/**
 * Builds `parseServerFrame` over `schemas` (the protocol's own, or compiled: compiled.ts). A frame
 * is one message or a batch of them; each message is checked with the schema its `type` names,
 * which accepts exactly what {@link ServerMessageSchema} (their union) accepts, without trying
 * the other kinds first. Null: the frame is not JSON, or a batch envelope is malformed.
 */
export function serverFrameParser(schemas: ServerSchemas): (raw: string) => ServerFrameItem[] | null {
  const one = (v: unknown): ServerFrameItem => {
    const type = typeof v === 'object' && v !== null ? (v as { type?: unknown }).type : undefined;
    const schema = type === 'event' ? schemas.event : type === 'response' ? schemas.response : type === 'error' ? schemas.error : null;
    const r = schema?.safeParse(v);
    return r?.success ? { ok: true, message: r.data } : { ok: false, raw: v };
  };
  return (raw) => {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      return null;
    }
    if ((json as { type?: unknown } | null)?.type !== 'batch') return [one(json)];
    const batch = schemas.batch.safeParse(json);
    if (!batch.success) return null;
    return batch.data.m.map((item) => {
      // An item may leave out its `v`: the batch's (checked above) is the version.
      if (typeof item === 'object' && item !== null && !('v' in item)) (item as { v?: number }).v = PROTOCOL_VERSION;
      return one(item);
    });
  };
}

/**
 * Parses one text frame from the server (one message or a batch) with the protocol's schemas
 * (compiled twin in Node). Null when it is not JSON or not a well-formed batch.
 */
export const parseServerFrame: (raw: string) => ServerFrameItem[] | null = serverFrameParser({
  batch: BatchMessageSchema,
  response: ResponseSchema,
  event: EventMessageSchema,
  error: ErrorMessageSchema,
});

/**
 * Parses one text frame from a client with the protocol's schemas. In Node, both entries of the
 * package export the compiled twin instead (compiled.ts: same results, faster on valid frames).
 */
export const parseClientMessage: (raw: string) => ParseResult = clientMessageParser({ envelope: ClientEnvelopeSchema, messages: ClientMessageSchemas });

/** Parses one frame from the server; null when it is not a message this client understands (compiled twin in Node). */
export const parseServerMessage: (raw: string) => ServerMessage | null = serverMessageParser(ServerMessageSchema);
