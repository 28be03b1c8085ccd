/**
 * Server options (SPEC §2): one schema, validated once at start-up, then frozen. Defaults live in
 * the schema so `--help`, docs and code agree.
 */
import * as z from '@opencall/protocol/zod';

const LimitsSchema = z.object({
  /** Largest accepted WebSocket frame or HTTP body, bytes. */
  maxMessageBytes: z._default(z.int().check(z.minimum(1024)), 64 * 1024),
  /** Messages per second per signaling connection (token bucket, burst = 2 s worth). */
  messagesPerSecondPerConnection: z._default(z.number().check(z.minimum(1)), 50),
  /** HTTP requests per second per client IP (REST, dev sig endpoint). */
  requestsPerSecondPerIp: z._default(z.number().check(z.minimum(1)), 100),
  /** Signed-in devices per user (policy `multi`). */
  maxDevicesPerUser: z._default(z.int().check(z.minimum(1)), 5),
  /** A socket that has not signed in within this many ms is closed (SPEC §3: 10 s). */
  authTimeoutMs: z._default(z.int().check(z.minimum(100)), 10_000),
  /** Open signaling sockets in all; more are refused at the upgrade (HTTP 503). */
  maxConnections: z._default(z.int().check(z.minimum(1)), 10_000),
  /** Open signaling sockets per client IP; more are refused at the upgrade (HTTP 429). */
  maxConnectionsPerIp: z._default(z.int().check(z.minimum(1)), 100),
  /** An HTTP request (headers and body) must arrive within this many ms, or the socket is closed. */
  httpRequestTimeoutMs: z._default(z.int().check(z.minimum(100)), 30_000),
  /** Calls one user may start per minute (`call.start`, any device); more → 4029. Burst: half of it. */
  callsPerMinutePerUser: z._default(z.number().check(z.minimum(1)), 60),
  /** Invitations waiting for a signed-out user; beyond it new invitations see the user busy. */
  maxPendingInvitesPerUser: z._default(z.int().check(z.minimum(1)), 20),
  /** Bytes of events kept per device session for replay after a reconnection. */
  replayBufferBytes: z._default(z.int().check(z.minimum(4096)), 1024 * 1024),
});

const WebhookRetrySchema = z.object({
  initialDelayMs: z._default(z.int().check(z.minimum(1)), 1000),
  maxDelayMs: z._default(z.int().check(z.minimum(1)), 300_000),
  maxAgeMs: z._default(z.int().check(z.minimum(1)), 3_600_000),
  timeoutMs: z._default(z.int().check(z.minimum(1)), 5000),
});

const TurnSchema = z.object({
  urls: z.union([z.string(), z.array(z.string()).check(z.minLength(1))]),
  secret: z.string().check(z.minLength(1)),
  ttlSeconds: z._default(z.int().check(z.minimum(60)), 86_400),
});

/** base64url (the `web-push` VAPID key format). */
const B64URL = /^[A-Za-z0-9_-]+$/;

/** Offline push (SPEC §9). */
const PushSchema = z.object({
  /** Web Push VAPID keys; development mode generates and keeps a pair in the data folder. */
  vapid: z.optional(
    z.object({
      /** base64url of the 65-byte uncompressed P-256 public point. */
      publicKey: z.string().check(z.length(87), z.regex(B64URL)),
      /** base64url of the 32-byte private key. */
      privateKey: z.string().check(z.length(43), z.regex(B64URL)),
      /** `mailto:` or `https:` contact for push services. */
      subject: z.string().check(z.regex(/^(mailto:|https:)/)),
    }),
  ),
  /** FCM HTTP v1. */
  fcm: z.optional(
    z.object({
      projectId: z.string().check(z.minLength(1)),
      /** The service-account JSON (its `client_email`, `private_key` and optional `token_uri` are used). */
      serviceAccount: z.looseObject({ client_email: z.string().check(z.minLength(1)), private_key: z.string().check(z.minLength(1)), token_uri: z.optional(z.url()) }),
      /** Send endpoint base (tests point it at a local server). */
      endpoint: z._default(z.url(), 'https://fcm.googleapis.com'),
    }),
  ),
  /** APNs with token (ES256 JWT) authentication over HTTP/2. */
  apns: z.optional(
    z.object({
      teamId: z.string().check(z.minLength(1)),
      keyId: z.string().check(z.minLength(1)),
      /** The .p8 key (PEM). */
      privateKey: z.string().check(z.minLength(1)),
      bundleId: z.string().check(z.minLength(1)),
      production: z._default(z.boolean(), false),
      /** Overrides the Apple host chosen by `production` (tests point it at a local HTTP/2 server). */
      endpoint: z.optional(z.url()),
    }),
  ),
  /** Hand every push to the app's own backend instead of the providers (signed like webhooks). */
  webhookUrl: z.optional(z.url()),
  /** Allow `http:` Web Push endpoints (local push services in tests); otherwise only `https:`. */
  allowHttpEndpoints: z._default(z.boolean(), false),
  /** Registrations kept per user; the oldest is dropped beyond it. */
  maxTargetsPerUser: z._default(z.int().check(z.minimum(1), z.maximum(100)), 10),
  /** Deadline of one provider request. */
  timeoutMs: z._default(z.int().check(z.minimum(100)), 10_000),
});

/** Schema of `startServer(options)`. */
export const ServerOptionsSchema = z.object({
  port: z._default(z.int().check(z.minimum(0), z.maximum(65535)), 3000),
  host: z._default(z.string(), '127.0.0.1'),
  sdkAppId: z._default(z.int().check(z.positive()), 1400000000),
  /** HMAC key for UserSigs; none → development mode. */
  secretKey: z.optional(z.string().check(z.minLength(1))),
  /** `:memory:`, a SQLite file path (or `sqlite:<path>`), or a `postgres://` URL (cluster mode, SPEC §8). */
  storage: z._default(z.string().check(z.minLength(1)), ':memory:'),
  /** `redis://host:port[/db]`: required with a `postgres://` storage (SPEC §8). */
  redis: z.optional(z.string().check(z.regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'))),
  /** Prefix of every Redis key and channel, so several clusters (or test runs) share one Redis. */
  clusterName: z._default(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)')), 'opencall'),
  /** This node's name in logs, /healthz and metrics (random when absent). */
  nodeId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)'))),
  /** Development mode on a non-loopback `host` is refused unless this is true (SPEC §2). */
  unsafeDevModeOnNetwork: z._default(z.boolean(), false),
  /** When set, `GET /metrics` requires `Authorization: Bearer <metricsToken>`. */
  metricsToken: z.optional(z.string().check(z.minLength(16))),
  /** Ended calls and call records older than this many days are deleted (none: kept forever). */
  historyRetentionDays: z.optional(z.number().check(z.minimum(1))),
  /** Where development mode keeps its generated key (default: the storage file's folder, or ./data). */
  dataDir: z.optional(z.string()),
  devicePolicy: z._default(z.enum(['kick', 'multi']), 'kick'),
  heartbeatTimeoutMs: z._default(z.int().check(z.minimum(200)), 15_000),
  defaultRingTimeoutSeconds: z._default(z.number().check(z.minimum(0.1)), 30),
  maxParticipants: z._default(z.int().check(z.minimum(2), z.maximum(50)), 9),
  adminUserId: z._default(z.string(), 'administrator'),
  webhookUrl: z.optional(z.url()),
  /** Signs webhooks; an empty string is refused (it would sign with no key at all). */
  webhookSecret: z.optional(z.string().check(z.minLength(1, 'must not be empty (omit it to send unsigned webhooks)'))),
  webhookRetry: z.prefault(WebhookRetrySchema, {}),
  limits: z.prefault(LimitsSchema, {}),
  sfu: z._default(z.union([z.enum(['auto', 'none']), z.object({ janusUrl: z.string(), apiSecret: z.optional(z.string()) })]), 'auto'),
  turn: z.optional(TurnSchema),
  push: z.prefault(PushSchema, {}),
  webApp: z._default(z.boolean(), true),
  /** Production: where the web page fetches UserSigs from. */
  userSigUrl: z.optional(z.string()),
  /**
   * Addresses/CIDRs of reverse proxies (or `true`: every peer, only when the port is firewalled to
   * the proxy) whose `X-Forwarded-For`/`-Proto`/`-Host` are believed for rate limits, logs and
   * URLs. From any other peer those headers are ignored.
   */
  trustProxy: z._default(z.union([z.boolean(), z.array(z.string().check(z.minLength(1)))]), false),
  /** The https URL users reach (links, push payloads, /openapi.json); default: from the request. */
  publicUrl: z.optional(z.url({ protocol: /^https?$/ })),
  /** SIGTERM / `close()`: how long in-flight work may take before sockets are cut. */
  shutdownTimeoutMs: z._default(z.int().check(z.minimum(0)), 10_000),
  /** pino level. */
  logLevel: z._default(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
});

/** True when `storage` names a PostgreSQL database (cluster mode). */
export function isPostgresUrl(storage: string): boolean {
  return /^postgres(ql)?:\/\//i.test(storage);
}

/** Where log lines go: anything with `write(line)` (a pino destination, a Writable, a test capture). */
export interface LogDestination {
  write(line: string): unknown;
}

/**
 * Options accepted by `startServer` (all optional). `logStream` is outside the schema: it is an
 * object with behaviour, not configuration, so it is neither validated nor frozen nor logged.
 */
export type ServerOptions = z.input<typeof ServerOptionsSchema> & {
  /** Log destination; default stdout. One JSON object per line (pino). */
  logStream?: LogDestination;
};
/** The validated, defaulted configuration. */
export type ServerConfig = Readonly<z.output<typeof ServerOptionsSchema>> & { readonly devMode: boolean; readonly secretKey: string };

/** True when `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * SPEC §2: development mode mints administrator UserSigs for anyone who asks (`/dev/usersig`), so
 * it never listens beyond loopback unless the operator says so explicitly.
 */
export function checkDevModeHost(parsed: z.output<typeof ServerOptionsSchema>): void {
  if (parsed.secretKey || parsed.unsafeDevModeOnNetwork || isLoopbackHost(parsed.host)) return;
  throw new Error(
    `invalid OpenCall server options:\n  host: development mode (no secretKey) refuses to listen on ${parsed.host}: ` +
      'anyone who can reach it could mint an administrator UserSig at /dev/usersig. Configure a secretKey, ' +
      'bind 127.0.0.1, or set unsafeDevModeOnNetwork: true if you really mean it.',
  );
}

/** Deep-freezes a plain object. */
function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Validates options; throws an Error listing every problem. Returns the parsed (not yet frozen) config. */
export function parseOptions(options: ServerOptions): z.output<typeof ServerOptionsSchema> {
  const r = ServerOptionsSchema.safeParse(options);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(options)'}: ${i.message}`);
    throw new Error(`invalid OpenCall server options:\n${lines.join('\n')}`);
  }
  // Cluster mode needs both halves: PostgreSQL for what is durable, Redis for what is live.
  if (isPostgresUrl(r.data.storage) && !r.data.redis) {
    throw new Error('invalid OpenCall server options:\n  redis: required with a postgres:// storage (cluster mode, SPEC §8)');
  }
  if (r.data.redis && !isPostgresUrl(r.data.storage)) {
    throw new Error('invalid OpenCall server options:\n  redis: only used with a postgres:// storage (cluster mode, SPEC §8)');
  }
  return r.data;
}

/** Freezes the final config (with the resolved secret key). */
export function freezeConfig(parsed: z.output<typeof ServerOptionsSchema>, secretKey: string, devMode: boolean): ServerConfig {
  return deepFreeze({ ...parsed, secretKey, devMode });
}

/** The config with secrets replaced, for logs and /healthz. */
export function redactConfig(c: ServerConfig): Record<string, unknown> {
  // No `webhookSecret` key at all when none is set: the logger censors that key whatever its value,
  // which made a missing secret read as a configured one. `webhooksSigned` says it plainly.
  const rest: Record<string, unknown> = { ...c };
  delete rest['webhookSecret'];
  return {
    ...rest,
    secretKey: '[redacted]',
    ...(c.webhookSecret ? { webhookSecret: '[redacted]' } : {}),
    ...(c.webhookUrl ? { webhooksSigned: Boolean(c.webhookSecret) } : {}),
    metricsToken: c.metricsToken ? '[redacted]' : undefined,
    // Receivers often put a token in the webhook URL's query: log the URL without it.
    webhookUrl: c.webhookUrl?.replace(/\?[^#]*/, '?[redacted]'),
    turn: c.turn ? { ...c.turn, secret: '[redacted]' } : undefined,
    // Database and Redis URLs may carry passwords.
    storage: c.storage.replace(/\/\/[^@/]*@/, '//[redacted]@'),
    redis: c.redis?.replace(/\/\/[^@/]*@/, '//[redacted]@'),
    sfu: typeof c.sfu === 'object' && c.sfu.apiSecret ? { ...c.sfu, apiSecret: '[redacted]' } : c.sfu,
    push: {
      ...c.push,
      vapid: c.push.vapid ? { ...c.push.vapid, privateKey: '[redacted]' } : undefined,
      fcm: c.push.fcm ? { ...c.push.fcm, serviceAccount: '[redacted]' } : undefined,
      apns: c.push.apns ? { ...c.push.apns, privateKey: '[redacted]' } : undefined,
    },
  };
}
