/**
 * The frame parsers over the same schemas run through `z.compile` (zod's ahead-of-time compiled
 * fast path, issue 14 item 4): a valid frame is checked by generated code, an invalid one falls
 * back to the regular parser, so results and error messages are exactly those of validate.ts
 * (test/protocol-zod-mini.test.ts compares them). Node only (wire-node.ts): compiling needs
 * `new Function` and zod's compiler (~30 KB minified), neither wanted in the browser SDK, which
 * keeps the plain parsers of wire.ts. BENCHMARKS.md ("Validation") has the costs.
 */
import { compile } from './zod.js';
import { ClientEnvelopeSchema, ClientMessageSchemas } from './signaling/client-to-server.js';
import { BatchMessageSchema, ErrorMessageSchema, EventMessageSchema, ResponseSchema, ServerMessageSchema } from './signaling/server-to-client.js';
import { clientMessageParser, serverFrameParser, serverMessageParser } from './validate.js';
import type { ClientSchemas, ParseResult, ServerFrameItem } from './validate.js';
import type { ServerMessage } from './signaling/server-to-client.js';

const messages = Object.fromEntries(Object.entries(ClientMessageSchemas).map(([type, schema]) => [type, compile(schema)])) as ClientSchemas['messages'];

/** `parseClientMessage` with compiled schemas: what the server runs on every frame. */
export const parseClientMessage: (raw: string) => ParseResult = clientMessageParser({ envelope: compile(ClientEnvelopeSchema), messages });

/** `parseServerMessage` with the compiled schema: what the client SDK runs in Node (bots, load tests). */
export const parseServerMessage: (raw: string) => ServerMessage | null = serverMessageParser(compile(ServerMessageSchema));

/** `parseServerFrame` with compiled schemas: what the client SDK runs on every frame in Node. */
export const parseServerFrame: (raw: string) => ServerFrameItem[] | null = serverFrameParser({
  batch: compile(BatchMessageSchema),
  response: compile(ResponseSchema),
  event: compile(EventMessageSchema),
  error: compile(ErrorMessageSchema),
});
