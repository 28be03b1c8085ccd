/**
 * HTTP routes: health, development UserSig minting, the web app, and the WebSocket upgrade.
 * REST (Tencent v4) routes are registered from http/rest.ts.
 */
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { genUserSig, isValidUserId } from '@opencall/protocol';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config/schema.js';
import type { Gateway } from '../signaling/Gateway.js';
import { PLACEHOLDER_PAGE } from './placeholder.js';
import { registerRest } from './rest.js';
import { IpRateLimiter } from './IpRateLimiter.js';
import { publicBase } from './proxy.js';
import type { CallService } from '../call/CallService.js';
import type { Storage } from '../storage/Storage.js';
import type { Metrics } from '../observability/Metrics.js';
import { registerPushRoutes } from '../push/routes.js';

/** What the HTTP layer reads from the running server. */
export interface AppDeps {
  config: ServerConfig;
  log: Logger;
  gateway: Gateway;
  storage: Storage;
  service: CallService;
  health(): Record<string, unknown> | Promise<Record<string, unknown>>;
  metrics: Metrics;
  /** True once the server listens and until it starts closing. */
  ready(): boolean;
  webRoot: string | null;
  /** Offline push routes (SPEC §9). */
  push: { vapidPublicKey: string | null; tokenKey: Buffer };
}

/** Routes outside the per-IP limit: health probes, metrics scrapes and the web app's static files. */
const UNLIMITED_ROUTES = new Set(['/healthz', '/readyz', '/metrics', '/config.json', '/', '/*']);

function isLimitedRoute(route: string): boolean {
  return !UNLIMITED_ROUTES.has(route);
}

/** True for the Tencent REST surface (answered with its envelope), by matched route. */
function isRestRoute(req: { routeOptions: { url?: string | undefined }; url: string }): boolean {
  return (req.routeOptions.url ?? req.url).startsWith('/v4/');
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * Headers on every HTTP answer. The web app loads only its own scripts and styles, talks only to
 * this server (and `userSigUrl`'s origin), shows only inline (data:) images, and may not be framed
 * (clickjacking); no answer is MIME-sniffed and no URL leaks through Referer.
 */
export function securityHeaders(config: ServerConfig): [string, string][] {
  let sigOrigin = '';
  try {
    if (config.userSigUrl && /^https?:/i.test(config.userSigUrl)) sigOrigin = ` ${new URL(config.userSigUrl).origin}`;
  } catch {
    // A relative userSigUrl is same-origin.
  }
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    // Element.style from scripts is CSSOM (not governed by style-src); inline <style> stays allowed.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ws: wss:${sigOrigin}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
  return [
    ['content-security-policy', csp],
    ['x-frame-options', 'DENY'],
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['cross-origin-opener-policy', 'same-origin'],
    ['permissions-policy', 'camera=(self), microphone=(self), geolocation=(), payment=()'],
  ];
}

/** Builds the fastify app (not listening yet). */
export async function buildApp(d: AppDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = d.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: d.config.limits.maxMessageBytes,
    // Only these peers' X-Forwarded-For/-Proto/-Host are believed: req.ip (rate limits, logs),
    // req.protocol and req.host (the URLs below).
    trustProxy: d.config.trustProxy === true ? true : [...(d.config.trustProxy || [])],
    // A request (headers and body) trickled slower than this is cut off: without it one client
    // holds a socket and a parser forever by sending a byte now and then.
    requestTimeout: d.config.limits.httpRequestTimeoutMs,
    // Node checks request deadlines on this interval (default 30 s): keep it below the timeout.
    http: {
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(d.config.limits.httpRequestTimeoutMs / 2))),
      headersTimeout: Math.min(60_000, d.config.limits.httpRequestTimeoutMs),
    },
  });

  app.addHook('onSend', async (_req, reply) => {
    for (const [name, value] of securityHeaders(d.config)) reply.header(name, value);
  });

  // Requests per second per IP on the API surface. Decided on the route the router matched, never
  // on the raw URL: `/%764/...` is routed to `/v4/...` and must be limited like it. Static files
  // and health probes are not limited; requests that match no route are.
  const limiter = new IpRateLimiter(d.config.limits.requestsPerSecondPerIp);
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    if (route !== undefined && !isLimitedRoute(route)) return;
    if (limiter.take(req.ip)) return;
    const body = isRestRoute(req)
      ? { ActionStatus: 'FAIL', ErrorCode: 4029, ErrorInfo: 'rate limited', RequestId: '' }
      : { error: { code: 4029, message: 'rate limited' } };
    return reply.code(429).send(body);
  });
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (isRestRoute(req)) {
      // Tencent clients read the envelope, not the status: bad JSON is an invalid parameter.
      return reply.code(200).send({ ActionStatus: 'FAIL', ErrorCode: status < 500 ? 101002 : 101001, ErrorInfo: err.message, RequestId: '' });
    }
    return reply.code(status).send({ error: { code: status < 500 ? -1202 : 4503, message: err.message } });
  });

  app.get('/healthz', async () => d.health());
  app.get('/readyz', async (_req, reply) => (d.ready() ? { ready: true } : reply.code(503).send({ ready: false })));
  app.get('/metrics', async (req, reply) => {
    if (d.config.metricsToken && !bearerMatches(req.headers.authorization, d.config.metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 401, message: 'metrics need Authorization: Bearer <metricsToken>' } });
    }
    return reply.type('text/plain; version=0.0.4').send(await d.metrics.render());
  });
  registerRest(app, d);
  registerPushRoutes(app, { storage: d.storage, service: d.service, ...d.push });

  app.get('/config.json', async (req) => ({
    sdkAppId: d.config.sdkAppId,
    publicUrl: publicBase(d.config, req),
    devMode: d.config.devMode,
    userSigUrl: d.config.userSigUrl ?? (d.config.devMode ? '/dev/usersig' : null),
  }));

  if (d.config.devMode) {
    app.post('/dev/usersig', async (req, reply) => {
      const body = (req.body ?? {}) as { userId?: unknown; expireSeconds?: unknown };
      if (!isValidUserId(body.userId)) {
        return reply.code(400).send({ error: { code: -1202, message: 'userId must be 1-32 of [A-Za-z0-9_-]' } });
      }
      const expireSeconds =
        typeof body.expireSeconds === 'number' && body.expireSeconds > 0 && body.expireSeconds <= 30 * 86400
          ? Math.floor(body.expireSeconds)
          : 86400;
      const userSig = genUserSig({ sdkAppId: d.config.sdkAppId, secretKey: d.config.secretKey, userId: body.userId, expireSeconds });
      return { userId: body.userId, sdkAppId: d.config.sdkAppId, userSig, expireSeconds, developmentMode: true };
    });
  }

  if (d.config.webApp && d.webRoot && existsSync(d.webRoot)) {
    await app.register(fastifyStatic, { root: d.webRoot, index: ['index.html'] });
  } else if (d.config.webApp) {
    app.get('/', async (_req, reply) => reply.type('text/html').send(PLACEHOLDER_PAGE));
  }

  app.server.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/ws') d.gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  return app;
}
