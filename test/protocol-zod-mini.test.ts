/**
 * The protocol's schemas moved from full `zod` to `zod/mini` (issue 13's bundle budget, issue 14's
 * validation cost), and the server parses frames with them through `z.compile`. This differential
 * test holds the new schemas, plain and compiled, to the old ones, kept frozen in
 * bench/validation/classic: every schema, and the server's and client's frame parsers, must accept
 * the same inputs with the same output and refuse the same inputs with the same issues (code, path,
 * message, bounds) and the same wire errors. The inputs are the valid messages of every kind
 * (bench/validation/messages.ts) spoiled by fast-check: fields replaced by boundary values or
 * arbitrary JSON, removed, added, nested; envelopes broken; arbitrary text. `FUZZ_RUNS` overrides
 * the run count; a failure prints the seed and the shrunk input.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compile } from 'zod/mini';
// The plain parsers, as browsers get them: in Node, '@opencall/protocol/wire' resolves to the compiled ones.
import * as mini from '../packages/protocol/src/wire.js';
import * as nodeWire from '@opencall/protocol/wire';
import * as node from '@opencall/protocol';
import * as classicCommon from '../bench/validation/classic/common.js';
import * as classicC2S from '../bench/validation/classic/client-to-server.js';
import * as classicS2C from '../bench/validation/classic/server-to-client.js';
import * as classicRecords from '../bench/validation/classic/records.js';
import * as classicPush from '../bench/validation/classic/push.js';
import * as classicValidate from '../bench/validation/classic/validate.js';
import { CLIENT_DATA, OTHER_VALUES, SERVER_EVENTS, SERVER_MESSAGES, clientFrame } from '../bench/validation/messages.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3000);

type SafeParse = { safeParse(v: unknown): { success: boolean; data?: unknown; error?: { issues: unknown[] } } };

/** Every schema both versions export, by name (client message schemas as `ClientMessageSchemas.<type>`), and the new one compiled. */
function schemaPairs(): [name: string, neu: SafeParse, old: SafeParse, compiled: SafeParse][] {
  const classic: Record<string, unknown> = { ...classicCommon, ...classicC2S, ...classicS2C, ...classicRecords, ...classicPush };
  const pairs: [string, SafeParse, SafeParse, SafeParse][] = [];
  for (const [name, old] of Object.entries(classic)) {
    if (!name.endsWith('Schema')) continue;
    const neu = (mini as Record<string, unknown>)[name];
    assert.ok(neu, `${name} is no longer exported`);
    pairs.push([name, neu as SafeParse, old as SafeParse, compile(neu as never)]);
  }
  for (const type of Object.keys(classicC2S.ClientMessageSchemas)) {
    const neu = (mini.ClientMessageSchemas as Record<string, SafeParse>)[type];
    assert.ok(neu, `client message ${type} is no longer known`);
    pairs.push([`ClientMessageSchemas.${type}`, neu, (classicC2S.ClientMessageSchemas as Record<string, SafeParse>)[type]!, compile(neu as never)]);
  }
  return pairs;
}

/** A parse result as plain JSON (issues without prototypes), for deepEqual. */
function outcome(s: SafeParse, v: unknown): unknown {
  const r = s.safeParse(v);
  return JSON.parse(JSON.stringify(r.success ? { ok: true, data: r.data ?? null } : { ok: false, issues: r.error!.issues }));
}

/** Lengths and numbers the schemas' rules have edges at (each bound, one below, one above). */
const BOUNDS = [0, 1, 3, 4, 15, 16, 22, 31, 32, 33, 63, 64, 65, 79, 80, 87, 99, 100, 101, 127, 128, 129, 199, 200, 201, 255, 256, 257, 499, 500, 501, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193, 65536, 65537];
const CALL = 'c_abcdefghijklmnopqrstuv';

/** Values at the edges of the schemas' rules (lengths, integer ranges, reserved ids, types). */
const EDGES: readonly unknown[] = [
  ...BOUNDS.flatMap((n) => ['x'.repeat(n), 'a'.repeat(n), n, -n, n + 0.5]),
  ...[0, 1, 16, 17, 64, 65, 100, 101, 500, 501].flatMap((n) => [Array(n).fill('bob'), Array(n).fill(CALL), Array(n).fill(1)]),
  'sfu', 'bad id!', 'bob', CALL, 'https://example.com/x', 'http://localhost:1/x', 'ftp://x', 'not a url', 'toString', 'offer', 'answer',
  'candidate', 'webpush', 'fcm', 'apns', 'missed', 'single', 'sfu ', 'AB'.repeat(16), 'g'.repeat(64), 'ab:c.d-e_f', 'B'.repeat(86) + '==',
  1.5, 2, 3, 6, 7, 9, 10, 3600, 3601, 1_000_000, 1_000_001, 4294967295, 4294967296, 9007199254740991, 9007199254740992, 1e300, -0,
  null, true, false, [], {}, [null], { a: 1 }, { intRoomId: 1 }, { userId: 'bob', feed: 1 },
];

/** A path into a JSON value: the keys to walk. */
type Path = (string | number)[];

function pathsOf(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...at, k], out);
  return out;
}

/** How one spot of a value is spoiled. */
type Edit = { pick: number; op: 'set'; value: unknown } | { pick: number; op: 'delete' } | { pick: number; op: 'add'; key: string; value: unknown };

function applyEdit(root: unknown, e: Edit): unknown {
  const copy = structuredClone(root);
  const paths = pathsOf(copy);
  const path = paths[e.pick % paths.length]!;
  if (path.length === 0) return e.op === 'set' ? e.value : copy;
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (e.op === 'set') parent[last] = e.value;
  else if (e.op === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else {
    const target = parent[last];
    if (target && typeof target === 'object' && !Array.isArray(target)) (target as Record<string, unknown>)[e.key] = e.value;
    else parent[last] = { [e.key]: e.value };
  }
  return copy;
}

const valueArb: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...EDGES) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ pick: fc.nat(), op: fc.constant('set' as const), value: valueArb }) },
  { weight: 2, arbitrary: fc.record({ pick: fc.nat(), op: fc.constant('delete' as const) }) },
  { weight: 1, arbitrary: fc.record({ pick: fc.nat(), op: fc.constant('add' as const), key: fc.constantFrom('extra', 'constructor', 'toString', 'name', 'kind', 'type'), value: valueArb }) },
);
const editsArb = fc.array(editArb, { minLength: 0, maxLength: 3 });

/** Every valid value the schemas are meant for, and their parts (each part is also an input). */
const BASES: readonly unknown[] = [...CLIENT_DATA.map(([, d]) => d), ...SERVER_MESSAGES, ...SERVER_EVENTS, ...OTHER_VALUES];

describe('protocol schemas on zod/mini (and compiled, as the server runs them) behave as they did on zod', () => {
  it('Node gets the compiled parsers (both entries), browsers the plain ones', () => {
    assert.notEqual(node.parseClientMessage, mini.parseClientMessage);
    assert.notEqual(node.parseServerMessage, mini.parseServerMessage);
    assert.equal(nodeWire.parseClientMessage, node.parseClientMessage);
    assert.equal(nodeWire.parseServerMessage, node.parseServerMessage);
  });

  const pairs = schemaPairs();

  it('every schema: same output for the valid messages and for every part of them', () => {
    for (const [name, neu, old, compiled] of pairs) {
      for (const base of BASES) {
        for (const path of pathsOf(base)) {
          const v = path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], base);
          const want = outcome(old, v);
          assert.deepEqual(outcome(neu, v), want, `${name} on ${JSON.stringify(v).slice(0, 200)}`);
          assert.deepEqual(outcome(compiled, v), want, `compiled ${name} on ${JSON.stringify(v).slice(0, 200)}`);
        }
      }
    }
  });

  it('every single edit of every valid frame (each field set to each edge value, or removed): same result on both sides', () => {
    let compared = 0;
    const edits = (base: unknown): Edit[] => {
      const n = pathsOf(base).length;
      return Array.from({ length: n }, (_, pick) => [{ pick, op: 'delete' as const }, ...EDGES.map((value) => ({ pick, op: 'set' as const, value }))]).flat();
    };
    for (const [type, data] of CLIENT_DATA) {
      for (const e of edits(data)) {
        const raw = clientFrame(type, applyEdit(data, e));
        const want = classicValidate.parseClientMessage(raw);
        assert.deepEqual(mini.parseClientMessage(raw), want, raw.slice(0, 300));
        assert.deepEqual(node.parseClientMessage(raw), want, `compiled: ${raw.slice(0, 300)}`);
        compared++;
      }
    }
    for (const msg of SERVER_MESSAGES) {
      for (const e of edits(msg)) {
        const raw = JSON.stringify(applyEdit(msg, e));
        const want = classicValidate.parseServerMessage(raw);
        assert.deepEqual(mini.parseServerMessage(raw), want, raw.slice(0, 300));
        assert.deepEqual(node.parseServerMessage(raw), want, `compiled: ${raw.slice(0, 300)}`);
        compared++;
      }
    }
    const others: [string, unknown][] = [['CallRecordSchema', OTHER_VALUES[0]], ['PushActionBodySchema', OTHER_VALUES[1]]];
    for (const [name, base] of others) {
      const [, neu, old, compiled] = pairs.find(([n]) => n === name)!;
      for (const e of edits(base)) {
        const v = applyEdit(base, e);
        assert.deepEqual(outcome(neu, v), outcome(old, v), `${name} on ${JSON.stringify(v).slice(0, 200)}`);
        assert.deepEqual(outcome(compiled, v), outcome(old, v), `compiled ${name} on ${JSON.stringify(v).slice(0, 200)}`);
        compared++;
      }
    }
    assert.ok(compared > 10_000, `${compared} inputs compared`);
  });

  it('every schema: same acceptance, output and issues for spoiled messages', () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(pairs.length - 1), fc.constantFrom(...BASES), editsArb, (i, base, edits) => {
        const [name, neu, old, compiled] = pairs[i]!;
        const v = edits.reduce(applyEdit, base);
        const got = outcome(neu, v) as { ok: boolean };
        if (!got.ok) refused++;
        const want = outcome(old, v);
        assert.deepEqual(got, want, name);
        assert.deepEqual(outcome(compiled, v), want, `compiled ${name}`);
      }),
      { numRuns: RUNS * 4 },
    );
    assert.ok(refused > RUNS, `the inputs must exercise refusals too (${refused} refused)`);
  });

  it('the server parses client frames as before: same messages, same wire errors and request ids', () => {
    const envelopeArb = fc.record({ v: fc.constantFrom<unknown>(1, 2, 1.5, '1', null), id: fc.constantFrom<unknown>(0, 7, -1, 1.5, 2 ** 53, '7', null), type: fc.constantFrom<unknown>(...CLIENT_DATA.map(([t]) => t), 'call.teleport', 'toString', '__proto__', 'x'.repeat(65), 3) });
    fc.assert(
      fc.property(fc.nat(CLIENT_DATA.length - 1), editsArb, fc.option(envelopeArb, { freq: 4 }), fc.option(fc.string({ maxLength: 40 }), { freq: 20 }), (i, edits, env, text) => {
        const [type, data] = CLIENT_DATA[i]!;
        const raw = text ?? (env ? JSON.stringify({ ...env, data: edits.reduce(applyEdit, data) }) : clientFrame(type, edits.reduce(applyEdit, data)));
        const want = classicValidate.parseClientMessage(raw);
        assert.deepEqual(mini.parseClientMessage(raw), want, raw.slice(0, 300));
        assert.deepEqual(node.parseClientMessage(raw), want, `compiled: ${raw.slice(0, 300)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('the client parses server frames as before', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SERVER_MESSAGES), editsArb, (base, edits) => {
        const raw = JSON.stringify(edits.reduce(applyEdit, base));
        const want = classicValidate.parseServerMessage(raw);
        assert.deepEqual(mini.parseServerMessage(raw), want, raw.slice(0, 300));
        assert.deepEqual(node.parseServerMessage(raw), want, `compiled: ${raw.slice(0, 300)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps the bounds: deep nesting refused before parsing, unknown fields dropped, unknown types refused', () => {
    const deep = `{"v":1,"id":9,"type":"call.start","data":${'['.repeat(20)}${']'.repeat(20)}}`;
    const r = mini.parseClientMessage(deep);
    assert.deepEqual(r.ok ? null : [r.id, r.error.code], [9, mini.ErrorCode.MALFORMED_MESSAGE]);
    const ok = mini.parseClientMessage(clientFrame('call.accept', { callId: 'c_abcdefghijklmnopqrstuv', secret: 1 }));
    assert.deepEqual(ok.ok ? ok.message.data : null, { callId: 'c_abcdefghijklmnopqrstuv' });
    const unknown = mini.parseClientMessage(clientFrame('call.teleport', {}));
    assert.equal(unknown.ok ? 0 : unknown.error.code, mini.ErrorCode.UNKNOWN_MESSAGE_TYPE);
    // The English messages, not zod/mini's bare "Invalid input".
    const long = mini.parseClientMessage(clientFrame('profile.set', { nickname: 'x'.repeat(129), avatar: '' }));
    assert.equal(long.ok ? '' : long.error.message, 'invalid parameter: nickname: Too big: expected string to have <=128 characters');
  });
});
