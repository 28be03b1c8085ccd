/**
 * A tiny scriptable signaling server for client tests (a real `ws` server on port 0). It answers
 * `auth` and `ping` like the real server (sessions, seq numbers, a replay buffer, resume) and lets
 * each test script every other request. Named `.test.ts` so it never ships in `dist`; it also
 * checks itself below.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { ServerEvent } from '@opencall/protocol/wire';

/** A frame a client sent. */
export interface ClientFrame {
  v: number;
  id: number;
  type: string;
  data: Record<string, unknown>;
}

/** A device session as the scripted server keeps it. */
export interface ScriptedSession {
  id: string;
  seq: number;
  userId: string;
  buffer: { seq: number; frame: string }[];
  conn: ServerConn | null;
}

type Handler = (conn: ServerConn, msg: ClientFrame) => void;

/** One accepted socket. */
export class ServerConn {
  readonly received: ClientFrame[] = [];
  session: ScriptedSession | null = null;
  closed = false;
  #waiters: { type: string | undefined; resolve: (m: ClientFrame) => void }[] = [];

  constructor(readonly ws: WebSocket) {}

  /** The next frame (of `type`) received after the ones already consumed by earlier waits. */
  nextMessage(type?: string): Promise<ClientFrame> {
    return new Promise((resolve) => this.#waiters.push({ type, resolve }));
  }

  /** @internal */
  deliver(msg: ClientFrame): boolean {
    const i = this.#waiters.findIndex((w) => w.type === undefined || w.type === msg.type);
    if (i < 0) return false;
    const [w] = this.#waiters.splice(i, 1);
    w?.resolve(msg);
    return true;
  }

  /** Sends any JSON frame. */
  send(frame: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Answers request `id` with success. */
  respond(id: number, data: unknown = {}): void {
    this.send({ v: 1, type: 'response', id, ok: true, data });
  }

  /** Answers request `id` with an error. */
  fail(id: number, code: number, message = 'refused'): void {
    this.send({ v: 1, type: 'response', id, ok: false, error: { code, message } });
  }

  /** Pushes an event through this connection's session (assigns the next seq, buffers it). */
  push(event: ServerEvent): number {
    const s = this.session;
    if (!s) throw new Error('no session');
    const seq = ++s.seq;
    const frame = JSON.stringify({ v: 1, type: 'event', seq, event });
    s.buffer.push({ seq, frame });
    if (s.conn) s.conn.send(frame);
    return seq;
  }

  /**
   * Sends several messages as one `batch` frame, as the real server does with what one turn has
   * for a socket. An event (a `ServerEvent`) gets its seq and is buffered like {@link push}; any
   * other item is sent as it is (a response built by the test).
   */
  batch(items: (ServerEvent | Record<string, unknown>)[]): void {
    const s = this.session;
    if (!s) throw new Error('no session');
    const m = items.map((it) => {
      if (!('name' in it)) return it;
      const seq = ++s.seq;
      const message = { v: 1, type: 'event', seq, event: it };
      s.buffer.push({ seq, frame: JSON.stringify(message) });
      return message;
    });
    this.send({ v: 1, type: 'batch', m });
  }

  /** Drops the TCP connection without a close frame (a network failure). */
  drop(): void {
    this.ws.terminate();
  }
}

/** Options of the scripted server. */
export interface ScriptedServerOptions {
  heartbeatIntervalMs?: number;
  maxParticipants?: number;
}

/** The scripted server. */
export class ScriptedServer {
  readonly conns: ServerConn[] = [];
  readonly sessions = new Map<string, ScriptedSession>();
  /** When false, resume attempts get a new session (`resumed: false`). */
  resumable = true;
  /** Extra already-processed events to re-send on resume (tests the client's dedupe). */
  replayOverlap = 0;
  /** Refuse the next auth attempts with this code. */
  refuseAuth: number | null = null;
  readonly handlers = new Map<string, Handler>();
  #sessionCount = 0;
  #connWaiters: ((c: ServerConn) => void)[] = [];

  private constructor(
    readonly wss: WebSocketServer,
    readonly url: string,
    readonly options: ScriptedServerOptions,
  ) {}

  /** Starts on `port` (default: a free one). */
  static async start(options: ScriptedServerOptions = {}, port = 0): Promise<ScriptedServer> {
    const wss = new WebSocketServer({ port, host: '127.0.0.1', path: '/ws' });
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const { port: bound } = wss.address() as AddressInfo;
    const server = new ScriptedServer(wss, `http://127.0.0.1:${bound}`, options);
    wss.on('connection', (ws) => server.#accept(ws));
    return server;
  }

  /** Scripts the answer to a request type. */
  handle(type: string, handler: Handler): void {
    this.handlers.set(type, handler);
  }

  /** Resolves with the next accepted connection. */
  nextConnection(): Promise<ServerConn> {
    return new Promise((resolve) => this.#connWaiters.push(resolve));
  }

  /** The most recent connection. */
  get last(): ServerConn {
    const c = this.conns.at(-1);
    if (!c) throw new Error('no connection yet');
    return c;
  }

  /** Stops the server and drops every socket. */
  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  #accept(ws: WebSocket): void {
    const conn = new ServerConn(ws);
    this.conns.push(conn);
    ws.on('close', () => {
      conn.closed = true;
      if (conn.session?.conn === conn) conn.session.conn = null;
    });
    ws.on('message', (raw: Buffer) => {
      const msg = JSON.parse(raw.toString('utf8')) as ClientFrame;
      conn.received.push(msg);
      if (msg.type === 'auth') return this.#auth(conn, msg);
      if (msg.type === 'ping') return conn.respond(msg.id);
      const handler = this.handlers.get(msg.type);
      if (handler) handler(conn, msg);
      else if (!conn.deliver(msg)) conn.respond(msg.id);
    });
    this.#connWaiters.shift()?.(conn);
  }

  #auth(conn: ServerConn, msg: ClientFrame): void {
    if (this.refuseAuth !== null) return conn.fail(msg.id, this.refuseAuth, 'UserSig expired');
    const handler = this.handlers.get('auth');
    if (handler) return handler(conn, msg);
    const resume = msg.data.resume as { sessionId: string; lastSeq: number } | undefined;
    const old = resume ? this.sessions.get(resume.sessionId) : undefined;
    const resumed = Boolean(old && this.resumable);
    let session: ScriptedSession;
    if (old && resumed) {
      session = old;
    } else {
      session = { id: `s${++this.#sessionCount}`, seq: 0, userId: String(msg.data.userId), buffer: [], conn: null };
      this.sessions.set(session.id, session);
    }
    session.conn = conn;
    conn.session = session;
    conn.respond(msg.id, {
      sessionId: session.id,
      resumed,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 10_000,
      heartbeatTimeoutMs: 30_000,
      expireAt: Date.now() + 3_600_000,
      serverTime: Date.now(),
      iceServers: [],
      maxParticipants: this.options.maxParticipants ?? 9,
      devicePolicy: 'kick',
    });
    if (resumed && resume) {
      const from = Math.max(0, resume.lastSeq - this.replayOverlap);
      for (const b of session.buffer) if (b.seq > from) conn.send(b.frame);
    }
    conn.deliver(msg);
  }
}

/** Waits until `check` is true (polling), failing after `ms`. */
export async function waitFor(check: () => boolean, ms = 3_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The self-check runs only when this file is the test file, not in every suite that imports it.
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
const servers: ScriptedServer[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

if (isMain) test('the scripted server answers auth with a session and numbers pushed events from 1', async () => {
  const server = await ScriptedServer.start();
  servers.push(server);
  const { WebSocket: Ws } = await import('ws');
  const ws = new Ws(`${server.url.replace('http', 'ws')}/ws`);
  const frames: { type: string; seq?: number }[] = [];
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as { type: string; seq?: number }));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ v: 1, id: 1, type: 'auth', data: { userId: 'alice' } }));
  await waitFor(() => frames.length === 1);
  server.last.push({ name: 'onUserSigExpired' });
  await waitFor(() => frames.length === 2);
  assert.equal(frames[0]?.type, 'response');
  assert.equal(frames[1]?.seq, 1);
  ws.close();
});
