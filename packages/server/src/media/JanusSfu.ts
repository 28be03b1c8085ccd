/**
 * SFU driver: one Janus VideoRoom per call, driven over janode. Per participant a publisher handle
 * (their upstream peer connection, 'pub') and one multistream subscriber handle (every remote
 * feed on one downstream peer connection, 'sub'). Clients never reach Janus: the signaling server
 * relays SDP/ICE between them and this driver.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { loadJanode, setJanodeLogger } from './janode.js';
import type { JanodeConnection, JanodeModule, JanodeSession, JanusCandidate, JanusSubStream, Jsep, VideoRoomHandle, VideoRoomPluginDescriptor } from './janodeTypes.js';
import type { FeedEvent, JanusSfuEvents, JanusSfuOptions, SfuCandidate, SfuPc, SubscribedStream, SubscriberOffer } from './sfuTypes.js';
import { errorFields, silentLogger, withTimeout } from './types.js';
import type { MediaLogger } from './types.js';

export type { FeedEvent, JanusSfuEvents, JanusSfuOptions, SfuCandidate, SfuPc, SubscribedStream, SubscriberOffer } from './sfuTypes.js';

interface Participant {
  userId: string;
  pub: VideoRoomHandle | null;
  feedId: number | null;
  published: boolean;
  sub: VideoRoomHandle | null;
  subFeeds: Set<number>;
  chain: Record<SfuPc, Promise<unknown>>;
}

interface Room {
  callId: string;
  roomId: number;
  secret: string;
  participants: Map<string, Participant>;
  /** Settles when Janus has created the room: operations on it wait for this. */
  ready: Promise<void>;
}

function toStreams(list: JanusSubStream[] | undefined): SubscribedStream[] {
  return (list ?? [])
    .filter((s) => s.active !== false && typeof s.feed_id === 'number')
    .map((s) => ({ mid: s.mid, kind: s.type, feedId: s.feed_id!, userId: s.feed_display ?? '' }));
}

/** Janus VideoRoom driver (see the module comment and the integration notes in the report). */
export class JanusSfu extends EventEmitter<JanusSfuEvents> {
  readonly #log: MediaLogger;
  readonly #opts: Required<Omit<JanusSfuOptions, 'logger' | 'adminKey' | 'apiSecret'>> & { adminKey?: string; apiSecret?: string };
  #mods: { J: JanodeModule; VR: VideoRoomPluginDescriptor } | null = null;
  #conn: JanodeConnection | null = null;
  #session: JanodeSession | null = null;
  #manager: VideoRoomHandle | null = null;
  #url: string | null = null;
  #generation = 0;
  #closed = false;
  #retryTimer: NodeJS.Timeout | null = null;
  readonly #rooms = new Map<string, Room>();

  constructor(options: JanusSfuOptions = {}) {
    super();
    this.#log = options.logger ?? silentLogger;
    this.#opts = {
      bitrate: options.bitrate ?? 768_000,
      maxPublishers: options.maxPublishers ?? 16,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      reconnect: options.reconnect ?? true,
      ...(options.adminKey === undefined ? {} : { adminKey: options.adminKey }),
      ...(options.apiSecret === undefined ? {} : { apiSecret: options.apiSecret }),
    };
  }

  /** True while a Janus session is open. */
  get connected(): boolean {
    return this.#manager !== null;
  }

  /** Connects (or reconnects, e.g. after JanusProcess 'restarted') to the Janus WebSocket API at `url`. */
  async connect(url: string): Promise<void> {
    this.#closed = false;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    const gen = ++this.#generation; // first: the old connection's close must not count as a loss
    if (this.#conn) await this.#dropConnection();
    this.#url = url;
    setJanodeLogger(this.#log);
    this.#mods ??= await loadJanode();
    const { J, VR } = this.#mods;
    const address = this.#opts.apiSecret === undefined ? { url } : { url, apisecret: this.#opts.apiSecret };
    const conn = await J.connect({ address, retry_time_secs: 1, max_retries: 0 });
    const lost = (error: unknown): void => {
      if (gen === this.#generation && this.#conn === conn) this.#onLost(error instanceof Error ? error.message : 'connection closed');
    };
    conn.once(J.EVENT.CONNECTION_ERROR, lost);
    conn.once(J.EVENT.CONNECTION_CLOSED, lost);
    try {
      const session = await withTimeout(conn.create(), this.#opts.requestTimeoutMs, 'create session');
      const manager = await withTimeout(session.attach(VR), this.#opts.requestTimeoutMs, 'attach');
      if (gen !== this.#generation) throw new Error('superseded by another connect()');
      [this.#conn, this.#session, this.#manager] = [conn, session, manager];
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw err;
    }
    this.#log.info({ url }, 'sfu connected to janus');
    this.emit('connected', { url });
  }

  /** Destroys every room (best effort) and closes the connection; no reconnect afterwards. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await Promise.all([...this.#rooms.keys()].map((id) => this.destroyRoom(id).catch(() => undefined)));
    this.#generation++;
    await this.#dropConnection();
  }

  /** Creates the VideoRoom of a call (random id and secret, bitrate cap). Idempotent; returns the room id. */
  async createRoom(callId: string): Promise<number> {
    const existing = this.#rooms.get(callId);
    if (existing) {
      await existing.ready;
      return existing.roomId;
    }
    const manager = this.#need();
    const roomId = randomInt(1, 2 ** 47);
    const secret = randomBytes(16).toString('hex');
    const ready = this.#req(
      manager.create({
        room: roomId,
        description: callId.slice(0, 120),
        max_publishers: this.#opts.maxPublishers,
        is_private: true,
        permanent: false,
        secret,
        bitrate: this.#opts.bitrate,
        bitrate_cap: true,
        fir_freq: 10,
        notify_joining: false,
        ...(this.#opts.adminKey === undefined ? {} : { admin_key: this.#opts.adminKey }),
      }),
      'create room',
    ).then(() => undefined);
    const room: Room = { callId, roomId, secret, participants: new Map(), ready };
    this.#rooms.set(callId, room); // at once: a concurrent createRoom/publish waits for `ready`
    try {
      await ready;
    } catch (err) {
      if (this.#rooms.get(callId) === room) this.#rooms.delete(callId);
      throw err;
    }
    this.#log.debug({ callId, roomId: room.roomId }, 'sfu room created');
    return room.roomId;
  }

  /** Detaches every handle of the call and destroys its room. No feedUnpublished events. */
  async destroyRoom(callId: string): Promise<void> {
    const room = this.#rooms.get(callId);
    if (!room) return;
    this.#rooms.delete(callId);
    await Promise.all([...room.participants.values()].map((p) => this.#detachAll(callId, p, false)));
    if (!this.#manager) return;
    await this.#req(this.#manager.destroy({ room: room.roomId, secret: room.secret }), 'destroy room').catch((err: unknown) =>
      this.#log.warn({ callId, ...errorFields(err) }, 'sfu room destroy failed'),
    );
  }

  /** The Janus room id of a call, if it has one. */
  roomId(callId: string): number | undefined {
    return this.#rooms.get(callId)?.roomId;
  }

  /** Feeds of a call whose publisher connection is up (what a late joiner subscribes to). */
  feeds(callId: string): FeedEvent[] {
    const room = this.#rooms.get(callId);
    if (!room) return [];
    return [...room.participants.values()].filter((p) => p.published && p.feedId !== null).map((p) => ({ callId, userId: p.userId, feedId: p.feedId! }));
  }

  /** Participants as Janus itself lists them (proves who is really in the room). */
  async listParticipants(callId: string): Promise<Array<{ feedId: number; userId: string; publisher: boolean }>> {
    const room = this.#room(callId);
    const res = await this.#req(this.#need().listParticipants({ room: room.roomId, secret: room.secret }), 'listparticipants');
    return res.participants.map((p) => ({ feedId: p.feed, userId: p.display ?? '', publisher: p.publisher }));
  }

  /** Joins `userId` as publisher (display = userId) with the client's offer; re-offers reconfigure. */
  async publish(callId: string, userId: string, offerSdp: string): Promise<{ answerSdp: string; feedId: number }> {
    return this.#queue(callId, userId, 'pub', async (room, p) => {
      const jsep: Jsep = { type: 'offer', sdp: offerSdp };
      if (p.pub && p.feedId !== null) {
        const res = await this.#req(p.pub.configure({ jsep }), 'configure');
        if (!res.jsep) throw new Error('janus gave no answer to the publisher re-offer');
        return { answerSdp: res.jsep.sdp, feedId: p.feedId };
      }
      const handle = p.pub ?? (await this.#attach(callId, p, 'pub'));
      const res = await this.#req(handle.joinConfigurePublisher({ room: room.roomId, display: userId, jsep }), 'joinandconfigure');
      if (!res.jsep) throw new Error('janus gave no answer to the publisher offer');
      p.feedId = res.feed;
      return { answerSdp: res.jsep.sdp, feedId: res.feed };
    });
  }

  /** Opens `userId`'s subscriber connection to `feedIds`; returns Janus's offer (answer with startSubscriber). */
  async subscribe(callId: string, userId: string, feedIds: number[]): Promise<SubscriberOffer> {
    return this.#queue(callId, userId, 'sub', async (room, p) => {
      if (p.sub) {
        const offer = await this.#update(p, feedIds, []);
        if (!offer) throw new Error('already subscribed to those feeds');
        return offer;
      }
      const handle = await this.#attach(callId, p, 'sub');
      const res = await this.#req(handle.joinSubscriber({ room: room.roomId, streams: feedIds.map((feed) => ({ feed })), use_msid: true }), 'join subscriber');
      if (!res.jsep) throw new Error('janus gave no subscriber offer');
      feedIds.forEach((f) => p.subFeeds.add(f));
      return { sdp: res.jsep.sdp, streams: toStreams(res.streams) };
    });
  }

  /** Sends the client's answer to a subscriber offer (the first one, or any renegotiation). */
  async startSubscriber(callId: string, userId: string, answerSdp: string): Promise<void> {
    return this.#queue(callId, userId, 'sub', async (_room, p) => {
      if (!p.sub) throw new Error('no subscriber connection to start');
      await this.#req(p.sub.start({ jsep: { type: 'answer', sdp: answerSdp } }), 'start');
    });
  }

  /** Adds/removes feeds on the subscriber; returns the renegotiation offer, or null when nothing changed. */
  async updateSubscription(callId: string, userId: string, addFeeds: number[], removeFeeds: number[]): Promise<SubscriberOffer | null> {
    return this.#queue(callId, userId, 'sub', async (room, p) => {
      if (!p.sub) {
        if (addFeeds.length === 0) return null;
        const handle = await this.#attach(callId, p, 'sub');
        const res = await this.#req(handle.joinSubscriber({ room: room.roomId, streams: addFeeds.map((feed) => ({ feed })), use_msid: true }), 'join subscriber');
        addFeeds.forEach((f) => p.subFeeds.add(f));
        return res.jsep ? { sdp: res.jsep.sdp, streams: toStreams(res.streams) } : null;
      }
      return this.#update(p, addFeeds, removeFeeds);
    });
  }

  /** Forwards a client ICE candidate (null = end of candidates) to the publisher or subscriber handle. */
  async trickle(callId: string, userId: string, pc: SfuPc, candidate: SfuCandidate | null): Promise<void> {
    return this.#queue(callId, userId, pc, async (_room, p) => {
      const handle = pc === 'pub' ? p.pub : p.sub;
      if (!handle) {
        this.#log.debug({ callId, userId, pc }, 'sfu trickle before offer; dropped');
        return;
      }
      const c: JanusCandidate | null = candidate && { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? null, sdpMLineIndex: candidate.sdpMLineIndex ?? null };
      await this.#req(c ? handle.trickle(c) : handle.trickleComplete(), 'trickle');
    });
  }

  /**
   * Drops `userId`'s subscriber connection (e.g. after a 'hangup' on 'sub', or the client closed
   * it); the next subscribe/updateSubscription builds a fresh one.
   */
  async closeSubscriber(callId: string, userId: string): Promise<void> {
    await this.#queue(callId, userId, 'sub', async (_room, p) => {
      const h = p.sub;
      [p.sub, p.subFeeds] = [null, new Set()];
      if (h) await this.#req(h.detach(), 'detach').catch((err: unknown) => this.#log.debug({ callId, ...errorFields(err) }, 'sfu detach failed'));
    });
  }

  /** Detaches both handles of `userId` (Janus tells subscribers; feedUnpublished is emitted). */
  async leave(callId: string, userId: string): Promise<void> {
    const p = this.#rooms.get(callId)?.participants.get(userId);
    if (!p) return;
    this.#rooms.get(callId)?.participants.delete(userId);
    await Promise.allSettled([p.chain.pub, p.chain.sub]);
    await this.#detachAll(callId, p, true);
  }

  async #update(p: Participant, add: number[], remove: number[]): Promise<SubscriberOffer | null> {
    const subscribe = add.filter((f) => !p.subFeeds.has(f)).map((feed) => ({ feed }));
    const unsubscribe = remove.filter((f) => p.subFeeds.has(f)).map((feed) => ({ feed }));
    if (subscribe.length + unsubscribe.length === 0) return null;
    // Janus rejects an empty list (430 "Empty unsubscription list"): send only non-empty ones.
    const res = await this.#req(
      p.sub!.update({ ...(subscribe.length > 0 ? { subscribe } : {}), ...(unsubscribe.length > 0 ? { unsubscribe } : {}) }),
      'update',
    );
    add.forEach((f) => p.subFeeds.add(f));
    remove.forEach((f) => p.subFeeds.delete(f));
    return res.jsep ? { sdp: res.jsep.sdp, streams: toStreams(res.streams) } : null;
  }

  async #attach(callId: string, p: Participant, pc: SfuPc): Promise<VideoRoomHandle> {
    if (!this.#session || !this.#mods) throw new Error('sfu not connected');
    const { J, VR } = this.#mods;
    const h = await this.#req(this.#session.attach(VR), 'attach');
    const userId = p.userId;
    h.on(J.EVENT.HANDLE_HANGUP, (d: { reason?: string }) => {
      this.#log.debug({ callId, userId, pc, reason: d.reason }, 'sfu peer connection hung up');
      if (pc === 'pub') this.#unpublished(callId, p);
      this.emit('hangup', { callId, userId, pc, reason: d.reason ?? '' });
    });
    h.on(J.EVENT.HANDLE_ICE_FAILED, () => this.#log.warn({ callId, userId, pc }, 'sfu ICE failed'));
    if (pc === 'pub') {
      p.pub = h;
      h.on(J.EVENT.HANDLE_WEBRTCUP, () => {
        if (p.published || p.feedId === null || p.pub !== h) return;
        p.published = true;
        this.emit('feedPublished', { callId, userId, feedId: p.feedId });
      });
    } else {
      p.sub = h;
      h.on(VR.EVENT.VIDEOROOM_UPDATED, (d: { jsep?: Jsep; streams?: JanusSubStream[] }) => {
        if (!d.jsep || p.sub !== h) return;
        this.emit('subscriberOffer', { callId, userId, offer: { sdp: d.jsep.sdp, streams: toStreams(d.streams) } });
      });
    }
    h.on(VR.EVENT.VIDEOROOM_ERROR, (e: Error) => this.#log.warn({ callId, userId, pc, ...errorFields(e) }, 'sfu videoroom error'));
    return h;
  }

  #unpublished(callId: string, p: Participant): void {
    if (!p.published || p.feedId === null) return;
    p.published = false;
    // Janus drops an unpublished feed from every subscriber by itself (and sends them a
    // 'subscriberOffer'); forget it here too so a later re-publish is subscribed afresh.
    this.#rooms.get(callId)?.participants.forEach((o) => o.subFeeds.delete(p.feedId!));
    this.emit('feedUnpublished', { callId, userId: p.userId, feedId: p.feedId });
  }

  async #detachAll(callId: string, p: Participant, notify: boolean): Promise<void> {
    const handles = [p.pub, p.sub].filter((h): h is VideoRoomHandle => h !== null);
    if (notify) this.#unpublished(callId, p);
    p.published = false;
    [p.pub, p.sub] = [null, null];
    await Promise.all(handles.map((h) => this.#req(h.detach(), 'detach').catch((err: unknown) => this.#log.debug({ callId, ...errorFields(err) }, 'sfu detach failed'))));
  }

  /** Runs `op` after the previous operation on the same participant connection (offers, then trickles). */
  #queue<T>(callId: string, userId: string, pc: SfuPc, op: (room: Room, p: Participant) => Promise<T>): Promise<T> {
    const room = this.#room(callId);
    let p = room.participants.get(userId);
    if (!p) {
      p = { userId, pub: null, feedId: null, published: false, sub: null, subFeeds: new Set(), chain: { pub: Promise.resolve(), sub: Promise.resolve() } };
      room.participants.set(userId, p);
    }
    const part = p;
    const run = part.chain[pc]
      .then(() => room.ready)
      .then(() => {
        if (this.#rooms.get(callId) !== room || room.participants.get(userId) !== part) throw new Error('participant left the call or its sfu room is gone');
        return op(room, part);
      });
    part.chain[pc] = run.catch(() => undefined);
    return run;
  }

  #room(callId: string): Room {
    const room = this.#rooms.get(callId);
    if (!room) throw new Error(`no sfu room for call ${callId}`);
    return room;
  }

  #need(): VideoRoomHandle {
    if (!this.#manager) throw new Error('sfu not connected');
    return this.#manager;
  }

  #req<T>(p: Promise<T>, what: string): Promise<T> {
    return withTimeout(p, this.#opts.requestTimeoutMs, what);
  }

  #onLost(error: string): void {
    const callIds = [...this.#rooms.keys()];
    this.#rooms.clear();
    [this.#conn, this.#session, this.#manager] = [null, null, null];
    this.#generation++;
    this.#log.warn({ error, callIds }, 'sfu lost its janus connection');
    this.emit('disconnected', { callIds, error });
    if (this.#opts.reconnect && !this.#closed) this.#retry(0);
  }

  #retry(attempt: number): void {
    const delay = Math.min(5000, 250 * 2 ** attempt);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#closed || this.connected || !this.#url) return;
      this.connect(this.#url).catch((err: unknown) => {
        this.#log.debug({ attempt, ...errorFields(err) }, 'sfu reconnect failed');
        if (!this.#closed && !this.connected && !this.#retryTimer) this.#retry(attempt + 1);
      });
    }, delay);
  }

  async #dropConnection(): Promise<void> {
    const [conn, session] = [this.#conn, this.#session];
    [this.#conn, this.#session, this.#manager] = [null, null, null];
    this.#rooms.clear();
    if (session) await withTimeout(session.destroy(), 2000, 'destroy session').catch(() => undefined);
    if (conn) await withTimeout(conn.close(), 2000, 'close').catch(() => undefined);
  }
}
