/**
 * Request schemas of the Tencent-shaped REST API (SPEC §6.2). The routes validate with these and
 * /openapi.json is generated from them, so the document cannot drift from the code.
 */
import { z } from 'zod';

/** Query string every REST call carries. */
export const RestQuerySchema = z.object({
  sdkappid: z.coerce.number().int(),
  identifier: z.string().min(1).max(32),
  usersig: z.string().min(1).max(8192),
  random: z.string().max(32).optional(),
  contenttype: z.literal('json').optional(),
});

const CallIdBody = z.object({ CallId: z.string().min(1).max(64) });

/** Body of `get_record_by_filter`. Times are Unix seconds. */
export const RecordFilterBodySchema = z.object({
  StartTime: z.number().int().min(0).optional(),
  EndTime: z.number().int().min(0).optional(),
  CallResult: z.enum(['Cancel', 'Reject', 'NotAnswer', 'NormalEnd', 'CallBusy', 'Offline', 'Interrupt']).optional(),
  CallType: z.enum(['SingleCall', 'MultiCall']).optional(),
  NumberPerPage: z.number().int().min(1).max(100).optional(),
  Page: z.number().int().min(1).optional(),
});

const Timings = z.object({
  invitedAt: z.number(),
  ringingAt: z.record(z.string(), z.number()),
  acceptedAt: z.number().nullable(),
  mediaConnectedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
});

/** TencentCallRecord (response shape, documented in OpenAPI). */
export const TencentCallRecordSchema = z.object({
  CallId: z.string(),
  Caller_Account: z.string(),
  CalleeList_Account: z.array(z.string()),
  MediaType: z.enum(['Audio', 'Video']),
  CallType: z.enum(['SingleCall', 'MultiCall']),
  StartTime: z.number().describe('Unix seconds'),
  AcceptTime: z.number().describe('Unix seconds, 0 if never accepted'),
  EndTime: z.number().describe('Unix seconds'),
  CallResult: z.string(),
  RoomId: z.string(),
  RoomIdType: z.union([z.literal(1), z.literal(2)]),
  Timings: Timings.describe('ms epoch'),
});

const Envelope = <T extends z.ZodType>(response: T) =>
  z.object({
    ActionStatus: z.enum(['OK', 'FAIL']),
    ErrorCode: z.number(),
    ErrorInfo: z.string(),
    RequestId: z.string(),
    Response: response.optional(),
  });

/** The routes: path, summary, body schema, response schema. */
export const REST_ROUTES = [
  {
    path: '/v4/call_record_http_srv/get_record_by_callid',
    summary: 'The record of one call',
    body: CallIdBody,
    response: Envelope(z.object({ CallRecord: TencentCallRecordSchema })),
  },
  {
    path: '/v4/call_record_http_srv/get_record_by_filter',
    summary: 'Ended calls by time range, result and type, paged',
    body: RecordFilterBodySchema,
    response: Envelope(z.object({ TotalNum: z.number(), Page: z.number(), CallRecordList: z.array(TencentCallRecordSchema) })),
  },
  {
    path: '/v4/call_engine_http_srv/end_call',
    summary: 'End a running call for everyone (endByServer)',
    body: CallIdBody,
    response: Envelope(z.object({})),
  },
] as const;

/** The OpenAPI 3.1 document of the REST API. */
export function openApiDocument(): Record<string, unknown> {
  const query = z.toJSONSchema(RestQuerySchema) as { properties: Record<string, unknown>; required?: string[] };
  const parameters = Object.entries(query.properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: (query.required ?? []).includes(name),
    schema,
  }));
  const paths: Record<string, unknown> = {};
  for (const r of REST_ROUTES) {
    paths[r.path] = {
      post: {
        summary: r.summary,
        parameters,
        requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body) } } },
        responses: { '200': { description: 'Tencent v4 envelope', content: { 'application/json': { schema: z.toJSONSchema(r.response) } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'OpenCall REST API (Tencent v4 shaped)', version: '1' },
    paths,
  };
}
