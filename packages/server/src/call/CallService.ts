/**
 * Loads a call, runs the pure machine, and saves the new state together with its derived
 * memberships, next timer, records and webhook-outbox rows in one versioned transaction. Only
 * after the commit are events sent (through `deliver`) and timers armed. All commands of this
 * process run one at a time, so the busy facts gathered for a command stay true until it commits.
 * Across processes (cluster mode, or two servers on one file) the database has the last word: the
 * version check refuses a stale write and a unique index refuses a user's second busy leg; either
 * way the whole command runs again on fresh facts (`exclusive` retries it).
 *
 * Group commit: on a storage that stages (SQLite), a command run with `{ defer: true }` releases
 * the process's turn as soon as its change is staged; its events are sent once the batch holding
 * it is durable, in staging order, before the command's caller hears back. The next command
 * meanwhile reads the staged state, so the one-at-a-time reasoning above still holds.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { ErrorCode } from '@opencall/protocol/wire';
import type { CallMediaType, CallParams, UserProfile } from '@opencall/protocol/wire';
import type { Logger } from 'pino';
import { MachineError } from './MachineError.js';
import { membershipsOf, nextDeadline, transition } from './machine.js';
import { landed, outcomeUnknown } from './landed.js';
import { salvageState } from './salvage.js';
import type { CallState, Command, Effect, Target, UserContext } from './types.js';
import type { CallRecord, ServerEvent } from '@opencall/protocol/wire';
import type { CallChange, Membership, Storage } from '../storage/Storage.js';
import { BUSY_LEG_STATES, VersionConflictError, isConflict } from '../storage/Storage.js';
import { KeyedMutex, Mutex } from '../util/Mutex.js';
import { TimerRunner } from './TimerRunner.js';
import type { TimerClaims } from './TimerRunner.js';
import { pushRowsOf } from '../push/queue.js';
import { eventId, replayRows } from './requests.js';
import type { RequestContext } from './requests.js';

/** True when `ms` (one user's memberships) holds a busy leg in a call other than `callId`. */
export function hasBusyLeg(ms: readonly Membership[], callId: string | null): boolean {
  return ms.some((m) => m.callId !== callId && BUSY_LEG_STATES.has(m.state));
}

/** Facts about signed-in devices the service asks the signaling layer for. */
export interface PresenceView {
  /** Devices that should ring for `userId` now (empty when signed out), on any node. */
  ringDevices(userId: string): string[] | Promise<string[]>;
}

/** Attempts of one command when the database refuses it for a conflict with another writer. */
const CONFLICT_ATTEMPTS = 6;

/** Hooks the service reports to (metrics, webhooks). */
export interface CallServiceHooks {
  /** After each commit, with the effects (push rows are queued: kick the push dispatcher). */
  onCommitted?(state: CallState, effects: readonly Effect[]): void;
}

/** Construction parameters of the service. */
export interface CallServiceOptions {
  storage: Storage;
  presence: PresenceView;
  /**
   * Sends one event to one device (after the commit); a promise when it crosses nodes. `eid` is
   * the event's stable id (call/requests.ts).
   */
  deliver(to: Target, event: ServerEvent, eid?: string): void | Promise<void>;
  ringTimeoutMs: number;
  maxParticipants: number;
  /** Invitations a user may have waiting (state `invited`); past it they are reported busy. */
  maxPendingInvites?: number;
  log: Logger;
  hooks?: CallServiceHooks;
  /** Clock, ms epoch (tests may pass a fake). */
  now?: () => number;
  /** Write webhook-outbox rows (false when no webhook URL is configured). */
  webhooks?: boolean;
  /** Cluster mode: claim overdue timers of every node from the database as `holder`. */
  timerClaims?: { store: TimerClaims; holder: string } | null;
  /**
   * Cluster mode: commands given a `key` (a call, a user) run one at a time per key instead of
   * one at a time per process. Other nodes run commands concurrently with this one anyway, so
   * correctness already rests on the database (version check, one-busy-leg index, whole-command
   * retries); the per-key queues only keep a call's own commands from racing. Ignored on a
   * storage that stages (group commit needs the one process-wide turn).
   */
  keyedCommands?: boolean;
}

/** The call application service. */
export class CallService {
  readonly #o: CallServiceOptions;
  readonly #mutex = new Mutex();
  readonly #keyedMutex = new KeyedMutex();
  readonly #timers: TimerRunner;
  /** Deferred after-commit work of the `exclusive` run now holding the mutex (defer mode), or null. */
  #deferred: Promise<void>[] | null = null;

  constructor(options: CallServiceOptions) {
    this.#o = options;
    this.#timers = new TimerRunner({
      tick: async (callId) => {
        await this.run(callId, { type: 'tick' });
      },
      now: () => this.#now(),
      log: options.log,
      claims: options.timerClaims ?? null,
    });
    this.#timers.start();
  }

  #now(): number {
    return this.#o.now ? this.#o.now() : Date.now();
  }

  /**
   * Runs `fn` exclusively with the other commands of this process. When the database refuses its
   * write because another node won (a version conflict, or a user's second busy leg), the whole of
   * `fn` runs again, so its busy and glare look-ups see the winner.
   */
  exclusive<T>(fn: () => Promise<T>, opts?: { defer?: boolean; key?: string }): Promise<T> {
    const deferred: Promise<void>[] = [];
    // Keyed runs overlap, so they never stage (`#deferred` belongs to the one process-wide turn).
    const keyed = opts?.key !== undefined && this.#o.keyedCommands === true && !this.#o.storage.stage;
    const body = async (): Promise<T> => {
      if (!keyed) this.#deferred = opts?.defer ? deferred : null;
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            return await fn();
          } catch (err) {
            if (!isConflict(err) || attempt >= CONFLICT_ATTEMPTS) throw err;
            await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
          }
        }
      } finally {
        if (!keyed) this.#deferred = null;
      }
    };
    const run = keyed ? this.#keyedMutex.run(opts.key!, body) : this.#mutex.run(body);
    if (!opts?.defer) return run;
    // Outside the mutex: wait until what `fn` staged is durable and its events are sent, so the
    // caller's answer still follows them (and reports a failed batch as the command's failure).
    return run.then(
      async (result) => {
        await Promise.all(deferred);
        return result;
      },
      async (err: unknown) => {
        await Promise.allSettled(deferred);
        throw err;
      },
    );
  }

  /** Busy facts and devices to ring for `userIds` (excluding `callId`). */
  async userContext(userIds: readonly string[], callId: string | null): Promise<UserContext> {
    const busy = new Set<string>();
    const devices: Record<string, string[]> = {};
    const maxPending = this.#o.maxPendingInvites ?? Infinity;
    for (const u of userIds) {
      const ms = await this.#o.storage.membershipsOf(u);
      // A signed-out user piles up invitations (they ring at sign-in): past the cap, more are busy.
      const pending = ms.filter((m) => m.callId !== callId && m.state === 'invited').length;
      if (hasBusyLeg(ms, callId) || pending >= maxPending) busy.add(u);
      devices[u] = await this.#o.presence.ringDevices(u);
    }
    return { busy, devices };
  }

  /** True when `userId` has a busy leg in a call other than `callId`. */
  async isBusy(userId: string, callId: string | null): Promise<boolean> {
    return hasBusyLeg(await this.#o.storage.membershipsOf(userId), callId);
  }

  /**
   * Applies a command to a call (must already hold the mutex: use inside `exclusive`, or call
   * `run`). Retries on a version conflict with a fresh read. `request`: the client request it runs
   * for, whose outcome is stored with the change (call/requests.ts).
   */
  async apply(callId: string, command: Command, request?: RequestContext): Promise<{ state: CallState; reply: unknown }> {
    for (let attempt = 0; ; attempt++) {
      const before = command.type === 'start' ? null : await this.#o.storage.getCall(callId);
      if (!before && command.type !== 'start') throw MachineError.notInCall();
      const now = this.#now();
      const { base, result } = this.#transition(callId, before, command, now);
      const { state, effects, reply } = result;
      if (state === base) {
        // A timer may fire a little before the clock reads its deadline (Node arms timers on the
        // event loop's cached time), and then `tick` changes nothing: arm it again, or the call
        // would ring forever. Any other no-op leaves the armed timer as it is.
        if (command.type === 'tick' && before) this.#timers.arm(callId, nextDeadline(before));
        return { state, reply };
      }
      const change = this.#change(before?.version ?? 0, state, effects, reply, request);
      // Synchronous up to the commit call, so nothing can end the session in between on this
      // process (see RequestContext.current).
      if (request?.current && !request.current()) {
        throw new MachineError(ErrorCode.SERVER_UNAVAILABLE, 'the session of this request ended before it could commit; retry');
      }
      const storage = this.#o.storage;
      try {
        if (storage.stage) {
          const durable = storage.stage(change).durable;
          const sent = durable.then(() => this.#afterCommit(state, effects));
          if (this.#deferred) this.#deferred.push(sent);
          else await sent;
          return { state, reply };
        }
        await storage.commit(change);
      } catch (e) {
        // A lost version race on a command that carries no busy facts can simply re-read; the
        // others (start, invite, join, deviceOnline) are re-run whole by `exclusive`.
        if (e instanceof VersionConflictError && !carriesBusyFacts(command) && attempt < 3) continue;
        // Only the answer may have been lost (call/landed.ts): a stored change still sends its events.
        // (A staging store reports a failed batch through `durable`, which never lost an answer.)
        if (storage.stage || !outcomeUnknown(e) || !(await landed(storage, state))) throw e;
        this.#o.log.warn({ err: e, callId, command: command.type }, 'commit answer lost, but the change is stored: sending its events');
      }
      await this.#afterCommit(state, effects);
      return { state, reply };
    }
  }

  /**
   * Runs the machine. A stored state that makes it throw anything but a MachineError is poisoned
   * (e.g. saved before a schema bound existed): the command is retried once on its salvaged copy
   * (call/salvage.ts), which the commit then replaces it with, so no call can wedge its users.
   */
  #transition(callId: string, before: CallState | null, command: Command, now: number): { base: CallState | null; result: ReturnType<typeof transition> } {
    try {
      return { base: before, result: transition(before, command, now) };
    } catch (err) {
      if (err instanceof MachineError || !before) throw err;
      this.#o.log.error({ err, callId, command: command.type }, 'call state is unusable: salvaging it');
      const base = salvageState(before);
      return { base, result: transition(base, command, now) };
    }
  }

  /** `apply` under the mutex. */
  run(callId: string, command: Command, request?: RequestContext): Promise<{ state: CallState; reply: unknown }> {
    return this.exclusive(() => this.apply(callId, command, request), { defer: true, key: `call:${callId}` });
  }

  /**
   * The storage write of a transition: state, derived rows, records, outbox and push rows, and
   * for replay after a crash its request's outcome and its device events (call/requests.ts).
   */
  #change(expectedVersion: number, state: CallState, effects: readonly Effect[], reply: unknown, request?: RequestContext): CallChange {
    const records: { userId: string; record: CallRecord }[] = [];
    const webhooks = [];
    for (const e of effects) {
      if (e.kind === 'record') records.push({ userId: e.userId, record: e.record });
      else if (e.kind === 'webhook' && this.#o.webhooks !== false) {
        webhooks.push({
          eventId: `${state.callId}.${e.seq}`,
          callId: state.callId,
          seq: e.seq,
          command: e.command,
          body: JSON.stringify(e.body),
          createdAt: this.#now(),
        });
      }
    }
    return {
      state,
      expectedVersion,
      memberships: membershipsOf(state),
      timerDueAt: nextDeadline(state),
      records,
      webhooks,
      ...pushRowsOf(state.callId, effects, this.#now()),
      ...replayRows(state, effects, reply, request, this.#now()),
    };
  }

  async #afterCommit(state: CallState, effects: readonly Effect[]): Promise<void> {
    // Started in order (one Redis connection keeps that order in cluster mode), awaited together:
    // the device that made the request gets its events before its response.
    const pending: Promise<void>[] = [];
    let n = 0;
    for (const e of effects) {
      if (e.kind !== 'send') continue;
      try {
        const p = this.#o.deliver(e.to, e.event, eventId(state, n++));
        if (p) pending.push(p.catch((err: unknown) => this.#o.log.error({ err, callId: state.callId }, 'event delivery failed')));
      } catch (err) {
        this.#o.log.error({ err, callId: state.callId }, 'event delivery failed');
      }
    }
    this.#timers.arm(state.callId, nextDeadline(state));
    this.#o.hooks?.onCommitted?.(state, effects);
    if (pending.length > 0) await Promise.all(pending);
  }

  /** Re-arms every stored timer (start-up recovery); overdue ones fire at once. */
  async restoreTimers(): Promise<number> {
    const timers = await this.#o.storage.timers();
    for (const t of timers) this.#timers.arm(t.callId, t.dueAt);
    return timers.length;
  }

  /** Starts a call. Returns its id. */
  async startCall(a: {
    userId: string;
    deviceId: string;
    callees: string[];
    mediaType: CallMediaType.audio | CallMediaType.video;
    params: CallParams;
    callerProfile: UserProfile | null;
    /**
     * Called when every callee is busy, before anything is written: glare across nodes (the
     * callee's call to this user committed on another node after this user's glare look-up) may
     * merge now. Returns the merged call id, or null to go on (a line-busy call).
     */
    onCalleesBusy?: () => Promise<string | null>;
    /** The client request it runs for (its outcome is stored with the new call). */
    request?: RequestContext;
  }): Promise<string> {
    const callId = `c_${randomBytes(16).toString('base64url')}`;
    const params = { ...a.params };
    // TUICallKit assigns a room when the app gives none; media rooms are keyed by it.
    if (!params.roomId || (params.roomId.intRoomId === undefined && !params.roomId.strRoomId)) {
      params.roomId = { intRoomId: randomInt(1, 2 ** 31 - 1) };
    }
    const ringTimeoutMs = params.timeout ? params.timeout * 1000 : this.#o.ringTimeoutMs;
    const ctx = await this.userContext(a.callees, null);
    if (a.onCalleesBusy && ctx.busy.size === a.callees.length) {
      const merged = await a.onCalleesBusy();
      if (merged) return merged;
    }
    await this.apply(callId, {
      type: 'start',
      callId,
      userId: a.userId,
      deviceId: a.deviceId,
      callees: a.callees,
      mediaType: a.mediaType,
      params,
      ringTimeoutMs,
      maxParticipants: this.#o.maxParticipants,
      callerProfile: a.callerProfile,
      ctx,
    }, a.request);
    return callId;
  }

  /** Stops timers; the storage is closed by the owner. */
  close(): void {
    this.#timers.close();
  }
}

/** Commands whose outcome depends on busy facts gathered before the transition. */
function carriesBusyFacts(c: Command): boolean {
  return c.type === 'start' || c.type === 'invite' || c.type === 'join' || c.type === 'deviceOnline';
}
