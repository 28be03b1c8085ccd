/**
 * Web Push (RFC 8030/8291/8292): the `web-push` package encrypts the payload (aes128gcm) and
 * signs the VAPID JWT; the request itself goes through `fetch`, so the per-request deadline and
 * `http:` endpoints of local push services (tests, `allowHttpEndpoints`) work the same way.
 */
import webpush from 'web-push';
import type { PushResult, PushSend, PushSender } from './types.js';
import { errorText } from './types.js';

/** VAPID keys in the `web-push` format. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

/** Topic header rule (RFC 8030 §5.4): at most 32 base64url characters. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

/** Sends Web Push messages with VAPID. */
export class WebPushSender implements PushSender {
  readonly name = 'webpush';

  constructor(
    private readonly vapid: VapidKeys,
    private readonly allowHttp: boolean,
  ) {}

  async send(p: PushSend): Promise<PushResult> {
    if (p.target?.type !== 'webpush') return { status: 0, gone: false, error: 'not a Web Push target' };
    const sub = p.target.subscription;
    const protocol = new URL(sub.endpoint).protocol;
    if (protocol !== 'https:' && !(this.allowHttp && protocol === 'http:')) {
      return { status: 0, gone: true, error: `endpoint must be https (got ${protocol})` };
    }
    const details = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: sub.keys }, JSON.stringify(p.payload), {
      vapidDetails: this.vapid,
      TTL: p.ttlSeconds,
      urgency: 'high',
      contentEncoding: 'aes128gcm',
      ...(TOPIC.test(p.payload.callId) ? { topic: p.payload.callId } : {}),
    });
    const res = await fetch(details.endpoint, {
      method: 'POST',
      headers: details.headers as Record<string, string>,
      body: details.body ? new Uint8Array(details.body) : null,
      signal: p.signal,
      redirect: 'manual',
    });
    if (res.status >= 200 && res.status < 300) {
      await res.body?.cancel();
      return { status: res.status, gone: false };
    }
    const text = await errorText(res);
    return { status: res.status, gone: res.status === 404 || res.status === 410, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  }
}
