/**
 * Bookkeeping of requests awaiting a response: id allocation, response and wait timers, and
 * settling by id. Ids keep increasing for the life of a signaling client so a request re-sent
 * after a resumed reconnect carries the same id and new requests never collide with the server's
 * per-session response cache.
 * @packageDocumentation
 */
import type { ResponseMessage } from '@opencall/protocol/wire';
import { CallEngineError } from '../errors.js';

/** Per-request options. */
export interface RequestOptions {
  /**
   * Runs synchronously while the response frame is processed, before any later frame: state that
   * later events depend on (the callId of `calls()`) is set here rather than after an `await`.
   */
  onResult?: (data: unknown) => void;
  /** Re-send with the same id after a resumed reconnect (default true; false for auth and ping). */
  resend?: boolean;
  /** Wait for a reconnection when not connected (default true; false for ping). */
  waitForConnection?: boolean;
}

/** A request awaiting its response. */
export interface PendingRequest {
  readonly id: number;
  readonly type: string;
  /** The serialized frame, kept to re-send it unchanged. */
  readonly frame: string;
  /**
   * The frame marked `retry: true`, sent instead of `frame` once the request went out on an
   * earlier socket: it may have run on a server that died before answering, so the server looks
   * its stored outcome up instead of running it twice.
   */
  readonly retryFrame: string;
  /** Written to some socket at least once. */
  everSent: boolean;
  readonly resend: boolean;
  readonly waitForConnection: boolean;
  /** Written to the current socket (false while it waits for a connection). */
  sent: boolean;
  readonly onResult: ((data: unknown) => void) | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(data: unknown): void;
  reject(error: CallEngineError): void;
}

/** The table of pending requests. */
export class RequestTracker {
  #nextId = 1;
  readonly #pending = new Map<number, PendingRequest>();

  /** Takes the next id without registering a request (a notification's). */
  nextId(): number {
    return this.#nextId++;
  }

  /** Registers a request; the promise settles through {@link settle} or {@link fail}. */
  create(type: string, data: unknown, options: RequestOptions = {}): { request: PendingRequest; promise: Promise<unknown> } {
    const id = this.#nextId++;
    const frame = JSON.stringify({ v: 1, id, type, data });
    let resolve!: (d: unknown) => void;
    let reject!: (e: CallEngineError) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const request: PendingRequest = {
      id,
      type,
      frame,
      // Built when first needed (most requests are never re-sent): `frame` with `"retry":true`
      // as its last field, exactly what JSON.stringify gives for the same object plus `retry`.
      get retryFrame(): string {
        return `${frame.slice(0, -1)},"retry":true}`;
      },
      everSent: false,
      resend: options.resend ?? true,
      waitForConnection: options.waitForConnection ?? true,
      sent: false,
      onResult: options.onResult,
      timer: undefined,
      resolve,
      reject,
    };
    this.#pending.set(id, request);
    return { request, promise };
  }

  /** (Re)arms the request's single timer: when it fires the request fails with -1401 `why`. */
  arm(request: PendingRequest, ms: number, why: string): void {
    clearTimeout(request.timer);
    request.timer = setTimeout(() => this.fail(request.id, CallEngineError.signalingFailed(why)), ms);
  }

  /**
   * Settles the request a response answers. `onResult` runs before the promise settles; if it
   * throws, the request fails with that error. Returns false for an unknown id (already settled).
   */
  settle(response: ResponseMessage): boolean {
    const request = this.#take(response.id);
    if (!request) return false;
    if (!response.ok) {
      request.reject(CallEngineError.fromWire(response.error));
      return true;
    }
    try {
      request.onResult?.(response.data);
      request.resolve(response.data);
    } catch (err) {
      request.reject(
        err instanceof CallEngineError ? err : CallEngineError.signalingFailed(`bad ${request.type} answer: ${String(err)}`),
      );
    }
    return true;
  }

  /** Fails request `id` (no-op when already settled). */
  fail(id: number, error: CallEngineError): void {
    this.#take(id)?.reject(error);
  }

  /** Fails every pending request matching `filter` (all when absent). */
  failAll(error: CallEngineError, filter?: (r: PendingRequest) => boolean): void {
    for (const r of [...this.#pending.values()]) if (!filter || filter(r)) this.fail(r.id, error);
  }

  /** Pending requests in id order (= the order they were made). */
  list(): PendingRequest[] {
    return [...this.#pending.values()];
  }

  #take(id: number): PendingRequest | undefined {
    const request = this.#pending.get(id);
    if (!request) return undefined;
    this.#pending.delete(id);
    clearTimeout(request.timer);
    return request;
  }
}
