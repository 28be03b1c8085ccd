/**
 * Fuzz of the signaling socket against a real server (issue 16): fast-check drives three signed-in
 * raw sockets with sequences of valid frames (calls, accepts, invites, joins, media signals,
 * profiles, records, re-auth, logout) and mutations of them (a field replaced by arbitrary JSON,
 * extra keys nested up to 3,000 deep, wrong envelope values, truncated or garbage text, binary
 * and oversized frames). After every frame: the server answers it (exactly one response or error,
 * so no request hangs). After every run: each user signs out, and then every user can still call
 * and be called — nothing a client sends may wedge anyone. `FUZZ_RUNS` / `FUZZ_SEED` override the
 * run count and seed (a failure prints the seed and the shrunk sequence to replay).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { RunningServer } from '@opencall/server';
import { rawSocket } from './helpers/rawSocket.js';
import type { Frame, Raw } from './helpers/rawSocket.js';
import { TEST_APP_ID, sig, startTestServer } from './helpers/server.js';
import { assertNotWedged } from './helpers/wedge.js';

const USERS = ['fz_a', 'fz_b', 'fz_c'] as const;
const MAX_BYTES = 8192;

/** What a step does, before it is turned into a frame with the call ids known at that point. */
type Step = {
  who: number;
  kind: (typeof KINDS)[number];
  target: number;
  call: number;
  mutation: Mutation | null;
};

/** How a valid frame is spoiled (null: sent as is). */
type Mutation =
  | { op: 'replace'; key: number; value: unknown }
  | { op: 'extra'; depth: number }
  | { op: 'envelope'; field: 'v' | 'id' | 'type'; value: unknown }
  | { op: 'text'; text: string }
  | { op: 'truncate'; at: number }
  | { op: 'binary' }
  | { op: 'oversized' };

const KINDS = [
  'call.start', 'call.start', 'call.accept', 'call.accept', 'call.reject', 'call.ignore', 'call.hangup', 'call.hangup',
  'call.invite', 'call.join', 'call.switchMediaType', 'media.signal', 'media.state', 'profile.set', 'profile.get',
  'device.multi', 'records.query', 'records.delete', 'ping', 'auth', 'logout',
] as const;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), key: fc.nat(5), value: fc.jsonValue({ maxDepth: 3 }) }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('extra' as const), depth: fc.oneof(fc.integer({ min: 2, max: 12 }), fc.constant(3000)) }) },
  fc.record({ op: fc.constant('envelope' as const), field: fc.constantFrom('v' as const, 'id' as const, 'type' as const), value: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ op: fc.constant('text' as const), text: fc.string({ maxLength: 64 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(200) }),
  fc.constant({ op: 'binary' as const }),
  fc.constant({ op: 'oversized' as const }),
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  who: fc.nat(USERS.length - 1),
  kind: fc.constantFrom(...KINDS),
  target: fc.nat(USERS.length + 1),
  call: fc.nat(8),
  mutation: fc.option(mutationArb, { freq: 2 }),
});

/** The review's attack (#1), always run first: a call whose offlinePushInfo nests 3,000 deep, then answered and hung up. */
const REVIEW_ATTACK: Step[] = [
  { who: 0, kind: 'call.start', target: 1, call: 0, mutation: { op: 'extra', depth: 3000 } },
  { who: 0, kind: 'call.start', target: 1, call: 0, mutation: null },
  { who: 1, kind: 'call.accept', target: 0, call: 0, mutation: null },
  { who: 0, kind: 'call.invite', target: 2, call: 0, mutation: { op: 'extra', depth: 3000 } },
  { who: 1, kind: 'call.hangup', target: 0, call: 0, mutation: null },
];

/** A user id for `target`: one of the fuzz users, a stranger, or the reserved `sfu`. */
const userOf = (target: number): string => USERS[target] ?? (target === USERS.length ? 'fz_stranger' : 'sfu');

/** The valid `data` of a step, given the call ids seen so far. */
function dataOf(s: Step, calls: readonly string[]): Record<string, unknown> {
  const callId = calls.length ? calls[s.call % calls.length]! : 'c_unknown000000000000000';
  const other = userOf(s.target);
  switch (s.kind) {
    case 'call.start':
      return { userIds: [other], mediaType: 1 + (s.call % 2), params: { timeout: 1 + (s.call % 3), offlinePushInfo: { title: 'fuzz' } } };
    case 'call.invite':
      return { callId, userIds: [other] };
    case 'call.switchMediaType':
      return { callId, mediaType: 1 + (s.call % 2) };
    case 'media.signal':
      return { callId, to: s.target > USERS.length ? 'sfu' : other, signal: { kind: ['offer', 'answer', 'candidate', 'restart', 'leave'][s.call % 5], sdp: 'v=0\r\n' } };
    case 'media.state':
      return { callId, audio: s.call % 2 === 0, video: false, connected: true };
    case 'profile.set':
      return { nickname: `n${s.call}`, avatar: '' };
    case 'profile.get':
      return { userIds: [other] };
    case 'device.multi':
      return { enable: s.call % 2 === 0 };
    case 'records.query':
      return { limit: 5 };
    case 'records.delete':
      return { callIds: [callId] };
    case 'ping':
    case 'logout':
      return {};
    case 'auth': {
      const me = USERS[s.who]!;
      return { sdkAppId: TEST_APP_ID, userId: me, userSig: sig(me), deviceId: `dev_${me}` };
    }
    default:
      return { callId };
  }
}

/** Nests 0 inside `depth` arrays. */
function nested(depth: number): unknown {
  let x: unknown = 0;
  for (let i = 0; i < depth; i++) x = [x];
  return x;
}

/** The frame to send for a step: valid, or spoiled by its mutation. */
function frameOf(s: Step, id: number, calls: readonly string[]): string | Buffer {
  const data = dataOf(s, calls);
  const env: Record<string, unknown> = { v: 1, id, type: s.kind, data };
  const m = s.mutation;
  if (!m) return JSON.stringify(env);
  switch (m.op) {
    case 'replace': {
      const keys = Object.keys(data);
      if (keys.length) data[keys[m.key % keys.length]!] = m.value;
      else env['data'] = m.value;
      return JSON.stringify(env);
    }
    case 'extra': {
      // Inside the free-form offlinePushInfo when the frame has one (where #1 struck), else at the top.
      const push = (data['params'] as { offlinePushInfo?: Record<string, unknown> } | undefined)?.offlinePushInfo;
      (push ?? data)['x'] = nested(m.depth);
      return JSON.stringify(env);
    }
    case 'envelope':
      env[m.field] = m.value;
      return JSON.stringify(env);
    case 'text':
      return m.text;
    case 'truncate':
      return JSON.stringify(env).slice(0, m.at);
    case 'binary':
      return Buffer.from(JSON.stringify(env));
    case 'oversized':
      return JSON.stringify({ ...env, pad: 'x'.repeat(MAX_BYTES + 1) });
  }
}

/** Frames that answer a request (responses and request-less errors), as opposed to events. */
const answers = (r: Raw): number => r.frames.filter((f: Frame) => f.type === 'response' || f.type === 'error').length;

let server: RunningServer;
before(async () => {
  server = await startTestServer({ limits: { maxMessageBytes: MAX_BYTES, messagesPerSecondPerConnection: 10_000, callsPerMinutePerUser: 100_000 } });
});
after(() => server.close());

describe('fuzz: the signaling socket', () => {
  it('answers every frame, never crashes, and leaves no user wedged', async () => {
    const runs = Number(process.env['FUZZ_RUNS'] ?? 10);
    const seed = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 10, maxLength: 40 }), async (steps) => {
        run++;
        const sockets: Raw[] = [];
        try {
          for (const u of USERS) {
            const r = await rawSocket(server);
            const res = await r.request(0, 'auth', { sdkAppId: TEST_APP_ID, userId: u, userSig: sig(u), deviceId: `dev_${u}` });
            assert.equal(res.ok, true, `${u} signs in before run ${run}`);
            sockets.push(r);
          }
          const calls: string[] = [];
          let id = 1;
          for (const s of steps) {
            const r = sockets[s.who]!;
            const before = answers(r);
            r.ws.send(frameOf(s, id++, calls));
            // Exactly one answer per frame: a request never hangs, whatever it carried.
            await r.next(() => answers(r) > before, 3000).catch(() => assert.fail(`no answer to ${s.kind} ${JSON.stringify(s.mutation)?.slice(0, 80)} (run ${run})`));
            for (const f of r.frames) {
              const c = (f.data as { callId?: unknown } | undefined)?.callId ?? f.event?.['callId'];
              if (typeof c === 'string' && !calls.includes(c)) calls.push(c);
            }
          }
          // Everyone signs out (their calls end); then nobody may be stuck.
          for (const [i, r] of sockets.entries()) await r.request(900_000 + i, 'logout');
        } finally {
          for (const r of sockets) r.close();
        }
        await assertNotWedged(server, USERS);
      }),
      { numRuns: runs, ...(seed === undefined ? {} : { seed }), endOnFailure: true, examples: [[REVIEW_ATTACK]] },
    );
    assert.equal(run >= runs, true);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { ok: boolean };
    assert.equal(health.ok, true);
  });
});
