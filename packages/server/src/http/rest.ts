/**
 * The Tencent v4-shaped REST API (SPEC §6.2): admin UserSig auth from the query string, one
 * envelope for every answer (HTTP 200, success or not), times in Unix seconds.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type * as z from '@opencall/protocol/zod';
import { ErrorCode, MAX_JSON_DEPTH, jsonTooDeep, verifyUserSig } from '@opencall/protocol';
import type { CallService } from '../call/CallService.js';
import { MachineError } from '../call/MachineError.js';
import { tencentRecord } from '../call/tencent.js';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import { publicBase } from './proxy.js';
import { restTraceStep } from '../push/trace.js';
import { EndCallBodySchema, GetCallTraceBodySchema, GetRecordBodySchema, RecordFilterBodySchema, RestQuerySchema, openApiDocument } from './restSchemas.js';

/** A REST failure with a Tencent error code. */
class RestError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The answer of every REST route. */
type Envelope = { ActionStatus: 'OK' | 'FAIL'; ErrorCode: number; ErrorInfo: string; RequestId: string; Response?: unknown };

const requestId = (): string => randomBytes(8).toString('hex');

const ok = (response?: unknown): Envelope => ({
  ActionStatus: 'OK',
  ErrorCode: 0,
  ErrorInfo: '',
  RequestId: requestId(),
  ...(response === undefined ? {} : { Response: response }),
});

const fail = (code: number, info: string): Envelope => ({ ActionStatus: 'FAIL', ErrorCode: code, ErrorInfo: info, RequestId: requestId() });

const DAY_S = 86_400;

/** Dependencies of the REST routes. */
export interface RestDeps {
  config: ServerConfig;
  storage: Storage;
  service: CallService;
}

/** Registers the REST routes and /openapi.json. */
export function registerRest(app: FastifyInstance, d: RestDeps): void {
  const { config } = d;

  const authenticate = (query: unknown): void => {
    const q = RestQuerySchema.safeParse(query);
    if (!q.success) {
      const i = q.error.issues[0];
      throw new RestError(ErrorCode.REST_INVALID_PARAMETER, `query needs sdkappid, identifier and usersig (${i ? `${i.path.map(String).join('.')}: ${i.message}` : 'invalid'})`);
    }
    if (q.data.sdkappid !== config.sdkAppId) throw new RestError(ErrorCode.USERSIG_SDKAPPID_MISMATCH, 'sdkappid does not match this server');
    if (q.data.identifier !== config.adminUserId) throw new RestError(ErrorCode.USERSIG_USER_MISMATCH, 'identifier is not the admin user');
    const v = verifyUserSig({ sdkAppId: config.sdkAppId, secretKey: config.secretKey, userId: q.data.identifier, userSig: q.data.usersig });
    if (!v.ok) throw new RestError(v.code, v.reason);
  };

  /** Parses the raw body (after auth, so an anonymous caller learns nothing from body errors). */
  const bodyOf = <S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> => {
    let json: unknown = {};
    if (typeof raw === 'string' && raw.trim() !== '') {
      if (jsonTooDeep(raw)) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
      try {
        json = JSON.parse(raw);
      } catch {
        throw new RestError(ErrorCode.REST_INVALID_PARAMETER, 'the body is not valid JSON');
      }
    }
    const r = schema.safeParse(json);
    if (!r.success) {
      const i = r.error.issues[0];
      throw new RestError(ErrorCode.REST_INVALID_PARAMETER, i ? `${i.path.map(String).join('.') || 'body'}: ${i.message}` : 'invalid body');
    }
    return r.data;
  };

  const routes: Record<string, (raw: unknown) => Promise<unknown>> = {
    '/v4/call_record_http_srv/get_record_by_callid': async (raw) => {
      const { CallId } = bodyOf(GetRecordBodySchema, raw);
      const call = await d.storage.getCall(CallId);
      // A record exists once the call ended, and never for an ephemeral call (SPEC §6.1).
      if (!call || call.phase !== 'ended' || call.isEphemeralCall) {
        throw new RestError(ErrorCode.REST_INVALID_PARAMETER, `no record for CallId ${CallId}: unknown, still running, or ephemeral`);
      }
      return { CallRecord: tencentRecord(call) };
    },
    '/v4/call_record_http_srv/get_record_by_filter': async (raw) => {
      const f = bodyOf(RecordFilterBodySchema, raw);
      const nowS = Math.floor(Date.now() / 1000);
      const start = f.StartTime ?? nowS - 7 * DAY_S;
      const end = f.EndTime ?? nowS;
      if (start > end) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, `StartTime ${start} is after EndTime ${end} (StartTime defaults to now − 7 days)`);
      const per = f.NumberPerPage ?? 10;
      const page = f.Page ?? 1;
      const { total, calls } = await d.storage.endedCalls({
        startTime: start * 1000,
        // EndTime is a whole second: include every ms of it.
        endTime: end * 1000 + 999,
        ...(f.CallResult ? { callResult: f.CallResult } : {}),
        ...(f.CallType ? { scene: f.CallType === 'SingleCall' ? ('single' as const) : ('multi' as const) } : {}),
        limit: per,
        offset: (page - 1) * per,
      });
      return { TotalNum: total, Page: page, CallRecordList: calls.map(tencentRecord) };
    },
    '/v4/call_engine_http_srv/end_call': async (raw) => {
      const { CallId } = bodyOf(EndCallBodySchema, raw);
      const call = await d.storage.getCall(CallId);
      if (!call || call.phase === 'ended') throw new RestError(ErrorCode.REST_NO_SUCH_CALL, `no running call ${CallId}`);
      try {
        await d.service.run(CallId, { type: 'endByServer', adminId: config.adminUserId });
      } catch (e) {
        // It ended between the read and the command.
        if (e instanceof MachineError) throw new RestError(ErrorCode.REST_NO_SUCH_CALL, `no running call ${CallId}`);
        throw e;
      }
      return undefined;
    },
    '/v4/call_engine_http_srv/get_call_trace': async (raw) => {
      const { CallId } = bodyOf(GetCallTraceBodySchema, raw);
      if (!(await d.storage.getCall(CallId))) throw new RestError(ErrorCode.REST_INVALID_PARAMETER, `unknown CallId ${CallId}`);
      return { Trace: (await d.storage.callTrace(CallId)).map(restTraceStep) };
    },
  };

  // Own scope: the body is read as text whatever its content type (`contenttype=json` in the query
  // is what Tencent clients rely on, and `curl -d` sends form encoding), and every failure,
  // parser errors included, is answered with the envelope.
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, next) => next(null, body));
    scope.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
      const status = err.statusCode ?? 500;
      if (status >= 500) req.log.error({ err }, 'REST request failed');
      return reply.code(200).send(status < 500 ? fail(ErrorCode.REST_INVALID_PARAMETER, err.message) : fail(ErrorCode.REST_INTERNAL, 'internal error'));
    });
    for (const [path, handle] of Object.entries(routes)) {
      scope.post(path, async (req) => {
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
    done();
  });

  const doc = openApiDocument();
  // `servers` is where this API is reached from outside (publicUrl, or the proxied request's URL).
  app.get('/openapi.json', async (req) => ({ ...doc, servers: [{ url: publicBase(d.config, req) }] }));
}
