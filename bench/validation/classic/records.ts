/** Call records (SPEC §6.1) as the client sees them. */
import { z } from 'zod';
import { CallIdSchema, EndReasonSchema, MediaTypeSchema, RoleSchema, UserIdSchema } from './common.js';

/** Timestamps of a call's life, ms epoch. */
export const CallTimingsSchema = z.object({
  invitedAt: z.number(),
  ringingAt: z.record(z.string(), z.number()),
  acceptedAt: z.number().nullable(),
  mediaConnectedAt: z.number().nullable(),
  endedAt: z.number().nullable(),
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

/** Filter of `queryRecentCalls`. */
export const RecentCallsFilterSchema = z.object({
  begin: z.number().optional(),
  end: z.number().optional(),
  result: z.enum(['missed', 'incoming', 'outgoing']).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  offset: z.number().int().min(0).max(1_000_000).optional(),
});
/** Filter of `queryRecentCalls`. */
export type RecentCallsFilter = z.infer<typeof RecentCallsFilterSchema>;
