/**
 * The call state machine: a pure function `transition(state, command, now) → { state, effects }`.
 * It never reads clocks, randomness or storage; everything it needs comes in the command (the
 * service gathers busy/presence facts into `ctx`). Refusals throw MachineError and change nothing.
 * The (state, command) table is documented in docs/call-state-machine.md (generated from TABLE).
 */
import { CallEndReason } from '@opencall/protocol/wire';
import { roomIdOf, tencentMediaType } from './tencent.js';
import { MachineError } from './MachineError.js';
import { Tx, devicesOf } from './effects.js';
import {
  activeMembers,
  cancelCall,
  connect,
  connectedMembers,
  connectedTotal,
  endByServer,
  inviteeOutcome,
  leave,
  newLeg,
  pendingInvitees,
  ringDevice,
} from './legs.js';
import { pushInvite } from './pushEffects.js';
import { ACTIVE_LEG_STATES } from './types.js';
import type { CallState, Command, Member, TransitionResult } from './types.js';

type Handler<C extends Command> = (tx: Tx, c: C) => unknown;
type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>;

function member(s: CallState, userId: string): Member {
  const m = s.members[userId];
  if (!m) throw MachineError.notInCall();
  return m;
}

function requireLive(s: CallState): void {
  if (s.phase === 'ended') throw MachineError.state('the call has ended');
}

/** The device must be one this member is being rung on (and has not ignored). */
function requireRingingOn(m: Member, deviceId: string): void {
  if (m.state !== 'ringing' && m.state !== 'invited') throw MachineError.state('nothing is ringing');
  if (!devicesOf(m).includes(deviceId)) throw MachineError.state('this device is not ringing for the call');
}

function reject(tx: Tx, m: Member, deviceId: string): void {
  tx.notConnected(m, deviceId, CallEndReason.reject, m.userId);
  for (const d of devicesOf(m)) if (d !== deviceId) tx.notConnected(m, d, CallEndReason.otherDeviceReject, m.userId);
  inviteeOutcome(tx, m, 'rejected');
}

function accept(tx: Tx, m: Member, deviceId: string, action: 'Accept' | 'Join'): void {
  for (const d of devicesOf(m)) if (d !== deviceId) tx.notConnected(m, d, CallEndReason.otherDeviceAccepted, m.userId);
  connect(tx, m, deviceId, action);
}

/** Invites `ids` (already filtered) into the call; returns them. */
function inviteUsers(tx: Tx, ids: string[], ctx: CommandOf<'start'>['ctx'], ringMs: number, announce: boolean): void {
  const s = tx.s;
  for (const u of ids) {
    // The invite list holds invitees only (SPEC §5.3: calleeIdList is "not the caller"), even when
    // a participant re-invites the original caller after they left.
    if (u !== s.callerId && !s.inviteList.includes(u)) s.inviteList.push(u);
    s.members[u] = newLeg(s.members[u], u, 'invited', tx.now + ringMs);
  }
  const busy = ids.filter((u) => ctx.busy.has(u));
  const free = ids.filter((u) => !ctx.busy.has(u));
  for (const u of free) for (const d of ctx.devices[u] ?? []) ringDevice(tx, s.members[u]!, d);
  // SPEC §9: an invitee no device would ring is reached by push.
  for (const u of free) if ((ctx.devices[u] ?? []).length === 0) pushInvite(tx, s.members[u]!);
  if (announce) {
    for (const u of ids) {
      for (const p of activeMembers(s)) if (p.userId !== u) tx.toMember(p, { name: 'onUserInviting', userId: u });
    }
  }
  const offline = free.some((u) => (ctx.devices[u] ?? []).length === 0);
  if (free.length > 0) tx.memberChanged(free.map((u) => ({ userId: u, action: 'Invite' })), offline);
  for (const u of busy) inviteeOutcome(tx, s.members[u]!, 'busy');
}

const handlers: { [T in Command['type']]: Handler<CommandOf<T>> } = {
  start: () => {
    throw MachineError.state('the call already exists');
  },

  accept: (tx, c) => {
    const m = member(tx.s, c.userId);
    requireLive(tx.s);
    requireRingingOn(m, c.deviceId);
    accept(tx, m, c.deviceId, 'Accept');
  },

  reject: (tx, c) => {
    const m = member(tx.s, c.userId);
    requireLive(tx.s);
    requireRingingOn(m, c.deviceId);
    reject(tx, m, c.deviceId);
  },

  ignore: (tx, c) => {
    const m = member(tx.s, c.userId);
    requireLive(tx.s);
    requireRingingOn(m, c.deviceId);
    tx.notConnected(m, c.deviceId, CallEndReason.lineBusy, m.userId);
    m.ignoredDevices.push(c.deviceId);
    // The caller sees busy only when every ringing device of the user ignored.
    if (devicesOf(m).length === 0) inviteeOutcome(tx, m, 'busy');
  },

  hangup: (tx, c) => {
    const s = tx.s;
    const m = member(s, c.userId);
    // A second hangup, or one after the call ended, is a harmless no-op.
    if (s.phase === 'ended' || !ACTIVE_LEG_STATES.has(m.state)) return;
    if (m.state === 'ringing' || m.state === 'invited') {
      requireRingingOn(m, c.deviceId);
      reject(tx, m, c.deviceId);
      return;
    }
    if (m.deviceId !== c.deviceId) throw MachineError.state('the call is on another device');
    if (m.state === 'calling') cancelCall(tx, CallEndReason.canceled);
    else leave(tx, m, CallEndReason.hangup);
  },

  invite: (tx, c) => {
    const s = tx.s;
    const m = member(s, c.userId);
    requireLive(s);
    if (m.state !== 'joined' || m.deviceId !== c.deviceId) throw MachineError.state('only a connected participant can invite');
    const ids = [...new Set(c.userIds)].filter((u) => !(s.members[u] && ACTIVE_LEG_STATES.has(s.members[u].state)));
    if (activeMembers(s).length + ids.length > c.maxParticipants) {
      throw MachineError.param(`a call holds at most ${c.maxParticipants} participants`);
    }
    if (ids.length === 0) return [];
    if (s.scene === 'single') s.scene = 'multi';
    const ringMs = c.params.timeout ? c.params.timeout * 1000 : s.ringTimeoutMs;
    if (c.params.offlinePushInfo) s.offlinePushInfo = c.params.offlinePushInfo;
    inviteUsers(tx, ids, c.ctx, ringMs, true);
    return ids;
  },

  join: (tx, c) => {
    const s = tx.s;
    const m = s.members[c.userId];
    // Strangers get the same answer for a live, an ended and an unknown call (no id oracle).
    if (!m) throw MachineError.notInCall();
    requireLive(s);
    if (m.state === 'ringing' || m.state === 'invited') {
      // SPEC §5.1/§5.3: nobody joins while busy elsewhere. An `invited` leg is not ringing (no
      // device was reached), so its user may meanwhile be calling, ringing or connected in another call.
      if (c.busyElsewhere) throw MachineError.state('you are busy in another call');
      return accept(tx, m, c.deviceId, 'Join');
    }
    if (m.state === 'calling') throw MachineError.state('you are already calling');
    if (m.state === 'joined') {
      if (m.deviceId === c.deviceId) throw MachineError.state('you are already in this call');
      // Move the call to this device: the old one ends with otherDeviceAccepted, peers see nothing.
      tx.toMember(m, {
        name: 'onCallEnd',
        mediaType: s.mediaType,
        reason: CallEndReason.otherDeviceAccepted,
        userId: m.userId,
        totalTime: connectedTotal(m, tx.now),
        info: tx.info(m.userId),
      });
      m.deviceId = c.deviceId;
      tx.toMember(m, { name: 'onCallBegin', mediaType: s.mediaType, info: tx.info(m.userId) });
      for (const o of connectedMembers(s)) if (o !== m) tx.toMember(m, { name: 'onUserJoin', userId: o.userId });
      return undefined;
    }
    if (c.busyElsewhere) throw MachineError.state('you are busy in another call');
    if (activeMembers(s).length + 1 > c.maxParticipants) throw MachineError.state('the call is full');
    const leg = newLeg(m, m.userId, 'invited', null);
    s.members[m.userId] = leg;
    connect(tx, leg, c.deviceId, 'Join');
    return undefined;
  },

  switchMediaType: (tx, c) => {
    const s = tx.s;
    const m = member(s, c.userId);
    requireLive(s);
    if (m.state !== 'joined' || m.deviceId !== c.deviceId) throw MachineError.state('not connected in this call');
    if (s.scene !== 'single') throw MachineError.scene('media type can only be switched in a 1-to-1 call');
    if (c.mediaType === s.mediaType) throw MachineError.param('the call already has this media type');
    const oldType = s.mediaType;
    s.mediaType = c.mediaType;
    for (const o of connectedMembers(s)) tx.toMember(o, { name: 'onCallMediaTypeChanged', oldType, newType: c.mediaType });
  },

  deviceOnline: (tx, c) => {
    const s = tx.s;
    const m = s.members[c.userId];
    if (s.phase === 'ended' || !m || (m.state !== 'invited' && m.state !== 'ringing')) return;
    if (m.ringingDevices.includes(c.deviceId)) return;
    if (m.state === 'invited' && c.busyElsewhere) return inviteeOutcome(tx, m, 'busy');
    ringDevice(tx, m, c.deviceId);
    return undefined;
  },

  deviceOffline: (tx, c) => {
    const s = tx.s;
    const m = s.members[c.userId];
    if (s.phase === 'ended' || !m) return;
    if ((m.state === 'calling' || m.state === 'joined') && m.deviceId === c.deviceId) {
      if (m.state === 'calling') cancelCall(tx, CallEndReason.offline);
      else leave(tx, m, CallEndReason.offline);
      return;
    }
    if ((m.state === 'ringing' || m.state === 'invited') && m.ringingDevices.includes(c.deviceId)) {
      if (!m.ignoredDevices.includes(c.deviceId)) tx.notConnected(m, c.deviceId, CallEndReason.offline, m.userId);
      m.ringingDevices = m.ringingDevices.filter((d) => d !== c.deviceId);
      m.ignoredDevices = m.ignoredDevices.filter((d) => d !== c.deviceId);
      // With no device left the invitation waits for a sign-in until its deadline.
      if (m.ringingDevices.length === 0) m.state = 'invited';
      else if (devicesOf(m).length === 0) inviteeOutcome(tx, m, 'busy');
    }
  },

  tick: (tx) => {
    const s = tx.s;
    for (const m of pendingInvitees(s)) {
      if (s.phase === 'ended') break;
      if (m.ringDeadline === null || m.ringDeadline > tx.now) continue;
      for (const d of devicesOf(m)) tx.notConnected(m, d, CallEndReason.noResponse, m.userId);
      inviteeOutcome(tx, m, 'noResponse');
    }
  },

  pushReject: (tx, c) => {
    requireLive(tx.s);
    const m = member(tx.s, c.userId);
    if (m.state !== 'ringing' && m.state !== 'invited') throw MachineError.state('nothing is ringing');
    // Declined from the notification: every device still ringing hears it was rejected elsewhere.
    for (const d of devicesOf(m)) tx.notConnected(m, d, CallEndReason.otherDeviceReject, m.userId);
    inviteeOutcome(tx, m, 'rejected');
  },

  endByServer: (tx, c) => {
    requireLive(tx.s);
    endByServer(tx, c.adminId);
  },

  mediaConnected: (tx) => {
    // Records and the end webhook are already written once a call ended: timings stay as they were.
    if (tx.s.phase !== 'active') return;
    tx.s.mediaConnectedAt ??= tx.now;
  },
};

/** Creates a call from a `start` command (no prior state). */
function start(c: CommandOf<'start'>, now: number): TransitionResult {
  const { maxParticipants } = c;
  const callees = [...new Set(c.callees)];
  if (callees.length === 0) throw MachineError.param('no user to call');
  if (callees.includes(c.userId)) throw MachineError.param('you cannot call yourself');
  if (callees.length + 1 > maxParticipants) throw MachineError.param(`a call holds at most ${maxParticipants} participants`);
  const p = c.params;
  const s: CallState = {
    callId: c.callId,
    version: 1,
    phase: 'ringing',
    scene: p.chatGroupId ? 'group' : callees.length > 1 ? 'multi' : 'single',
    mediaType: c.mediaType,
    callerId: c.userId,
    inviteList: [],
    roomId: { ...(p.roomId ?? {}) },
    userData: p.userData ?? '',
    chatGroupId: p.chatGroupId ?? '',
    isEphemeralCall: p.isEphemeralCall ?? false,
    offlinePushInfo: p.offlinePushInfo ?? null,
    callerProfile: c.callerProfile,
    ringTimeoutMs: c.ringTimeoutMs,
    members: {},
    createdAt: now,
    acceptedAt: null,
    mediaConnectedAt: null,
    endedAt: null,
    endReason: null,
    endedBy: null,
    ringingAt: {},
    webhookSeq: 0,
  };
  const caller = newLeg(undefined, c.userId, 'calling', null);
  caller.deviceId = c.deviceId;
  s.members[c.userId] = caller;
  const tx = new Tx(s, now);
  tx.webhook('Call.CallbackAfterStartCall', {
    CallInfo: {
      CallId: s.callId,
      CallMediaType: tencentMediaType(s),
      ChatGroupId: s.chatGroupId,
      ...roomIdOf(s),
    },
    UserList: [
      { User_Account: c.userId, Status: 'Calling' },
      ...callees.map((u) => ({ User_Account: u, Status: 'Waiting' })),
    ],
  });
  inviteUsers(tx, callees, c.ctx, c.ringTimeoutMs, false);
  return { state: s, effects: tx.effects, reply: { callId: s.callId } };
}

/**
 * Applies `command` to `state` at time `now`. `state` is null only for `start`.
 * Returns the next state (version + 1 when anything changed) and the effects, or throws MachineError.
 */
export function transition(
  state: CallState | null,
  command: Command,
  now: number,
): TransitionResult {
  if (command.type === 'start') {
    if (state) throw MachineError.state('the call already exists');
    return start(command, now);
  }
  if (!state) throw MachineError.notInCall();
  const s = cloneJson(state);
  const tx = new Tx(s, now);
  const reply = (handlers[command.type] as Handler<Command>)(tx, command);
  const changed = !sameJson(s, state);
  if (changed) s.version = state.version + 1;
  return { state: changed ? s : state, effects: tx.effects, reply };
}

/**
 * Deep copy of JSON data (a CallState round-trips through storage as JSON): several times
 * cheaper than `structuredClone`, which was a visible per-command cost under load. Throws a
 * RangeError on a document nested deeper than a call state can be.
 */
export function cloneJson<T>(v: T, depth = 0): T {
  if (v === null || typeof v !== 'object') return v;
  if (depth > MAX_STATE_DEPTH) throw new RangeError(`call state nested deeper than ${MAX_STATE_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x: unknown) => cloneJson(x, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = cloneJson((v as Record<string, unknown>)[k], depth + 1);
  return out as T;
}

/**
 * A CallState is a few levels deep (call → members → member → devices); every client-supplied part
 * has a fixed shape (protocol schemas). A deeper document is corrupt: refuse it with an error
 * (the service then salvages the call, call/salvage.ts) instead of recursing into it.
 */
const MAX_STATE_DEPTH = 16;

/**
 * True when `a` and `b` would serialize to the same JSON text (same keys in the same order,
 * `undefined` members skipped), without building the two strings: comparing
 * `JSON.stringify` outputs of whole states was the machine's largest cost under load (the
 * first difference usually sits near the top, so this returns early). States hold only JSON
 * data with finite numbers.
 */
function sameJson(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (depth > MAX_STATE_DEPTH) throw new RangeError(`call state nested deeper than ${MAX_STATE_DEPTH} levels`);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    // JSON writes an undefined array slot as null.
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null, depth + 1)) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const kx = Object.keys(x).filter((k) => x[k] !== undefined);
  const ky = Object.keys(y).filter((k) => y[k] !== undefined);
  if (kx.length !== ky.length) return false;
  for (let i = 0; i < kx.length; i++) {
    const k = kx[i]!;
    if (k !== ky[i] || !sameJson(x[k], y[k], depth + 1)) return false;
  }
  return true;
}

/** The earliest deadline of a call (ring timeouts), or null. */
export function nextDeadline(s: CallState): number | null {
  if (s.phase === 'ended') return null;
  let next: number | null = null;
  for (const m of pendingInvitees(s)) {
    if (m.ringDeadline !== null && (next === null || m.ringDeadline < next)) next = m.ringDeadline;
  }
  return next;
}

/** Active memberships of a call, for the storage index. */
export function membershipsOf(s: CallState): { userId: string; callId: string; state: Member['state'] }[] {
  return activeMembers(s).map((m) => ({ userId: m.userId, callId: s.callId, state: m.state }));
}
