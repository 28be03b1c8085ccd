/**
 * A local Web Push service for tests (RFC 8030/8291/8292): it hands out subscriptions with their
 * own P-256 keys and auth secret, and for every push it verifies the VAPID JWT (ES256 signature with
 * the `k` key, `aud` = its origin, `exp` in the future and within 24 h), reads `TTL`, `Urgency` and
 * `Topic`, and decrypts the aes128gcm body with the subscription's private key. Each subscription
 * answers as told: 201, 410 (gone), 500, or never (hang).
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto';
import type { ECDH } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';


/** How a subscription answers. */
export type PushMode = 'ok' | 'gone' | 'fail' | 'forbidden' | 'hang';

/** One push as the service received and checked it. */
export interface ReceivedPush {
  subscription: string;
  at: number;
  ttl: number;
  urgency: string | undefined;
  topic: string | undefined;
  /** The decrypted JSON payload. */
  payload: Record<string, unknown>;
  /** The VAPID JWT claims (already verified). */
  claims: { aud: string; exp: number; sub: string };
  /** The VAPID public key (`k`). */
  vapidKey: string;
}

/** A subscription JSON like `PushSubscription.toJSON()`. */
export interface SubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

interface Sub {
  id: string;
  ecdh: ECDH;
  auth: Buffer;
  mode: PushMode;
}

const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 8291 §3.4 + RFC 8188: decrypts one aes128gcm body with the subscription's keys. */
function decrypt(body: Buffer, sub: Sub): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  const ciphertext = body.subarray(21 + idlen);
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const prkKey = hmac(sub.auth, ecdhSecret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = hmac(prkKey, Buffer.concat([keyInfo, Buffer.from([1])]));
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  const padded = Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]);
  // The last record ends with the delimiter 0x02 followed by zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 2) throw new Error('bad padding delimiter');
  return padded.subarray(0, end);
}

/** Verifies `vapid t=<jwt>, k=<key>`; returns the claims and key or throws why not. */
function verifyVapid(header: string | undefined, origin: string): { claims: ReceivedPush['claims']; key: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!m) throw new Error(`Authorization is not VAPID: ${header}`);
  const [h, c, s] = m[1]!.split('.');
  const raw = Buffer.from(m[2]!, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33).toString('base64url') }, format: 'jwk' });
  const header0 = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { alg?: string };
  if (header0.alg !== 'ES256') throw new Error(`JWT alg ${header0.alg}`);
  const ok = verify('sha256', Buffer.from(`${h}.${c}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url'));
  if (!ok) throw new Error('VAPID signature does not verify');
  const claims = JSON.parse(Buffer.from(c!, 'base64url').toString()) as ReceivedPush['claims'];
  if (claims.aud !== origin) throw new Error(`aud ${claims.aud} is not ${origin}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600 + 60)) throw new Error(`exp ${claims.exp} out of range`);
  if (!/^(mailto:|https:)/.test(claims.sub)) throw new Error(`sub ${claims.sub}`);
  return { claims, key: m[2]! };
}

/** The local push service. */
export class LocalPushService {
  readonly received: ReceivedPush[] = [];
  /** Requests refused by a check (VAPID, encryption, headers), with why. */
  readonly rejected: string[] = [];
  /** Responses held open by `hang` subscriptions. */
  readonly hanging: ServerResponse[] = [];
  readonly #subs = new Map<string, Sub>();
  readonly #waiters: { pred: (p: ReceivedPush) => boolean; resolve: (p: ReceivedPush) => void }[] = [];
  #server: Server | null = null;
  #origin = '';
  #seq = 0;

  /** Listens on a free loopback port. */
  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    this.#origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  /** A new subscription answering with `mode`. */
  subscribe(mode: PushMode = 'ok'): SubscriptionJson {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const id = `s${++this.#seq}`;
    const sub: Sub = { id, ecdh, auth: randomBytes(16), mode };
    this.#subs.set(id, sub);
    return { endpoint: `${this.#origin}/push/${id}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: sub.auth.toString('base64url') } };
  }

  /** Changes how a subscription answers. */
  setMode(endpoint: string, mode: PushMode): void {
    const sub = this.#subs.get(endpoint.split('/').pop()!);
    if (sub) sub.mode = mode;
  }

  /** Pushes received for one subscription. */
  for(endpoint: string): ReceivedPush[] {
    return this.received.filter((p) => p.subscription === endpoint);
  }

  /** Resolves with the first (past or future) push matching `pred`. */
  waitFor(pred: (p: ReceivedPush) => boolean, timeoutMs = 5000): Promise<ReceivedPush> {
    const found = this.received.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no matching push; got ${JSON.stringify(this.received.map((p) => p.payload['type']))}, rejected ${JSON.stringify(this.rejected)}`)), timeoutMs);
      this.#waiters.push({ pred, resolve: (p) => (clearTimeout(t), resolve(p)) });
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const sub = this.#subs.get((req.url ?? '').split('/').pop() ?? '');
    if (!sub || req.method !== 'POST') return void res.writeHead(404).end();
    let push: ReceivedPush;
    try {
      if (req.headers['content-encoding'] !== 'aes128gcm') throw new Error(`Content-Encoding ${req.headers['content-encoding']}`);
      const ttl = Number(req.headers['ttl']);
      if (!Number.isInteger(ttl) || ttl < 0) throw new Error(`TTL ${String(req.headers['ttl'])}`);
      const { claims, key } = verifyVapid(req.headers['authorization'], this.#origin);
      const payload = JSON.parse(decrypt(Buffer.concat(chunks), sub).toString('utf8')) as Record<string, unknown>;
      const header = (n: string): string | undefined => (typeof req.headers[n] === 'string' ? (req.headers[n]) : undefined);
      push = { subscription: `${this.#origin}/push/${sub.id}`, at: Date.now(), ttl, urgency: header('urgency'), topic: header('topic'), payload, claims, vapidKey: key };
    } catch (err) {
      this.rejected.push(String(err));
      return void res.writeHead(400).end(String(err));
    }
    this.received.push(push);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.#waiters[i]!.pred(push)) this.#waiters.splice(i, 1)[0]!.resolve(push);
    }
    switch (sub.mode) {
      case 'ok':
        return void res.writeHead(201).end();
      case 'gone':
        return void res.writeHead(410).end('subscription expired');
      case 'fail':
        return void res.writeHead(500).end('push service down');
      case 'forbidden':
        return void res.writeHead(403).end('bad vapid key');
      case 'hang':
        this.hanging.push(res);
        return;
    }
  }

  /** Stops (hanging responses are destroyed). */
  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}
