/**
 * FCM HTTP v1: a service-account JWT (RS256) is exchanged for an OAuth access token at the
 * account's `token_uri`, then `POST {endpoint}/v1/projects/{projectId}/messages:send` with a data
 * message (`android.priority: high`, `ttl`, `collapse_key` = callId). Endpoints are configurable so
 * tests can run against local servers; this was not tried against Google's service.
 */
import type { PushResult, PushSend, PushSender } from './types.js';
import { errorText } from './types.js';
import { TokenCache, signJwt } from './jwt.js';

/** `push.fcm` options. */
export interface FcmOptions {
  projectId: string;
  serviceAccount: { client_email: string; private_key: string; token_uri?: string | undefined };
  endpoint: string;
}

const SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** FCM data values must be strings: objects are sent as JSON text. */
function dataOf(payload: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(payload)) if (v !== undefined && v !== null) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** Sends FCM data messages. */
export class FcmSender implements PushSender {
  readonly name = 'fcm';
  readonly #tokens: TokenCache;

  constructor(
    private readonly o: FcmOptions,
    private readonly now: () => number,
  ) {
    this.#tokens = new TokenCache(now);
  }

  async #accessToken(signal: AbortSignal): Promise<string> {
    return this.#tokens.get(async () => {
      const aud = this.o.serviceAccount.token_uri ?? DEFAULT_TOKEN_URI;
      const iat = Math.floor(this.now() / 1000);
      const assertion = signJwt('RS256', {}, { iss: this.o.serviceAccount.client_email, scope: SCOPE, aud, iat, exp: iat + 3600 }, this.o.serviceAccount.private_key);
      const res = await fetch(aud, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
        signal,
      });
      if (!res.ok) throw new Error(`FCM token exchange: HTTP ${res.status} ${await errorText(res)}`);
      const body = (await res.json()) as { access_token?: unknown; expires_in?: unknown };
      if (typeof body.access_token !== 'string') throw new Error('FCM token exchange: no access_token');
      return { token: body.access_token, lifetimeMs: (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000 };
    });
  }

  async send(p: PushSend): Promise<PushResult> {
    if (p.target?.type !== 'fcm') return { status: 0, gone: false, error: 'not an FCM target' };
    const token = await this.#accessToken(p.signal);
    const message = {
      token: p.target.token,
      data: dataOf(p.payload),
      android: { priority: 'high', ttl: `${p.ttlSeconds}s`, collapse_key: p.payload.callId },
    };
    const url = `${this.o.endpoint.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(this.o.projectId)}/messages:send`;
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ message }),
      signal: p.signal,
    });
    if (res.ok) {
      await res.body?.cancel();
      return { status: res.status, gone: false };
    }
    const text = await errorText(res, 500);
    if (res.status === 401) this.#tokens.clear();
    // FCM answers 404 UNREGISTERED for a token that is gone.
    const gone = res.status === 404 || res.status === 410 || text.includes('UNREGISTERED');
    return { status: res.status, gone, error: `HTTP ${res.status}${text ? `: ${text}` : ''}` };
  }
}
