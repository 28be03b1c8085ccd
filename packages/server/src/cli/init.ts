/**
 * `opencall-server init [--dir D] [--storage PATH] [--public-url URL] [--force]` (SPEC §2): writes
 * `D/opencall.yaml`, a production config with freshly generated secrets, mode 0600. It never
 * overwrites an existing file without `--force`: the old secret key signs every UserSig in use.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSubcommandFlags } from './flags.js';

/** A fresh random secret: 32 bytes, URL-safe base64 (safe in YAML, env vars and coturn's config). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** What `init` writes into the config. */
export interface InitSettings {
  storage: string;
  publicUrl: string;
  secretKey: string;
  webhookSecret: string;
  turnSecret: string;
}

/** The YAML text of a production config (comments say what to change). */
export function productionConfig(s: InitSettings): string {
  const host = new URL(s.publicUrl).hostname;
  return `# OpenCall production config, written by \`opencall-server init\` on ${new Date().toISOString()}.
# Keys are those of the options table (\`opencall-server --help\`, docs/deploy.md); flags and
# OPENCALL_* environment variables override them. This file holds secrets: keep it mode 0600,
# readable by the service user only.

# Behind nginx (deploy/nginx/opencall.conf) on this host: listen on loopback only.
host: 127.0.0.1
port: 3000
# The https URL your users open.
publicUrl: ${s.publicUrl}
# Proxies whose X-Forwarded-For/-Proto are believed (per-client rate limits, logs, URLs).
trustProxy: ['127.0.0.1', '::1']
storage: ${s.storage}
sdkAppId: 1400000000
# HMAC key for UserSigs. Your backend signs each user's sig with it; it never goes to browsers.
secretKey: ${s.secretKey}
# Where the web page gets a signed-in user's UserSig from (your backend).
# userSigUrl: https://backend.example.com/opencall/usersig
# Signed webhooks (docs/webhooks.md): uncomment the URL; the receiver checks X-OpenCall-Signature.
# webhookUrl: https://backend.example.com/opencall/webhook
webhookSecret: ${s.webhookSecret}
turn:
  urls: ['turn:${host}:3478?transport=udp', 'turn:${host}:3478?transport=tcp']
  # The same value as static-auth-secret in /etc/turnserver.conf (deploy/coturn/turnserver.conf).
  secret: ${s.turnSecret}
  ttlSeconds: 86400
sfu: auto
logLevel: info
`;
}

/** Runs `init`; returns the file written. */
export function runInit(argv: string[], out: (line: string) => void): string {
  const { flags: f } = parseSubcommandFlags('init', argv, { dir: 'value', storage: 'value', 'public-url': 'value', force: 'switch' });
  const dir = resolve(f['dir'] ?? '.');
  const settings: InitSettings = {
    storage: resolve(f['storage'] ?? join(dir, 'data', 'opencall.db')),
    publicUrl: f['public-url'] ?? 'https://localhost',
    secretKey: newSecret(),
    webhookSecret: newSecret(),
    turnSecret: newSecret(),
  };
  try {
    new URL(settings.publicUrl);
  } catch {
    throw new Error(`init: --public-url is not a URL: ${settings.publicUrl}`);
  }
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'opencall.yaml');
  try {
    writeFileSync(file, productionConfig(settings), { mode: 0o600, flag: f['force'] !== undefined ? 'w' : 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`init: ${file} exists; its secret key signs every UserSig in use. Pass --force to replace it.`);
    throw err;
  }
  // mode applies only to a new file; --force may have replaced one with laxer permissions.
  chmodSync(file, 0o600);
  out(`wrote ${file} (mode 0600) with fresh secretKey, webhookSecret and turn.secret
next: set static-auth-secret in /etc/turnserver.conf to turn.secret, then
      opencall-server --config ${file}`);
  return file;
}
