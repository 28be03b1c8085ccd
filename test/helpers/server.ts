/** Starts a real OpenCall server on a free loopback port for a test, with short timeouts. */
import { genUserSig, startServer } from '@opencall/server';
import type { RunningServer, ServerOptions } from '@opencall/server';

/** The secret every test server uses. */
export const TEST_SECRET = 'opencall-test-secret';
/** The sdkAppId every test server uses. */
export const TEST_APP_ID = 1400000000;

/** Starts a server with test defaults (signaling only, short heartbeat and ring timeouts). */
export function startTestServer(options: ServerOptions = {}): Promise<RunningServer> {
  return startServer({
    port: 0,
    secretKey: TEST_SECRET,
    sdkAppId: TEST_APP_ID,
    sfu: 'none',
    logLevel: 'silent',
    heartbeatTimeoutMs: 1500,
    defaultRingTimeoutSeconds: 2,
    webApp: false,
    ...options,
  });
}

/** A UserSig for `userId` signed with the test secret. */
export function sig(userId: string, expireSeconds = 3600, now?: number): string {
  return genUserSig({ sdkAppId: TEST_APP_ID, secretKey: TEST_SECRET, userId, expireSeconds, ...(now === undefined ? {} : { now }) });
}
