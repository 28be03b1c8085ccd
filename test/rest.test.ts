/**
 * SPEC §6.2 over real HTTP: the Tencent envelope, admin UserSig auth from the query with every
 * refusal code, body validation, and /openapi.json checked against the answers the server really
 * gives. Call outcomes, paging and end_call are in rest-calls.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { genUserSig } from '@opencall/server';
import type { RunningServer } from '@opencall/server';
import { CallMediaType } from '@opencall/client';
import { adminQuery, restPost } from './fixtures/durabilityClients.js';
import type { RestEnvelope } from './fixtures/durabilityClients.js';
import { TEST_APP_ID, TEST_SECRET, sig, startTestServer } from './helpers/server.js';
import { cleanup, user } from './helpers/users.js';

const BY_ID = '/v4/call_record_http_srv/get_record_by_callid';
const BY_FILTER = '/v4/call_record_http_srv/get_record_by_filter';
const END_CALL = '/v4/call_engine_http_srv/end_call';
const TRACE = '/v4/call_engine_http_srv/get_call_trace';
const ROUTES = [BY_ID, BY_FILTER, END_CALL, TRACE];

let server: RunningServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

/** Asserts a FAIL envelope with exactly the Tencent keys and `code`. */
function assertFail(r: { status: number; body: RestEnvelope }, code: number, info?: RegExp): void {
  assert.equal(r.status, 200, 'Tencent answers failures with HTTP 200');
  assert.deepEqual(Object.keys(r.body).sort(), ['ActionStatus', 'ErrorCode', 'ErrorInfo', 'RequestId']);
  assert.equal(r.body.ActionStatus, 'FAIL');
  assert.equal(r.body.ErrorCode, code, `ErrorCode (ErrorInfo: ${r.body.ErrorInfo})`);
  assert.ok(r.body.ErrorInfo.length > 0, 'a failure says why');
  assert.match(r.body.RequestId, /^[0-9a-f]{16}$/);
  if (info) assert.match(r.body.ErrorInfo, info);
}

/** A sig of `userId` made with the test secret but other parameters. */
const sigWith = (o: { userId?: string; sdkAppId?: number; secretKey?: string; expireSeconds?: number; now?: number }): string =>
  genUserSig({ sdkAppId: o.sdkAppId ?? TEST_APP_ID, secretKey: o.secretKey ?? TEST_SECRET, userId: o.userId ?? 'administrator', expireSeconds: o.expireSeconds ?? 3600, ...(o.now === undefined ? {} : { now: o.now }) });

describe('REST envelope and admin auth (SPEC §6.2, §3)', () => {
  it('a good request answers OK with ErrorCode 0, empty ErrorInfo, a fresh RequestId and a Response', async () => {
    const a = await restPost(server.url, BY_FILTER, {});
    const b = await restPost(server.url, BY_FILTER, {});
    assert.equal(a.status, 200);
    assert.deepEqual(Object.keys(a.body).sort(), ['ActionStatus', 'ErrorCode', 'ErrorInfo', 'RequestId', 'Response']);
    assert.deepEqual([a.body.ActionStatus, a.body.ErrorCode, a.body.ErrorInfo], ['OK', 0, '']);
    assert.match(a.body.RequestId, /^[0-9a-f]{16}$/);
    assert.notEqual(a.body.RequestId, b.body.RequestId);
    assert.deepEqual(a.body.Response, { TotalNum: 0, Page: 1, CallRecordList: [] });
  });

  it('random and contenttype are optional; contenttype other than json is 101002', async () => {
    const bare = await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ random: undefined, contenttype: undefined }) });
    assert.equal(bare.body.ErrorCode, 0);
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ contenttype: 'xml' }) }), 101002, /contenttype/);
  });

  for (const missing of ['sdkappid', 'identifier', 'usersig']) {
    it(`a query without ${missing} is 101002 on every route`, async () => {
      for (const path of ROUTES) {
        assertFail(await restPost(server.url, path, { CallId: 'c_x' }, { query: adminQuery({ [missing]: undefined }) }), 101002, new RegExp(missing));
      }
    });
  }

  it('no query string at all is 101002; a non-numeric sdkappid is 101002', async () => {
    const r = await fetch(`${server.url}${BY_FILTER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assertFail({ status: r.status, body: (await r.json()) as RestEnvelope }, 101002);
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ sdkappid: 'abc' }) }), 101002);
  });

  it('70014 when the query sdkappid is not the server’s, or the sig was made for another sdkappid', async () => {
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ sdkappid: '1400000001' }) }), 70014);
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ usersig: sigWith({ sdkAppId: 1400000001 }) }) }), 70014);
  });

  it('70013 when the identifier is not the admin user (even with that user’s valid sig) or the sig is another user’s', async () => {
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ identifier: 'alice', usersig: sig('alice') }) }), 70013, /admin/);
    assertFail(await restPost(server.url, END_CALL, { CallId: 'c_x' }, { query: adminQuery({ usersig: sig('alice') }) }), 70013);
  });

  it('70001 when the admin sig has expired', async () => {
    const expired = sigWith({ expireSeconds: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ usersig: expired }) }), 70001);
  });

  it('70003 for a malformed sig and for one signed with another key', async () => {
    assertFail(await restPost(server.url, BY_FILTER, {}, { query: adminQuery({ usersig: 'not-a-sig' }) }), 70003);
    assertFail(await restPost(server.url, BY_ID, { CallId: 'c_x' }, { query: adminQuery({ usersig: sigWith({ secretKey: 'another-key' }) }) }), 70003);
  });

  it('auth is checked before the body: bad JSON with a bad sig is 70003, not 101002', async () => {
    assertFail(await restPost(server.url, BY_ID, '{not json', { query: adminQuery({ usersig: 'nope' }) }), 70003);
  });
});

describe('REST bodies (SPEC §6.2)', () => {
  it('a body that is not JSON is 101002 on every route', async () => {
    for (const path of ROUTES) assertFail(await restPost(server.url, path, '{"CallId": '), 101002, /JSON/);
  });

  it('a missing or mistyped CallId is 101002 naming the field', async () => {
    for (const path of [BY_ID, END_CALL]) {
      assertFail(await restPost(server.url, path, {}), 101002, /CallId/);
      assertFail(await restPost(server.url, path, { CallId: 42 }), 101002, /CallId/);
      assertFail(await restPost(server.url, path, ''), 101002, /CallId/);
    }
    assertFail(await restPost(server.url, BY_ID, [1, 2]), 101002);
  });

  it('filter fields out of range are 101002 naming the field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ NumberPerPage: 0 }, /NumberPerPage/],
      [{ NumberPerPage: 101 }, /NumberPerPage/],
      [{ Page: 0 }, /Page/],
      [{ StartTime: 'yesterday' }, /StartTime/],
      [{ CallResult: 'Hangup' }, /CallResult/],
      [{ CallType: 'GroupCall' }, /CallType/],
      [{ StartTime: 2000, EndTime: 1000 }, /StartTime .* after EndTime/],
      [{ EndTime: 1000 }, /after EndTime/],
    ];
    for (const [body, info] of cases) assertFail(await restPost(server.url, BY_FILTER, body), 101002, info);
  });

  it('the body is read as JSON whatever the content type (curl -d sends form encoding); unknown fields are ignored', async () => {
    const form = await restPost(server.url, BY_FILTER, '{"Page": 2, "Extra": true}', { contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.body.ErrorCode, 0);
    assert.equal(form.body.Response?.Page, 2);
    const plain = await restPost(server.url, BY_ID, '{"CallId":"c_unknown"}', { contentType: 'text/plain' });
    assertFail(plain, 101002, /no record/);
  });

  it('get_record_by_callid of an unknown call and end_call of an unknown call', async () => {
    assertFail(await restPost(server.url, BY_ID, { CallId: 'c_nope' }), 101002, /no record/);
    assertFail(await restPost(server.url, END_CALL, { CallId: 'c_nope' }), 101004);
  });
});

describe('GET /openapi.json (SPEC §6.2)', () => {
  it('is an OpenAPI 3.1 document with every route, whose schemas describe the answers the server really gives', async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as OpenApi;
    checkOpenApi31(doc);
    assert.deepEqual(Object.keys(doc.paths).sort(), [...ROUTES].sort());

    // Real answers of each route, success and failure, validate against the documented response.
    const [a, b] = [await user(server, 'oa_a'), await user(server, 'oa_b')];
    const { callId } = await a.engine.calls([b.id], CallMediaType.video, { roomId: { strRoomId: 'room-1' } });
    await b.rec.waitFor('onCallReceived');
    await b.engine.accept();
    const ended = await restPost(server.url, END_CALL, { CallId: callId });
    assert.equal(ended.body.ErrorCode, 0);
    const answers: [string, RestEnvelope][] = [
      [END_CALL, ended.body],
      [END_CALL, (await restPost(server.url, END_CALL, { CallId: callId })).body],
      [BY_ID, (await restPost(server.url, BY_ID, { CallId: callId })).body],
      [BY_ID, (await restPost(server.url, BY_ID, {}, { query: adminQuery({ usersig: 'x' }) })).body],
      [BY_FILTER, (await restPost(server.url, BY_FILTER, { NumberPerPage: 5 })).body],
      [TRACE, (await restPost(server.url, TRACE, { CallId: callId })).body],
      [TRACE, (await restPost(server.url, TRACE, { CallId: 'c_unknown' })).body],
    ];
    assert.ok(((answers[5]![1].Response?.Trace as unknown[] | undefined) ?? []).length >= 2, 'the trace has the rung and accepted steps');
    assert.equal((answers[2]![1].Response?.CallRecord as { RoomIdType: number }).RoomIdType, 2);
    for (const [path, body] of answers) {
      const schema = doc.paths[path]!.post.responses['200']!.content!['application/json']!.schema;
      assert.deepEqual(validate(doc, schema, body, '$'), [], `${path} answer ${JSON.stringify(body)}`);
    }
    // Request bodies: what the routes accept validates; what they refuse does not.
    const requestOf = (path: string): Schema => doc.paths[path]!.post.requestBody!.content['application/json']!.schema;
    assert.deepEqual(validate(doc, requestOf(BY_ID), { CallId: callId }, '$'), []);
    assert.notDeepEqual(validate(doc, requestOf(END_CALL), {}, '$'), []);
    assert.deepEqual(validate(doc, requestOf(BY_FILTER), { StartTime: 1, CallResult: 'NormalEnd', CallType: 'MultiCall', Page: 2 }, '$'), []);
    assert.notDeepEqual(validate(doc, requestOf(BY_FILTER), { CallResult: 'Hangup' }, '$'), []);
    await cleanup(a, b);
  });
});

// ---- A small OpenAPI 3.1 / JSON Schema 2020-12 checker for the keywords the document uses. ----

type Schema = Record<string, unknown>;
interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}
interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, { post: Operation }>;
  components?: { schemas?: Record<string, Schema> };
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** The OpenAPI 3.1 rules a document like this one can break. */
function checkOpenApi31(doc: OpenApi): void {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.equal(typeof doc.info.title, 'string');
  assert.equal(typeof doc.info.version, 'string');
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.ok(path.startsWith('/'), path);
    for (const [method, op] of Object.entries(item as Record<string, Operation>)) {
      assert.ok(METHODS.has(method), `${path}: ${method}`);
      if (op.operationId) {
        assert.ok(!operationIds.has(op.operationId), `duplicate operationId ${op.operationId}`);
        operationIds.add(op.operationId);
      }
      const seen = new Set<string>();
      for (const p of op.parameters ?? []) {
        assert.ok(['query', 'header', 'path', 'cookie'].includes(p.in), `${path}: parameter ${p.name} in ${p.in}`);
        assert.ok(!seen.has(`${p.in}:${p.name}`), `${path}: duplicate parameter ${p.name}`);
        seen.add(`${p.in}:${p.name}`);
        assert.ok(p.schema && typeof p.schema === 'object', `${path}: parameter ${p.name} has a schema`);
        checkSchema(doc, p.schema);
      }
      assert.ok(Object.keys(op.responses).length > 0, `${path}: responses`);
      for (const [status, r] of Object.entries(op.responses)) {
        assert.match(status, /^([1-5]\d\d|[1-5]XX|default)$/);
        assert.equal(typeof r.description, 'string', `${path} ${status}: description is required`);
        for (const media of Object.values(r.content ?? {})) checkSchema(doc, media.schema);
      }
      for (const media of Object.values(op.requestBody?.content ?? {})) checkSchema(doc, media.schema);
    }
  }
  for (const s of Object.values(doc.components?.schemas ?? {})) checkSchema(doc, s);
}

const KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'anyOf', 'oneOf', '$ref',
  'minimum', 'maximum', 'minLength', 'maxLength', 'propertyNames', 'description', 'default', 'title',
]);

/** Every keyword is known to this checker, every `$ref` resolves, and no `$id` carries a fragment. */
function checkSchema(doc: OpenApi, s: Schema): void {
  for (const k of Object.keys(s)) assert.ok(KEYWORDS.has(k), `schema keyword ${k} is not checked by this test`);
  if (typeof s.$ref === 'string') resolve(doc, s.$ref);
  for (const sub of Object.values((s.properties ?? {}) as Record<string, Schema>)) checkSchema(doc, sub);
  for (const key of ['items', 'additionalProperties', 'propertyNames']) if (s[key] && typeof s[key] === 'object') checkSchema(doc, s[key] as Schema);
  for (const key of ['anyOf', 'oneOf']) for (const sub of (s[key] ?? []) as Schema[]) checkSchema(doc, sub);
}

function resolve(doc: OpenApi, ref: string): Schema {
  const m = /^#\/components\/schemas\/([\w.-]+)$/.exec(ref);
  const target = m ? doc.components?.schemas?.[m[1]!] : undefined;
  assert.ok(target, `unresolved $ref ${ref}`);
  return target;
}

const typeOf = (v: unknown): string[] => {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
};

/** Errors of `v` against `s` (empty = valid). */
function validate(doc: OpenApi, s: Schema, v: unknown, at: string): string[] {
  if (typeof s.$ref === 'string') return validate(doc, resolve(doc, s.$ref), v, at);
  const errs: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!typeOf(v).some((t) => types.includes(t))) return [`${at}: expected ${types.join('|')}, got ${JSON.stringify(v)}`];
  }
  if (s.enum && !(s.enum as unknown[]).includes(v)) errs.push(`${at}: ${JSON.stringify(v)} not in enum`);
  if ('const' in s && s.const !== v) errs.push(`${at}: ${JSON.stringify(v)} is not ${JSON.stringify(s.const)}`);
  if (typeof v === 'number') {
    if (typeof s.minimum === 'number' && v < s.minimum) errs.push(`${at}: below minimum`);
    if (typeof s.maximum === 'number' && v > s.maximum) errs.push(`${at}: above maximum`);
  }
  if (typeof v === 'string') {
    if (typeof s.minLength === 'number' && v.length < s.minLength) errs.push(`${at}: too short`);
    if (typeof s.maxLength === 'number' && v.length > s.maxLength) errs.push(`${at}: too long`);
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => errs.push(...validate(doc, s.items as Schema, x, `${at}[${i}]`)));
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in o)) errs.push(`${at}.${r}: required`);
    for (const [k, x] of Object.entries(o)) {
      if (props[k]) errs.push(...validate(doc, props[k], x, `${at}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${at}.${k}: not allowed`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') errs.push(...validate(doc, s.additionalProperties as Schema, x, `${at}.${k}`));
    }
  }
  if (s.anyOf && !(s.anyOf as Schema[]).some((sub) => validate(doc, sub, v, at).length === 0)) errs.push(`${at}: matches no anyOf branch`);
  if (s.oneOf && (s.oneOf as Schema[]).filter((sub) => validate(doc, sub, v, at).length === 0).length !== 1) errs.push(`${at}: must match exactly one oneOf branch`);
  return errs;
}
