/** Development mode's generated secret key, kept in the data folder so sigs survive restarts. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads `<dir>/dev-secret.key`, creating it (mode 0600) when missing; null dir → a key in memory only. */
export function loadOrCreateDevKey(dir: string | null): string {
  if (dir === null) return randomBytes(32).toString('hex');
  const file = join(dir, 'dev-secret.key');
  try {
    const k = readFileSync(file, 'utf8').trim();
    if (k) return k;
  } catch {
    // Missing: create below.
  }
  mkdirSync(dir, { recursive: true });
  const key = randomBytes(32).toString('hex');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  return key;
}
