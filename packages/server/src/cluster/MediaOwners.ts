/**
 * Group media across nodes (SPEC §8): one **media owner** node per call runs the call's media
 * state and its SFU room, so every participant publishes to the same Janus room whichever node
 * its socket is on. The owner is elected in Redis (a key per call taken with SET NX semantics and
 * a short TTL the owner renews each beat); the other nodes route to it through its inbox: commit
 * notices (the owner reloads the call from storage), devices' SFU signals (acknowledged, so the
 * device's request still fails or succeeds as on one node) and microphone/camera states. Answers
 * and topology go back to devices through the device logs, which reach any node.
 *
 * A node watches every call it routed something for: when the owner's key lapses (the node or its
 * Redis link died), the next watcher beat takes the call over and its host re-creates the room.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { SfuSignal } from '../media/SfuCalls.js';
import type { ClusterLink } from './ClusterLink.js';
import type { MediaOwner } from './redis/RedisLive.js';
import type { NodeMessage } from './types.js';

/** What the owner side needs from the media relay. */
export interface MediaOwnerHost {
  /** Calls whose media this node runs now. */
  ownedCalls(): string[];
  /** Another node holds the call now (this one lost its key): forget it without a word to devices. */
  dropCall(callId: string): void;
  /** This node just took the call (`claimed` > 1: a takeover; devices publish again). */
  takeUp(callId: string, claimed: number): Promise<void>;
  /** A commit on another node changed the call. */
  remoteCommit(callId: string): void;
  /** A device's SFU signal arriving from another node; rejects with the refusal's message. */
  remoteSignal(callId: string, userId: string, signal: SfuSignal): Promise<void>;
  /** A device's availability arriving from another node. */
  remoteState(callId: string, userId: string, audio: boolean, video: boolean): void;
}

/** Construction parameters. */
export interface MediaOwnersOptions {
  link: ClusterLink;
  log: Logger;
  /** Owner key TTL (default 3000 ms): a dead owner's calls are taken over within about this. */
  ttlMs?: number;
  /** Renew/watch period (default 1000 ms). */
  beatMs?: number;
  /** How long a forwarded SFU signal waits for the owner's answer (default 5000 ms). */
  signalTimeoutMs?: number;
}

interface Pending {
  resolve(): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** This node's side of media ownership. */
export class MediaOwners {
  readonly #o: MediaOwnersOptions;
  readonly #ttlMs: number;
  readonly #watched = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  #host: MediaOwnerHost | null = null;
  #timer: NodeJS.Timeout | null = null;
  #seq = 0;
  readonly #idPrefix = randomBytes(4).toString('hex');

  constructor(o: MediaOwnersOptions) {
    this.#o = o;
    this.#ttlMs = o.ttlMs ?? 3000;
  }

  /** This node's id. */
  get nodeId(): string {
    return this.#o.link.nodeId;
  }

  /** Starts serving `host`: inbox messages and the renew/watch beat. */
  attach(host: MediaOwnerHost): void {
    this.#host = host;
    this.#o.link.onMessage((m) => this.#onMessage(m));
    this.#timer = setInterval(() => void this.#beat(), this.#o.beatMs ?? 1000);
    this.#timer.unref();
  }

  /** The call's owner, taking the call for this node when nobody holds it; the call is watched from now on. */
  async own(callId: string): Promise<MediaOwner> {
    this.#watched.add(callId);
    return this.#o.link.live.ownMedia(callId, this.#ttlMs);
  }

  /** The node holding the call's media now, or null (never claims). */
  holder(callId: string): Promise<string | null> {
    return this.#o.link.live.mediaHolder(callId);
  }

  /** Gives the call up (`ended`: and stops watching it). */
  async release(callId: string, ended: boolean): Promise<void> {
    if (ended) this.#watched.delete(callId);
    await this.#o.link.live.releaseMedia(callId, ended);
  }

  /** Stops watching a call (it ended). */
  forget(callId: string): void {
    this.#watched.delete(callId);
  }

  /** Tells the owner a commit changed the call. */
  async commit(node: string, callId: string): Promise<void> {
    await this.#o.link.live.publish(node, { t: 'm.commit', callId });
  }

  /** Tells the owner a device's availability. */
  async state(node: string, callId: string, userId: string, audio: boolean, video: boolean): Promise<void> {
    await this.#o.link.live.publish(node, { t: 'm.state', callId, userId, audio, video });
  }

  /** Hands a device's SFU signal to the owner; settles with the owner's answer (or rejects after the timeout). */
  signal(node: string, callId: string, userId: string, signal: SfuSignal): Promise<void> {
    const id = `${this.#idPrefix}.${++this.#seq}`;
    const timeoutMs = this.#o.signalTimeoutMs ?? 5000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`the call's media node ${node} did not answer`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#o.link.live.publish(node, { t: 'm.sfu', id, from: this.nodeId, callId, userId, signal }).catch((err: unknown) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  }

  /** Stops the beat; pending signals fail. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#host = null;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('node shutting down'));
    }
    this.#pending.clear();
  }

  #onMessage(m: NodeMessage): void {
    const host = this.#host;
    if (!host) return;
    switch (m.t) {
      case 'm.commit':
        this.#watched.add(m.callId);
        host.remoteCommit(m.callId);
        return;
      case 'm.state':
        host.remoteState(m.callId, m.userId, m.audio, m.video);
        return;
      case 'm.sfu':
        this.#watched.add(m.callId);
        host.remoteSignal(m.callId, m.userId, m.signal).then(
          () => this.#ack(m.from, m.id),
          (err: unknown) => this.#ack(m.from, m.id, err instanceof Error ? err.message : String(err)),
        );
        return;
      case 'm.ack': {
        const p = this.#pending.get(m.id);
        if (!p) return;
        this.#pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error === undefined) p.resolve();
        else p.reject(new Error(m.error));
        return;
      }
      default:
    }
  }

  #ack(node: string, id: string, error?: string): void {
    this.#o.link.live.publish(node, { t: 'm.ack', id, ...(error === undefined ? {} : { error }) }).catch((err: unknown) => this.#o.log.warn({ err, node }, 'media ack not sent'));
  }

  /** Renews the calls this node owns; takes over watched calls whose owner's key lapsed. */
  async #beat(): Promise<void> {
    const host = this.#host;
    if (!host) return;
    const owned = new Set(host.ownedCalls());
    for (const callId of new Set([...owned, ...this.#watched])) {
      try {
        const o = await this.#o.link.live.ownMedia(callId, this.#ttlMs);
        if (owned.has(callId) && !o.self) host.dropCall(callId);
        else if (!owned.has(callId) && o.self && o.claimed > 0) await host.takeUp(callId, o.claimed);
      } catch (err) {
        this.#o.log.warn({ err, callId }, 'media owner beat failed');
      }
    }
  }
}
