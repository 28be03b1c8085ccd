/**
 * Storage shapes of offline push (SPEC §9): registrations per user, the durable push queue written
 * in the same transaction as the call state, and the per-call delivery trace.
 */

/** Push providers a registration can name. */
export type PushProvider = 'webpush' | 'fcm' | 'apns';

/** One stored registration of a user's device for pushes. */
export interface PushTargetRow {
  userId: string;
  provider: PushProvider;
  /** Identity of the registration within the user: the Web Push endpoint or the FCM/APNs token. */
  key: string;
  /** The full target as JSON (`{ type, subscription }`, `{ type, token }`, `{ type, token, voip }`). */
  target: string;
  createdAt: number;
}

/** `call.invite` rings a closed app; `call.withdraw` takes the notification back. */
export type PushKind = 'invite' | 'withdraw';

/** A push waiting in (or settled from) the durable queue; one row per user, fanned out on send. */
export interface PushRow {
  /** Monotonic row id. */
  id: number;
  callId: string;
  userId: string;
  kind: PushKind;
  /** The payload JSON without the action token (added on send). */
  payload: string;
  createdAt: number;
  /** Past this time the push is pointless (the invitation's deadline; later for withdrawals). */
  expiresAt: number;
  attempts: number;
  nextAttemptAt: number;
  /** When the row was settled (sent, or given up); null while pending. */
  settledAt: number | null;
  lastError: string | null;
}

/** A new queue row. */
export type NewPushRow = Pick<PushRow, 'callId' | 'userId' | 'kind' | 'payload' | 'createdAt' | 'expiresAt'>;

/** One step of a call's delivery trace. */
export interface TraceRow {
  callId: string;
  userId: string;
  deviceId: string | null;
  /** `rung`, `push.sent`, `push.failed`, `push.gone`, `received`, `notification.shown`, outcomes. */
  step: string;
  /** ms epoch. */
  time: number;
  /** JSON object text with step details (provider, status, ms, reason), or null. */
  detail: string | null;
}

/** Registrations kept per user at most; the oldest is dropped when a new one exceeds it. */
export const MAX_PUSH_TARGETS_PER_USER = 10;
/** Trace rows kept per call at most (a call with many re-rings cannot grow without bound). */
export const MAX_TRACE_ROWS_PER_CALL = 500;
