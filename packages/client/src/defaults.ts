/**
 * Defaults of the engine options and the one place that validates them.
 * @packageDocumentation
 */
import { DEVICE_ID_PATTERN } from '@opencall/protocol/wire';
import { CallEngineError } from './errors.js';
import type { CallEngineOptions, Logger, ResolvedOptions } from './options.js';
import { toSignalingUrl } from './signaling/socket.js';

/** Default option values. */
export const DEFAULTS = {
  requestTimeoutMs: 10_000,
  reconnectWaitMs: 15_000,
  reconnectInitialDelayMs: 100,
  reconnectMaxDelayMs: 5_000,
} as const;

const noop = (): void => undefined;

/** Default logger: debug silenced, warn/error to the console. */
export const defaultLogger: Logger = {
  debug: noop,
  warn: (message, fields) => console.warn(`[opencall] ${message}`, fields ?? ''),
  error: (message, fields) => console.error(`[opencall] ${message}`, fields ?? ''),
};

/** A random device id: 20 url-safe characters from the platform's CSPRNG. */
export function generateDeviceId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const bytes = new Uint8Array(20);
  globalThis.crypto.getRandomValues(bytes);
  let id = 'd';
  for (const b of bytes) id += alphabet[b & 63];
  return id;
}

/** Binds the methods the app gave (a pino or console object keeps its `this`) over the defaults. */
function bindLogger(l: Partial<Logger> | undefined): Logger {
  return {
    debug: (m, f) => (l?.debug ? l.debug(m, f) : defaultLogger.debug(m, f)),
    warn: (m, f) => (l?.warn ? l.warn(m, f) : defaultLogger.warn(m, f)),
    error: (m, f) => (l?.error ? l.error(m, f) : defaultLogger.error(m, f)),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw CallEngineError.invalidParameter(`${name} must be a positive number`);
  }
  return value;
}

/** `serverUrl` as a non-empty list of strings (a single URL is a list of one). */
function serverUrlList(given: unknown): string[] {
  const list: unknown[] = Array.isArray(given) ? given : [given];
  if (list.length === 0) throw CallEngineError.invalidParameter('serverUrl must name at least one server');
  if (!list.every((u): u is string => typeof u === 'string')) {
    throw CallEngineError.invalidParameter('serverUrl must be an http(s):// URL or a list of them');
  }
  return list;
}

/** Validates constructor options once and fills defaults; the result is frozen. */
export function resolveOptions(o: CallEngineOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') throw CallEngineError.invalidParameter('options are required');
  const serverUrls = serverUrlList(o.serverUrl);
  const signalingUrls = serverUrls.map(toSignalingUrl);
  const twice = signalingUrls.find((u, i) => signalingUrls.indexOf(u) !== i);
  if (twice) throw CallEngineError.invalidParameter(`serverUrl lists ${twice} twice`);
  if (!Number.isInteger(o.sdkAppId)) throw CallEngineError.invalidParameter('sdkAppId must be an integer');
  if (o.deviceId !== undefined && !DEVICE_ID_PATTERN.test(o.deviceId)) {
    throw CallEngineError.invalidParameter('deviceId must be 4-64 of [A-Za-z0-9_-]');
  }
  return Object.freeze({
    serverUrls: Object.freeze(serverUrls),
    signalingUrls: Object.freeze(signalingUrls),
    sdkAppId: o.sdkAppId,
    media: o.media,
    WebSocket: o.WebSocket,
    deviceId: o.deviceId ?? generateDeviceId(),
    requestTimeoutMs: positive('requestTimeoutMs', o.requestTimeoutMs, DEFAULTS.requestTimeoutMs),
    reconnectWaitMs: positive('reconnectWaitMs', o.reconnectWaitMs, DEFAULTS.reconnectWaitMs),
    reconnectInitialDelayMs: positive('reconnectInitialDelayMs', o.reconnectInitialDelayMs, DEFAULTS.reconnectInitialDelayMs),
    reconnectMaxDelayMs: positive('reconnectMaxDelayMs', o.reconnectMaxDelayMs, DEFAULTS.reconnectMaxDelayMs),
    logger: bindLogger(o.logger),
  });
}
