/**
 * The two JWTs push providers need, signed with node:crypto: RS256 for a Google service account
 * (FCM's OAuth token exchange) and ES256 for an APNs provider token.
 */
import { createPrivateKey, sign } from 'node:crypto';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWT over `claims`, signed with `alg` (RS256 or ES256, JOSE signature encoding). */
export function signJwt(alg: 'RS256' | 'ES256', header: Record<string, unknown>, claims: Record<string, unknown>, pem: string): string {
  const input = `${b64({ alg, typ: 'JWT', ...header })}.${b64(claims)}`;
  const key = createPrivateKey(pem);
  // ES256 signatures are r||s (IEEE P1363), not DER.
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

/** Caches a token until shortly before it expires. */
export class TokenCache {
  #token: string | null = null;
  #expiresAt = 0;

  constructor(private readonly now: () => number) {}

  /** The cached token, or a fresh one from `fetchToken` (which returns the token and its lifetime in ms). */
  async get(fetchToken: () => Promise<{ token: string; lifetimeMs: number }>): Promise<string> {
    if (this.#token && this.now() < this.#expiresAt) return this.#token;
    const { token, lifetimeMs } = await fetchToken();
    this.#token = token;
    // Renew a minute early so a token never expires in flight.
    this.#expiresAt = this.now() + Math.max(0, lifetimeMs - 60_000);
    return token;
  }

  /** Forgets the token (after the provider refused it). */
  clear(): void {
    this.#token = null;
  }
}
