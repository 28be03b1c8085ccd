/**
 * HTTP routes: health, development UserSig minting, the web app, and the WebSocket upgrade.
 * REST (Tencent v4) routes are registered from http/rest.ts.
 */
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
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

/** Builds the fastify app (not listening yet). */
export async function buildApp(d: AppDeps): Promise<FastifyInstance> {
  const logger: FastifyBaseLogger = d.log.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: d.config.limits.maxMessageBytes,
    // Only these peers' X-Forwarded-For/-Proto/-Host are believed: req.ip (rate limits, logs),
    // req.protocol and req.host (the URLs below).
    trustProxy: d.config.trustProxy === true ? true : [...(d.config.trustProxy || [])],
  });

  // Requests per second per IP on the API surface (static files and the socket upgrade excluded).
  const limiter = new IpRateLimiter(d.config.limits.requestsPerSecondPerIp);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v4/') && !req.url.startsWith('/dev/') && !req.url.startsWith('/push/')) return;
    if (limiter.take(req.ip)) return;
    const body = req.url.startsWith('/v4/')
      ? { ActionStatus: 'FAIL', ErrorCode: 4029, ErrorInfo: 'rate limited', RequestId: '' }
      : { error: { code: 4029, message: 'rate limited' } };
    return reply.code(429).send(body);
  });
  app.setErrorHandler((err: { statusCode?: number; message: string }, req, reply) => {
    const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (req.url.startsWith('/v4/')) {
      // Tencent clients read the envelope, not the status: bad JSON is an invalid parameter.
      return reply.code(200).send({ ActionStatus: 'FAIL', ErrorCode: status < 500 ? 101002 : 101001, ErrorInfo: err.message, RequestId: '' });
    }
    return reply.code(status).send({ error: { code: status < 500 ? -1202 : 4503, message: err.message } });
  });

  app.get('/healthz', async () => d.health());
  app.get('/readyz', async (_req, reply) => (d.ready() ? { ready: true } : reply.code(503).send({ ready: false })));
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await d.metrics.render()));
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
