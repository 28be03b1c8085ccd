/**
 * The server's pino logger: JSON lines, secrets redacted. Keys that hold a secret are replaced
 * wherever they appear as a field; URLs are logged with their `usersig` query value masked,
 * because Tencent-style REST calls carry the admin UserSig in the query string and HTTP request
 * logs would otherwise print it.
 */
import { destination, pino } from 'pino';
import type { Logger } from 'pino';
import type { LogDestination } from '../config/schema.js';

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Field names that always hold a secret, at the top level or one level down. */
const SECRET_KEYS = ['secretKey', 'webhookSecret', 'userSig', 'usersig', 'secret', 'authorization'];

/** A query key as the server's query parser reads it (`+` is a space, `%xx` decoded). */
function decodeKey(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * Masks the `usersig` query parameter of a URL (or path with query); other text is unchanged.
 * Keys are compared after decoding, exactly as the router decodes them, so `?user%73ig=<sig>`
 * (which authenticates) is masked too; a key that does not decode is masked to be safe.
 */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  const parts = url.slice(q + 1, end).split('&').map((part) => {
    const eq = part.indexOf('=');
    if (eq < 0) return part;
    const key = decodeKey(part.slice(0, eq));
    return key === null || key.toLowerCase() === 'usersig' ? `${part.slice(0, eq)}=${REDACTED}` : part;
  });
  return `${url.slice(0, q + 1)}${parts.join('&')}${url.slice(end)}`;
}

/**
 * Creates the server logger.
 *
 * @param level - pino level (`logLevel`).
 * @param stream - Destination (`logStream`); stdout when absent.
 */
export function createLogger(level: string, stream?: LogDestination): Logger {
  const paths = [
    ...SECRET_KEYS,
    ...SECRET_KEYS.map((k) => `*.${k}`),
    // fastify request logs and our own URL fields.
    'req.url',
    'url',
    'req.headers.authorization',
  ];
  const options = {
    level,
    redact: {
      paths,
      censor: (value: unknown, path: string[]): unknown =>
        path[path.length - 1] === 'url' && typeof value === 'string' ? maskUrl(value) : REDACTED,
    },
  };
  // stdout is written asynchronously: a line is queued and written by libuv, and lines queued
  // while a write is in flight leave together, so per-call log lines cost the event loop no
  // syscall under load. pino flushes what is queued when the process exits normally; a SIGKILL
  // may lose the last lines (never state: that is in the database).
  return pino(options, stream ?? destination({ dest: 1, sync: false }));
}
