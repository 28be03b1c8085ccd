/** Public types of the SFU driver (JanusSfu): options, events and what it hands the signaling layer. */
import type { MediaLogger } from './types.js';

/** Options of {@link JanusSfu}. */
export interface JanusSfuOptions {
  logger?: MediaLogger;
  /** VideoRoom `admin_key` (required by a Janus that JanusProcess started: `janusProcess.adminKey`). */
  adminKey?: string;
  /** Janus `api_secret` (a JanusProcess's `apiSecret`, or the one an existing Janus is configured with). */
  apiSecret?: string;
  /** Publisher bitrate cap in bit/s, sent to publishers as REMB. Default 768 000. */
  bitrate?: number;
  /** Max publishers per room. Default 16. */
  maxPublishers?: number;
  /** Timeout for each Janus request. Default 10 000 ms (janode has none). */
  requestTimeoutMs?: number;
  /** Retry the same URL with backoff after the connection drops. Default true. */
  reconnect?: boolean;
}

/** Which of a participant's two peer connections a signal belongs to. */
export type SfuPc = 'pub' | 'sub';

/** A browser-style ICE candidate (`RTCIceCandidateInit`). */
export interface SfuCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A feed (one participant's published media) of a call. */
export interface FeedEvent {
  callId: string;
  userId: string;
  feedId: number;
}

/** One m-line of a subscriber peer connection: which user's audio or video arrives on `mid`. */
export interface SubscribedStream {
  mid: string;
  kind: 'audio' | 'video' | 'data';
  feedId: number;
  userId: string;
}

/** A subscriber offer from Janus plus its mid → user map (the client needs it to label tracks). */
export interface SubscriberOffer {
  sdp: string;
  streams: SubscribedStream[];
}

/** Events of {@link JanusSfu}. */
export interface JanusSfuEvents {
  /** The publisher's connection to Janus is up (`webrtcup`): others may subscribe to `feedId` now. */
  feedPublished: [FeedEvent];
  /** The feed is gone (hangup, leave, ICE failure). */
  feedUnpublished: [FeedEvent];
  /** Janus renegotiated a subscriber by itself (a publisher left): relay to the client, answer via `startSubscriber`. */
  subscriberOffer: [{ callId: string; userId: string; offer: SubscriberOffer }];
  /** A peer connection to Janus closed (`reason` from Janus, e.g. "DTLS alert", "ICE failed"). */
  hangup: [{ callId: string; userId: string; pc: SfuPc; reason: string }];
  /** Janus connection lost; every room listed is gone (Janus restarts, or the WebSocket dropped). */
  disconnected: [{ callIds: string[]; error: string }];
  /** Connected (again) to `url`: rooms must be recreated and clients must publish anew. */
  connected: [{ url: string }];
}
