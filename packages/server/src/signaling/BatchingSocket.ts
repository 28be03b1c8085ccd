/**
 * The server's WebSocket class (the gateway's `WebSocketServer` creates every socket as one): text
 * frames queued for a socket during one event-loop turn leave as **one frame**, a `batch` message
 * holding them in order (protocol `BatchMessageSchema`), or as themselves when there is only one.
 *
 * Why: a call's commit sends its events to each device, and the request that caused them gets its
 * response right after; one WebSocket frame per message cost the server a frame header and a write
 * each, and the client a frame, a `JSON.parse` and a dispatch each (issue 14: 18 frames per call
 * cycle against a bare relay's 8). Nothing is held longer than before: the queue is flushed once
 * the current callback and the promise chain it started have run (the same moment the previous
 * design uncorked the socket), and before the socket is closed, so a kicked device still gets its
 * final events ahead of the close frame.
 */
import { WebSocket } from 'ws';

/**
 * Largest batch, in characters (≈ bytes: the wire is JSON, mostly ASCII). A replay after a
 * reconnection can hold hundreds of events; past this size the batch so far leaves and a new one
 * starts, so no single frame grows without bound.
 */
export const MAX_BATCH_CHARS = 64 * 1024;

/** Sockets with queued frames; flushed together once the current turn's microtasks have run. */
const queued = new Set<BatchingSocket>();
let flushScheduled = false;

function flushAll(): void {
  flushScheduled = false;
  for (const ws of queued) ws.flush();
  queued.clear();
}

/** Opening and closing text of a batch frame; items go between, comma-separated. */
const BATCH_HEAD = '{"v":1,"type":"batch","m":[';
const BATCH_TAIL = ']}';
/** How every server message's JSON begins (`JSON.stringify` keeps the order the objects are written in). */
const VERSION_HEAD = '{"v":1,';

/** A `ws` socket that batches the frames of one turn (see the file comment). */
export class BatchingSocket extends WebSocket {
  #frames: string[] = [];
  #chars = 0;

  /**
   * Queues a text frame (a whole server message as JSON) if the socket is open. Frames keep their
   * order: within a batch, and across batches.
   */
  queue(frame: string): void {
    if (this.readyState !== WebSocket.OPEN) return;
    if (this.#frames.length > 0 && this.#chars + frame.length > MAX_BATCH_CHARS) this.flush();
    if (this.#frames.length === 0) {
      queued.add(this);
      if (!flushScheduled) {
        flushScheduled = true;
        // From a microtask, nextTick runs once the microtask queue is empty: a request's handling
        // (its commit, the events, then its response) completes before the batch leaves.
        queueMicrotask(() => process.nextTick(flushAll));
      }
    }
    this.#frames.push(frame);
    this.#chars += frame.length;
  }

  /** Sends what is queued now: one frame, or one batch of several. */
  flush(): void {
    const frames = this.#frames;
    if (frames.length === 0) return;
    this.#frames = [];
    this.#chars = 0;
    if (this.readyState !== WebSocket.OPEN) return;
    if (frames.length === 1) return this.send(frames[0]!);
    // Items leave out their `"v":1` (the batch's own covers them): every server message starts with it.
    this.send(BATCH_HEAD + frames.map((f) => (f.startsWith(VERSION_HEAD) ? `{${f.slice(VERSION_HEAD.length)}` : f)).join(',') + BATCH_TAIL);
  }

  /** Sends what is queued, then starts the closing handshake. */
  override close(code?: number, reason?: string | Buffer): void {
    this.flush();
    super.close(code, reason);
  }

  /** Drops what is queued (the connection is cut, as a write buffer would be) and destroys the socket. */
  override terminate(): void {
    this.#frames = [];
    this.#chars = 0;
    super.terminate();
  }
}
