/**
 * This node's link to the cluster (SPEC §8): routes events to devices wherever they are, keeps the
 * node's beat, answers which nodes are alive, and reaps the devices of a node that died. The
 * signaling layer keeps only this node's sockets and sessions; everything another node must see
 * goes through Redis (see redis/RedisLive.ts).
 */
import { wireEventId } from '@opencall/protocol/wire';
import type { ServerEvent } from '@opencall/protocol/wire';
import type { Logger } from 'pino';
import type { Presence } from '../signaling/Presence.js';
import type { Session } from '../signaling/Session.js';
import { DeviceSink } from './DeviceSink.js';
import type { LogItem, RedisLive } from './redis/RedisLive.js';
import type { DeviceEntry, NodeMessage } from './types.js';

/** Construction parameters of the link. */
export interface ClusterLinkOptions {
  live: RedisLive;
  presence: Presence;
  policy: 'kick' | 'multi';
  heartbeatTimeoutMs: number;
  log: Logger;
  now(): number;
  /** Ends a device's calls as `offline` (runs with the other commands of this node). */
  deviceGone(userId: string, deviceId: string): Promise<void>;
  /** Beat period (default 500 ms); a node is dead after three missed beats. */
  beatMs?: number;
  /** How long {@link ClusterLink.start} keeps trying to reach Redis (default {@link REDIS_STARTUP_WAIT_MS}). */
  startupWaitMs?: number;
  /**
   * This node could not beat for two periods: the others will soon count it dead and end its
   * devices' calls, so it must let go of its sockets (the devices reconnect to a live node and
   * resume there while the heartbeat window lasts).
   */
  onFenced?(): void;
  /**
   * A node died (no beat for three periods) after its last beat at `lastBeat`: send the events
   * stored since shortly before it to their devices again, marked as replays (the dead node may
   * have committed them without appending them to the device logs).
   */
  replayAfterDeath?(lastBeat: number): Promise<void>;
}

/**
 * How far short of the heartbeat window after its last beat this node stops committing for its
 * devices: the others reap them (end their calls, let them sign in afresh) once the window has
 * passed, and a commit made for them after that would land on sessions that moved on.
 */
function reapMarginMs(heartbeatTimeoutMs: number): number {
  return Math.min(1000, Math.floor(heartbeatTimeoutMs / 5));
}

/** How long a starting node keeps trying to reach Redis before its start fails, ms. */
export const REDIS_STARTUP_WAIT_MS = 30_000;

/** The cluster link of one node. */
export class ClusterLink {
  readonly #o: ClusterLinkOptions;
  readonly #beatMs: number;
  #beatTimer: NodeJS.Timeout | null = null;
  #probeSent = 0;
  #probeHeard = 0;
  #reaping = new Set<string>();
  /** Dead incarnations whose stored events were sent again (see `replayAfterDeath`). */
  readonly #replayed = new Set<string>();
  #closed = false;
  #lastBeatOk = 0;
  #fenced = false;
  readonly #handlers: ((m: NodeMessage) => void)[] = [];

  constructor(o: ClusterLinkOptions) {
    this.#o = o;
    this.#beatMs = o.beatMs ?? 500;
  }

  /** This node's id. */
  get nodeId(): string {
    return this.#o.live.nodeId;
  }

  /**
   * True while this node may still act for its devices: its last beat is recent enough that no
   * other node can have reaped them (see {@link reapMarginMs}), and it has not let go of its
   * sessions. A node frozen for seconds (SIGSTOP, a VM pause, a long GC) reads false on waking,
   * before its next beat, so a command stalled across the freeze does not commit.
   */
  alive(): boolean {
    return !this.#fenced && this.#o.now() - this.#lastBeatOk < this.#o.heartbeatTimeoutMs - reapMarginMs(this.#o.heartbeatTimeoutMs);
  }

  /** The Redis state (sign-in and resume use it directly). */
  get live(): RedisLive {
    return this.#o.live;
  }

  /**
   * Connects, subscribes and starts beating. A node started while Redis is briefly unreachable
   * (a restart, a failover, the stack coming up in any order) keeps trying for
   * {@link REDIS_STARTUP_WAIT_MS} (`startupWaitMs`) before it gives up: then the start fails and
   * the Redis connections are dropped.
   */
  async start(): Promise<void> {
    const deadline = Date.now() + (this.#o.startupWaitMs ?? REDIS_STARTUP_WAIT_MS);
    for (;;) {
      try {
        await this.#o.live.start((m) => this.#onMessage(m));
        await this.#o.live.beat(this.#o.now(), this.#beatMs * 3);
        break;
      } catch (err) {
        if (Date.now() >= deadline) {
          this.#o.live.abort();
          throw err;
        }
        this.#o.log.warn({ err: (err as Error).message }, 'Redis not reachable yet: trying again');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.#lastBeatOk = this.#o.now();
    this.#beatTimer = setInterval(() => void this.#tick(), this.#beatMs);
    this.#beatTimer.unref();
  }

  /**
   * Delivers an event (`eid`: its stable id, `replay`: sent again late) to a device on any node,
   * in the device's log order.
   */
  async deliver(userId: string, deviceId: string, event: ServerEvent, eid?: string, replay = false): Promise<void> {
    // The append script wraps its argument as `{..."event":<arg>}`: the event id (and the replay
    // mark) ride after the event as more members of the frame.
    const arg = eid === undefined ? JSON.stringify(event) : `${JSON.stringify(event)},"eid":${JSON.stringify(wireEventId(event, eid))}${replay ? ',"replay":true' : ''}`;
    const r = await this.#o.live.append(userId, deviceId, arg);
    if (r && r.node === this.nodeId) this.#offerLocal(r.sid, { seq: r.seq, frame: r.frame });
  }

  /** Appends a close marker: the device's node closes its socket with `code` after earlier events. */
  async close(userId: string, deviceId: string, code: number): Promise<void> {
    const r = await this.#o.live.append(userId, deviceId, '', code);
    if (r && r.node === this.nodeId) this.#offerLocal(r.sid, { seq: r.seq, close: code });
  }

  /** Devices that should ring for a user (SPEC §5.4), across nodes. */
  async ringDevices(userId: string): Promise<string[]> {
    const live = (await this.#o.live.devicesOf(userId)).filter((e) => !e.kicked);
    if (live.length === 0) return [];
    if (this.#o.policy === 'kick') return live.map((e) => e.deviceId);
    let latest = live[0]!;
    for (const e of live) if (e.at >= latest.at) latest = e;
    return live.filter((e) => e.multi || e === latest).map((e) => e.deviceId);
  }

  /** Live node ids (beat within three periods), this one included. */
  async nodes(): Promise<string[]> {
    const now = this.#o.now();
    const alive = (await this.#o.live.incarnations()).filter((n) => n.lastBeat >= now - this.#beatMs * 3);
    return [...new Set(alive.map((n) => n.nodeId))].sort();
  }

  /**
   * Starts ordered delivery to a session whose socket was just attached: every item after
   * `delivered` is read from the log (events appended before the socket existed), then items
   * arriving later are put in order by the sink.
   */
  async startDelivery(s: Session, delivered: number, onClosed: (code: number) => void): Promise<void> {
    s.sink?.dispose();
    const sink = new DeviceSink(delivered, {
      send: (frame) => s.sendRaw(frame),
      closed: onClosed,
      fill: async (after) => (await this.#o.live.since(s.sessionId, after)).items,
    });
    s.sink = sink;
    const { items } = await this.#o.live.since(s.sessionId, delivered);
    for (const it of items) sink.offer(it);
  }

  /** Adds a handler for the inbox messages this link does not handle itself (e.g. media routing). */
  onMessage(h: (m: NodeMessage) => void): void {
    this.#handlers.push(h);
  }

  #offerLocal(sid: string, item: LogItem): void {
    this.#o.presence.bySessionId(sid)?.sink?.offer(item);
  }

  #onMessage(m: NodeMessage): void {
    if (m.t === 'ev') {
      this.#offerLocal(m.sid, m.c !== undefined ? { seq: m.seq, close: m.c } : { seq: m.seq, frame: m.f ?? '' });
    } else if (m.t === 'moved') {
      // The device resumed on another node: this copy of its session goes without a word.
      const s = this.#o.presence.bySessionId(m.sid);
      if (s) {
        s.socket?.close(4001, 'replaced by a newer connection');
        s.socket = null;
        this.#o.presence.remove(s);
      }
    } else if (m.t === 'probe') {
      this.#probeHeard = Math.max(this.#probeHeard, m.n);
    } else {
      for (const h of this.#handlers) h(m);
    }
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    const now = this.#o.now();
    // Frozen past the point where the others may have reaped this node's devices (SIGSTOP, a VM
    // pause): they may have signed in afresh elsewhere, so this node's sessions are let go before
    // anything else runs; the devices reconnect and resume (or sign in) on a live node.
    if (!this.#fenced && now - this.#lastBeatOk >= this.#o.heartbeatTimeoutMs - reapMarginMs(this.#o.heartbeatTimeoutMs)) {
      this.#fenced = true;
      this.#o.log.error({ silentMs: now - this.#lastBeatOk }, 'this node was frozen past its heartbeat window: dropping its connections');
      this.#o.onFenced?.();
    }
    try {
      await this.#o.live.beat(now, this.#beatMs * 3);
      this.#lastBeatOk = now;
      this.#fenced = false;
      // A subscription can go deaf without an error (a proxy or a failover dropping it): prove
      // it hears by sending itself a probe each beat, and re-subscribe when three go unheard.
      if (this.#probeSent - this.#probeHeard >= 3) {
        this.#o.log.warn('cluster inbox went deaf: re-subscribing');
        this.#probeHeard = this.#probeSent;
        await this.#o.live.resubscribe();
      }
      await this.#o.live.publish(this.nodeId, { t: 'probe', n: ++this.#probeSent });
      await this.#reap(now);
    } catch (err) {
      this.#o.log.warn({ err }, 'cluster beat failed');
      // Deaf to Redis, not dead: the other nodes will reap this one. Let go of the sockets once.
      if (!this.#fenced && this.#o.now() - this.#lastBeatOk > this.#beatMs * 2) {
        this.#fenced = true;
        this.#o.log.error('lost Redis for two beats: dropping this node\'s connections so devices move to a live node');
        this.#o.onFenced?.();
      }
    }
  }

  /** Ends the calls of devices whose node died, one heartbeat window after its last beat. */
  async #reap(now: number): Promise<void> {
    for (const inc of await this.#o.live.incarnations()) {
      if (inc.nodeId === this.nodeId && inc.boot === this.#o.live.boot) continue;
      if (inc.lastBeat >= now - this.#beatMs * 3) continue;
      const key = `${inc.nodeId}|${inc.boot}`;
      // Its last commits' events may never have reached the device logs: send the stored ones
      // again at once (one node does it), well before its devices are reaped.
      if (!this.#replayed.has(key)) {
        this.#replayed.add(key);
        if (this.#o.replayAfterDeath && (await this.#o.live.lock(`replay:${key}`, 60_000))) {
          void this.#o.replayAfterDeath(inc.lastBeat).catch((err: unknown) => this.#o.log.error({ err, node: inc.nodeId }, 'replaying a dead node\'s events failed'));
        }
      }
      // Devices may still resume elsewhere until the heartbeat window of their last sign of life.
      if (now < inc.lastBeat + this.#o.heartbeatTimeoutMs) continue;
      if (this.#reaping.has(key)) continue;
      if (!(await this.#o.live.lock(`reap:${key}`, 30_000))) continue;
      this.#reaping.add(key);
      void this.#reapOne(inc.nodeId, inc.boot, inc.lastBeat).finally(() => this.#reaping.delete(key));
    }
  }

  async #reapOne(node: string, boot: string, lastBeat: number): Promise<void> {
    let n = 0;
    for (const { userId, deviceId } of await this.#o.live.devicesOn(node, boot)) {
      const e: DeviceEntry | null = await this.#o.live.entry(userId, deviceId);
      // Claimed since by a live node (resumed, or signed in afresh): not ours to end.
      if (!e || e.node !== node || e.boot !== boot) continue;
      const r = await this.#o.live.reap(userId, deviceId, e.sid, { node, boot }, lastBeat);
      if (r === 'revived') {
        // The node was frozen, not dead, and beats again: a device that reconnected to it and
        // resumed there is its own again. Ending it now would leave the node answering a session
        // that no event reaches any more.
        this.#o.log.warn({ node, boot, devices: n }, 'a node being reaped came back: reap abandoned');
        return;
      }
      if (r === 'kept') continue;
      await this.#o.deviceGone(userId, deviceId);
      n++;
    }
    await this.#o.live.forget(node, boot);
    this.#o.log.info({ node, boot, devices: n }, 'reaped a dead node');
  }

  /** Stops beating and closes the Redis connections. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    if (this.#beatTimer) clearInterval(this.#beatTimer);
    await this.#o.live.close();
  }
}
