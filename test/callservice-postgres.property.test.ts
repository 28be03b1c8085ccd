/**
 * Property test of cluster correctness at the storage seam: two CallService instances ("nodes"),
 * each on its own PostgresStorage pool over one database, run random commands, some of them at the
 * same instant on both nodes (real races: busy legs, glare-like crossings, version conflicts).
 * After every round the stored truth must hold SPEC §5: nobody busy in two calls, the derived
 * memberships and timers agree with the call states, each version committed once, each device's
 * events a well-formed lifecycle that agrees with its leg, webhooks numbered 1..n per call; driven
 * to completion, every call ends with exactly one record per user that matches what they saw.
 * The pure machine has its own, deeper property test (packages/server/src/call/machine.property.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { CallMediaType, type ServerEvent } from '@opencall/protocol/wire';
import { CallService } from '../packages/server/src/call/CallService.js';
import { MachineError } from '../packages/server/src/call/MachineError.js';
import { membershipsOf, nextDeadline } from '../packages/server/src/call/machine.js';
import type { CallState, Command, Effect, LegState } from '../packages/server/src/call/types.js';
import { PostgresStorage } from '../packages/server/src/storage/postgres/PostgresStorage.js';
import { createTestDatabase, pgUnavailable, type TestDatabase } from './helpers/pg.js';

const BUSY = new Set<LegState>(['calling', 'ringing', 'joined']);
const T0 = 1_700_000_000_000;
const MAX_PARTICIPANTS = 4;

type Step =
  | { k: 'start'; u: number; callees: number[] }
  | { k: 'accept' | 'reject' | 'hangup' | 'join'; c: number; m: number }
  | { k: 'invite'; c: number; m: number; ids: number[] }
  | { k: 'advance'; ms: number };
/** One round: one step, or two run at the same instant on the two nodes. */
type Round = Step[];

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('start' as const), u: fc.nat(4), callees: fc.array(fc.nat(3), { minLength: 1, maxLength: 3 }) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('accept' as const), c: fc.nat(9), m: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constantFrom('reject' as const, 'hangup' as const, 'join' as const), c: fc.nat(9), m: fc.nat(9) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('invite' as const), c: fc.nat(9), m: fc.nat(9), ids: fc.array(fc.nat(4), { minLength: 1, maxLength: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 40_000 })) }) },
);
const roundArb: fc.Arbitrary<Round> = fc.array(stepArb, { minLength: 1, maxLength: 2 });

/** What one device has seen of one call. */
type View = 'idle' | 'calling' | 'ringing' | 'connected';

/** One run: its own users (a prefix keeps runs apart in the shared database) and what they saw. */
class Run {
  readonly users: string[];
  readonly calls: string[] = [];
  /** Effects of every commit, by call and version (onCommitted sees each exactly once). */
  readonly commits = new Map<string, Map<number, readonly Effect[]>>();
  /** Next version to replay per call, device views per call, users who ever connected per call. */
  readonly replayed = new Map<string, number>();
  readonly views = new Map<string, Map<string, View>>();
  readonly connected = new Map<string, Set<string>>();

  constructor(
    readonly id: number,
    readonly nodes: [CallService, CallService],
    readonly stores: [PostgresStorage, PostgresStorage],
  ) {
    this.users = [0, 1, 2, 3, 4].map((i) => `r${id}u${i}`);
  }

  onCommitted(state: CallState, effects: readonly Effect[]): void {
    if (!this.users.includes(state.callerId)) return; // another run's late commit
    const byVersion = this.commits.get(state.callId) ?? new Map<number, readonly Effect[]>();
    assert.ok(!byVersion.has(state.version), `${state.callId} v${state.version} committed twice`);
    byVersion.set(state.version, effects);
    this.commits.set(state.callId, byVersion);
  }

  /** Runs `fn`, accepting only the refusals a client may get (-1202, -1203, -1205). */
  async guarded(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof MachineError)) throw e;
      assert.ok([-1202, -1203, -1205].includes(e.code), `unexpected code ${e.code}`);
    }
  }

  async step(st: Step, n: 0 | 1): Promise<void> {
    const svc = this.nodes[n];
    const dev = (u: string): string => `${u}-d`;
    if (st.k === 'start') {
      const u = this.users[st.u]!;
      const callees = st.callees.map((i) => this.users[(st.u + 1 + i) % 5]!);
      // As the signaling handler: a busy caller is refused before the machine runs (SPEC §5.4).
      const id = await svc.exclusive(
        async () =>
          (await svc.isBusy(u, null))
            ? null
            : svc.startCall({ userId: u, deviceId: dev(u), callees, mediaType: CallMediaType.audio, params: {}, callerProfile: null }),
        { defer: true, key: `user:${u}` },
      );
      if (id) this.calls.push(id);
      return;
    }
    if (st.k === 'advance') {
      // The shared clock moves; a node ticks every call, as its timers would.
      clock.now += st.ms;
      for (const callId of this.calls) await svc.run(callId, { type: 'tick' });
      return;
    }
    const callId = this.calls[st.c % Math.max(1, this.calls.length)];
    if (!callId) return;
    const state = await this.stores[n].getCall(callId);
    const members = Object.keys(state?.members ?? {});
    const userId = st.m < 8 && members.length > 0 ? members[st.m % members.length]! : this.users[st.m % 5]!;
    const deviceId = dev(userId);
    await this.guarded(() => {
      if (st.k === 'invite') {
        const userIds = st.ids.map((i) => this.users[i]!);
        return svc.exclusive(async () =>
          svc.apply(callId, { type: 'invite', userId, deviceId, userIds, maxParticipants: MAX_PARTICIPANTS, params: {}, ctx: await svc.userContext(userIds, callId) }),
        );
      }
      if (st.k === 'join') {
        return svc.exclusive(async () =>
          svc.apply(callId, { type: 'join', userId, deviceId, busyElsewhere: await svc.isBusy(userId, callId), maxParticipants: 9 }),
        );
      }
      const cmd: Command = { type: st.k, userId, deviceId };
      return svc.run(callId, cmd);
    });
  }

  /** Checks the stored truth and replays new events through every device's lifecycle. */
  async check(): Promise<CallState[]> {
    const store = this.stores[0];
    const states = await Promise.all(this.calls.map(async (id) => (await store.getCall(id))!));
    for (const u of this.users) {
      const busyIn = states.filter((s) => BUSY.has(s.members[u]?.state ?? 'left')).map((s) => s.callId);
      assert.ok(busyIn.length <= 1, `${u} busy in ${busyIn.join(', ')} (SPEC §5.1)`);
      const derived = states.flatMap((s) => membershipsOf(s).filter((m) => m.userId === u));
      derived.sort((a, b) => (a.callId < b.callId ? -1 : 1));
      assert.deepEqual(await this.stores[1].membershipsOf(u), derived, `stored memberships of ${u} follow the call states`);
    }
    const timers = new Map((await store.timers()).map((t) => [t.callId, t.dueAt]));
    for (const s of states) {
      assert.equal(timers.get(s.callId) ?? null, nextDeadline(s), `timer of ${s.callId}`);
      const versions = [...(this.commits.get(s.callId)?.keys() ?? [])].sort((a, b) => a - b);
      assert.deepEqual(versions, Array.from({ length: s.version }, (_, i) => i + 1), `${s.callId}: every version committed once`);
      this.replay(s);
    }
    const hooks = (await store.dueWebhooks(Number.MAX_SAFE_INTEGER, 100_000)).filter((h) => this.calls.includes(h.callId));
    for (const s of states) {
      const seqs = hooks.filter((h) => h.callId === s.callId).map((h) => h.seq);
      assert.deepEqual(seqs, Array.from({ length: s.webhookSeq }, (_, i) => i + 1), `${s.callId}: webhooks 1..n in outbox order`);
    }
    return states;
  }

  /** Feeds a call's new commits, in version order, through its devices' lifecycles. */
  replay(s: CallState): void {
    const views = this.views.get(s.callId) ?? new Map<string, View>();
    this.views.set(s.callId, views);
    const connected = this.connected.get(s.callId) ?? new Set<string>();
    this.connected.set(s.callId, connected);
    for (let v = this.replayed.get(s.callId) ?? 1; v <= s.version; v++) {
      if (v === 1) views.set(s.members[s.callerId]!.deviceId!, 'calling');
      let cancelFor: string | null = null;
      for (const e of this.commits.get(s.callId)!.get(v)!) {
        if (e.kind !== 'send') continue;
        const ev: ServerEvent = e.event;
        const key = e.to.deviceId;
        if (cancelFor !== null) {
          assert.ok(ev.name === 'onCallCancelled' && key === cancelFor, 'onCallCancelled follows onCallNotConnected');
          cancelFor = null;
          continue;
        }
        const was = views.get(key) ?? 'idle';
        const next = lifecycle(was, ev.name, key);
        if (next === 'connected') connected.add(e.to.userId);
        if (ev.name === 'onCallNotConnected') cancelFor = key;
        views.set(key, next);
      }
      assert.equal(cancelFor, null, 'a commit never ends on onCallNotConnected');
    }
    this.replayed.set(s.callId, s.version + 1);
    for (const [u, m] of Object.entries(s.members)) {
      const expected: View = m.state === 'ringing' ? 'ringing' : m.state === 'joined' ? 'connected' : m.state === 'calling' ? 'calling' : 'idle';
      assert.equal(views.get(`${u}-d`) ?? 'idle', expected, `${u} saw ${views.get(`${u}-d`) ?? 'idle'} in ${s.callId} while ${m.state}`);
    }
  }
}

/** A device's view after `event` (SPEC §4: one opening, one terminal event per call). */
function lifecycle(was: View, event: ServerEvent['name'], key: string): View {
  switch (event) {
    case 'onCallReceived':
      assert.equal(was, 'idle', `${key} rung twice`);
      return 'ringing';
    case 'onCallBegin':
      assert.notEqual(was, 'connected', `${key} began twice`);
      return 'connected';
    case 'onCallNotConnected':
      assert.ok(was === 'ringing' || was === 'calling', `${key} not connected while ${was}`);
      return 'idle';
    case 'onCallEnd':
      assert.equal(was, 'connected', `${key} ended while ${was}`);
      return 'idle';
    default:
      assert.notEqual(was, 'idle', `${event} to ${key} outside any call`);
      return was;
  }
}

const clock = { now: T0 };
const unavailable = await pgUnavailable();
let db: TestDatabase;
let stores: [PostgresStorage, PostgresStorage];

before(async () => {
  if (unavailable) return;
  db = await createTestDatabase();
  stores = [await PostgresStorage.open(db.url), await PostgresStorage.open(db.url)];
});
after(async () => {
  if (unavailable) return;
  await Promise.all(stores.map((s) => s.close()));
  await db.drop();
});

test('two nodes on one PostgreSQL database, commands interleaved and racing, keep every §5 invariant', { skip: unavailable ?? false }, async () => {
  let runs = 0;
  const property = fc.asyncProperty(fc.array(roundArb, { minLength: 1, maxLength: 25 }), async (rounds) => {
    let run: Run | null = null;
    const service = (): CallService =>
      new CallService({
        storage: stores[services.length as 0 | 1],
        presence: { ringDevices: (u) => [`${u}-d`] },
        deliver: () => {},
        ringTimeoutMs: 30_000,
        maxParticipants: MAX_PARTICIPANTS,
        log: pino({ level: 'silent' }),
        now: () => clock.now,
        hooks: { onCommitted: (s, effects) => run?.onCommitted(s, effects) },
        // As cluster nodes run: commands of different calls and users overlap within a node too.
        keyedCommands: true,
      });
    const services: CallService[] = [];
    services.push(service());
    services.push(service());
    const current = new Run(runs++, services as [CallService, CallService], stores);
    run = current;
    try {
      for (const [r, round] of rounds.entries()) {
        // Every third round sends both of its steps to one node: they race inside that node.
        await Promise.all(round.map((st, i) => current.step(st, (r % 3 === 2 ? 0 : i) as 0 | 1)));
        await current.check();
      }
      // Drive to completion: everyone connected or calling hangs up, every deadline passes.
      for (const s of await current.check()) {
        for (const [u, m] of Object.entries(s.members)) {
          if (m.state === 'joined' || m.state === 'calling') await current.guarded(() => services[0]!.run(s.callId, { type: 'hangup', userId: u, deviceId: `${u}-d` }));
        }
      }
      clock.now += 3_600_000;
      for (const callId of current.calls) await services[1]!.run(callId, { type: 'tick' });
      for (const s of await current.check()) {
        assert.equal(s.phase, 'ended', `${s.callId} ended`);
        const connected: Set<string> = current.connected.get(s.callId) ?? new Set<string>();
        for (const u of new Set([s.callerId, ...s.inviteList])) {
          const records = (await stores[1].queryRecords(u, { limit: 1000 })).filter((r) => r.callId === s.callId);
          assert.equal(records.length, 1, `one record of ${s.callId} for ${u}`);
          assert.equal(records[0]!.result, u === s.callerId ? 'outgoing' : connected.has(u) ? 'incoming' : 'missed', `record of ${u}`);
        }
      }
    } finally {
      for (const s of services) s.close();
    }
  });
  await fc.assert(property, { numRuns: Number(process.env.CLUSTER_PROPERTY_RUNS ?? 25), includeErrorInReport: true });
});
