/**
 * The signaling connection: one WebSocket at a time, `auth`, request/response correlation,
 * heartbeats, reconnection with exponential backoff and session resume, and strictly ordered,
 * de-duplicated events. It knows nothing about calls; it reports what happens as typed events and
 * the engine decides what that means.
 *
 * Ordering: frames are handled synchronously in arrival order, so the events a request causes
 * (sent by the server before its response) are emitted before the request's promise settles.
 * @packageDocumentation
 */
import { ErrorCode, parseServerFrame } from '@opencall/protocol/wire';
import type { AuthResult, ClientMessageData, ClientMessageType, ServerEvent, ServerMessage } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';
import type { Logger, WebSocketConstructor } from '../options.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { RequestTracker } from './RequestTracker.js';
import { ProcessedEvents } from './eventIds.js';
import type { PendingRequest, RequestOptions } from './RequestTracker.js';
import { parseAuthResult } from './responses.js';
import { SOCKET_OPEN, closeQuietly, frameText, resolveWebSocket } from './socket.js';
import { ServerRotation } from './ServerRotation.js';
import { backoffDelay } from '../util/backoff.js';
import { utf8Length } from '../util/utf8.js';
import type { SocketLike } from './socket.js';

/** Close code the server uses when another sign-in replaced this device. */
export const KICKED_CLOSE_CODE = 4000;
/**
 * Close code of a server shutting down gracefully (or a load balancer draining it): the session
 * lives on in storage, so the first reconnection attempt goes out at once instead of after a backoff.
 */
const GOING_AWAY_CLOSE_CODE = 1001;
/** 1012 "service restart": a cluster node let go of its sockets (fenced); another node is ready now. */
const SERVICE_RESTART_CLOSE_CODE = 1012;
/** WebSocket close code for a frame over the server's hard size limit. */
const MESSAGE_TOO_BIG_CLOSE_CODE = 1009;

/** Who signs in. */
export interface Credentials {
  sdkAppId: number;
  userId: string;
  userSig: string;
  deviceId: string;
  /** Multi-device ringing opt-in, re-sent on every (re)connection. */
  multiDevice: boolean;
}

/** Options of a {@link SignalingClient}. */
export interface SignalingClientOptions {
  /** The `ws(s)://…/ws` URLs: one server, or several nodes of a cluster to fail over between. */
  urls: readonly string[];
  /** Picks the first URL of a list (default `Math.random`; tests fix it). */
  random?: () => number;
  WebSocket?: WebSocketConstructor | undefined;
  requestTimeoutMs: number;
  /** How long a request made while disconnected waits for the reconnection. */
  reconnectWaitMs: number;
  reconnectInitialDelayMs: number;
  reconnectMaxDelayMs: number;
  logger: Logger;
}

/** What the signaling client reports. */
export interface SignalingEvents {
  /** A new server event, in seq order, never twice. */
  event: { event: ServerEvent; seq: number };
  /** The socket dropped; reconnection has started. */
  disconnected: { code: number; reason: string };
  /** Reconnected and the session resumed: missed events follow, in-flight requests were re-sent. */
  resumed: { sessionId: string };
  /** Reconnected, but too late to resume: a new session; the old one's calls ended as offline. */
  sessionLost: { sessionId: string };
  /** The server closed with 4000: another sign-in replaced this device. The client is closed. */
  kicked: Record<string, never>;
  /** Reconnection was refused (e.g. the UserSig expired). The client is closed. */
  failed: { error: CallEngineError };
  /** A protocol error frame not tied to a request. */
  protocolError: { code: number; message: string };
}

/** Connection state. */
export type SignalingState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Server refusals that a retry cannot fix: stop reconnecting. */
function isFatal(err: unknown): err is CallEngineError {
  if (!(err instanceof CallEngineError)) return false;
  const retryable: number[] = [ErrorCode.SIGNALING_FAILED, ErrorCode.SERVER_UNAVAILABLE, ErrorCode.RATE_LIMITED];
  return !retryable.includes(err.code);
}

/** The signaling connection of one engine session. */
export class SignalingClient extends TypedEmitter<SignalingEvents> {
  readonly #o: SignalingClientOptions;
  readonly #requests = new RequestTracker();
  readonly #servers: ServerRotation;
  #state: SignalingState = 'idle';
  #Ctor: WebSocketConstructor | undefined;
  #ws: SocketLike | null = null;
  #creds: Credentials | undefined;
  #auth: AuthResult | null = null;
  #sessionId: string | null = null;
  /** Last event seq processed in the current session; the server's first seq is 1. */
  #lastSeq = 0;
  #lastFrameAt = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #sleepTimer: ReturnType<typeof setTimeout> | undefined;
  /** Call events processed, by id (each is processed once, whatever its seq). */
  readonly #processed = new ProcessedEvents();
  #wake: (() => void) | undefined;

  /** @param options connection settings (already validated by the engine). */
  constructor(options: SignalingClientOptions) {
    super((name, error) => options.logger.error(`a ${name} handler threw`, { error: String(error) }));
    this.#o = options;
    this.#servers = new ServerRotation(options.urls, options.random);
  }

  /** Connection state. */
  get state(): SignalingState {
    return this.#state;
  }

  /** The latest successful `auth` answer. */
  get authResult(): AuthResult | null {
    return this.#auth;
  }

  /** Last event seq processed (what a resume would send). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** The `ws(s)://…/ws` URL in use, or tried next while disconnected. */
  get url(): string {
    return this.#servers.current;
  }

  /**
   * Opens the socket and authenticates, trying each URL of the list once. Rejects with -1401 when
   * no server can be reached, or with a server's refusal code (70001, 70003, …). Does not retry
   * beyond that: the first connection is the caller's to retry; only an established session
   * reconnects by itself.
   */
  async connect(credentials: Credentials): Promise<AuthResult> {
    if (this.#state !== 'idle') throw CallEngineError.stateRefused('the signaling client was already used');
    this.#creds = { ...credentials };
    this.#state = 'connecting';
    try {
      this.#Ctor = await resolveWebSocket(this.#o.WebSocket);
      return await this.#servers.round((url) => this.#attempt(url, false), (err) => this.#state === 'connecting' && !isFatal(err));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Re-authenticates in place with a fresh UserSig (same user, same device): no events, the call
   * goes on. While reconnecting, the new sig is used by the next attempt and this waits for it.
   */
  reauth(userSig: string): Promise<AuthResult> {
    const creds = this.#creds;
    if (!creds || this.#state === 'closed') return Promise.reject(CallEngineError.notInitialized());
    const data = this.#authData({ ...creds, userSig }, undefined);
    // On a live socket the server checks the sig first: a refused one (70001, 70003…) must not
    // become the sig later reconnections present. While reconnecting, the next attempt uses it.
    if (this.#state !== 'open') creds.userSig = userSig;
    return this.request('auth', data, {
      resend: false,
      onResult: (d) => {
        const result = parseAuthResult(d);
        creds.userSig = userSig;
        if (result.sessionId !== this.#sessionId) this.#lastSeq = 0;
        this.#sessionId = result.sessionId;
        this.#auth = result;
      },
    }) as Promise<AuthResult>;
  }

  /** Updates the multi-device opt-in sent on later (re)connections. */
  setMultiDevice(enable: boolean): void {
    if (this.#creds) this.#creds.multiDevice = enable;
  }

  /**
   * Sends a request and resolves with its response `data`, or rejects with the server's error.
   * Disconnected: waits up to `reconnectWaitMs` for the reconnection. No answer within
   * `requestTimeoutMs` → -1401.
   */
  request<T extends ClientMessageType>(type: T, data: ClientMessageData<T>, options?: RequestOptions): Promise<unknown> {
    if (this.#state === 'closed' || this.#state === 'idle') {
      return Promise.reject(CallEngineError.signalingFailed(`not connected (${type})`));
    }
    const { request, promise } = this.#requests.create(type, data, options);
    const ws = this.#ws;
    if (this.#state === 'open' && ws) this.#write(ws, request);
    else if (!request.waitForConnection) this.#requests.fail(request.id, CallEngineError.signalingFailed(`not connected (${type})`));
    else this.#requests.arm(request, this.#o.reconnectWaitMs, `not connected: ${type} waited ${this.#o.reconnectWaitMs} ms for the reconnection`);
    return promise;
  }

  /**
   * Sends a notification (protocol `CLIENT_NOTIFICATIONS`): no answer is awaited (the server
   * answers only a refusal, logged at debug level as an answer to no pending request), nothing is
   * re-sent. Dropped when the connection is not open.
   */
  notify<T extends ClientMessageType>(type: T, data: ClientMessageData<T>): void {
    const ws = this.#ws;
    if (this.#state !== 'open' || !ws) {
      this.#o.logger.debug('notification dropped: not connected', { type });
      return;
    }
    try {
      ws.send(JSON.stringify({ v: 1, id: this.#requests.nextId(), type, data }));
    } catch (err) {
      this.#o.logger.debug('send failed', { type, error: String(err) });
    }
  }

  /** Closes for good: no reconnection; pending requests reject with `error` (default -1401). */
  close(error: CallEngineError = CallEngineError.signalingFailed('connection closed')): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopHeartbeat();
    clearTimeout(this.#sleepTimer);
    this.#wake?.();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) closeQuietly(ws);
    this.#requests.failAll(error);
  }

  /** Connects to `url` and signs in (resuming when reconnecting); a failed attempt leaves no socket. */
  async #attempt(url: string, reconnecting: boolean): Promise<AuthResult> {
    try {
      const ws = await this.#open(url);
      return await this.#authenticate(ws, reconnecting);
    } catch (err) {
      const ws = this.#ws;
      this.#ws = null;
      if (ws) closeQuietly(ws, true);
      throw err;
    }
  }

  /** Opens a socket; resolves once open. Its later close is routed to {@link #onSocketClosed}. */
  #open(url: string): Promise<SocketLike> {
    const Ctor = this.#Ctor;
    if (!Ctor) return Promise.reject(CallEngineError.signalingFailed('no WebSocket implementation'));
    return new Promise<SocketLike>((resolve, reject) => {
      let ws: SocketLike;
      try {
        ws = new Ctor(url) as SocketLike;
      } catch (err) {
        reject(CallEngineError.signalingFailed(`cannot open ${url}: ${String(err)}`));
        return;
      }
      let opened = false;
      const fail = (why: string): void => {
        clearTimeout(timer);
        if (this.#ws === ws) this.#ws = null;
        closeQuietly(ws, true);
        reject(CallEngineError.signalingFailed(`cannot connect to ${url}: ${why}`));
      };
      const timer = setTimeout(() => fail('timed out'), this.#o.requestTimeoutMs);
      this.#ws = ws;
      ws.onopen = () => {
        clearTimeout(timer);
        if (this.#state === 'closed' || this.#ws !== ws) return fail('closed');
        opened = true;
        this.#lastFrameAt = Date.now();
        resolve(ws);
      };
      ws.onmessage = (ev) => {
        if (this.#ws === ws) this.#onFrame(ev.data);
      };
      // An error is always followed by a close, which carries the useful code.
      ws.onerror = () => undefined;
      ws.onclose = (ev) => {
        if (!opened) return fail(`closed with ${ev.code}`);
        this.#onSocketClosed(ws, ev.code, ev.reason);
      };
    });
  }

  #authData(c: Credentials, resume: { sessionId: string; lastSeq: number } | undefined): ClientMessageData<'auth'> {
    const data: ClientMessageData<'auth'> = {
      sdkAppId: c.sdkAppId,
      userId: c.userId,
      userSig: c.userSig,
      deviceId: c.deviceId,
      multiDevice: c.multiDevice,
    };
    if (resume) data.resume = resume;
    return data;
  }

  /** Sends `auth` (with `resume` when reconnecting) directly on `ws`, before anything else. */
  #authenticate(ws: SocketLike, reconnecting: boolean): Promise<AuthResult> {
    const creds = this.#creds as Credentials;
    const resume = reconnecting && this.#sessionId ? { sessionId: this.#sessionId, lastSeq: this.#lastSeq } : undefined;
    const { request, promise } = this.#requests.create('auth', this.#authData(creds, resume), {
      resend: false,
      waitForConnection: false,
      onResult: (d) => this.#onAuthenticated(parseAuthResult(d), resume !== undefined),
    });
    this.#write(ws, request);
    return promise as Promise<AuthResult>;
  }

  /** Runs while the auth answer is processed, so replayed events that follow see the new state. */
  #onAuthenticated(result: AuthResult, triedResume: boolean): void {
    if (this.#state === 'closed') throw CallEngineError.signalingFailed('closed while authenticating');
    const reconnected = this.#state === 'reconnecting';
    const resumed = triedResume && result.resumed;
    // A new session numbers its events from 1 again.
    if (!resumed) this.#lastSeq = 0;
    this.#sessionId = result.sessionId;
    this.#auth = result;
    this.#state = 'open';
    this.#startHeartbeat(result);
    if (reconnected && !resumed) {
      // The old session's calls already ended as offline: its requests (in flight or waiting)
      // belong to a context that no longer exists.
      this.#requests.failAll(CallEngineError.signalingFailed('the connection was lost and the session could not be resumed'));
      this.#o.logger.warn('reconnected without resume: new session', { sessionId: result.sessionId });
      this.emit('sessionLost', { sessionId: result.sessionId });
      return;
    }
    // Resumed (or first connection): send what waited, and re-send what was in flight with its
    // original id, in the order the requests were made; the server answers duplicates from cache.
    const ws = this.#ws;
    if (ws) for (const r of this.#requests.list()) if (!r.sent) this.#write(ws, r);
    if (reconnected) {
      this.#o.logger.debug('session resumed', { sessionId: result.sessionId, lastSeq: this.#lastSeq });
      this.emit('resumed', { sessionId: result.sessionId });
    }
  }

  #write(ws: SocketLike, request: PendingRequest): void {
    // A frame the server would refuse (and, past 4×, close the socket for) fails here instead of
    // being re-sent on every reconnection.
    const limit = this.#auth?.maxMessageBytes;
    if (limit && utf8Length(request.frame) > limit) {
      this.#requests.fail(request.id, CallEngineError.invalidParameter(`${request.type} is larger than the server's ${limit}-byte message limit`));
      return;
    }
    const frame = request.everSent ? request.retryFrame : request.frame;
    request.sent = true;
    request.everSent = true;
    this.#requests.arm(request, this.#o.requestTimeoutMs, `${request.type} got no answer within ${this.#o.requestTimeoutMs} ms`);
    try {
      ws.send(frame);
    } catch (err) {
      // The socket is closing; its close handler moves the request back to waiting.
      this.#o.logger.debug('send failed', { id: request.id, error: String(err) });
    }
  }

  #onFrame(data: unknown): void {
    const text = frameText(data);
    if (text === null) return;
    this.#lastFrameAt = Date.now();
    const items = parseServerFrame(text);
    if (!items) {
      this.#o.logger.warn('unreadable frame ignored');
      return;
    }
    // A batch's messages in order, as if each had come in its own frame.
    for (const item of items) {
      if (item.ok) this.#onMessage(item.message);
      else this.#onUnreadable(item.raw);
    }
  }

  #onMessage(msg: ServerMessage): void {
    if (msg.type === 'event') {
      if (msg.seq <= this.#lastSeq) {
        this.#o.logger.debug('duplicate event dropped', { seq: msg.seq, lastSeq: this.#lastSeq });
        return;
      }
      this.#lastSeq = msg.seq;
      // After a server crash, events of earlier commits come again (replayed from storage).
      if (msg.eid !== undefined && !this.#processed.admit(msg.eid, msg.replay === true, 'callId' in msg.event ? msg.event.callId : undefined)) {
        this.#o.logger.debug('replayed event dropped', { eid: msg.eid });
        return;
      }
      this.emit('event', { event: msg.event, seq: msg.seq });
    } else if (msg.type === 'response') {
      if (!this.#requests.settle(msg)) this.#o.logger.debug('answer to no pending request', { id: msg.id });
    } else {
      this.#o.logger.warn('protocol error from the server', { code: msg.error.code, message: msg.error.message });
      this.emit('protocolError', msg.error);
    }
  }

  /** A message the schema refused: keep seq moving past unknown events, fail a malformed answer. */
  #onUnreadable(value: unknown): void {
    const raw = (typeof value === 'object' && value !== null ? value : {}) as { type?: unknown; seq?: unknown; id?: unknown };
    if (raw.type === 'event' && typeof raw.seq === 'number' && raw.seq > this.#lastSeq) {
      this.#lastSeq = raw.seq;
      this.#o.logger.warn('unknown event skipped', { seq: raw.seq });
    } else if (raw.type === 'response' && typeof raw.id === 'number') {
      this.#requests.fail(raw.id, CallEngineError.signalingFailed('malformed answer from the server'));
    }
  }

  #onSocketClosed(ws: SocketLike, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.#stopHeartbeat();
    // 1009: the server found a frame too big; the requests on this socket would only be re-sent.
    if (code === MESSAGE_TOO_BIG_CLOSE_CODE) {
      this.#requests.failAll(CallEngineError.invalidParameter('message larger than the server accepts'), (r) => r.sent);
    }
    // auth and ping belong to their socket; everything else waits for the next one.
    this.#requests.failAll(CallEngineError.signalingFailed(`connection closed (${code})`), (r) => !r.resend);
    if (this.#state === 'closed') return;
    if (code === KICKED_CLOSE_CODE) {
      this.close(CallEngineError.notInitialized('kicked offline: another sign-in replaced this device'));
      this.emit('kicked', {});
      return;
    }
    if (this.#state !== 'open') return; // a failed first connection or reconnection attempt
    this.#state = 'reconnecting';
    for (const r of this.#requests.list()) {
      r.sent = false;
      this.#requests.arm(r, this.#o.reconnectWaitMs, `connection lost: ${r.type} waited ${this.#o.reconnectWaitMs} ms for the reconnection`);
    }
    this.#o.logger.warn('connection lost, reconnecting', { code, reason });
    this.emit('disconnected', { code, reason });
    void this.#reconnect(code === GOING_AWAY_CLOSE_CODE || code === SERVICE_RESTART_CLOSE_CODE);
  }

  /**
   * Backs off (except right after 1001 "going away" or 1012 "service restart"), then tries every URL once (the one just lost last: with a list, failover is the
   * point), and again with a longer delay until one answers or one refuses for good.
   */
  async #reconnect(immediately: boolean): Promise<void> {
    this.#servers.advance();
    for (let attempt = 0; this.#state === 'reconnecting'; attempt++) {
      // After 1001 the next attempt backs off as usual, counted from the start.
      const delay = immediately ? (attempt === 0 ? 0 : backoffDelay(attempt - 1, this.#o.reconnectInitialDelayMs, this.#o.reconnectMaxDelayMs)) : backoffDelay(attempt, this.#o.reconnectInitialDelayMs, this.#o.reconnectMaxDelayMs);
      await this.#sleep(delay);
      if (this.#state !== 'reconnecting') return;
      try {
        await this.#servers.round((url) => this.#attempt(url, true), (err) => this.#state === 'reconnecting' && !isFatal(err));
        return;
      } catch (err) {
        if (this.#state !== 'reconnecting') return;
        if (isFatal(err)) {
          this.close(err);
          this.#o.logger.error('reconnection refused', { code: err.code, message: err.message });
          this.emit('failed', { error: err });
          return;
        }
        this.#o.logger.debug('reconnection attempt failed', { attempt, error: String(err) });
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#sleepTimer = setTimeout(resolve, ms);
    });
  }

  #startHeartbeat(auth: AuthResult): void {
    this.#stopHeartbeat();
    const every = Math.max(20, auth.heartbeatIntervalMs);
    // Two silent intervals mean the link is dead even if the OS has not noticed (half-open TCP,
    // a sleeping laptop); reconnect before the server's own timeout ends the call.
    const staleAfter = Math.max(2 * every, Math.min(2 * every + 1000, auth.heartbeatTimeoutMs));
    this.#heartbeat = setInterval(() => {
      const ws = this.#ws;
      if (this.#state !== 'open' || !ws) return;
      if (Date.now() - this.#lastFrameAt > staleAfter || ws.readyState !== SOCKET_OPEN) {
        this.#onSocketClosed(ws, 1006, 'heartbeat timeout');
        closeQuietly(ws, true);
        return;
      }
      this.request('ping', {}, { resend: false, waitForConnection: false }).catch(() => undefined);
    }, every);
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}
