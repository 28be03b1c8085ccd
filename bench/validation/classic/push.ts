/**
 * Offline push inputs (SPEC §9): the registration targets a client sends (`push.register`,
 * `push.unregister`) and the body of `POST /push/action`. Parsed here like every untrusted input.
 */
import { z } from 'zod';
import { CallIdSchema, UserIdSchema } from './common.js';

/** base64url without padding (Web Push keys). */
const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** A Web Push subscription as `PushSubscription.toJSON()` gives it. */
export const WebPushSubscriptionSchema = z.object({
  endpoint: z.url().max(2048),
  expirationTime: z.number().nullable().optional(),
  keys: z.object({
    /** The subscription's P-256 public key (65 bytes → 87 characters). */
    p256dh: z.string().min(80).max(100).regex(B64URL),
    /** The 16-byte auth secret (22 characters). */
    auth: z.string().min(16).max(32).regex(B64URL),
  }),
});

/** A push registration target (`engine.registerPush(target)`). */
export const PushTargetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('webpush'), subscription: WebPushSubscriptionSchema }),
  z.object({ type: z.literal('fcm'), token: z.string().min(1).max(4096).regex(/^[A-Za-z0-9_:.-]+$/) }),
  z.object({ type: z.literal('apns'), token: z.string().min(32).max(200).regex(/^[0-9a-fA-F]+$/), voip: z.boolean().optional() }),
]);

/** A push registration target. */
export type PushTarget = z.infer<typeof PushTargetSchema>;

/** The identity of a target within its user: the Web Push endpoint or the device token. */
export function pushTargetKey(t: PushTarget): string {
  return t.type === 'webpush' ? t.subscription.endpoint : `${t.type}:${t.token}`;
}

/** Body of `POST /push/action`. */
export const PushActionBodySchema = z.object({
  callId: CallIdSchema,
  userId: UserIdSchema,
  action: z.enum(['reject', 'shown']),
  token: z.string().min(1).max(128),
});

/** A parsed `POST /push/action` body. */
export type PushActionBody = z.infer<typeof PushActionBodySchema>;
