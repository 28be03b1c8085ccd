/**
 * Sign-in, resume, re-authentication, kick and departure of devices (SPEC §5.4). Every change
 * that touches calls goes through the CallService so the machine decides what peers see.
 */
import { ErrorCode, verifyUserSig, wireError } from '@opencall/protocol';
import type { AuthResult, ClientMessageData, IceServer, WireError } from '@opencall/protocol';
import type { Logger } from 'pino';
import type { CallService } from '../call/CallService.js';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import type { Presence } from './Presence.js';
import type { Session } from './Session.js';

const MAX_TIMEOUT = 2_147_483_647;

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
}

/** Result of an auth attempt: the response data plus work to do after the response is sent. */
export type AuthOutcome = { ok: true; data: AuthResult; after: () => Promise<void> } | { ok: false; error: WireError };

/** Manages device sessions. */
export class SessionManager {
  constructor(private readonly d: SessionManagerDeps) {}

  #result(s: Session, resumed: boolean): AuthResult {
    const c = this.d.config;
    return {
      sessionId: s.sessionId,
      resumed,
      heartbeatIntervalMs: Math.max(100, Math.floor(c.heartbeatTimeoutMs / 3)),
      heartbeatTimeoutMs: c.heartbeatTimeoutMs,
      expireAt: s.expireAt,
      serverTime: this.d.now(),
      iceServers: this.d.iceServers(s.userId),
      maxParticipants: c.maxParticipants,
      devicePolicy: c.devicePolicy,
    };
  }

  #armSigTimer(s: Session): void {
    if (s.sigTimer) clearTimeout(s.sigTimer);
    const delay = s.expireAt - this.d.now();
    const t = setTimeout(() => {
      s.sigTimer = null;
      if (this.d.now() >= s.expireAt) s.push({ name: 'onUserSigExpired' });
      else this.#armSigTimer(s);
    }, Math.min(Math.max(0, delay), MAX_TIMEOUT));
    t.unref();
    s.sigTimer = t;
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

    return this.d.service.exclusive(async () => {
      const existing = this.d.presence.get(a.userId, a.deviceId);
      if (existing && a.resume && (existing.ghost || existing.sessionId === a.resume.sessionId)) {
        if (existing.ghost) {
          // Restart recovery: the server lost the sequence, the client keeps its own.
          existing.ghost = false;
          existing.seq = a.resume.lastSeq;
        }
        if (existing.canReplayFrom(a.resume.lastSeq)) {
          this.#attach(existing, conn, v.expireAt, a.multiDevice);
          const lastSeq = a.resume.lastSeq;
          this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'session resumed');
          return { ok: true, data: this.#result(existing, true), after: async () => void existing.replayFrom(lastSeq) };
        }
      }
      if (existing) await this.#gone(existing);
      if (c.devicePolicy === 'kick') {
        for (const other of this.d.presence.sessionsOf(a.userId)) await this.#kick(other);
      } else if (this.d.presence.sessionsOf(a.userId).length >= c.limits.maxDevicesPerUser) {
        return { ok: false, error: wireError(ErrorCode.TOO_MANY_DEVICES, `at most ${c.limits.maxDevicesPerUser}`) };
      }
      const s = this.d.presence.add(a.userId, a.deviceId, this.d.now());
      this.#attach(s, conn, v.expireAt, a.multiDevice);
      this.d.log.debug({ userId: a.userId, deviceId: a.deviceId }, 'signed in');
      return { ok: true, data: this.#result(s, false), after: () => this.#ringPending(s) };
    });
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
      if (!this.d.presence.ringDevices(s.userId).includes(s.deviceId)) return;
      const ms = await this.d.storage.membershipsOf(s.userId);
      for (const m of ms) {
        if (m.state !== 'invited' && m.state !== 'ringing') continue;
        const busyElsewhere = await this.d.service.isBusy(s.userId, m.callId);
        await this.d.service.apply(m.callId, { type: 'deviceOnline', userId: s.userId, deviceId: s.deviceId, busyElsewhere });
      }
    });
  }

  /** Policy `kick`: the device gets its final call events, then onKickedOffline, then is closed. */
  async #kick(s: Session): Promise<void> {
    await this.#leaveCalls(s);
    s.push({ name: 'onKickedOffline' });
    this.d.presence.remove(s);
    s.socket?.close(4000, 'signed in elsewhere');
    s.socket = null;
  }

  async #leaveCalls(s: Session): Promise<void> {
    const ms = await this.d.storage.membershipsOf(s.userId);
    for (const m of ms) {
      await this.d.service.apply(m.callId, { type: 'deviceOffline', userId: s.userId, deviceId: s.deviceId });
    }
  }

  /** The device is gone (heartbeat window passed, logout, or replaced): its calls see `offline`. */
  async #gone(s: Session): Promise<void> {
    this.d.presence.remove(s);
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
    const calls = await this.d.storage.activeCalls();
    let n = 0;
    for (const call of calls) {
      for (const m of Object.values(call.members)) {
        const devices = m.state === 'calling' || m.state === 'joined' ? [m.deviceId] : m.state === 'ringing' ? m.ringingDevices : [];
        for (const d of devices) {
          if (!d || this.d.presence.get(m.userId, d)) continue;
          const s = this.d.presence.add(m.userId, d, this.d.now());
          s.ghost = true;
          n++;
        }
      }
    }
    return n;
  }
}
