/** Starts a real OpenCall server on a free loopback port for a test, with short timeouts. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { genUserSig, startServer } from '@opencall/server';
import type { RunningServer, ServerOptions } from '@opencall/server';

/** The secret every test server uses. */
export const TEST_SECRET = 'opencall-test-secret';
/** The sdkAppId every test server uses. */
export const TEST_APP_ID = 1400000000;

/**
 * Starts a server with test defaults (signaling only, short heartbeat and ring timeouts). Storage
 * is a SQLite file in a fresh temporary folder — the product's default — unless the test passes
 * its own, or OPENCALL_TEST_STORAGE=memory asks for the in-memory adapter.
 */
export async function startTestServer(options: ServerOptions = {}): Promise<RunningServer> {
  const useSqlite = options.storage === undefined && process.env.OPENCALL_TEST_STORAGE !== 'memory';
  const dir = useSqlite ? mkdtempSync(join(tmpdir(), 'opencall-test-')) : null;
  const server = await startServer({
    ...(dir ? { storage: join(dir, 'opencall.db') } : {}),
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
  if (!dir) return server;
  const close = server.close.bind(server);
  return {
    ...server,
    close: async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A UserSig for `userId` signed with the test secret. */
export function sig(userId: string, expireSeconds = 3600, now?: number): string {
  return genUserSig({ sdkAppId: TEST_APP_ID, secretKey: TEST_SECRET, userId, expireSeconds, ...(now === undefined ? {} : { now }) });
}
