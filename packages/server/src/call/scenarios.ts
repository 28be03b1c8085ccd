/**
 * Representative calls for the machine's table tests and for the generated state document
 * (docs/call-state-machine.md): a small cast of users and devices, builders that reach each
 * situation by actually running `transition`, and a compact text form of the effects.
 * Pure: no clocks, no I/O.
 */
import { CallEndReason, CallMediaType } from '@opencall/protocol/wire';
import type { CallParams } from '@opencall/protocol/wire';
import { MachineError } from './MachineError.js';
import { transition } from './machine.js';
import type { CallPhase, CallState, Command, Effect, LegState, TransitionResult } from './types.js';

/** The clock at which every scenario starts, ms epoch. */
export const T0 = 1_700_000_000_000;
/** Ring timeout used by the scenarios, ms. */
export const RING_MS = 30_000;
/** The admin identity used for `endByServer`. */
export const ADMIN = 'administrator';
/** `maxParticipants` used by the scenarios unless a row says otherwise. */
export const MAX_PARTICIPANTS = 9;

/** Signed-in devices of the cast: bob may get a second device `b2` in multi-device rows. */
export const DEVICES: Readonly<Record<string, readonly string[]>> = {
  alice: ['a1'],
  bob: ['b1'],
  carol: ['c1'],
  dave: ['d1'],
  erin: ['e1'],
};

/** A call state together with the clock it was reached at. */
export interface Situation {
  state: CallState;
  now: number;
}

/** The `start` command. */
export type StartCommand = Extract<Command, { type: 'start' }>;

/** Knobs of {@link startCommand}. */
export interface StartOptions {
  /** Overrides of {@link DEVICES} (an empty list = signed out). */
  devices?: Record<string, string[]>;
  /** Users busy in another call. */
  busy?: string[];
  params?: CallParams;
  mediaType?: CallMediaType.audio | CallMediaType.video;
  maxParticipants?: number;
  callId?: string;
}

/** Devices of `users` as the service would gather them (defaults from {@link DEVICES}). */
export function deviceMap(users: readonly string[], overrides: Record<string, string[]> = {}): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const u of users) out[u] = [...(overrides[u] ?? DEVICES[u] ?? [])];
  return out;
}

/** `caller` (on their first device) calls `callees`. */
export function startCommand(caller: string, callees: string[], o: StartOptions = {}): StartCommand {
  return {
    type: 'start',
    callId: o.callId ?? 'call-1',
    userId: caller,
    deviceId: DEVICES[caller]?.[0] ?? `${caller}-d`,
    callees,
    mediaType: o.mediaType ?? CallMediaType.video,
    params: o.params ?? {},
    ringTimeoutMs: RING_MS,
    maxParticipants: o.maxParticipants ?? MAX_PARTICIPANTS,
    callerProfile: null,
    ctx: { busy: new Set(o.busy ?? []), devices: deviceMap(callees, o.devices) },
  };
}

/** `userId` invites `userIds` from `deviceId` (busy/devices gathered like the service does). */
export function inviteCommand(
  userId: string,
  deviceId: string,
  userIds: string[],
  o: { busy?: string[]; devices?: Record<string, string[]>; maxParticipants?: number } = {},
): Command {
  return {
    type: 'invite',
    userId,
    deviceId,
    userIds,
    maxParticipants: o.maxParticipants ?? MAX_PARTICIPANTS,
    params: {},
    ctx: { busy: new Set(o.busy ?? []), devices: deviceMap(userIds, o.devices) },
  };
}

/** A simple request (`accept`, `reject`, `ignore`, `hangup`) from one device. */
export function request(type: 'accept' | 'reject' | 'ignore' | 'hangup', userId: string, deviceId: string): Command {
  return { type, userId, deviceId };
}

/** Runs `start` at `now`. Throws MachineError on refusal. */
export function begin(cmd: StartCommand, now = T0): Situation {
  return { state: transition(null, cmd, now).state, now };
}

/** Applies `cmd` after `dt` ms; throws if the machine refuses (scenario set-up must be legal). */
export function step(sit: Situation, cmd: Command, dt = 0): Situation {
  const now = sit.now + dt;
  return { state: transition(sit.state, cmd, now).state, now };
}

/** Outcome of one command: the transition, or the refusal's code and message. */
export type Outcome = { ok: true; result: TransitionResult } | { ok: false; code: number; message: string };

/** Runs `cmd` on a situation (`null` state for `start`), capturing MachineError refusals. */
export function attempt(state: CallState | null, cmd: Command, now: number): Outcome {
  try {
    return { ok: true, result: transition(state, cmd, now) };
  } catch (e) {
    if (e instanceof MachineError) return { ok: false, code: e.code, message: e.message };
    throw e;
  }
}

const reasonName = (r: number): string => CallEndReason[r] ?? String(r);
const typeName = (t: number): string => CallMediaType[t] ?? String(t);

/** A send effect as text: `bob/b1 onCallNotConnected reject bob` (event name plus key arguments). */
export function describeSend(e: Extract<Effect, { kind: 'send' }>): string {
  const ev = e.event;
  const head = `${e.to.userId}/${e.to.deviceId} ${ev.name}`;
  switch (ev.name) {
    case 'onCallReceived':
      return `${head} ${ev.callerId} [${ev.calleeIdList.join(',')}] ${typeName(ev.mediaType)}`;
    case 'onCallNotConnected':
      return `${head} ${reasonName(ev.reason)} ${ev.userId}`;
    case 'onCallEnd':
      return `${head} ${reasonName(ev.reason)} ${ev.userId} ${ev.totalTime}ms`;
    case 'onCallBegin':
      return `${head} ${typeName(ev.mediaType)}`;
    case 'onCallMediaTypeChanged':
      return `${head} ${typeName(ev.oldType)}->${typeName(ev.newType)}`;
    case 'onUserInviting':
    case 'onUserReject':
    case 'onUserNoResponse':
    case 'onUserLineBusy':
    case 'onUserJoin':
    case 'onUserLeave':
    case 'onCallCancelled':
      return `${head} ${ev.userId}`;
    default:
      return head;
  }
}

/** The sends of a result, in order, as text (see {@link describeSend}). */
export function sends(r: TransitionResult): string[] {
  return r.effects.flatMap((e) => (e.kind === 'send' ? [describeSend(e)] : []));
}

/** The named situations every table row starts from. */
export const situations = {
  /** alice (a1) calls bob (b1); bob's phone rings. */
  ringing1to1: (): Situation => begin(startCommand('alice', ['bob'])),
  /** alice calls bob on two ringing devices (b1, b2: multi-device). */
  ringingTwoDevices: (): Situation => begin(startCommand('alice', ['bob'], { devices: { bob: ['b1', 'b2'] } })),
  /** alice calls bob, who is signed out: bob's leg is `invited` with no device. */
  ringingSignedOut: (): Situation => begin(startCommand('alice', ['bob'], { devices: { bob: [] } })),
  /** alice calls bob and carol; both ring. */
  ringingMulti: (): Situation => begin(startCommand('alice', ['bob', 'carol'])),
  /** alice calls bob (ringing) and dave (signed out). */
  ringingMultiSignedOut: (): Situation => begin(startCommand('alice', ['bob', 'dave'], { devices: { dave: [] } })),
  /** alice and bob connected 1 s after the call started. */
  active1to1: (): Situation => step(situations.ringing1to1(), request('accept', 'bob', 'b1'), 1000),
  /** alice and bob connected, carol still ringing. */
  active2Ringing1: (): Situation => step(situations.ringingMulti(), request('accept', 'bob', 'b1'), 1000),
  /** alice, bob and carol connected (carol 1 s after bob). */
  active3: (): Situation => step(situations.active2Ringing1(), request('accept', 'carol', 'c1'), 1000),
  /** alice and bob connected, dave invited while signed out. */
  active2Invited1: (): Situation => step(situations.ringingMultiSignedOut(), request('accept', 'bob', 'b1'), 1000),
  /** alice and bob connected; carol connected and then hung up (her leg is `left`). */
  active2Left1: (): Situation => step(situations.active3(), request('hangup', 'carol', 'c1'), 1000),
  /** alice and bob connected; carol rejected before bob accepted (her leg is `rejected`). */
  active2Rejected1: (): Situation =>
    step(step(situations.ringingMulti(), request('reject', 'carol', 'c1'), 500), request('accept', 'bob', 'b1'), 500),
  /** A 1-to-1 call that connected and was hung up by bob after 5 s. */
  ended: (): Situation => step(situations.active1to1(), request('hangup', 'bob', 'b1'), 5000),
} as const;

/** Name of a situation in {@link situations}. */
export type SituationName = keyof typeof situations;

/** What a table row expects from one command; only the fields a row names are compared. */
export interface Expectation {
  /** The exact ordered sends, as {@link describeSend} text. */
  sends?: string[];
  /** The refusal code (MachineError), when the command must be refused. */
  code?: number;
  /** The call phase afterwards. */
  phase?: CallPhase;
  /** Leg states afterwards, by user. */
  legs?: Record<string, LegState | undefined>;
  /** True when the command must be a no-op (same state object, same version). */
  unchanged?: boolean;
  /** The command's reply (e.g. the ids `invite` invited). */
  reply?: unknown;
}

/** One row of a machine table: a situation, a command, and what must happen. */
export interface Row extends Expectation {
  /** Says the call and the result. */
  name: string;
  /** A named situation, a builder, or `'none'` (no call yet: for `start`). */
  given: SituationName | 'none' | (() => Situation);
  when: Command;
  /** Ms after the situation's clock at which the command runs (default 0). */
  dt?: number;
  /** Extra checks on the transition (records, webhooks, event arguments). */
  check?: (r: TransitionResult, before: Situation | null) => void;
}

/** Runs a row; returns the observed values of the fields the row names, next to the expected ones. */
export function observeRow(row: Row): {
  actual: Expectation & { refused?: string };
  expected: Expectation;
  result: TransitionResult | null;
  before: Situation | null;
} {
  const before = row.given === 'none' ? null : typeof row.given === 'function' ? row.given() : situations[row.given]();
  const out = attempt(before?.state ?? null, row.when, (before?.now ?? T0) + (row.dt ?? 0));
  const observed: Expectation = out.ok
    ? {
        sends: sends(out.result),
        phase: out.result.state.phase,
        legs: Object.fromEntries(Object.keys(row.legs ?? {}).map((u) => [u, out.result.state.members[u]?.state])),
        unchanged: out.result.state === before?.state,
        reply: out.result.reply,
      }
    : { code: out.code };
  const expected: Record<string, unknown> = {};
  const actual: Record<string, unknown> = {};
  for (const k of ['sends', 'code', 'phase', 'legs', 'unchanged', 'reply'] as const) {
    if (row[k] === undefined) continue;
    expected[k] = row[k];
    actual[k] = observed[k];
  }
  // An unexpected refusal (or an unexpected success) shows up as an extra field in the diff.
  if (!out.ok && row.code === undefined) actual['refused'] = `${out.code} ${out.message}`;
  return { actual, expected, result: out.ok ? out.result : null, before };
}

/** Records written by a transition, by user: `outgoing 5000ms` (result and totalTime). */
export function recordsOf(r: TransitionResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of r.effects) if (e.kind === 'record') out[e.userId] = `${e.record.result} ${e.record.totalTime}ms`;
  return out;
}

/** Webhooks queued by a transition: `3 MemberChanged bob:Accept` (seq, command, changed users). */
export function webhooksOf(r: TransitionResult): string[] {
  return r.effects.flatMap((e) => {
    if (e.kind !== 'webhook') return [];
    const changed = (e.body['ChangedUserList'] as { User_Account: string; ActionType: string }[] | undefined) ?? [];
    const short = e.command.replace('Call.CallbackAfter', '');
    return [[e.seq, short, ...changed.map((c) => `${c.User_Account}:${c.ActionType}`)].join(' ')];
  });
}
