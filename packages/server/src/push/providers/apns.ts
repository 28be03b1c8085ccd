/**
 * APNs with token authentication over HTTP/2: an ES256 provider token (`iss` = team, `kid` = key)
 * reused for up to 50 minutes, `POST /3/device/<token>` with `apns-push-type` (`voip` for VoIP
 * registrations, else `alert`), `apns-topic`, `apns-priority: 10`, `apns-expiration` (the
 * invitation's end) and `apns-collapse-id` = callId. The host is configurable so tests run against a
 * local HTTP/2 server; this was not tried against Apple's service.
 */
import http2 from 'node:http2';
import type { PushResult, PushSend, PushSender } from './types.js';
import { TokenCache, signJwt } from './jwt.js';
import { notificationText } from './notificationText.js';

/** `push.apns` options. */
export interface ApnsOptions {
  teamId: string;
  keyId: string;
  privateKey: string;
  bundleId: string;
  production: boolean;
  endpoint?: string | undefined;
}

/** Apple asks providers to refresh the token between 20 and 60 minutes. */
const TOKEN_LIFETIME_MS = 50 * 60 * 1000;
/** Reasons for which the device token will never work again. */
const GONE_REASONS = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

/** Sends APNs notifications over one reused HTTP/2 connection. */
export class ApnsSender implements PushSender {
  readonly name = 'apns';
  readonly #tokens: TokenCache;
  readonly #origin: string;
  #session: http2.ClientHttp2Session | null = null;

  constructor(
    private readonly o: ApnsOptions,
    private readonly now: () => number,
  ) {
    this.#tokens = new TokenCache(now);
    this.#origin = o.endpoint ?? (o.production ? 'https://api.push.apple.com' : 'https://api.sandbox.push.apple.com');
  }

  #connect(): http2.ClientHttp2Session {
    if (this.#session && !this.#session.closed && !this.#session.destroyed) return this.#session;
    const s = http2.connect(this.#origin);
    s.on('error', () => s.destroy());
    s.on('close', () => {
      if (this.#session === s) this.#session = null;
    });
    // An idle connection must not keep the process alive.
    s.unref();
    this.#session = s;
    return s;
  }

  /** Closes the HTTP/2 connection. */
  close(): void {
    this.#session?.close();
    this.#session = null;
  }

  async send(p: PushSend): Promise<PushResult> {
    if (p.target?.type !== 'apns') return { status: 0, gone: false, error: 'not an APNs target' };
    const jwt = await this.#tokens.get(async () => ({
      token: signJwt('ES256', { kid: this.o.keyId }, { iss: this.o.teamId, iat: Math.floor(this.now() / 1000) }, this.o.privateKey),
      lifetimeMs: TOKEN_LIFETIME_MS,
    }));
    const voip = p.target.voip === true;
    const text = notificationText(p.payload);
    const body = voip ? { aps: {}, ...p.payload } : { aps: { alert: text, sound: p.kind === 'invite' ? 'default' : undefined }, opencall: p.payload };
    const headers = {
      ':method': 'POST',
      ':path': `/3/device/${p.target.token}`,
      authorization: `bearer ${jwt}`,
      'apns-topic': voip ? `${this.o.bundleId}.voip` : this.o.bundleId,
      'apns-push-type': voip ? 'voip' : 'alert',
      'apns-priority': '10',
      'apns-expiration': String(Math.floor(this.now() / 1000) + p.ttlSeconds),
      'apns-collapse-id': p.payload.callId,
      'content-type': 'application/json',
    };
    const { status, text: answer } = await this.#request(headers, JSON.stringify(body), p.signal);
    if (status === 200) return { status, gone: false };
    let reason = '';
    try {
      const r = (JSON.parse(answer) as { reason?: unknown }).reason;
      if (typeof r === 'string') reason = r;
    } catch {
      // Not JSON: keep the raw text below.
    }
    if (status === 403 && reason === 'ExpiredProviderToken') this.#tokens.clear();
    return { status, gone: status === 410 || GONE_REASONS.has(reason), error: `HTTP ${status}: ${reason || answer.slice(0, 200)}` };
  }

  #request(headers: http2.OutgoingHttpHeaders, body: string, signal: AbortSignal): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const req = this.#connect().request(headers, { signal });
      let status = 0;
      let text = '';
      req.setEncoding('utf8');
      req.on('response', (h) => (status = Number(h[':status'] ?? 0)));
      req.on('data', (chunk: string) => {
        if (text.length < 4096) text += chunk;
      });
      req.on('end', () => resolve({ status, text }));
      req.on('error', reject);
      req.end(body);
    });
  }
}
