/**
 * The push action token (SPEC §9): an HMAC bound to call, user and the invitation's deadline, so a
 * notification can decline or report `shown` without the app or a UserSig.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The token key, derived from the server's secret key (never the key itself). */
export function actionTokenKey(secretKey: string): Buffer {
  return createHmac('sha256', secretKey).update('opencall push action token v1').digest();
}

/** The token of (callId, userId, deadline), base64url. */
export function actionToken(key: Buffer, callId: string, userId: string, deadline: number): string {
  return createHmac('sha256', key).update(`${callId}\n${userId}\n${deadline}`).digest('base64url');
}

/** True when `token` is the token of (callId, userId, deadline); constant time. */
export function verifyActionToken(key: Buffer, token: string, callId: string, userId: string, deadline: number): boolean {
  const want = Buffer.from(actionToken(key, callId, userId, deadline));
  const got = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}
