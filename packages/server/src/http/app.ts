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

/** What the HTTP layer reads from the running server. */
export interface AppDeps {
  config: ServerConfig;
  log: Logger;
  gateway: Gateway;
  health(): Record<string, unknown>;
  webRoot: string | null;
}

/** Builds the fastify app (not listening yet). */
export async function buildApp(d: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: d.log.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: d.config.limits.maxMessageBytes,
  });

  app.get('/healthz', async () => d.health());

  app.get('/config.json', async () => ({
    sdkAppId: d.config.sdkAppId,
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
