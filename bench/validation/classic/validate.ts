/**
 * The only place that parses untrusted input: raw socket frames from clients (server side) and from
 * the server (client side). Every failure becomes a stable error code.
 */
import { ClientEnvelopeSchema, ClientMessageSchemas } from './client-to-server.js';
import type { ClientMessage, ClientMessageType } from './client-to-server.js';
import { ServerMessageSchema } from './server-to-client.js';
import type { ServerMessage } from './server-to-client.js';
import { ErrorCode, wireError } from '@opencall/protocol/wire';
import type { WireError } from '@opencall/protocol/wire';
import { MAX_JSON_DEPTH, PROTOCOL_VERSION, jsonTooDeep } from '@opencall/protocol/wire';

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
 * Parses one text frame from a client. Size limits are enforced before this (by the socket's
 * maxPayload and the gateway); this checks JSON, envelope, version, type and payload schema.
 */
export function parseClientMessage(raw: string): ParseResult {
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
  const env = ClientEnvelopeSchema.safeParse(json);
  if (!env.success) {
    return { ok: false, id: null, error: wireError(ErrorCode.MALFORMED_MESSAGE, issueText(env.error.issues)) };
  }
  const { id, type, v } = env.data;
  if (v !== PROTOCOL_VERSION) {
    return { ok: false, id, error: wireError(ErrorCode.UNSUPPORTED_VERSION, `server speaks v${PROTOCOL_VERSION}`) };
  }
  if (!Object.hasOwn(ClientMessageSchemas, type)) {
    return { ok: false, id, error: wireError(ErrorCode.UNKNOWN_MESSAGE_TYPE, type) };
  }
  const schema = ClientMessageSchemas[type as ClientMessageType];
  const data = schema.safeParse(env.data.data ?? {});
  if (!data.success) {
    return { ok: false, id, error: wireError(ErrorCode.INVALID_PARAMETER, issueText(data.error.issues)) };
  }
  return { ok: true, message: { v: 1, id, type, data: data.data } as ClientMessage };
}

/** Parses one frame from the server; null when it is not a message this client understands. */
export function parseServerMessage(raw: string): ServerMessage | null {
  try {
    const r = ServerMessageSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}
