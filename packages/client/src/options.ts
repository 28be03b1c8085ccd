/**
 * Options of `new CallEngine(options)`. Everything but `serverUrl` and `sdkAppId` has a default in
 * defaults.ts; options are validated once in the constructor and then frozen.
 * @packageDocumentation
 */
import type { MediaAdapter } from './media/MediaAdapter.js';

/**
 * A WHATWG-compatible WebSocket class (`globalThis.WebSocket`, or `WebSocket` from the `ws`
 * package). Only `new (url)`, `send`, `close`, `readyState` and the `on*` handlers are used.
 */
export type WebSocketConstructor = new (url: string) => object;

/** Where the engine writes its diagnostics. Debug lines carry ids only, never sigs or payloads. */
export interface Logger {
  /** Every event and request, ids only. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Recoverable trouble (a dropped connection, an unreadable frame). */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Failures the application should know about. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of the {@link CallEngine} constructor. */
export interface CallEngineOptions {
  /**
   * The server's `http(s)://host:port` URL; the signaling socket is `ws(s)://host:port/ws`. A list
   * names several nodes of one cluster: the engine starts at a random one and fails over to the
   * next when a connection cannot be made or is lost (SPEC §8).
   */
  serverUrl: string | readonly string[];
  /** App id checked in every UserSig. */
  sdkAppId: number;
  /**
   * Media implementation. Without one the engine runs signaling only: media methods resolve
   * without effect and no media events fire (bots, load tests, servers).
   */
  media?: MediaAdapter;
  /** WebSocket class; default `globalThis.WebSocket`, else the `ws` package (Node). */
  WebSocket?: WebSocketConstructor;
  /** This engine instance's device id (`[A-Za-z0-9_-]{4,64}`); generated once per instance when absent. */
  deviceId?: string;
  /** How long a request waits for its response before rejecting with -1401. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** How long a request made while reconnecting waits for the connection. Default 15 000 ms. */
  reconnectWaitMs?: number;
  /** First reconnection delay; doubles per attempt (with jitter). Default 100 ms. */
  reconnectInitialDelayMs?: number;
  /** Largest reconnection delay. Default 5 000 ms. */
  reconnectMaxDelayMs?: number;
  /** Diagnostics sink; default: debug silenced, warnings and errors to the console. */
  logger?: Partial<Logger>;
}

/** Options after defaults, as the engine uses them. */
export interface ResolvedOptions {
  /** `serverUrl` as a list (one entry when a single URL was given). */
  readonly serverUrls: readonly string[];
  /** The `ws(s)://…/ws` URLs derived from `serverUrls`, in the same order. */
  readonly signalingUrls: readonly string[];
  readonly sdkAppId: number;
  readonly media: MediaAdapter | undefined;
  readonly WebSocket: WebSocketConstructor | undefined;
  readonly deviceId: string;
  readonly requestTimeoutMs: number;
  readonly reconnectWaitMs: number;
  readonly reconnectInitialDelayMs: number;
  readonly reconnectMaxDelayMs: number;
  readonly logger: Logger;
}
