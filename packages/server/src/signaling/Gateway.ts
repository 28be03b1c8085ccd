/**
 * The signaling WebSocket endpoint: frame size and rate limits, strict per-connection ordering,
 * parsing through the protocol package, auth gating, idempotent re-sends, heartbeat sweeps.
 * Nothing a client sends can throw past this file.
 */
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLIENT_NOTIFICATIONS, ErrorCode, parseClientMessage, wireError } from '@opencall/protocol';
import type { ClientMessage, ResponseMessage, ServerEvent, WireError } from '@opencall/protocol';
import type { Logger } from 'pino';
import { MachineError } from '../call/MachineError.js';
import type { ServerConfig } from '../config/schema.js';
import { handlers } from './handlers.js';
import type { HandlerDeps } from './handlers.js';
import { KICKED_CLOSE_CODE } from './SessionManager.js';
import type { Connection, SessionManager } from './SessionManager.js';
import { sendFrame } from './Session.js';
import { BatchingSocket } from './BatchingSocket.js';
import type { Session } from './Session.js';
import { storedAnswer } from './storedRequests.js';
import { isRequestCommitted } from '../storage/Storage.js';
import { clientAddressOf } from '../http/proxy.js';

/** Close code of a graceful shutdown: clients reconnect at once (to another node in a cluster). */
export const GOING_AWAY_CLOSE_CODE = 1001;
/** How long a drain waits for peers to answer the closing handshake. */
const CLOSE_HANDSHAKE_MS = 1000;

/** A token bucket: `rate` per second, burst of two seconds' worth. */
class TokenBucket {
  #tokens: number;
  #last = Date.now();
  constructor(private readonly rate: number) {
    this.#tokens = rate * 2;
  }
  take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.rate * 2, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Counters the gateway reports (metrics). */
export interface GatewayStats {
  connections: number;
  refused: Record<string, number>;
}

/** The WebSocket gateway. */
export class Gateway {
  readonly #wss: WebSocketServer;
  readonly #conns = new Set<Connection>();
  /** Open sockets per client IP (limits.maxConnectionsPerIp). */
  readonly #perIp = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;
  /** Each connection's frame chain: what a drain waits for. */
  readonly #chains = new Map<Connection, Promise<void>>();
  readonly #clientAddress: (req: IncomingMessage) => string;
  #draining = false;
  /** Refusals by code (for metrics). */
  readonly refused = new Map<number, number>();

  constructor(
    private readonly config: ServerConfig,
    private readonly sessions: SessionManager,
    private readonly deps: HandlerDeps,
    private readonly log: Logger,
  ) {
    // Frames up to 4× the limit are read and refused with a clear error; larger ones close the socket.
    // Every socket batches the frames of one turn (BatchingSocket.ts).
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: config.limits.maxMessageBytes * 4, WebSocket: BatchingSocket });
    this.#wss.on('connection', (ws: WebSocket, req: IncomingMessage) => this.#onConnection(ws, req));
    const every = Math.max(50, Math.min(1000, Math.floor(config.heartbeatTimeoutMs / 4)));
    this.#sweep = setInterval(() => {
      this.sessions.sweep().catch((err: unknown) => this.log.error({ err }, 'heartbeat sweep failed'));
    }, every);
    this.#sweep.unref();
    this.#clientAddress = clientAddressOf(config.trustProxy);
  }

  /**
   * Handles an HTTP upgrade for `/ws`. Past `limits.maxConnections` sockets in all (503) or
   * `limits.maxConnectionsPerIp` from one address (429) the upgrade is refused before any
   * WebSocket state exists, so idle sockets cannot exhaust the server.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.#draining) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    // The client's address (behind a trusted proxy, the forwarded one), like the HTTP limits.
    const ip = this.#clientAddress(req);
    const { maxConnections, maxConnectionsPerIp } = this.config.limits;
    const refuse = this.#conns.size >= maxConnections ? '503 Service Unavailable' : (this.#perIp.get(ip) ?? 0) >= maxConnectionsPerIp ? '429 Too Many Requests' : null;
    if (refuse) {
      this.#refuse(refuse.startsWith('429') ? ErrorCode.RATE_LIMITED : ErrorCode.SERVER_UNAVAILABLE);
      socket.end(`HTTP/1.1 ${refuse}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    // Counted now: sockets still upgrading count against the caps too.
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    let counted = true;
    const release = (): void => {
      if (!counted) return;
      counted = false;
      const n = (this.#perIp.get(ip) ?? 1) - 1;
      if (n > 0) this.#perIp.set(ip, n);
      else this.#perIp.delete(ip);
    };
    socket.once('close', release);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      ws.once('close', release);
      this.#wss.emit('connection', ws, req);
    });
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#conns.size;
  }

  #refuse(code: number): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1);
  }

  #onConnection(ws: WebSocket, req: IncomingMessage): void {
    const conn: Connection = {
      session: null,
      ws,
      send: (frame) => sendFrame(ws, frame),
      close: (code, reason) => ws.close(code, reason),
    };
    this.#conns.add(conn);
    const bucket = new TokenBucket(this.config.limits.messagesPerSecondPerConnection);
    // SPEC §3: a socket that has not signed in within limits.authTimeoutMs is closed.
    const authDeadline = setTimeout(() => {
      if (!conn.session) ws.close(4004, 'not signed in in time');
    }, this.config.limits.authTimeoutMs);
    authDeadline.unref();
    let chain: Promise<void> = Promise.resolve();
    ws.on('message', (data, isBinary) => {
      // Draining: a frame not yet started is left unanswered; the client re-sends it after it
      // reconnects (to the next process, or another node).
      if (this.#draining) return;
      if (conn.session && conn.session.socket === ws) conn.session.lastSeen = Date.now();
      // Every frame costs a token, refused ones included: an oversized or binary flood is
      // throttled like any other (answered 4029 past the rate, and never read or parsed).
      if (!bucket.take()) {
        this.#refuse(ErrorCode.RATE_LIMITED);
        return this.#rateLimited(conn, isBinary ? null : peekId(headOf(data)));
      }
      const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer).byteLength;
      if (size > this.config.limits.maxMessageBytes) {
        this.#refuse(ErrorCode.MESSAGE_TOO_LARGE);
        // Answer the request id when the frame's head carries one, so the sender's promise settles
        // with 4003 at once instead of waiting for its own timeout.
        return this.#sendError(conn, isBinary ? null : peekId(headOf(data)), wireError(ErrorCode.MESSAGE_TOO_LARGE, `limit ${this.config.limits.maxMessageBytes} bytes`));
      }
      const raw = isBinary ? null : Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      if (raw === null) return this.#sendError(conn, null, wireError(ErrorCode.MALFORMED_MESSAGE, 'binary frames are not accepted'));
      // One frame at a time per connection: responses and events keep the order requests came in.
      chain = chain.then(() => this.#onFrame(conn, raw)).catch((err: unknown) => this.log.error({ err }, 'frame handling failed'));
      this.#chains.set(conn, chain);
    });
    ws.on('close', () => {
      clearTimeout(authDeadline);
      this.#conns.delete(conn);
      this.#chains.delete(conn);
      // The session stays for the heartbeat window so the device can resume.
      if (conn.session && conn.session.socket === ws) conn.session.socket = null;
    });
    ws.on('error', (err) => this.log.debug({ err, ip: this.#clientAddress(req) }, 'socket error'));
  }

  #rateLimited(conn: Connection, id: number | null): void {
    this.#sendError(conn, id, wireError(ErrorCode.RATE_LIMITED, `at most ${this.config.limits.messagesPerSecondPerConnection}/s`));
  }

  #sendError(conn: Connection, id: number | null, error: WireError): void {
    if (id === null) conn.send(JSON.stringify({ v: 1, type: 'error', error }));
    else conn.send(JSON.stringify({ v: 1, type: 'response', id, ok: false, error }));
  }

  async #onFrame(conn: Connection, raw: string): Promise<void> {
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.#refuse(parsed.error.code);
      return this.#sendError(conn, parsed.id, parsed.error);
    }
    const msg = parsed.message;
    if (msg.type === 'auth') {
      let r: Awaited<ReturnType<SessionManager['authenticate']>>;
      try {
        r = await this.sessions.authenticate(conn, msg.data);
      } catch (err) {
        // Storage or (cluster mode) Redis unreachable: a retryable refusal, never silence.
        this.log.error({ err }, 'sign-in failed');
        return this.#sendError(conn, msg.id, wireError(ErrorCode.SERVER_UNAVAILABLE, 'sign-in unavailable, retry'));
      }
      // A replaced device learns it from the close code alone (no answer that could race it).
      if (!r.ok && r.kicked) return conn.close(KICKED_CLOSE_CODE, 'signed in elsewhere');
      if (!r.ok) {
        // Counted like the other refusals: 4030 (maxDevicesPerUser) and UserSig codes show in metrics.
        this.#refuse(r.error.code);
        return this.#sendError(conn, msg.id, r.error);
      }
      conn.send(JSON.stringify({ v: 1, type: 'response', id: msg.id, ok: true, data: r.data }));
      return r.after();
    }
    const session = conn.session;
    if (!session || session.socket !== conn.ws) {
      return this.#sendError(conn, msg.id, wireError(ErrorCode.NOT_AUTHENTICATED, 'send auth first'));
    }
    if (CLIENT_NOTIFICATIONS.has(msg.type)) return this.#notified(msg, conn);
    const cached = session.cachedResponse(msg.id);
    if (cached) return conn.send(cached);
    // A re-send whose first run committed in a process that died before answering.
    let stored: string | null;
    try {
      stored = await this.#stored(msg, session);
    } catch (err) {
      // Storage unreachable: a retryable refusal (not cached), never a second run of a request
      // that may have run.
      this.log.error({ err, type: msg.type }, 'stored request look-up failed');
      return this.#sendError(conn, msg.id, wireError(ErrorCode.SERVER_UNAVAILABLE, 'retry'));
    }
    let frame = stored;
    if (frame === null) {
      const answer = await this.#run(msg, conn);
      // A re-send that found nothing stored may have raced its own first run (stalled on a
      // paused database or a stopped node): when it failed because that run committed meanwhile
      // (RequestCommittedError, or the machine refusing a second accept or call), the first
      // run's outcome is the answer.
      if (!answer.ok && msg.retry) frame = await this.#stored(msg, session).catch(() => null);
      frame ??= JSON.stringify(answer);
    }
    if (msg.type !== 'ping') session.rememberResponse(msg.id, frame);
    conn.send(frame);
  }

  /**
   * A notification (protocol `CLIENT_NOTIFICATIONS`): handled like a request, but answered only
   * when refused, and never cached or looked up as a stored request (the client does not re-send it).
   */
  async #notified(msg: Exclude<ClientMessage, { type: 'auth' }>, conn: Connection): Promise<void> {
    const answer = await this.#run(msg, conn);
    if (answer.ok) return;
    this.#refuse(answer.error.code);
    conn.send(JSON.stringify(answer));
  }

  #stored(msg: Exclude<ClientMessage, { type: 'auth' }>, s: Session): Promise<string | null> {
    const deliver = this.deps.deliver ?? ((_u: string, _d: string, event: ServerEvent, eid: string, replay: boolean) => s.push(event, eid, replay));
    return storedAnswer(this.deps.storage, s, msg, deliver);
  }

  async #run(msg: Exclude<ClientMessage, { type: 'auth' }>, conn: Connection): Promise<ResponseMessage> {
    try {
      const handler = handlers[msg.type] as (s: unknown, d: unknown, deps: HandlerDeps, requestId: number) => Promise<unknown>;
      const data = await handler(conn.session, msg.data, this.deps, msg.id);
      return { v: 1, type: 'response', id: msg.id, ok: true, data: data ?? {} };
    } catch (err) {
      if (err instanceof MachineError) {
        return { v: 1, type: 'response', id: msg.id, ok: false, error: { code: err.code, message: err.message } };
      }
      if (isRequestCommitted(err)) {
        // Another run of this request committed first (see RequestCommittedError): not a fault.
        this.log.info({ type: msg.type, requestId: msg.id }, 'request already committed by another run');
        return { v: 1, type: 'response', id: msg.id, ok: false, error: wireError(ErrorCode.SERVER_UNAVAILABLE, 'retry') };
      }
      this.log.error({ err, type: msg.type }, 'request failed');
      return { v: 1, type: 'response', id: msg.id, ok: false, error: wireError(ErrorCode.SERVER_UNAVAILABLE, 'internal error') };
    }
  }

  /**
   * Graceful shutdown: refuses new sockets and frames, lets the frames already being handled finish
   * (their commits land and their answers go out), then closes every socket with 1001 "going away"
   * so clients reconnect at once. Resolves by `deadline` (epoch ms); sockets still open then are cut.
   */
  async goAway(deadline: number): Promise<void> {
    this.#draining = true;
    await settleBy(Promise.allSettled(this.#chains.values()), deadline);
    const closed = [...this.#conns].map((c) => new Promise<void>((resolve) => (c.ws.readyState === c.ws.CLOSED ? resolve() : c.ws.once('close', () => resolve()))));
    for (const c of this.#conns) c.ws.close(GOING_AWAY_CLOSE_CODE, 'server shutting down');
    // The 1001 frame is out; a peer that does not answer the closing handshake soon is cut.
    await settleBy(Promise.all(closed), Math.min(deadline, Date.now() + CLOSE_HANDSHAKE_MS));
    this.close();
  }

  /** Closes every socket and stops the sweep. */
  close(): void {
    clearInterval(this.#sweep);
    for (const c of this.#conns) c.ws.terminate();
    this.#wss.close();
  }
}

/** Resolves when `p` settles or at `deadline` (epoch ms), whichever comes first. */
async function settleBy(p: Promise<unknown>, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);
}

/** The first bytes of a frame as text (enough for `peekId`). */
function headOf(data: unknown): string {
  const first = Array.isArray(data) ? (data[0] as unknown) : data;
  return Buffer.isBuffer(first) ? first.subarray(0, 200).toString('utf8') : '';
}

/** Best-effort request id of a frame refused before parsing (so the client's promise settles). */
function peekId(raw: string): number | null {
  const m = /"id"\s*:\s*(\d{1,15})/.exec(raw.slice(0, 200));
  return m ? Number(m[1]) : null;
}
