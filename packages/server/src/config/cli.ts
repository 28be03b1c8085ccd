/** Maps CLI flags and environment variables onto `ServerOptions`. */
import type { ServerOptions } from './schema.js';
import { readConfigFile } from './file.js';
import { SECRET_FILES, readSecretFile } from './secrets.js';

type Kind = 'string' | 'number' | 'boolean' | 'json' | 'list';

/** Every setting reachable from the CLI: option name, kind, help. */
const SETTINGS: [keyof ServerOptions, Kind, string][] = [
  ['port', 'number', 'port to listen on (0 = any free port) [3000]'],
  ['host', 'string', "interface to bind ['127.0.0.1']"],
  ['sdkAppId', 'number', 'app id checked in every UserSig [1400000000]'],
  ['secretKey', 'string', 'HMAC key for UserSigs; unset = development mode'],
  ['storage', 'string', "':memory:', a SQLite file path or a postgres:// URL [./data/opencall.db]"],
  ['redis', 'string', 'redis:// URL; required with postgres:// storage (cluster mode)'],
  ['clusterName', 'string', "prefix of every Redis key and channel ['opencall']"],
  ['nodeId', 'string', "this node's name in logs, /healthz and metrics [random]"],
  ['devicePolicy', 'string', "'kick' or 'multi' ['kick']"],
  ['heartbeatTimeoutMs', 'number', 'a device silent this long is gone [15000]'],
  ['defaultRingTimeoutSeconds', 'number', 'ring timeout when a call sets none [30]'],
  ['maxParticipants', 'number', 'participants per call, caller included [9]'],
  ['adminUserId', 'string', "identity for REST calls ['administrator']"],
  ['webhookUrl', 'string', 'where to POST webhooks'],
  ['webhookSecret', 'string', 'HMAC key of X-OpenCall-Signature'],
  ['webhookRetry', 'json', 'JSON {initialDelayMs,maxDelayMs,maxAgeMs,timeoutMs}'],
  ['limits', 'json', 'JSON {maxMessageBytes,messagesPerSecondPerConnection,requestsPerSecondPerIp,maxDevicesPerUser,authTimeoutMs,maxConnections,maxConnectionsPerIp,...} (README)'],
  ['sfu', 'string', "'auto', 'none', or a Janus WebSocket URL ['auto']"],
  ['turn', 'json', 'JSON {urls,secret,ttlSeconds}'],
  ['webApp', 'boolean', 'serve the web app [true]'],
  ['userSigUrl', 'string', 'production: where the web page gets UserSigs'],
  ['logLevel', 'string', "pino level ['info']"],
  ['trustProxy', 'list', 'comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-* are believed'],
  ['publicUrl', 'string', 'the https URL users reach (links, push payloads)'],
  ['shutdownTimeoutMs', 'number', 'SIGTERM: longest wait for in-flight work before sockets are cut [10000]'],
  ['unsafeDevModeOnNetwork', 'boolean', 'allow development mode (no secret key) on a non-loopback host [false]'],
  ['metricsToken', 'string', 'require Authorization: Bearer <token> on /metrics'],
  ['historyRetentionDays', 'number', 'delete ended calls and records older than this (unset = keep)'],
];

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** `--help` text. */
export const HELP = `opencall-server — self-hosted calling engine

Usage: opencall-server [--config FILE] [--flag value]...
       opencall-server init [--dir DIR] [--storage PATH] [--public-url URL] [--force]
       opencall-server backup --to FILE [--config FILE | --storage PATH]

Each flag can also be set as an environment variable OPENCALL_<SNAKE_CASE>.
--config FILE (env OPENCALL_CONFIG) reads the same options, camelCase, from a YAML or JSON file;
environment variables override the file and flags override both.

${SETTINGS.map(([k, , h]) => `  --${kebab(k).padEnd(30)} ${h}\n${' '.repeat(35)}env OPENCALL_${snake(k)}`).join('\n')}

Secrets from files (never on the command line, config key in brackets):
${SECRET_FILES.map((s) => `  --${kebab(s.fileKey).padEnd(30)} env OPENCALL_${snake(s.fileKey)} [${s.fileKey}]`).join('\n')}
`;

function convert(name: string, kind: Kind, raw: string): unknown {
  switch (kind) {
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`${name}: not a number: ${raw}`);
      return n;
    }
    case 'boolean':
      return raw === 'true' || raw === '1' || raw === '';
    case 'json':
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new Error(`${name}: not valid JSON`);
      }
    case 'list':
      if (raw === 'true' || raw === 'false') return raw === 'true';
      return raw.split(',').map((a) => a.trim()).filter(Boolean);
    default:
      return raw;
  }
}

/** The value of `--name VALUE` / `--name=VALUE` in argv, if given. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/**
 * Options from a config file (`--config` / `OPENCALL_CONFIG`), then env, then argv, each layer
 * overriding the one before; secret files are read last within their layer. The CLI defaults
 * storage to ./data/opencall.db and port 3000.
 */
export function cliOptions(argv: string[], env: NodeJS.ProcessEnv): ServerOptions {
  const configFile = flagValue(argv, 'config') ?? env['OPENCALL_CONFIG'];
  const out: Record<string, unknown> = { storage: './data/opencall.db', ...(configFile ? readConfigFile(configFile) : {}) };
  for (const [k, kind] of SETTINGS) {
    const v = env[`OPENCALL_${snake(k)}`];
    if (v !== undefined) out[k] = convert(k, kind, v);
  }
  for (const s of SECRET_FILES) {
    const name = `OPENCALL_${snake(s.fileKey)}`;
    const path = env[name];
    if (path !== undefined) s.set(out, readSecretFile(path, name));
  }
  const secretFlags: [string, string][] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [flag, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (flag === 'config') {
      if (inline === undefined) i++;
      continue;
    }
    const secret = SECRET_FILES.find((s) => kebab(s.fileKey) === flag);
    if (secret) {
      const path = inline ?? argv[++i];
      if (path === undefined) throw new Error(`--${flag} needs a file path`);
      secretFlags.push([flag, path]);
      continue;
    }
    const setting = SETTINGS.find(([k]) => kebab(k) === flag);
    if (!setting) throw new Error(`unknown flag --${flag} (see --help)`);
    const [k, kind] = setting;
    const raw = inline ?? (kind === 'boolean' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) ? '' : argv[++i]);
    if (raw === undefined) throw new Error(`--${flag} needs a value`);
    out[k] = convert(k, kind, raw);
  }
  for (const [flag, path] of secretFlags) SECRET_FILES.find((s) => kebab(s.fileKey) === flag)!.set(out, readSecretFile(path, `--${flag}`));
  if (typeof out['sfu'] === 'string' && /^wss?:\/\//.test(out['sfu'])) out['sfu'] = { janusUrl: out['sfu'] };
  return out;
}
