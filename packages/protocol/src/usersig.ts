/**
 * UserSig: Tencent TLS-sig-api-v2 compatible user signatures.
 *
 * A UserSig is `escape(base64(deflate(JSON)))` where the JSON holds the signed fields and
 * `TLS.sig`, the base64 HMAC-SHA256 (keyed with the secret key's UTF-8 bytes) of
 *
 * ```text
 * TLS.identifier:<id>\nTLS.sdkappid:<n>\nTLS.time:<unix s>\nTLS.expire:<s>\n[TLS.userbuf:<base64>\n]
 * ```
 *
 * and `escape` replaces `+`→`*`, `/`→`-`, `=`→`_`. Sigs made here verify with Tencent's official
 * libraries and vice versa.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { ErrorCode } from './errors.js';

/** Longest UserSig string {@link verifyUserSig} will look at; longer ones are refused unread. */
export const MAX_USERSIG_LENGTH = 8192;

/** Cap on the inflated JSON document, so a small zlib bomb cannot allocate much memory. */
export const MAX_USERSIG_INFLATED_BYTES = 64 * 1024;

/** Options of {@link genUserSig}. */
export interface GenUserSigOptions {
  /** The application id (`TLS.sdkappid`), a positive safe integer. */
  sdkAppId: number;
  /** The application's secret key; its UTF-8 bytes key the HMAC. */
  secretKey: string;
  /** The user id the sig is issued for (`TLS.identifier`). */
  userId: string;
  /** Validity in seconds from `now` (`TLS.expire`), a non-negative safe integer. */
  expireSeconds: number;
  /** Issue time in milliseconds since the Unix epoch; defaults to `Date.now()`. `TLS.time` is `floor(now / 1000)`. */
  now?: number;
  /** Optional user buffer (e.g. a TRTC PrivateMapKey payload); strings are encoded as UTF-8. */
  userBuf?: Uint8Array | string;
}

/** Options of {@link verifyUserSig}. */
export interface VerifyUserSigOptions {
  /** The application id the sig must have been issued for. */
  sdkAppId: number;
  /** The application's secret key. */
  secretKey: string;
  /** The user id the sig must have been issued for. */
  userId: string;
  /** The UserSig to check; any value is accepted and non-strings are refused. */
  userSig: unknown;
  /** Current time in milliseconds since the Unix epoch; defaults to `Date.now()`. */
  now?: number;
}

/**
 * Outcome of {@link verifyUserSig}: either accepted, with the instant the sig expires
 * (`(TLS.time + TLS.expire) * 1000`, ms since the epoch), or refused with a stable
 * {@link ErrorCode} (70001, 70003, 70013 or 70014) and a human-readable reason.
 */
export type VerifyUserSigResult =
  | { ok: true; expireAt: number }
  | { ok: false; code: number; reason: string };

/** Builds the exact text that `TLS.sig` signs. */
function signedText(
  identifier: string,
  sdkAppId: number,
  time: number,
  expire: number,
  base64UserBuf: string | undefined,
): string {
  let text =
    `TLS.identifier:${identifier}\n` +
    `TLS.sdkappid:${sdkAppId}\n` +
    `TLS.time:${time}\n` +
    `TLS.expire:${expire}\n`;
  if (base64UserBuf !== undefined) text += `TLS.userbuf:${base64UserBuf}\n`;
  return text;
}

/** Standard base64 HMAC-SHA256 of `text` keyed with the UTF-8 bytes of `secretKey`. */
function hmacBase64(secretKey: string, text: string): string {
  return createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(text, 'utf8').digest('base64');
}

function isSafeInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n);
}

/**
 * Issues a UserSig, byte-compatible with Tencent's TLS-sig-api-v2.
 *
 * @returns the escaped base64 UserSig string.
 * @throws TypeError / RangeError when an option is missing or out of range (a programming error).
 */
export function genUserSig(options: GenUserSigOptions): string {
  const { sdkAppId, secretKey, userId, expireSeconds, userBuf } = options;
  const now = options.now ?? Date.now();
  if (!isSafeInt(sdkAppId) || sdkAppId <= 0) throw new RangeError('sdkAppId must be a positive integer');
  if (typeof secretKey !== 'string' || secretKey.length === 0) throw new TypeError('secretKey must be a non-empty string');
  if (typeof userId !== 'string' || userId.length === 0) throw new TypeError('userId must be a non-empty string');
  if (!isSafeInt(expireSeconds) || expireSeconds < 0) throw new RangeError('expireSeconds must be a non-negative integer');
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) throw new RangeError('now must be a finite number of ms');

  const time = Math.floor(now / 1000);
  let base64UserBuf: string | undefined;
  if (userBuf !== undefined) {
    if (typeof userBuf === 'string') base64UserBuf = Buffer.from(userBuf, 'utf8').toString('base64');
    else if (userBuf instanceof Uint8Array) {
      base64UserBuf = Buffer.from(userBuf.buffer, userBuf.byteOffset, userBuf.byteLength).toString('base64');
    } else throw new TypeError('userBuf must be a Uint8Array or a string');
  }

  // Key order follows the official libraries (ver, identifier, sdkappid, expire, time, [userbuf], sig).
  const doc: Record<string, string | number> = {
    'TLS.ver': '2.0',
    'TLS.identifier': userId,
    'TLS.sdkappid': sdkAppId,
    'TLS.expire': expireSeconds,
    'TLS.time': time,
  };
  if (base64UserBuf !== undefined) doc['TLS.userbuf'] = base64UserBuf;
  doc['TLS.sig'] = hmacBase64(secretKey, signedText(userId, sdkAppId, time, expireSeconds, base64UserBuf));

  const compressed = deflateSync(Buffer.from(JSON.stringify(doc), 'utf8')).toString('base64');
  return compressed.replace(/\+/g, '*').replace(/\//g, '-').replace(/=/g, '_');
}

function refuse(code: number, reason: string): VerifyUserSigResult {
  return { ok: false, code, reason };
}

/** Base64 after un-escaping (`*`→`+`, `-`→`/`, `_`→`=`); padding optional. */
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;

/** Decodes, inflates and parses a UserSig into its JSON object, or returns undefined. */
function decodeDocument(userSig: string): Record<string, unknown> | undefined {
  const b64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  if (!BASE64_PATTERN.test(b64)) return undefined;
  const unpadded = b64.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return undefined;
  const compressed = Buffer.from(unpadded, 'base64');
  if (compressed.length === 0) return undefined;
  let json: string;
  try {
    const inflated = inflateSync(compressed, { maxOutputLength: MAX_USERSIG_INFLATED_BYTES });
    json = new TextDecoder('utf-8', { fatal: true }).decode(inflated);
  } catch {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

function own(doc: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(doc, key) ? doc[key] : undefined;
}

function verifyUnsafe(options: VerifyUserSigOptions): VerifyUserSigResult {
  const { sdkAppId, secretKey, userId, userSig } = options;
  const now = options.now ?? Date.now();
  if (typeof secretKey !== 'string' || secretKey.length === 0) {
    return refuse(ErrorCode.USERSIG_INVALID, 'no secret key configured');
  }
  if (typeof now !== 'number' || !Number.isFinite(now)) return refuse(ErrorCode.USERSIG_INVALID, 'invalid current time');
  if (typeof userSig !== 'string' || userSig.length === 0) return refuse(ErrorCode.USERSIG_INVALID, 'UserSig is empty or not a string');
  if (userSig.length > MAX_USERSIG_LENGTH) return refuse(ErrorCode.USERSIG_INVALID, 'UserSig is too long');

  const doc = decodeDocument(userSig);
  if (doc === undefined) return refuse(ErrorCode.USERSIG_INVALID, 'UserSig cannot be decoded');

  const identifier = own(doc, 'TLS.identifier');
  const sigSdkAppId = own(doc, 'TLS.sdkappid');
  const time = own(doc, 'TLS.time');
  const expire = own(doc, 'TLS.expire');
  const sig = own(doc, 'TLS.sig');
  const userBuf = own(doc, 'TLS.userbuf');
  if (
    typeof identifier !== 'string' ||
    !isSafeInt(sigSdkAppId) ||
    !isSafeInt(time) ||
    !isSafeInt(expire) ||
    typeof sig !== 'string' ||
    (userBuf !== undefined && typeof userBuf !== 'string')
  ) {
    return refuse(ErrorCode.USERSIG_INVALID, 'UserSig is missing fields');
  }

  if (sigSdkAppId !== sdkAppId) return refuse(ErrorCode.USERSIG_SDKAPPID_MISMATCH, 'UserSig was issued for another sdkAppId');
  if (identifier !== userId) return refuse(ErrorCode.USERSIG_USER_MISMATCH, 'UserSig was issued for another user');

  const expected = Buffer.from(hmacBase64(secretKey, signedText(identifier, sigSdkAppId, time, expire, userBuf)), 'utf8');
  const given = Buffer.from(sig, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(ErrorCode.USERSIG_INVALID, 'UserSig signature does not verify');
  }

  if (Math.floor(now / 1000) > time + expire) return refuse(ErrorCode.USERSIG_EXPIRED, 'UserSig expired');
  return { ok: true, expireAt: (time + expire) * 1000 };
}

/**
 * Verifies a UserSig for `sdkAppId` and `userId`. Never throws, whatever the input.
 *
 * Checks, in order: decodable (escaped base64 → zlib → JSON object with all fields; at most
 * {@link MAX_USERSIG_LENGTH} characters and {@link MAX_USERSIG_INFLATED_BYTES} inflated) else 70003;
 * same sdkAppId else 70014; same user id else 70013; HMAC matches (constant-time) else 70003;
 * not expired (`floor(now / 1000) > TLS.time + TLS.expire` means expired) else 70001.
 */
export function verifyUserSig(options: VerifyUserSigOptions): VerifyUserSigResult {
  try {
    return verifyUnsafe(options);
  } catch {
    return refuse(ErrorCode.USERSIG_INVALID, 'UserSig cannot be verified');
  }
}
