/**
 * Time-limited TURN credentials for coturn's `use-auth-secret` mode (the "TURN REST API"):
 * username `<expiry-unix>:<userId>`, credential base64(HMAC-SHA1(secret, username)). coturn
 * recomputes the HMAC with its `static-auth-secret`, so nothing is stored per user.
 */
import { createHmac } from 'node:crypto';

/** The server's `turn` option (SPEC §2). */
export interface TurnConfig {
  urls: string | string[];
  secret: string;
  /** Lifetime of handed-out credentials. */
  ttlSeconds: number;
}

/** An ICE server entry as RTCPeerConnection takes it. */
export interface TurnIceServer {
  urls: string | string[];
  username: string;
  credential: string;
}

/**
 * Credentials for `userId` valid until `now + ttlSeconds`.
 * @param now - epoch milliseconds (tests pass a fixed clock).
 */
export function turnCredentials(config: TurnConfig, userId: string, now: number = Date.now()): TurnIceServer {
  const expiry = Math.floor(now / 1000) + config.ttlSeconds;
  const username = `${expiry}:${userId}`;
  const credential = createHmac('sha1', config.secret).update(username).digest('base64');
  return { urls: Array.isArray(config.urls) ? [...config.urls] : config.urls, username, credential };
}

/** The ICE servers to hand `userId`: none without TURN config (host candidates only), else the TURN entry. */
export function iceServersFor(config: TurnConfig | undefined, userId: string, now?: number): TurnIceServer[] {
  return config ? [turnCredentials(config, userId, now)] : [];
}
