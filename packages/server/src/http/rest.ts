/**
 * The Tencent v4-shaped REST API (SPEC §6.2): admin UserSig auth from the query string, one
 * envelope for every answer, times in Unix seconds.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, verifyUserSig } from '@opencall/protocol';
import type { CallService } from '../call/CallService.js';
import { MachineError } from '../call/MachineError.js';
import { tencentRecord } from '../call/tencent.js';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import { REST_ROUTES, RecordFilterBodySchema, RestQuerySchema, openApiDocument } from './restSchemas.js';

/** A REST failure with a Tencent error code. */
class RestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

type Envelope = { ActionStatus: 'OK' | 'FAIL'; ErrorCode: number; ErrorInfo: string; RequestId: string; Response?: unknown };

const ok = (response?: unknown): Envelope => ({
  ActionStatus: 'OK',
  ErrorCode: 0,
  ErrorInfo: '',
  RequestId: randomBytes(8).toString('hex'),
  ...(response === undefined ? {} : { Response: response }),
});

const fail = (code: number, info: string): Envelope => ({
  ActionStatus: 'FAIL',
  ErrorCode: code,
  ErrorInfo: info,
  RequestId: randomBytes(8).toString('hex'),
});

/** Registers the REST routes and /openapi.json. */
export function registerRest(app: FastifyInstance, d: { config: ServerConfig; storage: Storage; service: CallService }): void {
  const { config } = d;
  const authenticate = (query: unknown): void => {
    const q = RestQuerySchema.safeParse(query);
    if (!q.success) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, 'query needs sdkappid, identifier and usersig');
    if (q.data.sdkappid !== config.sdkAppId) throw new RestError(ErrorCode.USERSIG_SDKAPPID_MISMATCH, 'sdkappid mismatch');
    if (q.data.identifier !== config.adminUserId) throw new RestError(ErrorCode.USERSIG_USER_MISMATCH, 'identifier is not the admin user');
    const v = verifyUserSig({ sdkAppId: config.sdkAppId, secretKey: config.secretKey, userId: q.data.identifier, userSig: q.data.usersig });
    if (!v.ok) throw new RestError(v.code, v.reason);
  };

  const bodyOf = <T>(schema: { safeParse(x: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } } }, body: unknown): T => {
    const r = schema.safeParse(body ?? {});
    if (!r.success) {
      const i = r.error.issues[0];
      throw new RestError(ErrorCode.REST_INVALID_PARAMETER, i ? `${i.path.map(String).join('.')}: ${i.message}` : 'invalid body');
    }
    return r.data;
  };

  const handlers: Record<string, (body: unknown) => Promise<unknown>> = {
    '/v4/call_record_http_srv/get_record_by_callid': async (body) => {
      const { CallId } = bodyOf(REST_ROUTES[0].body, body);
      const call = await d.storage.getCall(CallId);
      if (!call) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, 'no such call');
      return { CallRecord: tencentRecord(call) };
    },
    '/v4/call_record_http_srv/get_record_by_filter': async (body) => {
      const f = bodyOf(RecordFilterBodySchema, body);
      const nowS = Math.floor(Date.now() / 1000);
      const end = f.EndTime ?? nowS;
      const start = f.StartTime ?? end - 7 * 86400;
      if (start > end) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, 'StartTime is after EndTime');
      const per = f.NumberPerPage ?? 10;
      const page = f.Page ?? 1;
      const { total, calls } = await d.storage.endedCalls({
        startTime: start * 1000,
        endTime: end * 1000 + 999,
        ...(f.CallResult ? { callResult: f.CallResult } : {}),
        ...(f.CallType ? { scene: f.CallType === 'SingleCall' ? ('single' as const) : ('multi' as const) } : {}),
        limit: per,
        offset: (page - 1) * per,
      });
      return { TotalNum: total, Page: page, CallRecordList: calls.map(tencentRecord) };
    },
    '/v4/call_engine_http_srv/end_call': async (body) => {
      const { CallId } = bodyOf(REST_ROUTES[2].body, body);
      const call = await d.storage.getCall(CallId);
      if (!call || call.phase === 'ended') throw new RestError(ErrorCode.REST_NO_SUCH_CALL, 'no such running call');
      try {
        await d.service.run(CallId, { type: 'endByServer', adminId: config.adminUserId });
      } catch (e) {
        if (e instanceof MachineError) throw new RestError(ErrorCode.REST_NO_SUCH_CALL, 'no such running call');
        throw e;
      }
      return undefined;
    },
  };

  for (const [path, handle] of Object.entries(handlers)) {
    app.post(path, async (req) => {
      try {
        authenticate(req.query);
        return ok(await handle(req.body));
      } catch (e) {
        if (e instanceof RestError) return fail(e.code, e.message);
        req.log.error({ err: e, path }, 'REST request failed');
        return fail(ErrorCode.REST_INTERNAL, 'internal error');
      }
    });
  }

  app.get('/openapi.json', async () => openApiDocument());
}
