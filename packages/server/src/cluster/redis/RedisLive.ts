/**
 * The live half of cluster mode on Redis (SPEC §8): the device directory (a hash per user), one
 * event log per device session (a stream plus a counter: the seq a client sees is assigned here,
 * so any node can append and a device resuming on any node replays what it missed), one inbox
 * channel per node, and node liveness (a key with a TTL per node plus a sorted set of beats).
 * ioredis re-subscribes by itself after a reconnect; a beat probe proves the inbox still hears.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DeviceEntry, NodeInfo, NodeMessage } from '../types.js';
import { APPEND, CLAIM, MARK_KICKED, MEDIA_OWN, MEDIA_RELEASE, MOVE, RELEASE, SET_MULTI } from './scripts.js';

/** Frames kept per device log for replay (approximate: Redis trims whole nodes). */
export const REPLAY_LENGTH = 512;

/** A frame read back from a device log: an event frame, or a close marker. */
export interface LogItem {
  seq: number;
  frame?: string;
  close?: number;
}

/** The result of appending to a device's log. */
export interface Appended {
  seq: number;
  node: string;
  sid: string;
  /** The event frame ('' for a close marker). */
  frame: string;
}

type ScriptCommands = {
  ocAppend(key: string, prefix: string, deviceId: string, event: string, node: string, close: string, len: string): Promise<[number, string, string, string] | []>;
  ocClaim(user: string, nodeSet: string, entry: string, policy: string, member: string, reconnecting: string): Promise<string[] | number>;
  ocMarkKicked(user: string, deviceId: string, sid: string): Promise<string | null>;
  ocRelease(user: string, prefix: string, deviceId: string, sid: string, member: string, node: string, boot: string, seenBeat: string): Promise<number>;
  ocMove(user: string, prefix: string, deviceId: string, sid: string, node: string, boot: string, member: string, multi: string): Promise<[string, number] | null>;
  ocSetMulti(user: string, deviceId: string, sid: string, multi: string): Promise<number>;
  ocMediaOwn(owner: string, claims: string, me: string, ttlMs: string, nodePrefix: string): Promise<[string, number]>;
  ocMediaRelease(owner: string, claims: string, me: string, ended: string): Promise<number>;
};

/** A call's media owner as {@link RedisLive.ownMedia} found it. */
export interface MediaOwner {
  /** Node id of the owner (this node's id when it holds the call). */
  node: string;
  /** True when this incarnation holds it. */
  self: boolean;
  /** The claim number when this call just took it (1: the call's first owner; more: a takeover), else 0. */
  claimed: number;
}

/** Member name of a device in a node's device set. */
export const memberOf = (userId: string, deviceId: string): string => `${userId}\n${deviceId}`;

/** How long {@link connected} waits for one connection to become ready, ms. */
const READY_WAIT_MS = 2000;

/**
 * Resolves once `r` is ready: starts connecting it when it is idle (never connected, or given
 * up), else waits for the reconnection ioredis runs by itself; rejects when that takes over
 * {@link READY_WAIT_MS}, so the caller decides whether to try again. Never waits longer: a Redis
 * that accepts the connection and then holds every byte would otherwise keep `connect()` (and
 * the subscriber connection has no command timeout) pending for as long as it stalls.
 */
async function connected(r: Redis): Promise<void> {
  if (r.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      r.off('ready', ready);
      reject(new Error(`Redis not ready after ${READY_WAIT_MS} ms (${r.status})`));
    }, READY_WAIT_MS);
    const ready = (): void => {
      clearTimeout(timer);
      resolve();
    };
    r.once('ready', ready);
    // Its failure shows as the timeout above; ioredis keeps re-trying a connection that closed.
    if (r.status === 'wait' || r.status === 'end') r.connect().catch(() => undefined);
  });
}

/** Redis-backed live state for one node. */
export class RedisLive {
  readonly #cmd: Redis & ScriptCommands;
  readonly #sub: Redis;
  readonly #prefix: string;
  readonly boot = randomBytes(6).toString('base64url');
  #handler: ((m: NodeMessage) => void) | null = null;

  constructor(
    url: string,
    clusterName: string,
    /** This node's id. */
    readonly nodeId: string,
    private readonly log: Logger,
  ) {
    this.#prefix = `opencall:${clusterName}:`;
    // Commands are retried across short outages; a call that cannot reach Redis fails its request.
    // A command never hangs longer than a beat period or two: a blackholed Redis must surface as
    // errors (the beat fails, the node fences itself) rather than as requests that never answer.
    this.#cmd = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true, commandTimeout: 1000 }) as Redis & ScriptCommands;
    this.#sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    this.#cmd.defineCommand('ocAppend', { numberOfKeys: 1, lua: APPEND });
    this.#cmd.defineCommand('ocClaim', { numberOfKeys: 2, lua: CLAIM });
    this.#cmd.defineCommand('ocMarkKicked', { numberOfKeys: 1, lua: MARK_KICKED });
    this.#cmd.defineCommand('ocRelease', { numberOfKeys: 1, lua: RELEASE });
    this.#cmd.defineCommand('ocMove', { numberOfKeys: 1, lua: MOVE });
    this.#cmd.defineCommand('ocSetMulti', { numberOfKeys: 1, lua: SET_MULTI });
    this.#cmd.defineCommand('ocMediaOwn', { numberOfKeys: 2, lua: MEDIA_OWN });
    this.#cmd.defineCommand('ocMediaRelease', { numberOfKeys: 2, lua: MEDIA_RELEASE });
    for (const r of [this.#cmd, this.#sub]) r.on('error', (err: Error) => this.log.warn({ err: err.message }, 'redis connection error'));
    // Nothing arrives before start() subscribes the inbox; after close() or abort() messages are dropped.
    this.#sub.on('message', (_channel: string, raw: string) => {
      try {
        this.#handler?.(JSON.parse(raw) as NodeMessage);
      } catch (err) {
        this.log.error({ err }, 'bad node message');
      }
    });
  }

  /**
   * Connects both connections and subscribes this node's inbox. Safe to call again after it
   * failed (the start-up retries it while Redis is not reachable yet).
   */
  async start(handler: (m: NodeMessage) => void): Promise<void> {
    this.#handler = handler;
    await Promise.all([connected(this.#cmd), connected(this.#sub)]);
    await this.#sub.subscribe(this.#inbox(this.nodeId));
  }

  #inbox(node: string): string {
    return `${this.#prefix}n:${node}`;
  }
  #user(userId: string): string {
    return `${this.#prefix}u:${userId}`;
  }
  #nodeSet(node: string, boot: string): string {
    return `${this.#prefix}nd:${node}:${boot}`;
  }

  /** Sends a message to a node's inbox (at most once: callers never rely on it alone). */
  async publish(node: string, m: NodeMessage): Promise<void> {
    await this.#cmd.publish(this.#inbox(node), JSON.stringify(m));
  }

  /** Re-subscribes the inbox (after a probe went unheard). */
  async resubscribe(): Promise<void> {
    const ch = this.#inbox(this.nodeId);
    await this.#sub.unsubscribe(ch).catch(() => undefined);
    await this.#sub.subscribe(ch);
  }

  /** Every entry of a user (kicked ones included). */
  async devicesOf(userId: string): Promise<DeviceEntry[]> {
    const h = await this.#cmd.hgetall(this.#user(userId));
    return Object.values(h).map((j) => JSON.parse(j) as DeviceEntry);
  }

  /** One device's entry. */
  async entry(userId: string, deviceId: string): Promise<DeviceEntry | null> {
    const j = await this.#cmd.hget(this.#user(userId), deviceId);
    return j ? (JSON.parse(j) as DeviceEntry) : null;
  }

  /**
   * Claims a device for this node; returns the other entries (marked kicked under 'kick'), or
   * null when `reconnecting` (an automatic reconnection that could not resume) under 'kick' finds
   * another live device of the user: that one replaced this device, nothing was claimed.
   */
  async claim(e: DeviceEntry, policy: 'kick' | 'multi', reconnecting = false): Promise<DeviceEntry[] | null> {
    const out = await this.#cmd.ocClaim(this.#user(e.userId), this.#nodeSet(e.node, e.boot), JSON.stringify(e), policy, memberOf(e.userId, e.deviceId), reconnecting ? '1' : '0');
    if (typeof out === 'number') return null;
    return out.map((j) => JSON.parse(j) as DeviceEntry);
  }

  /** Marks an entry kicked if it still belongs to session `sid`. */
  async markKicked(userId: string, deviceId: string, sid: string): Promise<DeviceEntry | null> {
    const j = await this.#cmd.ocMarkKicked(this.#user(userId), deviceId, sid);
    return j ? (JSON.parse(j) as DeviceEntry) : null;
  }

  /**
   * Deletes an entry (and its log) if it still belongs to session `sid` and, with `holder`, is
   * still held by that node incarnation (a session that moved elsewhere is not this node's to end).
   */
  async release(userId: string, deviceId: string, sid: string, holder?: { node: string; boot: string }): Promise<boolean> {
    return (await this.#release(userId, deviceId, sid, holder, '')) === 1;
  }

  /**
   * A reaper's {@link release} of a device held by a node incarnation it saw last beat at
   * `seenBeat`: 'revived' (nothing deleted) when that node has beaten since — it was frozen, not
   * dead, and may already hold the device again.
   */
  async reap(userId: string, deviceId: string, sid: string, holder: { node: string; boot: string }, seenBeat: number): Promise<'released' | 'kept' | 'revived'> {
    const r = await this.#release(userId, deviceId, sid, holder, String(seenBeat));
    return r === 1 ? 'released' : r === 2 ? 'revived' : 'kept';
  }

  /** The RELEASE script: 1 deleted, 0 not this session's or holder's, 2 the holder beat after `seenBeat`. */
  #release(userId: string, deviceId: string, sid: string, holder: { node: string; boot: string } | undefined, seenBeat: string): Promise<number> {
    return this.#cmd.ocRelease(this.#user(userId), this.#prefix, deviceId, sid, memberOf(userId, deviceId), holder?.node ?? '', holder?.boot ?? '', seenBeat);
  }

  /** This node incarnation, for {@link release}. */
  get self(): { node: string; boot: string } {
    return { node: this.nodeId, boot: this.boot };
  }

  /** Moves a live entry of session `sid` to this node; returns the previous entry and the log's last seq. */
  async move(userId: string, deviceId: string, sid: string, multi: boolean | undefined): Promise<{ previous: DeviceEntry; seq: number } | null> {
    const r = await this.#cmd.ocMove(this.#user(userId), this.#prefix, deviceId, sid, this.nodeId, this.boot, memberOf(userId, deviceId), multi === undefined ? '' : multi ? '1' : '0');
    return r ? { previous: JSON.parse(r[0]) as DeviceEntry, seq: Number(r[1]) } : null;
  }

  /** Sets the multi-device opt-in of session `sid`. */
  async setMulti(userId: string, deviceId: string, sid: string, multi: boolean): Promise<void> {
    await this.#cmd.ocSetMulti(this.#user(userId), deviceId, sid, multi ? '1' : '0');
  }

  /** Appends an event (or, with `close`, a close marker) to a device's log and routes it. */
  async append(userId: string, deviceId: string, eventJson: string, close?: number): Promise<Appended | null> {
    const r = await this.#cmd.ocAppend(this.#user(userId), this.#prefix, deviceId, eventJson, this.nodeId, close === undefined ? '' : String(close), String(REPLAY_LENGTH));
    if (r.length === 0) return null;
    return { seq: Number(r[0]), node: r[1], sid: r[2], frame: r[3] };
  }

  /** Log items of session `sid` with seq > `after`, oldest first, and whether the log still reaches back that far. */
  async since(sid: string, after: number): Promise<{ complete: boolean; items: LogItem[] }> {
    const key = `${this.#prefix}s:${sid}:log`;
    const rows = await this.#cmd.xrange(key, `${after + 1}-0`, '+');
    const items: LogItem[] = rows.map(([id, fields]) => {
      const seq = Number(id.split('-')[0]);
      return fields[0] === 'f' ? { seq, frame: fields[1]! } : { seq, close: Number(fields[1]) };
    });
    if (items.length > 0 && items[0]!.seq === after + 1) return { complete: true, items };
    if (items.length === 0) {
      // Nothing after `after`: complete only when the counter agrees nothing was appended since.
      const n = Number((await this.#cmd.get(`${this.#prefix}s:${sid}:n`)) ?? '0');
      return { complete: n === after, items };
    }
    return { complete: false, items };
  }

  /** Records a beat of this node incarnation (liveness key with a TTL, plus the beat set). */
  async beat(now: number, ttlMs: number): Promise<void> {
    await this.#cmd
      .multi()
      .set(`${this.#prefix}node:${this.nodeId}`, this.boot, 'PX', ttlMs)
      .zadd(`${this.#prefix}nodes`, now, `${this.nodeId}|${this.boot}`)
      .exec();
  }

  /** Every known node incarnation with its last beat. */
  async incarnations(): Promise<NodeInfo[]> {
    const r = await this.#cmd.zrange(`${this.#prefix}nodes`, 0, -1, 'WITHSCORES');
    const out: NodeInfo[] = [];
    for (let i = 0; i + 1 < r.length; i += 2) {
      const [nodeId, boot] = r[i]!.split('|') as [string, string];
      out.push({ nodeId, boot, lastBeat: Number(r[i + 1]) });
    }
    return out;
  }

  /** Devices registered on a node incarnation. */
  async devicesOn(node: string, boot: string): Promise<{ userId: string; deviceId: string }[]> {
    const members = await this.#cmd.smembers(this.#nodeSet(node, boot));
    return members.map((m) => {
      const [userId, deviceId] = m.split('\n') as [string, string];
      return { userId, deviceId };
    });
  }

  /** Forgets a reaped incarnation. */
  async forget(node: string, boot: string): Promise<void> {
    await this.#cmd.multi().del(this.#nodeSet(node, boot)).zrem(`${this.#prefix}nodes`, `${node}|${boot}`).exec();
  }

  /** Takes a short exclusive lock (SET NX PX); true when taken. */
  async lock(name: string, ttlMs: number): Promise<boolean> {
    return (await this.#cmd.set(`${this.#prefix}lock:${name}`, this.boot, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Finds the media owner of a call, taking it for this node when free (or renewing it when held). */
  async ownMedia(callId: string, ttlMs: number): Promise<MediaOwner> {
    const me = `${this.nodeId}|${this.boot}`;
    const [holder, n] = await this.#cmd.ocMediaOwn(`${this.#prefix}mo:${callId}`, `${this.#prefix}mo:${callId}:n`, me, String(ttlMs), `${this.nodeId}|`);
    return { node: holder.split('|')[0]!, self: holder === me, claimed: Number(n) };
  }

  /** The node holding a call's media, or null (reads only). */
  async mediaHolder(callId: string): Promise<string | null> {
    const v = await this.#cmd.get(`${this.#prefix}mo:${callId}`);
    return v ? v.split('|')[0]! : null;
  }

  /** Gives up a call's media ownership if held; `ended` also forgets its claim count. */
  async releaseMedia(callId: string, ended: boolean): Promise<void> {
    await this.#cmd.ocMediaRelease(`${this.#prefix}mo:${callId}`, `${this.#prefix}mo:${callId}:n`, `${this.nodeId}|${this.boot}`, ended ? '1' : '0');
  }

  /** Drops both connections at once and stops their reconnecting (a start that gave up). */
  abort(): void {
    this.#handler = null;
    this.#sub.disconnect();
    this.#cmd.disconnect();
  }

  /** Deletes this node's keys of a clean shutdown and closes both connections. */
  async close(): Promise<void> {
    this.#handler = null;
    await Promise.allSettled([this.#sub.quit(), this.#cmd.quit()]);
  }
}
