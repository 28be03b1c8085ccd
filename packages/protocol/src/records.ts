/** Call records (SPEC §6.1) as the client sees them. */
import * as z from './zod.js';
import { CallIdSchema, EndReasonSchema, MediaTypeSchema, RoleSchema, UserIdSchema } from './signaling/common.js';

/** Timestamps of a call's life, ms epoch. */
export const CallTimingsSchema = z.object({
  invitedAt: z.number(),
  ringingAt: z.record(z.string(), z.number()),
  acceptedAt: z.nullable(z.number()),
  mediaConnectedAt: z.nullable(z.number()),
  endedAt: z.nullable(z.number()),
});
/** Timestamps of a call's life, ms epoch. */
export type CallTimings = z.infer<typeof CallTimingsSchema>;

/** One user's record of one call. */
export const CallRecordSchema = z.object({
  callId: CallIdSchema,
  inviter: UserIdSchema,
  inviteList: z.array(UserIdSchema),
  chatGroupId: z.string(),
  scene: z.enum(['single', 'multi', 'group']),
  mediaType: MediaTypeSchema,
  role: RoleSchema,
  result: z.enum(['missed', 'incoming', 'outgoing']),
  /** When the invitation was sent, ms epoch. */
  beginTime: z.number(),
  /** This user's connected time in ms, 0 if never connected. */
  totalTime: z.number(),
  endReason: EndReasonSchema,
  timings: CallTimingsSchema,
});
/** One user's record of one call. */
export type CallRecord = z.infer<typeof CallRecordSchema>;

/** A list of call records (the `records.query` answer). */
export const CallRecordListSchema = z.array(CallRecordSchema);

/** Filter of `queryRecentCalls`. */
export const RecentCallsFilterSchema = z.object({
  begin: z.optional(z.number()),
  end: z.optional(z.number()),
  result: z.optional(z.enum(['missed', 'incoming', 'outgoing'])),
  limit: z.optional(z.int().check(z.minimum(1), z.maximum(500))),
  offset: z.optional(z.int().check(z.minimum(0), z.maximum(1_000_000))),
});
/** Filter of `queryRecentCalls`. */
export type RecentCallsFilter = z.infer<typeof RecentCallsFilterSchema>;
