/**
 * `push.webhookUrl`: every push goes to the app's own backend instead of the providers, as one
 * signed POST per user with all their registrations (headers like SPEC §6.3 webhooks).
 */
import { signWebhook } from '../../webhooks/sign.js';
import type { PushResult, PushSend, PushSender } from './types.js';
import { errorText } from './types.js';

/** Hands pushes to the app's backend. */
export class PushWebhookSender implements PushSender {
  readonly name = 'webhook';

  constructor(
    private readonly url: string,
    private readonly secret: string | undefined,
  ) {}

  async send(p: PushSend): Promise<PushResult> {
    const body = JSON.stringify({ userId: p.userId, targets: p.targets, ttlSeconds: p.ttlSeconds, payload: p.payload });
    const eventId = `${p.payload.callId}.push.${p.kind}.${p.userId}`;
    const timestamp = Math.floor(Date.now() / 1000);
    // An invite is step 1 of a user's pushes for a call, its withdraw step 2.
    const sequence = p.kind === 'invite' ? 1 : 2;
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'OpenCall-Push',
      'X-OpenCall-Event-Id': eventId,
      'X-OpenCall-Sequence': String(sequence),
      'X-OpenCall-Timestamp': String(timestamp),
    };
    // Signed like SPEC §6.3 webhooks (timestamp, event id, sequence and body).
    if (this.secret) headers['X-OpenCall-Signature'] = signWebhook(body, this.secret, { timestamp, eventId, sequence });
    const res = await fetch(this.url, { method: 'POST', headers, body, signal: p.signal, redirect: 'manual' });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { status: res.status, gone: false };
    }
    const text = await errorText(res);
    return { status: res.status, gone: false, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  }
}
