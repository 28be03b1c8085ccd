/**
 * Sign-in, resume, re-authentication, kick and departure of devices (SPEC §5.4). Every change
 * that touches calls goes through the CallService so the machine decides what peers see.
 */
import { ErrorCode, verifyUserSig, wireError } from '@opencall/protocol';
import type { AuthResult, ClientMessageData, IceServer, WireError } from '@opencall/protocol';
import type { Logger } from 'pino';
import type { CallService } from '../call/CallService.js';
import type { ClusterLink } from '../cluster/ClusterLink.js';
import type { DeviceEntry } from '../cluster/types.js';
import { MachineError } from '../call/MachineError.js';
import { isConflict } from '../storage/Storage.js';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import type { Presence } from './Presence.js';
import type { Session } from './Session.js';
import { MAX_TIMEOUT_MS } from '../util/timers.js';
import { replayStoredEvents } from './restoreReplay.js';

/** Seq numbers a restored session reserves per ms of wall time (see `restore`). */
const GHOST_SEQ_PER_MS = 1000;

/** What the gateway knows about a socket. */
export interface Connection {
  session: Session | null;
  /** Sends a frame on this connection's socket. */
  send(frame: string): void;
  /** Closes this connection's socket. */
  close(code: number, reason: string): void;
  /** The raw socket, attached to the session. */
  readonly ws: import('ws').WebSocket;
}

/** Dependencies of the session manager. */
export interface SessionManagerDeps {
  config: ServerConfig;
  presence: Presence;
  service: CallService;
  storage: Storage;
  log: Logger;
  iceServers(userId: string): IceServer[];
  now(): number;
  /** Cluster mode: the link to the other nodes (null on a single node). */
  link?: ClusterLink | null;
}

/** WebSocket close code telling a device another sign-in replaced it (policy `kick`). */
export const KICKED_CLOSE_CODE = 4000;

/**
 * Result of an auth attempt: the response data plus work to do after the response is sent; or a
 * refusal; or `kicked`: no response, the socket is closed with {@link KICKED_CLOSE_CODE}.
 */
export type AuthOutcome =
  | { ok: true; data: AuthResult; after: () => Promise<void> }
  | { ok: false; error: WireError; kicked?: false }
  | { ok: false; kicked: true };

/** Manages device sessions. */
export class SessionManager {
  /** First seq of each restored session that no device has resumed yet. */
  readonly #ghostBase = new WeakMap<Session, number>();
  /** The expiry each session was last told about with onUserSigExpired. */
  readonly #expiryTold = new WeakMap<Session, number>();

  constructor(private readonly d: SessionManagerDeps) {}

  #result(s: Session, resumed: boolean): AuthResult {
    const c = this.d.config;
    return {
      sessionId: s.sessionId,
      resumed,
      heartbeatIntervalMs: Math.max(100, Math.floor(c.heartbeatTimeoutMs / 3)),
      heartbeatTimeoutMs: c.heartbeatTimeoutMs,
      maxMessageBytes: c.limits.maxMessageBytes,
      expireAt: s.expireAt,
      serverTime: this.d.now(),
      iceServers: this.d.iceServers(s.userId),
      maxParticipants: c.maxParticipants,
      devicePolicy: c.devicePolicy,
    };
  }

  #armSigTimer(s: Session): void {
    if (s.sigTimer) clearTimeout(s.sigTimer);
    s.sigTimer = null;
    // Once per sig: a device resuming with the sig it already heard about is not told again
    // (verifyUserSig accepts a sig until the end of its expiry second, so that can happen).
    if (this.#expiryTold.get(s) === s.expireAt) return;
    const delay = s.expireAt - this.d.now();
    const t = setTimeout(() => {
      s.sigTimer = null;
      if (this.d.now() < s.expireAt) return this.#armSigTimer(s);
      this.#expiryTold.set(s, s.expireAt);
      s.push({ name: 'onUserSigExpired' });
    }, Math.min(Math.max(0, delay), MAX_TIMEOUT_MS));
    t.unref();
    s.sigTimer = t;
  }

  /**
   * True while `s` is its device's session on this node (not replaced by a new sign-in, expired,
   * kicked or moved to another node) and, in cluster mode, this node may still act for its
   * devices (ClusterLink.alive). A request commits only while this holds (RequestContext.current).
   */
  speaksFor(s: Session): boolean {
    return this.d.presence.get(s.userId, s.deviceId) === s && (this.d.link?.alive() ?? true);
  }

  /** Handles `auth` on a connection. */
  async authenticate(conn: Connection, a: ClientMessageData<'auth'>): Promise<AuthOutcome> {
    const c = this.d.config;
    if (a.sdkAppId !== c.sdkAppId) return { ok: false, error: wireError(ErrorCode.USERSIG_SDKAPPID_MISMATCH) };
    const v = verifyUserSig({ sdkAppId: c.sdkAppId, secretKey: c.secretKey, userId: a.userId, userSig: a.userSig, now: this.d.now() });
    if (!v.ok) return { ok: false, error: { code: v.code, message: v.reason } };

    // Re-authentication in place: same user and device on a live socket.
    if (conn.session) {
      const s = conn.session;
      if (s.userId !== a.userId || s.deviceId !== a.deviceId) {
        return { ok: false, error: wireError(ErrorCode.STATE_REFUSED, 'this connection is signed in as another user') };
      }
      s.expireAt = v.expireAt;
      this.#armSigTimer(s);
      return { ok: true, data: this.#result(s, true), after: async () => {} };
    }

    if (this.d.link) return this.d.service.exclusive(() => this.#authenticateInCluster(this.d.link!, conn, a, v.expireAt));
    return this.d.service.exclusive(async () => {
      const existing = this.d.presence.get(a.userId, a.deviceId);
      if (existing && a.resume && (existing.ghost || existing.sessionId === a.resume.sessionId)) {
        // A restored session numbered its events above anything the previous process sent (see
        // restore()), so all it holds is news to the client, whatever seq the client reports.
        const lastSeq = existing.ghost ? (this.#ghostBase.get(existing) ?? 0) : a.resume.lastSeq;
        // A replay-only ghost was left out of every fan-out (the device had no live call), so a
        // call that started ringing its user since the restart has not reached it yet.
        const missedRings = existing.replayOnly;
        existing.ghost = false;
        existing.replayOnly = false;
        if (existing.canReplayFrom(lastSeq)) {
          existing.expireAt = v.expireAt;
          // Keep the sweep off it until the socket is attached (after the response).
          existing.lastSeen = this.d.now();
          this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'session resumed');
          return {
            ok: true,
            data: this.#result(existing, true),
            after: async () => {
              if (this.#attachAfterResponse(existing, conn, v.expireAt, a.multiDevice, lastSeq) && missedRings) await this.#ringPending(existing);
            },
          };
        }
      }
      if (a.resume && c.devicePolicy === 'kick' && this.d.presence.sessionsOf(a.userId).some((o) => o.deviceId !== a.deviceId)) {
        // An automatic reconnection (only those carry `resume`) never takes over from a device
        // the user signed in on meanwhile: this device was replaced while it was away.
        this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'replaced device reconnected: kicked');
        return { ok: false, kicked: true };
      }
      // The same device id signing in afresh (an app restart, a second tab sharing a stored id):
      // the older engine is replaced like any kicked device, so it is never left half signed in.
      if (existing) await this.#kick(existing);
      if (c.devicePolicy === 'kick') {
        // Replay-only ghosts too: such a device must not resume beside the one signing in now.
        for (const other of this.d.presence.sessionsOf(a.userId, true)) await this.#kick(other);
      } else if (this.d.presence.sessionsOf(a.userId).length >= c.limits.maxDevicesPerUser) {
        return { ok: false, error: wireError(ErrorCode.TOO_MANY_DEVICES, `at most ${c.limits.maxDevicesPerUser}`) };
      }
      // A new session: what was stored for the device's old one (requests, whose ids a new client
      // reuses; events, which must not be replayed into this session) is forgotten.
      await this.d.storage.forgetDevice(a.userId, a.deviceId);
      const s = this.d.presence.add(a.userId, a.deviceId, this.d.now());
      s.expireAt = v.expireAt;
      this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'signed in');
      return {
        ok: true,
        data: this.#result(s, false),
        after: async () => {
          if (this.#attachAfterResponse(s, conn, v.expireAt, a.multiDevice, 0)) await this.#ringPending(s);
        },
      };
    });
  }

  /**
   * Sign-in and resume in cluster mode (SPEC §8): the device directory in Redis decides, so a
   * device may resume on any node, and a sign-in on one node kicks devices on others.
   */
  async #authenticateInCluster(link: ClusterLink, conn: Connection, a: ClientMessageData<'auth'>, expireAt: number): Promise<AuthOutcome> {
    const c = this.d.config;
    const now = this.d.now();
    // Just woken from a freeze (or cut off from Redis), before its next beat: another node may be
    // reaping this one's devices right now, and a session taken here could be ended under it.
    if (!link.alive()) return { ok: false, error: wireError(ErrorCode.SERVER_UNAVAILABLE, 'this node is rejoining the cluster; retry') };
    const local = this.d.presence.get(a.userId, a.deviceId);
    if (a.resume) {
      const sid = a.resume.sessionId;
      const lastSeq = a.resume.lastSeq;
      const moved = await link.live.move(a.userId, a.deviceId, sid, a.multiDevice);
      if (moved && lastSeq <= moved.seq && (await link.live.since(sid, lastSeq)).complete) {
        if (moved.previous.node !== link.nodeId) await link.live.publish(moved.previous.node, { t: 'moved', sid });
        let s = local?.sessionId === sid ? local : undefined;
        if (!s) {
          if (local) this.d.presence.remove(local);
          s = this.d.presence.add(a.userId, a.deviceId, moved.previous.at, sid);
          s.multiDevice = moved.previous.multi;
          this.#route(link, s);
        }
        s.lastSeen = now;
        s.expireAt = expireAt;
        const session = s;
        this.d.log.debug({ userId: a.userId, deviceId: a.deviceId, from: moved.previous.node }, 'session resumed');
        return { ok: true, data: this.#result(session, true), after: () => this.#attachInCluster(link, session, conn, expireAt, a.multiDevice, lastSeq, false) };
      }
      if (c.devicePolicy === 'kick' && (await link.live.devicesOf(a.userId)).some((e) => e.deviceId !== a.deviceId && !e.kicked)) {
        this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'replaced device reconnected: kicked');
        return { ok: false, kicked: true };
      }
    }
    // A fresh sign-in. The same device id signed in before (an app restart, a second tab): that
    // older session is replaced like any kicked device.
    const entries = await link.live.devicesOf(a.userId);
    const same = entries.find((e) => e.deviceId === a.deviceId);
    if (same) {
      const marked = await link.live.markKicked(same.userId, same.deviceId, same.sid);
      if (marked) await this.#kickEntry(link, marked);
      await link.live.release(same.userId, same.deviceId, same.sid);
    }
    if (local && this.d.presence.get(a.userId, a.deviceId) === local) {
      local.socket?.close(KICKED_CLOSE_CODE, 'signed in elsewhere');
      this.d.presence.remove(local);
    }
    if (c.devicePolicy === 'multi' && entries.filter((e) => e.deviceId !== a.deviceId && !e.kicked).length >= c.limits.maxDevicesPerUser) {
      return { ok: false, error: wireError(ErrorCode.TOO_MANY_DEVICES, `at most ${c.limits.maxDevicesPerUser}`) };
    }
    // A new session: what was stored for the device's old one is forgotten (see above).
    await this.d.storage.forgetDevice(a.userId, a.deviceId);
    const s = this.d.presence.add(a.userId, a.deviceId, now);
    s.expireAt = expireAt;
    if (a.multiDevice !== undefined) s.multiDevice = a.multiDevice;
    this.#route(link, s);
    const entry: DeviceEntry = { userId: a.userId, deviceId: a.deviceId, node: link.nodeId, boot: link.live.boot, sid: s.sessionId, at: now, multi: s.multiDevice };
    // The replaced-device check above ran before forgetDevice, which may have stalled on the
    // database for seconds while another device signed in: the claim checks again, atomically.
    const others = await link.live.claim(entry, c.devicePolicy, a.resume !== undefined);
    if (!others) {
      this.d.presence.remove(s);
      this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'replaced device reconnected: kicked');
      return { ok: false, kicked: true };
    }
    if (c.devicePolicy === 'kick') for (const o of others) await this.#kickEntry(link, o);
    this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'signed in');
    return { ok: true, data: this.#result(s, false), after: () => this.#attachInCluster(link, s, conn, expireAt, a.multiDevice, 0, true) };
  }

  /** Cluster sessions push through the device's log, whichever node holds the socket. */
  #route(link: ClusterLink, s: Session): void {
    s.route = (event, eid) => {
      link.deliver(s.userId, s.deviceId, event, eid).catch((err: unknown) => this.d.log.error({ err }, 'event delivery failed'));
    };
  }

  /**
   * Kicks a device that may be on any node: its calls end as `offline` (it receives its final call
   * events), then onKickedOffline, then a close marker makes its node close the socket with 4000.
   */
  async #kickEntry(link: ClusterLink, e: DeviceEntry): Promise<void> {
    await this.#leaveCallsOf(e.userId, e.deviceId);
    await link.deliver(e.userId, e.deviceId, { name: 'onKickedOffline' });
    await link.close(e.userId, e.deviceId, KICKED_CLOSE_CODE);
    // The holding node releases the entry when it reaches the marker; this covers a device whose
    // socket is gone meanwhile (kept short of the heartbeat window so it never rings again).
    setTimeout(() => void link.live.release(e.userId, e.deviceId, e.sid).catch(() => undefined), 5000).unref();
  }

  async #attachInCluster(link: ClusterLink, s: Session, conn: Connection, expireAt: number, multiDevice: boolean | undefined, lastSeq: number, fresh: boolean): Promise<void> {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    if (this.d.presence.get(s.userId, s.deviceId) !== s) {
      conn.close(KICKED_CLOSE_CODE, 'signed in elsewhere');
      return;
    }
    this.#attach(s, conn, expireAt, multiDevice);
    if (multiDevice !== undefined) await link.live.setMulti(s.userId, s.deviceId, s.sessionId, multiDevice);
    await link.startDelivery(s, lastSeq, (code) => {
      // Signed in elsewhere: the final events are out; close and forget this session.
      s.socket?.close(code, 'signed in elsewhere');
      s.socket = null;
      this.d.presence.remove(s);
      void link.live.release(s.userId, s.deviceId, s.sessionId, link.live.self).catch(() => undefined);
    });
    if (fresh) await this.#ringPending(s);
  }

  /** Sets the multi-device opt-in of a session (and, in cluster mode, of its directory entry). */
  async setMultiDevice(s: Session, enable: boolean): Promise<void> {
    s.multiDevice = enable;
    await this.d.link?.live.setMulti(s.userId, s.deviceId, s.sessionId, enable);
  }

  /** Ends a device's calls as `offline` (a reaped device of a dead node). */
  deviceGone(userId: string, deviceId: string): Promise<void> {
    return this.d.service.exclusive(() => this.#leaveCallsOf(userId, deviceId));
  }

  /**
   * Attaches the socket once the auth response is on the wire, then sends every event buffered
   * after `lastSeq`. Events produced between the auth decision and now were only buffered (no
   * socket yet), so the device always gets the response first, then every event once, in order.
   * Returns false when there is nothing to attach to: the socket closed meanwhile, or another
   * sign-in replaced this session (the device is then told it was kicked).
   */
  #attachAfterResponse(s: Session, conn: Connection, expireAt: number, multiDevice: boolean | undefined, lastSeq: number): boolean {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    if (this.d.presence.get(s.userId, s.deviceId) !== s) {
      conn.close(KICKED_CLOSE_CODE, 'signed in elsewhere');
      return false;
    }
    this.#attach(s, conn, expireAt, multiDevice);
    s.replayFrom(lastSeq);
    return true;
  }

  #attach(s: Session, conn: Connection, expireAt: number, multiDevice: boolean | undefined): void {
    const old = s.socket;
    if (old && old !== conn.ws) old.close(4001, 'replaced by a newer connection');
    s.socket = conn.ws;
    s.lastSeen = this.d.now();
    s.expireAt = expireAt;
    if (multiDevice !== undefined) s.multiDevice = multiDevice;
    conn.session = s;
    this.#armSigTimer(s);
  }

  /** Rings a newly signed-in device for invitations still pending for its user. */
  async #ringPending(s: Session): Promise<void> {
    await this.d.service.exclusive(async () => {
      const ringing = await this.d.presence.ringDevices(s.userId);
      if (!ringing.includes(s.deviceId)) return;
      const ms = await this.d.storage.membershipsOf(s.userId);
      for (const m of ms) {
        if (m.state !== 'invited' && m.state !== 'ringing') continue;
        await this.#eachCall(m.callId, async () => {
          const busyElsewhere = await this.d.service.isBusy(s.userId, m.callId);
          await this.d.service.apply(m.callId, { type: 'deviceOnline', userId: s.userId, deviceId: s.deviceId, busyElsewhere });
        });
      }
    });
  }

  /**
   * A device replaced by another sign-in (policy `kick`, or the same device id signing in afresh):
   * it gets its final call events, then onKickedOffline, then its socket is closed with 4000.
   */
  async #kick(s: Session): Promise<void> {
    await this.#leaveCalls(s);
    s.push({ name: 'onKickedOffline' });
    this.d.presence.remove(s);
    s.socket?.close(KICKED_CLOSE_CODE, 'signed in elsewhere');
    s.socket = null;
  }

  #leaveCalls(s: Session): Promise<void> {
    return this.#leaveCallsOf(s.userId, s.deviceId);
  }

  async #leaveCallsOf(userId: string, deviceId: string): Promise<void> {
    const ms = await this.d.storage.membershipsOf(userId);
    for (const m of ms) {
      await this.#eachCall(m.callId, () => this.d.service.apply(m.callId, { type: 'deviceOffline', userId, deviceId }));
    }
  }

  /**
   * Runs one call's part of a sign-in, kick or departure: a failure there (storage error) is
   * logged and the other calls and the sign-in itself go on, so no single call can leave a user
   * unable to sign in.
   */
  async #eachCall(callId: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      // A lost race with another node is retried whole by `exclusive`: let it through.
      if (isConflict(err)) throw err;
      if (err instanceof MachineError) this.d.log.debug({ callId, reason: err.message }, 'call update refused');
      else this.d.log.error({ err, callId }, 'call update during sign-in/out failed');
    }
  }

  /** The device is gone (heartbeat window passed, logout, or replaced): its calls see `offline`. */
  async #gone(s: Session): Promise<void> {
    this.d.presence.remove(s);
    if (this.d.link) {
      // Moved to another node meanwhile (its 'moved' notice lost): not gone, just not here.
      if (!(await this.d.link.live.release(s.userId, s.deviceId, s.sessionId, this.d.link.live.self))) return;
    }
    await this.#leaveCalls(s);
    this.d.log.debug({ userId: s.userId, deviceId: s.deviceId }, 'device gone');
  }

  /** Signs a device out now (`logout`). */
  logout(s: Session): Promise<void> {
    return this.d.service.exclusive(() => this.#gone(s));
  }

  /** Declares devices silent for longer than the heartbeat timeout gone. */
  async sweep(): Promise<void> {
    const now = this.d.now();
    const limit = this.d.config.heartbeatTimeoutMs;
    for (const s of this.d.presence.all()) {
      if (now - s.lastSeen <= limit) continue;
      s.socket?.terminate();
      s.socket = null;
      await this.d.service.exclusive(async () => {
        // It may have come back while we waited for the mutex.
        if (this.d.presence.get(s.userId, s.deviceId) === s && this.d.now() - s.lastSeen > limit) await this.#gone(s);
      });
    }
  }

  /**
   * Restart recovery: every device taking part in an active call gets a session without a socket
   * and a fresh heartbeat window; it resumes if it reconnects in time, else leaves as offline.
   */
  async restore(): Promise<number> {
    // In cluster mode devices live in the Redis directory; a dead incarnation's are reaped by the
    // survivors (or by this node) one heartbeat window after its last beat.
    if (this.d.link) return 0;
    const calls = await this.d.storage.activeCalls();
    // The previous process's seqs are lost; the client drops any event whose seq is not above the
    // last one it processed. Starting at (ms now × GHOST_SEQ_PER_MS) puts this process's seqs above
    // the previous one's unless a session received more than GHOST_SEQ_PER_MS events per ms of
    // that process's life, so events sent here before the device returns (an overdue ring
    // timeout, a peer leaving) are replayed to it instead of being dropped as duplicates.
    const base = this.d.now() * GHOST_SEQ_PER_MS;
    let n = 0;
    const ghost = (userId: string, deviceId: string): Session => {
      const found = this.d.presence.get(userId, deviceId);
      if (found) return found;
      const s = this.d.presence.add(userId, deviceId, this.d.now());
      s.ghost = true;
      s.seq = base;
      this.#ghostBase.set(s, base);
      n++;
      return s;
    };
    for (const call of calls) {
      for (const m of Object.values(call.members)) {
        const devices = m.state === 'calling' || m.state === 'joined' ? [m.deviceId] : m.state === 'ringing' ? m.ringingDevices : [];
        for (const d of devices) if (d) ghost(m.userId, d);
      }
    }
    // Events the previous process committed but may not have sent: a device with no live call
    // (its call ended in that last commit) gets a ghost that only holds them for its resume.
    await replayStoredEvents(this.d.storage, this.d.now(), this.d.config.heartbeatTimeoutMs, (userId, deviceId) => {
      const known = this.d.presence.get(userId, deviceId);
      if (known) return known;
      const s = ghost(userId, deviceId);
      s.replayOnly = true;
      return s;
    });
    return n;
  }
}
