/**
 * The SFU side of calls: one Janus room per multi/group call; every connected participant
 * publishes once (`pc: 'pub'`) and gets one multistream subscriber (`pc: 'sub'`) that this class
 * keeps subscribed to every other participant's published feed. Clients exchange SDP/ICE with the
 * signaling server only; the relay hands their `to: 'sfu'` signals to {@link SfuCalls.handle}.
 *
 * Subscriber renegotiations are strictly one at a time per participant: an update waits for the
 * answer to the previous offer (Janus refuses overlapping ones), and any feed change that happened
 * meanwhile is folded into the next update.
 */
import type { RelayedSignal } from '@opencall/protocol';
import type { FeedEvent, JanusSfu, SubscriberOffer } from './JanusSfu.js';
import type { SfuCandidate } from './sfuTypes.js';
import { errorFields } from './types.js';
import type { MediaLogger } from './types.js';

/** A client signal addressed to the SFU (the `signal` of a `media.signal` request with `to: 'sfu'`). */
export interface SfuSignal {
  kind: RelayedSignal['kind'];
  sdp?: string | undefined;
  candidate?: SfuCandidate | null | undefined;
  pc?: 'pub' | 'sub' | 'p2p' | undefined;
  fresh?: boolean | undefined;
}

/** What {@link SfuCalls} needs from the signaling layer. */
export interface SfuCallsDeps {
  sfu: JanusSfu;
  /** Delivers a signal `from: 'sfu'` to `userId`'s connected device in `callId`. */
  send(callId: string, userId: string, signal: RelayedSignal): void;
  /** Janus went away: these calls have no SFU any more (the relay moves them to a mesh). */
  lost(callIds: string[]): void;
  log: MediaLogger;
}

interface Subscriber {
  /** A subscriber handle exists in Janus. */
  open: boolean;
  /** Feeds asked for in the last subscribe/update. */
  feeds: Set<number>;
  /** An offer is out: the next update waits for its answer. */
  awaitingAnswer: boolean;
}

interface Member {
  sub: Subscriber;
  /** Operations of this participant, one at a time. */
  chain: Promise<void>;
}

interface SfuCall {
  ready: Promise<void>;
  members: Map<string, Member>;
}

const newSubscriber = (): Subscriber => ({ open: false, feeds: new Set(), awaitingAnswer: false });

/** SFU rooms and subscriptions of the server's calls. */
export class SfuCalls {
  readonly #d: SfuCallsDeps;
  readonly #calls = new Map<string, SfuCall>();

  constructor(deps: SfuCallsDeps) {
    this.#d = deps;
    const { sfu } = deps;
    sfu.on('feedPublished', (f) => this.#onFeedPublished(f));
    sfu.on('feedUnpublished', (f) => this.#onFeedUnpublished(f));
    sfu.on('subscriberOffer', (e) => this.#onSubscriberOffer(e.callId, e.userId, e.offer));
    sfu.on('hangup', (e) => deps.log.debug({ ...e }, 'sfu peer connection closed by janus'));
    sfu.on('disconnected', ({ callIds }) => {
      const lost = callIds.filter((id) => this.#calls.delete(id));
      if (lost.length > 0) deps.log.warn({ callIds: lost }, 'sfu: janus lost; these calls fall back to a mesh');
      if (lost.length > 0) deps.lost(lost);
    });
  }

  /** True when the SFU can take new calls now. */
  get available(): boolean {
    return this.#d.sfu.connected;
  }

  /** True when `callId` has a room. */
  has(callId: string): boolean {
    return this.#calls.has(callId);
  }

  /** Creates the call's room (idempotent); rejects when Janus refuses or is gone. */
  async open(callId: string): Promise<void> {
    let call = this.#calls.get(callId);
    if (!call) {
      const ready = this.#d.sfu.createRoom(callId).then(() => undefined);
      call = { ready, members: new Map() };
      this.#calls.set(callId, call);
      ready.catch(() => {
        if (this.#calls.get(callId) === call) this.#calls.delete(callId);
      });
    }
    await call.ready;
  }

  /** Destroys the call's room and forgets it. */
  async close(callId: string): Promise<void> {
    if (!this.#calls.delete(callId)) return;
    await this.#d.sfu.destroyRoom(callId).catch((err: unknown) => this.#d.log.warn({ callId, ...errorFields(err) }, 'sfu room destroy failed'));
  }

  /** `userId` is connected to the call through the SFU from now on (it will publish and be subscribed). */
  addMember(callId: string, userId: string): void {
    const call = this.#calls.get(callId);
    if (call && !call.members.has(userId)) call.members.set(userId, { sub: newSubscriber(), chain: Promise.resolve() });
  }

  /** `userId` left (or moved to another device): its publisher and subscriber go. */
  async removeMember(callId: string, userId: string): Promise<void> {
    const call = this.#calls.get(callId);
    const member = call?.members.get(userId);
    if (!call || !member) return;
    call.members.delete(userId);
    await member.chain;
    await this.#d.sfu.leave(callId, userId).catch((err: unknown) => this.#d.log.debug({ callId, userId, ...errorFields(err) }, 'sfu leave failed'));
  }

  /**
   * Handles a client's signal to the SFU. Offers resolve once Janus answered (the answer goes to
   * the client as a `media.signal` event first); candidates are queued and resolve at once.
   */
  async handle(callId: string, userId: string, signal: SfuSignal): Promise<void> {
    const call = this.#calls.get(callId);
    const member = call?.members.get(userId);
    if (!call || !member) throw new Error('not a participant of this call on the SFU');
    const { sfu } = this.#d;
    if (signal.kind === 'candidate') {
      if (signal.pc !== 'pub' && signal.pc !== 'sub') throw new Error('an SFU candidate needs pc: pub or sub');
      sfu.trickle(callId, userId, signal.pc, signal.candidate ?? null).catch((err: unknown) => this.#d.log.debug({ callId, userId, ...errorFields(err) }, 'sfu trickle failed'));
      return;
    }
    await this.#run(member, async () => {
      switch (signal.kind) {
        case 'offer': {
          if (signal.pc !== 'pub' || !signal.sdp) throw new Error('an SFU offer needs pc: pub and sdp');
          if (signal.fresh) {
            // A new publisher connection (the old one died): Janus can't renegotiate a closed
            // peer connection, so drop both handles and start over; the subscriber is rebuilt below.
            await sfu.leave(callId, userId);
            member.sub = newSubscriber();
          }
          const { answerSdp } = await sfu.publish(callId, userId, signal.sdp);
          this.#d.send(callId, userId, { kind: 'answer', pc: 'pub', sdp: answerSdp });
          if (signal.fresh) await this.#sync(callId, userId, member);
          return;
        }
        case 'answer': {
          if (signal.pc !== 'sub' || !signal.sdp) throw new Error('an SFU answer needs pc: sub and sdp');
          member.sub.awaitingAnswer = false;
          await sfu.startSubscriber(callId, userId, signal.sdp);
          await this.#sync(callId, userId, member);
          return;
        }
        case 'subscribe':
          // The client's subscriber connection failed: build a fresh one with every current feed.
          await sfu.closeSubscriber(callId, userId);
          member.sub = newSubscriber();
          await this.#sync(callId, userId, member);
          return;
        case 'leave':
          await sfu.leave(callId, userId);
          member.sub = newSubscriber();
          return;
        default:
          throw new Error(`the SFU does not take '${signal.kind}' signals`);
      }
    });
  }

  /** Runs `op` after the member's previous operation. */
  #run(member: Member, op: () => Promise<void>): Promise<void> {
    const run = member.chain.then(op);
    member.chain = run.catch(() => undefined);
    return run;
  }

  /** Brings `userId`'s subscription in line with the published feeds of the others (one offer at a time). */
  async #sync(callId: string, userId: string, member: Member): Promise<void> {
    const sub = member.sub;
    if (sub.awaitingAnswer || this.#calls.get(callId)?.members.get(userId) !== member) return;
    const { sfu } = this.#d;
    const want = sfu.feeds(callId).filter((f) => f.userId !== userId).map((f) => f.feedId);
    let offer: SubscriberOffer | null;
    let fresh = false;
    if (!sub.open) {
      if (want.length === 0) return;
      offer = await sfu.subscribe(callId, userId, want);
      sub.open = true;
      fresh = true;
    } else {
      const add = want.filter((f) => !sub.feeds.has(f));
      const remove = [...sub.feeds].filter((f) => !want.includes(f));
      if (add.length + remove.length === 0) return;
      offer = await sfu.updateSubscription(callId, userId, add, remove);
    }
    sub.feeds = new Set(want);
    if (!offer) return;
    sub.awaitingAnswer = true;
    this.#sendOffer(callId, userId, offer, fresh);
  }

  #sendOffer(callId: string, userId: string, offer: SubscriberOffer, fresh: boolean): void {
    const streams = offer.streams.map((s) => ({ mid: s.mid, kind: s.kind, userId: s.userId, feed: s.feedId }));
    this.#d.send(callId, userId, { kind: 'offer', pc: 'sub', sdp: offer.sdp, streams, ...(fresh ? { fresh: true } : {}) });
  }

  #onFeedPublished(f: FeedEvent): void {
    const call = this.#calls.get(f.callId);
    if (!call) return;
    for (const [userId, member] of call.members) {
      if (userId === f.userId) continue;
      this.#run(member, () => this.#sync(f.callId, userId, member)).catch((err: unknown) =>
        this.#d.log.warn({ callId: f.callId, userId, ...errorFields(err) }, 'sfu subscribe failed'),
      );
    }
  }

  #onFeedUnpublished(f: FeedEvent): void {
    // Janus removes the feed from every subscriber itself and renegotiates them (subscriberOffer).
    this.#calls.get(f.callId)?.members.forEach((m) => m.sub.feeds.delete(f.feedId));
  }

  #onSubscriberOffer(callId: string, userId: string, offer: SubscriberOffer): void {
    const member = this.#calls.get(callId)?.members.get(userId);
    if (!member) return;
    member.sub.awaitingAnswer = true;
    this.#sendOffer(callId, userId, offer, false);
  }
}
