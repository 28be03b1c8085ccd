/**
 * Property test of the pure call machine: random interleavings across several calls in a small
 * world (5 users, 1–2 devices, presence, multi-device flags). The harness plays the CallService
 * (busy facts from the other calls, devices from presence) and checks SPEC §5 after every step;
 * at the end every call is driven to completion and its records are compared with the events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallMediaType, type CallRecord } from '@opencall/protocol/wire';
import { MachineError } from './MachineError.js';
import { transition } from './machine.js';
import type { CallState, Command, Effect, LegState, UserContext } from './types.js';

const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'];
const [T0, DEFAULT_RING_MS, MAX_PARTICIPANTS] = [1_700_000_000_000, 30_000, 4];
/** SPEC §5.1: calling, ringing or connected make a user busy. */
const BUSY = new Set<LegState>(['calling', 'ringing', 'joined']);
const ACTIVE = new Set<LegState>(['calling', 'invited', 'ringing', 'joined']);
/** Leg edges allowed within one attempt (STYLE conventions; `ringing → invited` = last ringing device went offline). */
const EDGES: Partial<Record<LegState, LegState[]>> = {
  // A caller whose device drops while ringing ends `offline`, as do invitees it was ringing.
  calling: ['joined', 'canceled', 'offline', 'endByServer'],
  invited: ['ringing', 'joined', 'busy', 'noResponse', 'canceled', 'offline', 'endByServer'],
  ringing: ['invited', 'joined', 'rejected', 'busy', 'noResponse', 'canceled', 'offline', 'endByServer'],
  joined: ['left', 'offline'],
};

type Media = CallMediaType.audio | CallMediaType.video;
/** A random step; indices are resolved against the world at the time the step runs. */
type Step =
  | { k: 'start'; u: number; d: number; callees: number[]; video: boolean; timeout: number; eph: boolean }
  | { k: 'accept' | 'reject' | 'ignore' | 'hangup' | 'join'; c: number; m: number; d: number }
  | { k: 'invite'; c: number; m: number; d: number; ids: number[]; timeout: number }
  | { k: 'switch'; c: number; m: number; d: number; video: boolean }
  | { k: 'online' | 'offline'; u: number; d: number }
  | { k: 'multi'; u: number; d: number; on: boolean }
  | { k: 'advance'; ms: number }
  | { k: 'endByServer' | 'media'; c: number };

interface Device { userId: string; deviceId: string; online: boolean; multi: boolean; signedInAt: number }
/** What one device has seen of one call. */
interface DeviceView { status: 'idle' | 'calling' | 'ringing' | 'connected'; since: number }
/** A call as the harness tracks it: state, last webhook seq, device views, measured connected ms, records. */
interface Tracked {
  state: CallState;
  seq: number;
  views: Map<string, DeviceView>;
  connectedMs: Map<string, number>; // users who ever got onCallBegin → ms measured from the events
  records: Map<string, CallRecord[]> | null; // latest written, by user (mid-call for leavers, at the end for the rest)
}

const idx = fc.nat({ max: 11 });
/** Callees relative to the caller: 0–3 are the others, 4 is the caller (refused with -1202); rarely empty. */
const rec = <T>(weight: number, arbitrary: fc.Arbitrary<T>): { weight: number; arbitrary: fc.Arbitrary<T> } => ({ weight, arbitrary });
const callees = fc.oneof(rec(20, fc.array(fc.oneof(rec(15, fc.nat(3)), rec(1, fc.constant(4))), { minLength: 1, maxLength: 3 })), rec(1, fc.constant<number[]>([])));
const media = fc.boolean();
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  rec(3, fc.record({ k: fc.constant('start' as const), u: fc.nat(4), d: fc.nat(1), callees, video: media, timeout: fc.constantFrom(0, 5, 20), eph: fc.boolean() })),
  rec(5, fc.record({ k: fc.constant('accept' as const), c: idx, m: idx, d: idx })),
  rec(2, fc.record({ k: fc.constantFrom('hangup' as const, 'join' as const), c: idx, m: idx, d: idx })),
  rec(1, fc.record({ k: fc.constantFrom('reject' as const, 'ignore' as const), c: idx, m: idx, d: idx })),
  rec(3, fc.record({ k: fc.constant('invite' as const), c: idx, m: idx, d: idx, ids: fc.array(fc.nat(4), { maxLength: 3 }), timeout: fc.constantFrom(0, 10) })),
  rec(1, fc.record({ k: fc.constant('switch' as const), c: idx, m: idx, d: idx, video: media })),
  rec(3, fc.record({ k: fc.constantFrom('online' as const, 'offline' as const), u: fc.nat(4), d: fc.nat(1) })),
  rec(1, fc.record({ k: fc.constant('multi' as const), u: fc.nat(4), d: fc.nat(1), on: fc.boolean() })),
  rec(3, fc.record({ k: fc.constant('advance' as const), ms: fc.oneof(rec(4, fc.integer({ min: 0, max: 3_000 })), rec(1, fc.integer({ min: 0, max: 40_000 }))) })),
  rec(1, fc.record({ k: fc.constantFrom('endByServer' as const, 'media' as const), c: idx })),
);
/** Per user: a second device?, which devices start online, which have multi-device on. */
const mostly = fc.constantFrom(true, true, true, false); // devices start online 3 times in 4
const worldArb = fc.array(fc.record({ two: fc.boolean(), online: fc.tuple(mostly, mostly), multi: fc.tuple(fc.boolean(), fc.boolean()) }), { minLength: 5, maxLength: 5 });
type WorldSpec = { two: boolean; online: [boolean, boolean]; multi: [boolean, boolean] }[];

/** The CallService role plus the observers' view of every device. */
class World {
  now = T0;
  #signIns = 0;
  readonly devices: Device[] = [];
  readonly calls: Tracked[] = [];

  constructor(spec: WorldSpec) {
    spec.forEach((u, i) => (u.two ? [0, 1] : [0]).forEach((d) =>
      this.devices.push({ userId: USERS[i]!, deviceId: `${USERS[i]}-d${d}`, online: u.online[d]!, multi: u.multi[d]!, signedInAt: this.#signIns++ })));
  }

  /** Device `d` of user `u` (a user with one device answers with it for any `d`). */
  device = (u: number, d: number): Device | undefined => this.devices.filter((x) => x.userId === USERS[u]).find((_, i, own) => i === d % own.length);

  /** SPEC §5.4 policy `multi`: devices with multi-device on plus the most recently signed-in one. */
  ringDevices(userId: string): string[] {
    const on = this.devices.filter((x) => x.userId === userId && x.online);
    const latest = on.reduce<Device | null>((a, x) => (!a || x.signedInAt > a.signedInAt ? x : a), null);
    return on.filter((x) => x.multi || x === latest).map((x) => x.deviceId);
  }

  isOnline = (userId: string, deviceId: string): boolean => this.devices.some((x) => x.userId === userId && x.deviceId === deviceId && x.online);
  busyElsewhere = (userId: string, callId: string | null): boolean =>
    this.calls.some((t) => t.state.callId !== callId && BUSY.has(t.state.members[userId]?.state ?? 'left'));
  /** Busy facts and ring devices, gathered like CallService#userContext. */
  ctx = (userIds: string[], callId: string | null): UserContext => ({
    busy: new Set(userIds.filter((u) => this.busyElsewhere(u, callId))),
    devices: Object.fromEntries(userIds.map((u) => [u, this.ringDevices(u)])),
  });

  /** Applies one command like the service does, then checks everything. `goingOffline` may still get its final event. */
  exec(t: Tracked | null, cmd: Command, goingOffline?: Device): Tracked | null {
    const before = t?.state ?? null;
    const snapshot = structuredClone(before);
    let r;
    try { r = transition(before, cmd, this.now); } catch (e) {
      if (!(e instanceof MachineError)) throw e;
      assert.ok([-1202, -1203, -1205].includes(e.code), `unexpected code ${e.code}`);
      assert.deepEqual(before, snapshot, 'a refused command changes nothing');
      return t;
    }
    assert.deepEqual(before, snapshot, 'transition never mutates its input');
    if (before && r.state === before) {
      assert.deepEqual(r.effects, [], 'a no-op has no effects');
      return t;
    }
    assert.equal(r.state.version, (before?.version ?? 0) + 1, 'version grows by exactly 1 per change');
    if (before) assert.notDeepEqual({ ...r.state, version: 0 }, { ...before, version: 0 }, 'a new version changes something');
    const tracked = t ?? { state: r.state, seq: 0, views: new Map(), connectedMs: new Map(), records: null };
    if (!t) {
      const c = r.state.members[r.state.callerId]!; // the caller's device is opened by the calls() response
      tracked.views.set(`${c.userId}|${c.deviceId}`, { status: 'calling', since: this.now });
      this.calls.push(tracked);
    }
    checkLegs(before, r.state);
    tracked.state = r.state;
    this.checkSends(tracked, r.effects, goingOffline);
    checkWebhooksAndRecords(tracked, before, r.state, r.effects);
    checkCall(tracked);
    this.checkWorld();
    return tracked;
  }

  /** Every device's event stream is a well-formed lifecycle: one opening, one terminal event. */
  checkSends(t: Tracked, effects: Effect[], goingOffline?: Device): void {
    let expectCancel: string | null = null;
    let cancelledBy = '';
    for (const e of effects) {
      if (e.kind !== 'send') continue;
      const { userId, deviceId } = e.to;
      const key = `${userId}|${deviceId}`;
      const ev = e.event;
      if (expectCancel !== null) {
        assert.ok(ev.name === 'onCallCancelled' && key === expectCancel && ev.userId === cancelledBy, 'onCallCancelled(userId) follows onCallNotConnected');
        expectCancel = null;
        continue;
      }
      const going = goingOffline?.userId === userId && goingOffline.deviceId === deviceId;
      assert.ok(this.isOnline(userId, deviceId) || going, `${ev.name} sent to offline device ${key}`);
      const v = t.views.get(key) ?? { status: 'idle', since: 0 };
      t.views.set(key, v);
      switch (ev.name) {
        case 'onCallReceived':
          assert.equal(v.status, 'idle', `${key} rung twice`);
          // §5.3: calleeIdList = invitees so far, not the caller (even when the caller is re-invited).
          assert.ok(!ev.calleeIdList.includes(t.state.callerId), 'calleeIdList never names the caller (§5.3)');
          assert.ok(ev.calleeIdList.includes(userId) || userId === t.state.callerId, 'calleeIdList names the invitee');
          v.status = 'ringing';
          break;
        case 'onCallBegin':
          assert.ok(v.status === 'idle' || v.status === 'ringing' || v.status === 'calling', `${key} began twice`);
          Object.assign(v, { status: 'connected', since: this.now });
          t.connectedMs.set(userId, t.connectedMs.get(userId) ?? 0);
          break;
        case 'onCallNotConnected':
          assert.ok(v.status === 'ringing' || v.status === 'calling', `${key} got onCallNotConnected while ${v.status}`);
          v.status = 'idle';
          expectCancel = key;
          // §4: onCallCancelled names the caller when the caller canceled, otherwise the receiver.
          cancelledBy = ev.userId === t.state.callerId ? t.state.callerId : userId;
          break;
        case 'onCallEnd': {
          assert.equal(v.status, 'connected', `${key} got onCallEnd while ${v.status}`);
          v.status = 'idle';
          const total = (t.connectedMs.get(userId) ?? 0) + this.now - v.since;
          t.connectedMs.set(userId, total);
          assert.equal(ev.totalTime, total, 'totalTime = connected ms from connect to leave');
          break;
        }
        case 'onUserJoin': case 'onUserLeave': case 'onCallMediaTypeChanged':
          assert.equal(v.status, 'connected', `${ev.name} to a device that is not connected`);
          break;
        default:
          assert.notEqual(v.status, 'idle', `${ev.name} to ${key} outside any call lifecycle`);
          if (/^onUser(Reject|NoResponse|LineBusy)$/.test(ev.name) && t.state.scene === 'single') {
            assert.equal(userId, t.state.callerId, 'in 1-to-1 only the caller hears about the callee (§5.3)');
          }
      }
    }
    assert.equal(expectCancel, null);
  }

  /** SPEC §5.1: a user is busy (calling/ringing/connected) in at most one call — so never joined in two. */
  checkWorld(): void {
    for (const u of USERS) assert.ok(this.calls.filter((t) => BUSY.has(t.state.members[u]?.state ?? 'left')).length <= 1, `${u} busy in two calls`);
  }
}

function checkLegs(before: CallState | null, after: CallState): void {
  for (const [u, m] of Object.entries(after.members)) {
    const p = before?.members[u];
    // First attempt numbers are not checked: `start` builds initial legs twice (attempt 2; not in SPEC, reported).
    if (!p) continue;
    if (p.attempt === m.attempt) {
      if (p.state !== m.state) assert.ok(EDGES[p.state]?.includes(m.state), `leg ${u}: ${p.state} → ${m.state}`);
    } else {
      // A new leg opens only after the previous one resolved (each invitation resolves exactly once).
      assert.equal(m.attempt, p.attempt + 1);
      assert.ok(!ACTIVE.has(p.state), `leg ${u} reopened while ${p.state}`);
    }
  }
}

function checkWebhooksAndRecords(t: Tracked, before: CallState | null, after: CallState, effects: Effect[]): void {
  const records = new Map<string, CallRecord[]>();
  for (const e of effects) {
    if (e.kind === 'webhook') assert.equal(e.seq, ++t.seq, 'webhook seq increases by one per event');
    if (e.kind === 'record') records.set(e.userId, [...(records.get(e.userId) ?? []), e.record]);
  }
  const endsNow = after.phase === 'ended' && before?.phase !== 'ended';
  assert.equal(effects.filter((e) => e.kind === 'webhook' && e.command === 'Call.CallbackAfterEndCall').length, endsNow ? 1 : 0);
  // Records are written when the call ends, and before that only for a user whose part just
  // ended while the call goes on (issue 15: a group call they left).
  if (!endsNow) {
    for (const u of records.keys()) {
      const m = after.members[u];
      assert.ok(m?.ownRecord && (m.state === 'left' || m.state === 'offline'), `mid-call record of ${u} whose leg is ${m?.state}`);
    }
  }
  // Storage keeps one record per (user, call): a later one replaces the earlier one.
  if (endsNow || records.size > 0) t.records ??= new Map();
  for (const [u, rs] of records) t.records!.set(u, rs);
}

/** Call-level invariants and agreement between the machine's legs and what devices saw. */
function checkCall(t: Tracked): void {
  const s = t.state;
  const ms = Object.values(s.members);
  const joined = ms.filter((m) => m.state === 'joined').length;
  if (s.phase === 'ringing') {
    const pending = ms.some((m) => m.state === 'ringing' || m.state === 'invited');
    assert.ok(s.members[s.callerId]?.state === 'calling' && joined === 0 && pending, 'a ringing call: caller calling, an invitee pending (§5.1)');
  } else if (s.phase === 'active') {
    assert.ok(joined >= 2, 'an active call has two connected users (§5.1)');
  } else {
    assert.ok(ms.every((m) => !ACTIVE.has(m.state)), 'every leg of an ended call is resolved');
  }
  for (const m of ms) assert.equal(m.state === 'ringing', m.ringingDevices.length > 0, `leg ${m.userId} ${m.state} rings ${m.ringingDevices.join()}`);
  for (const [key, v] of t.views) {
    const [u, d] = key.split('|') as [string, string];
    const m = s.members[u];
    const rings = m?.state === 'ringing' && m.ringingDevices.includes(d) && !m.ignoredDevices.includes(d);
    const on = m?.deviceId === d ? ({ joined: 'connected', calling: 'calling' } as const)[m.state as 'joined'] : undefined;
    assert.equal(v.status, rings ? 'ringing' : (on ?? 'idle'), `device ${key} saw ${v.status} but its leg is ${m?.state}`);
  }
  if (s.phase !== 'ended') return;
  // Records match the events (SPEC §6.1).
  const users = [s.callerId, ...s.inviteList];
  if (s.isEphemeralCall) return assert.equal(t.records?.size, 0, 'no records for an ephemeral call');
  assert.deepEqual([...(t.records?.keys() ?? [])].sort(), [...new Set(users)].sort(), 'one record per user: caller + inviteList');
  for (const u of new Set(users)) {
    const [r, ...more] = t.records?.get(u) ?? [];
    assert.ok(r && more.length === 0, `exactly one record for ${u}`);
    assert.equal(r.result, u === s.callerId ? 'outgoing' : t.connectedMs.has(u) ? 'incoming' : 'missed', `record result of ${u}`);
    assert.equal(r.totalTime, t.connectedMs.get(u) ?? 0, `record totalTime of ${u}`);
  }
}

/** Leg states a command is usually sent from (the rest of the time anyone may send it). */
const [RINGING, JOINED] = [new Set<LegState>(['ringing']), new Set<LegState>(['joined'])];
const PREFERRED: Partial<Record<Step['k'], ReadonlySet<LegState>>> = {
  accept: RINGING, reject: RINGING, ignore: RINGING, invite: JOINED, switch: JOINED, hangup: new Set(['joined', 'ringing']),
  join: new Set(['left', 'rejected', 'noResponse', 'busy', 'offline', 'invited', 'joined']),
};

/**
 * Resolves a step's (call, member, device) indices. Small indices pick live calls, their members
 * and the device the member uses in the call; large ones pick ended calls, strangers and other
 * devices, so illegal commands are exercised too.
 */
function pick(w: World, st: { k: Step['k']; c: number; m: number; d: number }): { t: Tracked; userId: string; deviceId: string } | null {
  const { c, m, d } = st;
  const live = w.calls.filter((x) => x.state.phase !== 'ended');
  const pool = c < 9 && live.length > 0 ? live : w.calls;
  const t = pool[c % Math.max(1, pool.length)];
  if (!t) return null;
  const members = Object.values(t.state.members);
  const fits = PREFERRED[st.k] ?? ACTIVE;
  const preferred = members.filter((x) => fits.has(x.state)).map((x) => x.userId);
  const all = members.map((x) => x.userId);
  const userId = m < 8 && preferred.length > 0 ? preferred[m % preferred.length]! : m < 10 ? all[m % all.length]! : USERS[m % USERS.length]!;
  const mem = t.state.members[userId];
  const inCall = [...(mem?.ringingDevices.filter((x) => !mem.ignoredDevices.includes(x)) ?? []), ...(mem?.deviceId ? [mem.deviceId] : [])];
  const own = w.devices.filter((x) => x.userId === userId).map((x) => x.deviceId);
  const candidates = (d < 9 && inCall.length > 0 ? inCall : own).filter((x) => w.isOnline(userId, x));
  if (candidates.length === 0) return null;
  return { t, userId, deviceId: candidates[d % candidates.length]! };
}

function run(w: World, st: Step): void {
  const mediaOf = (video: boolean): Media => (video ? CallMediaType.video : CallMediaType.audio);
  switch (st.k) {
    case 'start': {
      const dev = w.device(st.u, st.d);
      // The service refuses calls() from a busy user before the machine runs (SPEC §5.4).
      if (!dev?.online || w.busyElsewhere(dev.userId, null)) return;
      const callees = st.callees.map((i) => USERS[(st.u + 1 + i) % USERS.length]!);
      const { userId, deviceId } = dev;
      const params = { ...(st.timeout ? { timeout: st.timeout } : {}), isEphemeralCall: st.eph };
      const ringTimeoutMs = st.timeout ? st.timeout * 1000 : DEFAULT_RING_MS;
      const ctx = w.ctx([...new Set(callees)], null);
      const callId = `call-${w.calls.length}`;
      w.exec(null, { type: 'start', callId, userId, deviceId, callees, mediaType: mediaOf(st.video), params, ringTimeoutMs, maxParticipants: MAX_PARTICIPANTS, callerProfile: null, ctx });
      return;
    }
    case 'accept': case 'reject': case 'ignore': case 'hangup': case 'join': case 'invite': case 'switch': {
      const p = pick(w, st);
      if (!p) return;
      const { t, userId, deviceId } = p;
      const callId = t.state.callId;
      if (st.k === 'join') w.exec(t, { type: 'join', userId, deviceId, busyElsewhere: w.busyElsewhere(userId, callId), maxParticipants: 9 });
      else if (st.k === 'switch') w.exec(t, { type: 'switchMediaType', userId, deviceId, mediaType: mediaOf(st.video) });
      else if (st.k !== 'invite') w.exec(t, { type: st.k, userId, deviceId });
      else {
        const userIds = st.ids.map((i) => USERS[i]!);
        const params = st.timeout ? { timeout: st.timeout } : {};
        w.exec(t, { type: 'invite', userId, deviceId, userIds, maxParticipants: MAX_PARTICIPANTS, params, ctx: w.ctx(userIds, callId) });
      }
      return;
    }
    case 'online': {
      const dev = w.device(st.u, st.d);
      if (!dev || dev.online) return;
      [dev.online, dev.signedInAt] = [true, w.devices.reduce((a, x) => Math.max(a, x.signedInAt), 0) + 1];
      // Like SessionManager#ringPending: ring the new device for pending invitations, if it is a ring device.
      if (!w.ringDevices(dev.userId).includes(dev.deviceId)) return;
      for (const t of w.calls) {
        const m = t.state.members[dev.userId];
        if (t.state.phase === 'ended' || (m?.state !== 'invited' && m?.state !== 'ringing')) continue;
        w.exec(t, { type: 'deviceOnline', userId: dev.userId, deviceId: dev.deviceId, busyElsewhere: w.busyElsewhere(dev.userId, t.state.callId) });
      }
      return;
    }
    case 'offline': {
      const dev = w.device(st.u, st.d);
      if (!dev?.online) return;
      dev.online = false;
      for (const t of w.calls) w.exec(t, { type: 'deviceOffline', userId: dev.userId, deviceId: dev.deviceId }, dev);
      // The removed device has had its final event for every call (exactly one, checked in checkSends).
      for (const t of w.calls) assert.equal(t.views.get(`${dev.userId}|${dev.deviceId}`)?.status ?? 'idle', 'idle');
      return;
    }
    case 'multi':
      w.device(st.u, st.d)!.multi = st.on;
      return;
    case 'advance':
      w.now += st.ms;
      for (const t of w.calls) w.exec(t, { type: 'tick' });
      return;
    case 'endByServer': case 'media': {
      const t = w.calls[st.c % Math.max(1, w.calls.length)];
      if (t && st.k === 'endByServer') w.exec(t, { type: 'endByServer', adminId: 'administrator' });
      // Media can only connect in a connected call.
      else if (t?.state.phase === 'active') w.exec(t, { type: 'mediaConnected' });
      return;
    }
  }
}

/** Hangs everybody up and lets every deadline pass; every call must then be over. */
function driveToCompletion(w: World): void {
  for (const t of w.calls) {
    for (const userId of Object.keys(t.state.members)) {
      const m = t.state.members[userId]!;
      if (t.state.phase === 'ended' || (m.state !== 'joined' && m.state !== 'calling')) continue;
      w.exec(t, { type: 'hangup', userId, deviceId: m.deviceId! });
    }
  }
  w.now += 3_600_000;
  for (const t of w.calls) w.exec(t, { type: 'tick' });
  for (const t of w.calls) assert.equal(t.state.phase, 'ended', `${t.state.callId} ended`); // and so every device is idle (checkCall)
}

const one = { two: false, online: [true, true], multi: [false, false] } as WorldSpec[number];
const call = (u: number, callees: number[]): Step => ({ k: 'start', u, d: 0, callees, video: false, timeout: 0, eph: false });
const first = { c: 0, m: 0, d: 0 };
/** Shrunk counterexamples of fixed machine bugs, replayed first on every run. */
const REGRESSIONS: [WorldSpec, Step[]][] = [
  // u0 rings only on its latest device, which drops (u0 back to `invited`); u0 is rung in a second
  // call on the other device, then join()s the first call: must be -1203 (busy elsewhere, §5.3).
  [[{ ...one, two: true }, one, one, one, one], [call(3, [0, 2]), { k: 'accept', ...first }, { k: 'invite', ...first, ids: [0], timeout: 0 },
    { k: 'offline', u: 0, d: 1 }, call(2, [2, 0]), { k: 'accept', ...first }, { k: 'join', c: 0, m: 3, d: 0 }]],
  // The caller leaves a 3-way call and is re-invited: calleeIdList must not name the caller (§5.3).
  [[one, one, one, one, one], [call(4, [1, 0]), { k: 'accept', ...first }, { k: 'accept', ...first }, { k: 'hangup', ...first },
    { k: 'invite', ...first, ids: [4], timeout: 0 }]],
];

test('random interleavings across several calls keep every §5 invariant, and every call ends when driven to completion', () => {
  const property = fc.property(worldArb, fc.array(stepArb, { minLength: 1, maxLength: 60, size: 'max' }), (spec, steps) => {
    const w = new World(spec);
    for (const st of steps) run(w, st);
    driveToCompletion(w);
  });
  const numRuns = Number(process.env.MACHINE_PROPERTY_RUNS ?? 300); // MACHINE_PROPERTY_RUNS=30000: a deeper search (≈15 s)
  fc.assert(property, { numRuns, includeErrorInReport: true, examples: REGRESSIONS });
});
