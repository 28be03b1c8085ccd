/**
 * Request and response schemas of the Tencent-shaped REST API (SPEC §6.2). The routes validate
 * with these and /openapi.json is generated from them, so the document cannot drift from the code.
 */
import * as z from '@opencall/protocol/zod';

/** Query string every REST call carries (admin UserSig auth). */
export const RestQuerySchema = z.object({
  sdkappid: z.coerce.number().check(z.int(), z.describe('Must equal the server’s sdkAppId')),
  identifier: z.string().check(z.minLength(1), z.maxLength(32), z.describe('Must be the admin user id (`adminUserId`, default `administrator`)')),
  usersig: z.string().check(z.minLength(1), z.maxLength(8192), z.describe('A UserSig of the admin user')),
  random: z.optional(z.string().check(z.maxLength(32))).check(z.describe('Any value; ignored (Tencent clients send a random 32-bit number)')),
  contenttype: z.optional(z.literal('json')).check(z.describe('Only `json` is supported')),
});

/** Body naming one call (a fresh schema per route, so each gets its own OpenAPI component). */
const callIdBody = () => z.object({ CallId: z.string().check(z.minLength(1), z.maxLength(64)) });

/** Body of `get_record_by_callid`. */
export const GetRecordBodySchema = callIdBody();
/** Body of `end_call`. */
export const EndCallBodySchema = callIdBody();
/** Body of `get_call_trace`. */
export const GetCallTraceBodySchema = callIdBody();

/** One delivery-trace step (SPEC §9). */
const TraceStepSchema = z.object({
  UserId: z.string(),
  DeviceId: z.optional(z.string()),
  Step: z.string().check(z.describe('rung, push.queued, push.sent, push.failed, push.gone, push.none, push.skipped, push.expired, received, notification.shown, accepted, joined, rejected, noResponse, busy, canceled, offline, endByServer')),
  Time: z.int().check(z.describe('ms epoch')),
  Detail: z.optional(z.record(z.string(), z.unknown())).check(z.describe('provider, status, ms, kind, reason, error')),
});

/** Tencent `CallResult` names (SPEC §6.2). */
export const CALL_RESULTS = ['Cancel', 'Reject', 'NotAnswer', 'NormalEnd', 'CallBusy', 'Offline', 'Interrupt'] as const;

/** Body of `get_record_by_filter`. Times are Unix seconds on the call's start time. */
export const RecordFilterBodySchema = z.object({
  StartTime: z.optional(z.int().check(z.minimum(0))).check(z.describe('Unix seconds, inclusive; default now − 7 days')),
  EndTime: z.optional(z.int().check(z.minimum(0))).check(z.describe('Unix seconds, inclusive; default now')),
  CallResult: z.optional(z.enum(CALL_RESULTS)),
  CallType: z.optional(z.enum(['SingleCall', 'MultiCall'])).check(z.describe('MultiCall covers multi and group calls')),
  NumberPerPage: z.optional(z.int().check(z.minimum(1), z.maximum(100))).check(z.describe('Default 10')),
  Page: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000))).check(z.describe('1-based; default 1')),
});

const ms = z.int();

/** §6.1 timings of a call, ms epoch. */
export const TimingsSchema = z.object({
  invitedAt: ms,
  ringingAt: z.record(z.string(), ms).check(z.describe('First time each invitee’s device rang')),
  acceptedAt: z.nullable(ms),
  mediaConnectedAt: z.nullable(ms),
  endedAt: z.nullable(ms),
});

const unixSeconds = z.int();

/** TencentCallRecord (SPEC §6.2): the admin view of one ended call. */
export const TencentCallRecordSchema = z.object({
  CallId: z.string(),
  Caller_Account: z.string(),
  CalleeList_Account: z.array(z.string()).check(z.describe('Everyone ever invited, the caller excluded')),
  MediaType: z.enum(['Audio', 'Video']),
  CallType: z.enum(['SingleCall', 'MultiCall']),
  StartTime: unixSeconds.check(z.describe('Unix seconds: the invitation')),
  AcceptTime: unixSeconds.check(z.describe('Unix seconds: first time two users were connected; 0 if never')),
  EndTime: unixSeconds.check(z.describe('Unix seconds')),
  CallResult: z.enum(CALL_RESULTS),
  RoomId: z.string(),
  RoomIdType: z.union([z.literal(1), z.literal(2)]).check(z.describe('1: integer room id, 2: string room id')),
  Timings: TimingsSchema.check(z.describe('ms epoch')),
});

/** The envelope of every answer; `Response` only on success and only for routes that return data. */
function envelope<T extends z.ZodMiniType>(response: T) {
  return z.object({
    ActionStatus: z.enum(['OK', 'FAIL']),
    ErrorCode: z.int().check(z.describe('0 on success')),
    ErrorInfo: z.string().check(z.describe('Empty on success')),
    RequestId: z.string(),
    Response: z.optional(response),
  });
}

/** The routes: path, operation id, summary, body schema, response schema. */
export const REST_ROUTES = [
  {
    path: '/v4/call_record_http_srv/get_record_by_callid',
    operationId: 'get_record_by_callid',
    summary: 'The record of one ended call',
    description: 'Unknown, still running and ephemeral calls have no record: ErrorCode 101002.',
    body: GetRecordBodySchema,
    response: envelope(z.object({ CallRecord: TencentCallRecordSchema })),
  },
  {
    path: '/v4/call_record_http_srv/get_record_by_filter',
    operationId: 'get_record_by_filter',
    summary: 'Ended calls by start time, result and type, newest first, paged',
    description: 'Ephemeral calls are not listed. StartTime after EndTime: ErrorCode 101002.',
    body: RecordFilterBodySchema,
    response: envelope(z.object({ TotalNum: z.int(), Page: z.int(), CallRecordList: z.array(TencentCallRecordSchema) })),
  },
  {
    path: '/v4/call_engine_http_srv/end_call',
    operationId: 'end_call',
    summary: 'End a running call for everyone (reason endByServer)',
    description: 'Connected users get onCallEnd(endByServer, admin), ringing ones onCallNotConnected(endByServer, admin). Ended or unknown call: ErrorCode 101004.',
    body: EndCallBodySchema,
    response: envelope(z.object({})),
  },
  {
    path: '/v4/call_engine_http_srv/get_call_trace',
    operationId: 'get_call_trace',
    summary: 'The delivery trace of a call: who rang where, each push and its outcome, in order',
    description: 'Steps of every invitee in time order (docs/push.md). Unknown call: ErrorCode 101002.',
    body: GetCallTraceBodySchema,
    response: envelope(z.object({ Trace: z.array(TraceStepSchema) })),
  },
] as const;

const ERROR_CODES = `Every answer is HTTP 200 with the envelope; failures have ActionStatus FAIL and ErrorCode:
101001 internal error, 101002 invalid parameter (query, body or JSON), 101004 no such running call (end_call),
70001 UserSig expired, 70003 UserSig malformed or bad signature, 70013 identifier is not the admin user or the
sig was made for another user, 70014 sdkappid mismatch, 4029 too many requests from this IP.`;

/** JSON Schemas of registered zod schemas under `#/components/schemas/<id>`, refs between them. */
function components(entries: [string, z.ZodMiniType][], io: 'input' | 'output'): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of entries) registry.add(schema, { id });
  const out = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  // OpenAPI 3.1 takes the 2020-12 dialect by default; a fragment `$id` is not valid 2020-12.
  for (const s of Object.values(out.schemas)) {
    delete s.$schema;
    delete s.$id;
  }
  return out.schemas;
}

/** The OpenAPI 3.1 document of the REST API. */
export function openApiDocument(): Record<string, unknown> {
  const name = (operationId: string, suffix: string): string =>
    operationId.split('_').map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') + suffix;
  // Requests are read as input (unknown fields are accepted and ignored); responses as output.
  const requests = components(REST_ROUTES.map((r) => [name(r.operationId, 'Request'), r.body] as [string, z.ZodMiniType]), 'input');
  const responses = components(
    [
      ['Timings', TimingsSchema],
      ['TencentCallRecord', TencentCallRecordSchema],
      ...REST_ROUTES.map((r) => [name(r.operationId, 'Response'), r.response] as [string, z.ZodMiniType]),
    ],
    'output',
  );
  const query = z.toJSONSchema(RestQuerySchema, { io: 'output' }) as { properties: Record<string, { description?: string }>; required?: string[] };
  const parameters = Object.entries(query.properties).map(([paramName, schema]) => {
    const { description, ...rest } = schema;
    return { name: paramName, in: 'query', required: (query.required ?? []).includes(paramName), ...(description ? { description } : {}), schema: rest };
  });
  const paths: Record<string, unknown> = {};
  for (const r of REST_ROUTES) {
    paths[r.path] = {
      post: {
        operationId: r.operationId,
        summary: r.summary,
        description: r.description,
        parameters,
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name(r.operationId, 'Request')}` } } } },
        responses: {
          '200': {
            description: 'The Tencent v4 envelope (success or failure)',
            content: { 'application/json': { schema: { $ref: `#/components/schemas/${name(r.operationId, 'Response')}` } } },
          },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'OpenCall REST API (Tencent v4 shaped)',
      version: '1',
      description: `Admin API of an OpenCall server. Every route is POST with a JSON body and the admin's UserSig in the query. Times are Unix seconds except Timings (ms epoch). ${ERROR_CODES}`,
    },
    paths,
    components: { schemas: { ...requests, ...responses } },
  };
}
