/**
 * Offline push inputs (SPEC §9): the registration targets a client sends (`push.register`,
 * `push.unregister`) and the body of `POST /push/action`. Parsed here like every untrusted input.
 */
import * as z from './zod.js';
import { CallIdSchema, UserIdSchema } from './signaling/common.js';

/** base64url without padding (Web Push keys). */
const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** A Web Push subscription as `PushSubscription.toJSON()` gives it. */
export const WebPushSubscriptionSchema = z.object({
  endpoint: z.url().check(z.maxLength(2048)),
  expirationTime: z.optional(z.nullable(z.number())),
  keys: z.object({
    /** The subscription's P-256 public key (65 bytes → 87 characters). */
    p256dh: z.string().check(z.minLength(80), z.maxLength(100), z.regex(B64URL)),
    /** The 16-byte auth secret (22 characters). */
    auth: z.string().check(z.minLength(16), z.maxLength(32), z.regex(B64URL)),
  }),
});

/** A push registration target (`engine.registerPush(target)`). */
export const PushTargetSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('webpush'), subscription: WebPushSubscriptionSchema }),
  z.object({ type: z.literal('fcm'), token: z.string().check(z.minLength(1), z.maxLength(4096), z.regex(/^[A-Za-z0-9_:.-]+$/)) }),
  z.object({
    type: z.literal('apns'),
    token: z.string().check(z.minLength(32), z.maxLength(200), z.regex(/^[0-9a-fA-F]+$/)),
    voip: z.optional(z.boolean()),
  }),
]);

/** A push registration target. */
export type PushTarget = z.infer<typeof PushTargetSchema>;

/** The identity of a target within its user: the Web Push endpoint or the device token. */
export function pushTargetKey(t: PushTarget): string {
  return t.type === 'webpush' ? t.subscription.endpoint : `${t.type}:${t.token}`;
}

/**
 * One step of a call's delivery trace as the signaling request `call.trace` answers it (SPEC §9;
 * the REST `get_call_trace` has the same steps in Tencent's capitalised shape). `detail` holds
 * what the step knows: `kind` (invite/withdraw), `provider`, `status`, `ms`, `error`, `reason`.
 */
export const CallTraceStepSchema = z.object({
  userId: UserIdSchema,
  deviceId: z.optional(z.string().check(z.maxLength(128))),
  step: z.string().check(z.maxLength(64)),
  time: z.number(),
  detail: z.optional(z.record(z.string(), z.unknown())),
});

/** A call's trace (the `call.trace` answer). */
export const CallTraceStepListSchema = z.array(CallTraceStepSchema);

/** One step of a call's delivery trace (`engine.getCallTrace`). */
export type CallTraceStep = z.infer<typeof CallTraceStepSchema>;

/** Body of `POST /push/action`. */
export const PushActionBodySchema = z.object({
  callId: CallIdSchema,
  userId: UserIdSchema,
  action: z.enum(['reject', 'shown']),
  token: z.string().check(z.minLength(1), z.maxLength(128)),
});

/** A parsed `POST /push/action` body. */
export type PushActionBody = z.infer<typeof PushActionBodySchema>;
