/**
 * Webhook signatures (SPEC §6.3): `X-OpenCall-Signature: sha256=<hex HMAC-SHA256(webhookSecret, raw body)>`.
 * The receiver must verify over the raw bytes it received, not over re-serialised JSON: any
 * re-encoding (key order, whitespace, unicode escapes) changes the bytes and breaks the HMAC.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signature, lower-cased (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'x-opencall-signature';

/** `sha256=` followed by exactly 64 hex digits; anything else is malformed. */
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/** Raw HMAC-SHA256 of `rawBody` keyed with the secret's UTF-8 bytes. */
function hmac(rawBody: string | Buffer, secret: string): Buffer {
  return createHmac('sha256', secret).update(rawBody).digest();
}

/**
 * Signs a webhook body the way the dispatcher does.
 *
 * @param rawBody - The exact bytes that are POSTed (a string is taken as UTF-8).
 * @param secret - The `webhookSecret`; must be non-empty (an empty key would sign with no secret at all).
 * @returns `sha256=<64 lower-case hex digits>`.
 * @throws TypeError when `secret` is empty.
 */
export function signWebhook(rawBody: string | Buffer, secret: string): string {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('webhook secret must be a non-empty string');
  return `sha256=${hmac(rawBody, secret).toString('hex')}`;
}

/** Reads one header from a Fetch `Headers` or a Node-style record, ignoring the name's case. */
function readHeader(headers: Record<string, string | string[] | undefined> | Headers, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  for (const key of Object.keys(record)) {
    if (key.toLowerCase() !== name) continue;
    const value = record[key];
    // Node joins repeated custom headers into one string; an array with several values is ambiguous, so refuse it.
    if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
    return value;
  }
  return undefined;
}

/**
 * Verifies `X-OpenCall-Signature` against the raw request body. Never throws: a missing or
 * malformed header, a wrong secret, an empty secret or unexpected input types all give `false`.
 * The comparison is constant-time so the signature cannot be discovered byte by byte.
 *
 * @param rawBody - The body exactly as received (Buffer preferred; a string is taken as UTF-8).
 * @param headers - `req.headers` of node:http / Express / Fastify, or a Fetch `Headers`.
 * @param secret - The same `webhookSecret` the server was started with.
 *
 * @example A node:http receiver
 * ```ts
 * import { createServer } from 'node:http';
 * import { verifyWebhook } from '@opencall/server';
 *
 * createServer((req, res) => {
 *   const chunks: Buffer[] = [];
 *   req.on('data', (c: Buffer) => chunks.push(c));
 *   req.on('end', () => {
 *     const raw = Buffer.concat(chunks);
 *     if (!verifyWebhook(raw, req.headers, process.env.WEBHOOK_SECRET!)) {
 *       res.writeHead(401).end();
 *       return;
 *     }
 *     const eventId = req.headers['x-opencall-event-id']; // dedupe on this: delivery is at-least-once
 *     const event = JSON.parse(raw.toString('utf8'));
 *     console.log(eventId, event.CallbackCommand);
 *     res.writeHead(200).end(); // any 2xx acknowledges; anything else is retried
 *   });
 * }).listen(8080);
 * ```
 */
export function verifyWebhook(
  rawBody: string | Buffer,
  headers: Record<string, string | string[] | undefined> | Headers,
  secret: string,
): boolean {
  try {
    if (typeof secret !== 'string' || secret.length === 0) return false;
    if (typeof rawBody !== 'string' && !Buffer.isBuffer(rawBody)) return false;
    if (headers === null || typeof headers !== 'object') return false;
    const header = readHeader(headers, SIGNATURE_HEADER);
    if (typeof header !== 'string') return false;
    const match = SIGNATURE_PATTERN.exec(header.trim());
    if (!match) return false;
    const given = Buffer.from(match[1]!, 'hex');
    const expected = hmac(rawBody, secret);
    // Both are 32 bytes here (the pattern fixes the length), which timingSafeEqual requires.
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}
