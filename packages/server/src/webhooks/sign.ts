/**
 * Webhook signatures (docs/webhooks.md): `X-OpenCall-Signature: sha256=<hex HMAC-SHA256(webhookSecret,
 * "<timestamp>\n<event id>\n<sequence>\n<raw body>")>` with `X-OpenCall-Timestamp: <unix seconds>`.
 * Signing the event id, sequence and send time with the body means a captured delivery cannot be
 * replayed under a fresh event id, and `verifyWebhook` refuses one older than its tolerance.
 * (Header values cannot contain a newline, so the signed text splits back into one tuple only.)
 * The receiver must verify over the raw bytes it received, not over re-serialised JSON.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying the signature, lower-cased (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'x-opencall-signature';
/** Header carrying the signing time, Unix seconds. */
export const TIMESTAMP_HEADER = 'x-opencall-timestamp';
/** Header carrying the event id. */
export const EVENT_ID_HEADER = 'x-opencall-event-id';
/** Header carrying the per-call sequence. */
export const SEQUENCE_HEADER = 'x-opencall-sequence';
/** Default accepted age (either way) of a delivery's timestamp, seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** `sha256=` followed by exactly 64 hex digits; anything else is malformed. */
const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/i;

/** What a signature covers besides the body. */
export interface WebhookSignedFields {
  /** Unix seconds when this attempt was signed (`X-OpenCall-Timestamp`). */
  timestamp: number;
  /** `X-OpenCall-Event-Id`. */
  eventId: string;
  /** `X-OpenCall-Sequence`. */
  sequence: number;
}

/** Raw HMAC-SHA256 of the signed text keyed with the secret's UTF-8 bytes. */
function hmac(rawBody: string | Buffer, secret: string, f: { timestamp: string; eventId: string; sequence: string }): Buffer {
  return createHmac('sha256', secret).update(`${f.timestamp}\n${f.eventId}\n${f.sequence}\n`).update(rawBody).digest();
}

/**
 * Signs a webhook the way the dispatcher does (each attempt is signed afresh with its send time).
 *
 * @param rawBody - The exact bytes that are POSTed (a string is taken as UTF-8).
 * @param secret - The `webhookSecret`; must be non-empty (an empty key would sign with no secret at all).
 * @param fields - Timestamp, event id and sequence sent in the headers.
 * @returns `sha256=<64 lower-case hex digits>`.
 * @throws TypeError when `secret` is empty or a field could not travel in a header.
 */
export function signWebhook(rawBody: string | Buffer, secret: string, fields: WebhookSignedFields): string {
  if (typeof secret !== 'string' || secret.length === 0) throw new TypeError('webhook secret must be a non-empty string');
  if (!Number.isSafeInteger(fields.timestamp) || !Number.isSafeInteger(fields.sequence) || /[\r\n]/.test(fields.eventId)) {
    throw new TypeError('webhook timestamp and sequence must be integers, the event id one line');
  }
  const f = { timestamp: String(fields.timestamp), eventId: fields.eventId, sequence: String(fields.sequence) };
  return `sha256=${hmac(rawBody, secret, f).toString('hex')}`;
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Largest accepted difference between `X-OpenCall-Timestamp` and now, seconds (default 300). */
  toleranceSeconds?: number;
  /** Clock, ms epoch (default `Date.now()`). */
  now?: number;
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
 * Verifies a delivery: `X-OpenCall-Signature` over the timestamp, event id, sequence and raw body,
 * and `X-OpenCall-Timestamp` within `toleranceSeconds` of now (a replayed capture is refused once
 * it is older; deduplicate on the event id within that window). Never throws: a missing or
 * malformed header, a wrong secret, an empty secret or unexpected input types all give `false`.
 * The comparison is constant-time so the signature cannot be discovered byte by byte.
 *
 * @param rawBody - The body exactly as received (Buffer preferred; a string is taken as UTF-8).
 * @param headers - `req.headers` of node:http / Express / Fastify, or a Fetch `Headers`.
 * @param secret - The same `webhookSecret` the server was started with.
 * @param options - Tolerance and clock.
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
  options: VerifyWebhookOptions = {},
): boolean {
  try {
    if (typeof secret !== 'string' || secret.length === 0) return false;
    if (typeof rawBody !== 'string' && !Buffer.isBuffer(rawBody)) return false;
    if (headers === null || typeof headers !== 'object') return false;
    const header = readHeader(headers, SIGNATURE_HEADER);
    const timestamp = readHeader(headers, TIMESTAMP_HEADER)?.trim();
    const eventId = readHeader(headers, EVENT_ID_HEADER)?.trim();
    const sequence = readHeader(headers, SEQUENCE_HEADER)?.trim();
    if (typeof header !== 'string' || !timestamp || eventId === undefined || !sequence) return false;
    if (!/^\d{1,15}$/.test(timestamp) || !/^\d{1,15}$/.test(sequence)) return false;
    const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    const nowS = (options.now ?? Date.now()) / 1000;
    if (!(Math.abs(nowS - Number(timestamp)) <= tolerance)) return false;
    const match = SIGNATURE_PATTERN.exec(header.trim());
    if (!match) return false;
    const given = Buffer.from(match[1]!, 'hex');
    const expected = hmac(rawBody, secret, { timestamp, eventId, sequence });
    // Both are 32 bytes here (the pattern fixes the length), which timingSafeEqual requires.
    return given.length === expected.length && timingSafeEqual(given, expected);
  } catch {
    return false;
  }
}
