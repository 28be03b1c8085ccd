/**
 * One signed-in device: its event sequence, a bounded replay buffer for reconnection, a small
 * response cache so re-sent requests are answered without running twice, and its socket (null
 * while disconnected within the heartbeat window).
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { wireEventId } from '@opencall/protocol/wire';
import type { ServerEvent } from '@opencall/protocol/wire';
import type { DeviceSink } from '../cluster/DeviceSink.js';
import { BatchingSocket } from './BatchingSocket.js';

/** Events kept for replay per session (also bounded by bytes: `replayBytes`). */
const REPLAY_LIMIT = 512;
/** Responses kept for idempotent re-sends per session (also bounded by bytes). */
const RESPONSE_CACHE = 64;
/** Calls whose `call.received` report is remembered per session (a device rings for one call at a time). */
const RECEIVED_MEMORY = 16;
/** Default byte budget of the replay buffer (limits.replayBufferBytes). */
const DEFAULT_REPLAY_BYTES = 1024 * 1024;
/** Byte budget of the response cache. */
const RESPONSE_CACHE_BYTES = 256 * 1024;

/**
 * Sends a text frame if the socket is open. Every frame for one socket produced during one turn (a
 * request's events and its response, a commit's events) leaves as one frame: the gateway's sockets
 * are {@link BatchingSocket}s. A plain `ws` socket (none in the server today) sends at once.
 */
export function sendFrame(ws: WebSocket, frame: string): void {
  if (ws instanceof BatchingSocket) return ws.queue(frame);
  if (ws.readyState === ws.OPEN) ws.send(frame);
}

/** A device session. */
export class Session {
  /** Random id the client presents to resume (kept when a session moves between nodes). */
  readonly sessionId: string;
  /** Last event seq assigned. */
  seq = 0;
  /** The socket, or null while disconnected. */
  socket: WebSocket | null = null;
  /** Last sign of life, ms epoch. */
  lastSeen: number;
  /** When this device signed in (most recent device rings under policy `multi`). */
  readonly signedInAt: number;
  /** Created by restart recovery: no socket yet, adopts whatever sequence the client resumes from. */
  ghost = false;
  /**
   * A ghost kept only so its device can resume and get the events stored for it (it has no live
   * call): not counted as signed in (never rung, never kicks or limits another device).
   */
  replayOnly = false;
  /** Multi-device ringing opt-in. */
  multiDevice = false;
  /** UserSig expiry, ms epoch. */
  expireAt = 0;
  /** Timer that fires onUserSigExpired. */
  sigTimer: NodeJS.Timeout | null = null;
  /**
   * Cluster mode: events go through the device's log in Redis (which assigns their seq) instead of
   * this session's own counter and buffer.
   */
  route: ((event: ServerEvent, eid?: string, replay?: boolean) => void) | null = null;
  /** Cluster mode: ordered delivery of the device's log to the socket. */
  sink: DeviceSink | null = null;
  readonly #buffer: { seq: number; frame: string }[] = [];
  /** Characters held in #buffer (a frame's length ≈ its bytes: the wire is JSON, mostly ASCII). */
  #bufferChars = 0;
  readonly #responses = new Map<number, string>();
  #responseChars = 0;
  /** Calls whose `call.received` this device reported already (newest last; bounded). */
  readonly #received: string[] = [];

  constructor(
    /** The signed-in user. */
    readonly userId: string,
    /** The engine instance's device id. */
    readonly deviceId: string,
    now: number,
    sessionId?: string,
    /**
     * Most bytes of events kept for replay: large SDPs relayed to a device would otherwise hold
     * 512 × 64 KB per session for as long as it is connected. A reconnection that needs more than
     * what is kept starts a fresh session instead of resuming (the client's usual fallback).
     */
    private readonly replayBytes = DEFAULT_REPLAY_BYTES,
  ) {
    this.sessionId = sessionId ?? randomBytes(12).toString('base64url');
    this.lastSeen = now;
    this.signedInAt = now;
  }

  /**
   * Assigns the next seq, buffers the frame for replay and sends it if connected. `eid`: the
   * event's stable id when a commit produced it (the client processes each id once); `replay`:
   * a stored event sent again late (call/requests.ts).
   */
  push(event: ServerEvent, eid?: string, replay = false): void {
    if (this.route) return this.route(event, eid, replay);
    const seq = ++this.seq;
    const id = eid === undefined ? undefined : wireEventId(event, eid);
    const frame = JSON.stringify(id === undefined ? { v: 1, type: 'event', seq, event } : replay ? { v: 1, type: 'event', seq, event, eid: id, replay } : { v: 1, type: 'event', seq, event, eid: id });
    this.#buffer.push({ seq, frame });
    this.#bufferChars += frame.length;
    while (this.#buffer.length > 1 && (this.#buffer.length > REPLAY_LIMIT || this.#bufferChars > this.replayBytes)) {
      this.#bufferChars -= this.#buffer.shift()!.frame.length;
    }
    this.sendRaw(frame);
  }

  /** Sends a frame if the socket is open. */
  sendRaw(frame: string): void {
    if (this.socket) sendFrame(this.socket, frame);
  }

  /** Characters of events held for replay (for tests and diagnostics). */
  get replayChars(): number {
    return this.#bufferChars;
  }

  /** True when every event after `lastSeq` is still buffered. */
  canReplayFrom(lastSeq: number): boolean {
    if (lastSeq > this.seq) return false;
    const first = this.#buffer[0];
    return lastSeq === this.seq || (first !== undefined && first.seq <= lastSeq + 1);
  }

  /** Re-sends buffered events after `lastSeq`, in order. */
  replayFrom(lastSeq: number): number {
    let n = 0;
    for (const b of this.#buffer) {
      if (b.seq > lastSeq) {
        this.sendRaw(b.frame);
        n++;
      }
    }
    return n;
  }

  /** Caches a response frame by request id. */
  rememberResponse(id: number, frame: string): void {
    const old = this.#responses.get(id);
    if (old !== undefined) this.#responseChars -= old.length;
    this.#responses.set(id, frame);
    this.#responseChars += frame.length;
    while (this.#responses.size > 1 && (this.#responses.size > RESPONSE_CACHE || this.#responseChars > RESPONSE_CACHE_BYTES)) {
      const oldest = this.#responses.keys().next().value;
      if (oldest === undefined) break;
      this.#responseChars -= this.#responses.get(oldest)!.length;
      this.#responses.delete(oldest);
    }
  }

  /** A cached response for request `id`, if any. */
  cachedResponse(id: number): string | undefined {
    return this.#responses.get(id);
  }

  /**
   * True when this session already recorded `callId` received: the delivery trace keeps one
   * `received` step per device, whatever a client sends (the report is idempotent).
   */
  hasReportedReceived(callId: string): boolean {
    return this.#received.includes(callId);
  }

  /** Remembers that `callId`'s `received` step of this device is recorded. */
  reportedReceived(callId: string): void {
    this.#received.push(callId);
    if (this.#received.length > RECEIVED_MEMORY) this.#received.shift();
  }

  /** Releases timers. */
  dispose(): void {
    if (this.sigTimer) clearTimeout(this.sigTimer);
    this.sigTimer = null;
    this.sink?.dispose();
    this.sink = null;
  }
}
