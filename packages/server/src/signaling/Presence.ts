/**
 * Who is signed in on which device, in this process. Sessions outlive their sockets for the
 * heartbeat window so a reconnecting device resumes; a sweep declares silent devices gone.
 */
import type { ServerEvent } from '@opencall/protocol/wire';
import type { PresenceView } from '../call/CallService.js';
import type { ClusterLink } from '../cluster/ClusterLink.js';
import { Session } from './Session.js';

/** The device policy of SPEC §5.4. */
export type DevicePolicy = 'kick' | 'multi';

/** In-memory presence. */
export class Presence implements PresenceView {
  readonly #byUser = new Map<string, Map<string, Session>>();
  readonly #bySessionId = new Map<string, Session>();

  /** Cluster mode: devices on every node, reached through the link (set once at start-up). */
  link: ClusterLink | null = null;

  constructor(
    private readonly policy: DevicePolicy,
    /** Replay budget of each session, bytes (limits.replayBufferBytes). */
    private readonly replayBytes?: number,
  ) {}

  /**
   * Signed-in sessions of a user; restart ghosts kept only for replay are excluded unless
   * `withReplayOnly` (a sign-in that replaces every other device replaces those too).
   */
  sessionsOf(userId: string, withReplayOnly = false): Session[] {
    return [...(this.#byUser.get(userId)?.values() ?? [])].filter((s) => withReplayOnly || !s.replayOnly);
  }

  /** The session of (user, device), if any. */
  get(userId: string, deviceId: string): Session | undefined {
    return this.#byUser.get(userId)?.get(deviceId);
  }

  /** The session with this id, if any. */
  bySessionId(sessionId: string): Session | undefined {
    return this.#bySessionId.get(sessionId);
  }

  /** Creates and registers a session (`sessionId`: keep the id of a session moving from another node). */
  add(userId: string, deviceId: string, now: number, sessionId?: string): Session {
    const s = new Session(userId, deviceId, now, sessionId, this.replayBytes);
    let m = this.#byUser.get(userId);
    if (!m) this.#byUser.set(userId, (m = new Map<string, Session>()));
    m.set(deviceId, s);
    this.#bySessionId.set(s.sessionId, s);
    return s;
  }

  /** Removes a session (no events). */
  remove(s: Session): void {
    const m = this.#byUser.get(s.userId);
    if (m?.get(s.deviceId) === s) m.delete(s.deviceId);
    if (m && m.size === 0) this.#byUser.delete(s.userId);
    this.#bySessionId.delete(s.sessionId);
    s.dispose();
  }

  /** Devices to ring: the one device (kick), or multi-device-enabled ones plus the most recent (multi). */
  ringDevices(userId: string): string[] | Promise<string[]> {
    if (this.link) return this.link.ringDevices(userId);
    return this.localRingDevices(userId);
  }

  /** {@link ringDevices} among this node's sessions. */
  localRingDevices(userId: string): string[] {
    const sessions = this.sessionsOf(userId);
    if (sessions.length === 0) return [];
    if (this.policy === 'kick') return sessions.map((s) => s.deviceId);
    let latest = sessions[0]!;
    for (const s of sessions) if (s.signedInAt >= latest.signedInAt) latest = s;
    return sessions.filter((s) => s.multiDevice || s === latest).map((s) => s.deviceId);
  }

  /**
   * Delivers an event to one device (`eid`: its stable id, `replay`: sent again late; see
   * call/requests.ts); dropped when the device has no session. In cluster mode the
   * device may be on another node: the promise settles once the event is in the device's log.
   */
  deliver(userId: string, deviceId: string, event: ServerEvent, eid?: string, replay = false): void | Promise<void> {
    if (this.link) return this.link.deliver(userId, deviceId, event, eid, replay);
    this.get(userId, deviceId)?.push(event, eid, replay);
  }

  /** Every session (sweeps, shutdown, metrics). */
  all(): Session[] {
    return [...this.#bySessionId.values()];
  }

  /** Signed-in user count. */
  userCount(): number {
    return this.#byUser.size;
  }
}
