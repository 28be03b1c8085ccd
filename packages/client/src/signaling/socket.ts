/**
 * The WebSocket seam: which implementation to use, the signaling URL, and a narrow view of a
 * socket so the rest of the client does not care whether it is the browser's or `ws`.
 * @packageDocumentation
 */
import { CallEngineError } from '../errors.js';
import type { WebSocketConstructor } from '../options.js';

/** The part of a WHATWG WebSocket the signaling client uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** `readyState` of an open socket (same in browsers and `ws`). */
export const SOCKET_OPEN = 1;

/**
 * The signaling URL of a server URL: http→ws, https→wss, path `/ws` appended to the server's path
 * (a URL that already ends in `/ws` is kept). Query and fragment are dropped.
 */
export function toSignalingUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw CallEngineError.invalidParameter(`serverUrl is not a URL: ${serverUrl}`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw CallEngineError.invalidParameter(`serverUrl must be http(s) or ws(s): ${serverUrl}`);
  const path = url.pathname.replace(/\/+$/, '');
  return `${scheme}//${url.host}${path.endsWith('/ws') ? path : `${path}/ws`}`;
}

let nodeWebSocket: Promise<WebSocketConstructor> | undefined;

/**
 * The WebSocket class to use: the one given, else `globalThis.WebSocket`, else the `ws` package.
 * `ws` is imported through a variable module name so bundlers never put it in a browser build.
 */
export function resolveWebSocket(given?: WebSocketConstructor): Promise<WebSocketConstructor> {
  if (given) return Promise.resolve(given);
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (typeof global === 'function') return Promise.resolve(global);
  nodeWebSocket ??= importWs();
  return nodeWebSocket;
}

async function importWs(): Promise<WebSocketConstructor> {
  const name = 'ws';
  try {
    const mod = (await import(/* @vite-ignore */ name)) as {
      WebSocket?: WebSocketConstructor;
      default?: WebSocketConstructor;
    };
    const ctor = mod.WebSocket ?? mod.default;
    if (typeof ctor !== 'function') throw new Error('the ws module exports no WebSocket');
    return ctor;
  } catch (err) {
    nodeWebSocket = undefined;
    throw CallEngineError.signalingFailed(
      `no WebSocket implementation: pass options.WebSocket or install ws (${(err as Error).message})`,
    );
  }
}

/** Text of a message event: strings as they are, binary frames decoded as UTF-8. */
export function frameText(data: unknown): string | null {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    return new TextDecoder().decode(data);
  }
  return null;
}

/**
 * Closes a socket whatever its state. `hard` is for a dead link: a `ws` socket is terminated at
 * once instead of waiting up to 30 s for a closing handshake that will never come.
 */
export function closeQuietly(ws: SocketLike, hard = false): void {
  ws.onmessage = null;
  try {
    const terminate = (ws as { terminate?: () => void }).terminate;
    if (hard && typeof terminate === 'function') terminate.call(ws);
    else ws.close(1000);
  } catch {
    // Closing a socket that is already closing throws in some implementations; nothing to do.
  }
}
