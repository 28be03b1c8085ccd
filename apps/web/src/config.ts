/**
 * What the page learns from the server it is served by (`GET /config.json`) and how it obtains a
 * UserSig. The sig contract is the same in development and production (docs/web-app.md):
 * `POST <userSigUrl>` with `{"userId"}` → `{ userSig, sdkAppId?, expireSeconds? }`, cookies
 * included so a production backend can check who is asking.
 * @packageDocumentation
 */

/** The server's page configuration. */
export interface PageConfig {
  /** App id checked in every UserSig. */
  sdkAppId: number;
  /** True when the server runs without a secret key and mints sigs for anyone. */
  devMode: boolean;
  /** Where to fetch UserSigs; null when the server was configured without one in production. */
  userSigUrl: string | null;
  /** The server's base URL (the page's own origin). */
  serverUrl: string;
}

/** A UserSig grant. */
export interface SigGrant {
  userSig: string;
  /** Seconds until the sig expires, when the issuer says so. */
  expireSeconds?: number;
}

/** A failure the sign-in screen shows as it is. */
export class SignInError extends Error {
  override name = 'SignInError';
}

/** Loads `/config.json` relative to the page. */
export async function loadConfig(base: string = location.href): Promise<PageConfig> {
  let res: Response;
  try {
    res = await fetch(new URL('config.json', base), { cache: 'no-store' });
  } catch {
    throw new SignInError('Cannot reach the OpenCall server. Check your connection and reload.');
  }
  if (!res.ok) throw new SignInError(`The server answered ${res.status} for its configuration.`);
  const body = (await res.json()) as Partial<PageConfig>;
  if (typeof body.sdkAppId !== 'number') throw new SignInError('The server sent an unreadable configuration.');
  return {
    sdkAppId: body.sdkAppId,
    devMode: body.devMode === true,
    userSigUrl: typeof body.userSigUrl === 'string' && body.userSigUrl !== '' ? body.userSigUrl : null,
    serverUrl: new URL('.', base).origin,
  };
}

/** Fetches a UserSig for `userId` from the configured issuer. */
export async function fetchUserSig(config: PageConfig, userId: string): Promise<SigGrant> {
  if (!config.userSigUrl) {
    throw new SignInError('This server has no sign-in service configured (userSigUrl). Ask its administrator.');
  }
  let res: Response;
  try {
    res = await fetch(new URL(config.userSigUrl, location.href), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId }),
      credentials: 'include',
    });
  } catch {
    throw new SignInError('Cannot reach the sign-in service.');
  }
  const body = (await res.json().catch(() => ({}))) as { userSig?: unknown; expireSeconds?: unknown; error?: { message?: unknown } };
  if (!res.ok || typeof body.userSig !== 'string') {
    const reason = typeof body.error?.message === 'string' ? body.error.message : `status ${res.status}`;
    throw new SignInError(`Sign-in was refused: ${reason}.`);
  }
  return typeof body.expireSeconds === 'number' ? { userSig: body.userSig, expireSeconds: body.expireSeconds } : { userSig: body.userSig };
}
