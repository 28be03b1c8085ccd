/** Development mode's generated VAPID keys, kept next to the dev secret key so subscriptions survive restarts. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import type { VapidKeys } from './providers/webpush.js';

/** Contact sent to push services in development mode. */
const DEV_SUBJECT = 'mailto:opencall-dev@example.invalid';

/** Reads `<dir>/vapid.json`, creating it (mode 0600) when missing; null dir → keys in memory only. */
export function loadOrCreateVapidKeys(dir: string | null): VapidKeys {
  if (dir !== null) {
    try {
      const k = JSON.parse(readFileSync(join(dir, 'vapid.json'), 'utf8')) as Partial<VapidKeys>;
      if (k.publicKey && k.privateKey) return { publicKey: k.publicKey, privateKey: k.privateKey, subject: k.subject ?? DEV_SUBJECT };
    } catch {
      // Missing or unreadable: create below.
    }
  }
  const keys = { ...webpush.generateVAPIDKeys(), subject: DEV_SUBJECT };
  if (dir !== null) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'vapid.json'), JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  }
  return keys;
}
