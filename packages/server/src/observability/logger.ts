/**
 * The server's pino logger: JSON lines, secrets redacted. Keys that hold a secret are replaced
 * wherever they appear as a field; URLs are logged with their `usersig` query value masked,
 * because Tencent-style REST calls carry the admin UserSig in the query string and HTTP request
 * logs would otherwise print it.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogDestination } from '../config/schema.js';

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Field names that always hold a secret, at the top level or one level down. */
const SECRET_KEYS = ['secretKey', 'webhookSecret', 'userSig', 'usersig', 'secret', 'authorization'];

/** `usersig=<value>` in a query string, any case, up to the next `&` or `#`. */
const USERSIG_IN_QUERY = /([?&]usersig=)[^&#]*/gi;

/** Masks the `usersig` query parameter of a URL (or path with query); other text is unchanged. */
export function maskUrl(url: string): string {
  return url.replace(USERSIG_IN_QUERY, `$1${REDACTED}`);
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
  return stream ? pino(options, stream) : pino(options);
}
