/** The interface every push provider implements (Web Push, FCM, APNs, the app's webhook). */
import type { PushTarget } from '@opencall/protocol';
import type { PushKind } from '../../storage/push.js';
import type { PushPayload } from '../../call/types.js';

/** One push to one registration. */
export interface PushSend {
  /** The registration to send to; null for the app's webhook, which gets all of them. */
  target: PushTarget | null;
  /** Every registration of the user. */
  targets: PushTarget[];
  userId: string;
  /** The §9 payload, action token included. */
  payload: PushPayload & { userId: string; actionToken: string };
  kind: PushKind;
  /** Seconds the push is worth delivering (what is left of the ring time for invites). */
  ttlSeconds: number;
  /** Aborts the request (the dispatcher's per-request deadline or shutdown). */
  signal: AbortSignal;
}

/** What a provider answered. */
export interface PushResult {
  /** HTTP status, or 0 when no answer came (network error, timeout). */
  status: number;
  /** The registration is gone for good (404/410, or the provider's "unregistered"): remove it. */
  gone: boolean;
  /** Why it failed, when it did. */
  error?: string;
}

/** A provider able to send to some targets. */
export interface PushSender {
  /** `webpush`, `fcm`, `apns` or `webhook` (the trace's `provider`). */
  readonly name: string;
  send(p: PushSend): Promise<PushResult>;
  /** Releases connections (optional). */
  close?(): void;
}

/** Reads at most `max` characters of a response body for an error message; never throws. */
export async function errorText(res: Response, max = 200): Promise<string> {
  try {
    const t = await res.text();
    return t.length > max ? `${t.slice(0, max)}…` : t;
  } catch {
    return '';
  }
}
