/**
 * Offline push wiring (SPEC §9): resolves the providers from `config.push` (development mode
 * generates VAPID keys), and builds the dispatcher and the route dependencies.
 */
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import type { Storage } from '../storage/Storage.js';
import { actionTokenKey } from './actionToken.js';
import { PushDispatcher } from './PushDispatcher.js';
import type { PushSender } from './providers/types.js';
import { WebPushSender } from './providers/webpush.js';
import { loadOrCreateVapidKeys } from './vapidKeys.js';
import { FcmSender } from './providers/fcm.js';
import { ApnsSender } from './providers/apns.js';
import { PushWebhookSender } from './providers/webhook.js';

export { PushDispatcher } from './PushDispatcher.js';
export { registerPushRoutes } from './routes.js';
export { actionToken, actionTokenKey, verifyActionToken } from './actionToken.js';

/**
 * Test-only environment variable: `1` makes the dispatcher hold every push (queued, never sent), so
 * a crash test can kill the server between a commit and its push send. Never set it in production.
 */
export const HOLD_PUSHES_ENV = 'OPENCALL_TEST_HOLD_PUSHES';

/** The running push part of a server. */
export interface PushSetup {
  dispatcher: PushDispatcher;
  /** For `GET /push/vapid-public-key`; null without Web Push. */
  vapidPublicKey: string | null;
  tokenKey: Buffer;
}

/** Builds the push dispatcher from the configuration. `dataDir` keeps dev-mode VAPID keys. */
export function setupPush(
  config: ServerConfig,
  dataDir: string | null,
  storage: Storage,
  log: Logger,
  now: () => number,
  /** Cluster mode: true while this node holds the push lease (only it sends). */
  gate?: () => boolean,
): PushSetup {
  const p = config.push;
  const vapid = p.vapid ?? (config.devMode ? loadOrCreateVapidKeys(dataDir) : null);
  const senders: Partial<Record<'webpush' | 'fcm' | 'apns', PushSender>> = {};
  if (vapid) senders.webpush = new WebPushSender(vapid, p.allowHttpEndpoints);
  if (p.fcm) senders.fcm = new FcmSender(p.fcm, now);
  if (p.apns) senders.apns = new ApnsSender(p.apns, now);
  const webhook = p.webhookUrl ? new PushWebhookSender(p.webhookUrl, config.webhookSecret) : null;
  const tokenKey = actionTokenKey(config.secretKey);
  // TEST ONLY (docs/push.md): queue pushes but never send them, so a crash test can SIGKILL the
  // process in the window between the invite's commit and the push send, deterministically.
  const held = process.env[HOLD_PUSHES_ENV] === '1';
  if (held) log.warn(`${HOLD_PUSHES_ENV}=1: pushes are queued but not sent (test-only setting)`);
  const open = held ? () => false : gate;
  const dispatcher = new PushDispatcher({ storage, senders, webhook, tokenKey, timeoutMs: p.timeoutMs, log, now, ...(open ? { gate: open } : {}) });
  return { dispatcher, vapidPublicKey: vapid?.publicKey ?? null, tokenKey };
}
