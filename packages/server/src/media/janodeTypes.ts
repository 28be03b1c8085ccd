/**
 * Minimal types for the parts of janode 1.8 (untyped, ESM-only) that JanusSfu uses. Written from
 * node_modules/janode/src/{janode,connection,session,handle,plugins/videoroom-plugin}.js; the
 * import is cast to these once in JanusSfu.ts.
 */
import type { EventEmitter } from 'node:events';

/** A JSEP object as Janus sends/accepts it. */
export interface Jsep {
  type: 'offer' | 'answer';
  sdp: string;
  e2ee?: boolean;
}

/** An ICE candidate in Janus trickle form (`{ completed: true }` ends trickling). */
export interface JanusCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** One stream of a multistream subscription (`streams` of `attached` / `updated`). */
export interface JanusSubStream {
  mid: string;
  type: 'audio' | 'video' | 'data';
  active?: boolean;
  feed_id?: number;
  feed_mid?: string;
  feed_display?: string;
}

/** A publisher entry of `joined` / publisher-list events. */
export interface JanusPublisher {
  feed: number;
  display?: string;
}

/** Janode's VideoRoom handle (the subset used here). */
export interface VideoRoomHandle extends EventEmitter {
  readonly id: number;
  feed: number | null;
  room: number | null;
  detach(): Promise<void>;
  hangup(): Promise<unknown>;
  trickle(candidate: JanusCandidate | null): Promise<unknown>;
  trickleComplete(): Promise<unknown>;
  create(args: {
    room?: number;
    description?: string;
    max_publishers?: number;
    permanent?: boolean;
    is_private?: boolean;
    secret?: string;
    admin_key?: string;
    bitrate?: number;
    bitrate_cap?: boolean;
    fir_freq?: number;
    audiocodec?: string;
    videocodec?: string;
    notify_joining?: boolean;
  }): Promise<{ room: number; permanent?: boolean }>;
  destroy(args: { room: number; permanent?: boolean; secret?: string }): Promise<{ room: number }>;
  list(args?: { admin_key?: string }): Promise<{ list: Array<{ room: number; num_participants: number; description?: string }> }>;
  listParticipants(args: {
    room: number;
    secret?: string;
  }): Promise<{ room: number; participants: Array<{ feed: number; display?: string; publisher: boolean }> }>;
  joinConfigurePublisher(args: {
    room: number;
    display?: string;
    bitrate?: number;
    jsep: Jsep;
  }): Promise<{ room: number; feed: number; jsep?: Jsep; publishers: JanusPublisher[] }>;
  configure(args: { jsep?: Jsep; bitrate?: number; restart?: boolean; keyframe?: boolean }): Promise<{ jsep?: Jsep }>;
  joinSubscriber(args: {
    room: number;
    streams: Array<{ feed: number; mid?: string }>;
    autoupdate?: boolean;
    use_msid?: boolean;
  }): Promise<{ room: number; jsep?: Jsep; streams?: JanusSubStream[] }>;
  start(args: { jsep?: Jsep }): Promise<{ started: string }>;
  update(args: {
    subscribe?: Array<{ feed: number; mid?: string }>;
    unsubscribe?: Array<{ feed: number; mid?: string }>;
  }): Promise<{ jsep?: Jsep; streams?: JanusSubStream[] }>;
}

/** Janode's session. */
export interface JanodeSession extends EventEmitter {
  readonly id: number;
  attach(plugin: VideoRoomPluginDescriptor): Promise<VideoRoomHandle>;
  destroy(): Promise<void>;
}

/** Janode's connection. */
export interface JanodeConnection extends EventEmitter {
  create(kaIntervalSeconds?: number): Promise<JanodeSession>;
  close(): Promise<void>;
}

/** Janode's logger singleton (shared by every connection in the process). */
export interface JanodeLogger {
  setLevel(level: 'none' | 'error' | 'warning' | 'info' | 'verbose' | 'debug'): string;
  debug(...args: unknown[]): void;
  verbose(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warning(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** The default export of `janode`. */
export interface JanodeModule {
  connect(config: {
    address: { url: string; apisecret?: string } | Array<{ url: string; apisecret?: string }>;
    retry_time_secs?: number;
    max_retries?: number;
  }): Promise<JanodeConnection>;
  Logger: JanodeLogger;
  EVENT: {
    CONNECTION_CLOSED: 'connection_closed';
    SESSION_DESTROYED: 'session_destroyed';
    HANDLE_DETACHED: 'handle_detached';
    HANDLE_ICE_FAILED: 'handle_ice_failed';
    HANDLE_HANGUP: 'handle_hangup';
    HANDLE_MEDIA: 'handle_media';
    HANDLE_WEBRTCUP: 'handle_webrtcup';
    HANDLE_SLOWLINK: 'handle_slowlink';
    HANDLE_TRICKLE: 'handle_trickle';
    CONNECTION_ERROR: 'connection_error';
  };
}

/** The default export of `janode/plugins/videoroom`. */
export interface VideoRoomPluginDescriptor {
  id: string;
  EVENT: {
    VIDEOROOM_UPDATED: 'videoroom_updated';
    VIDEOROOM_UNPUBLISHED: 'videoroom_unpublished';
    VIDEOROOM_LEAVING: 'videoroom_leaving';
    VIDEOROOM_DESTROYED: 'videoroom_destroyed';
    VIDEOROOM_KICKED: 'videoroom_kicked';
    VIDEOROOM_ERROR: 'videoroom_error';
  };
}
