/**
 * Graceful shutdown (SPEC §2 "SIGTERM drains", issue #18): the first steps of `close()`, kept apart
 * so cluster mode can add its own (leaving the node registry) around them.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Gateway } from '../signaling/Gateway.js';

/** What a drain stops. */
export interface DrainTargets {
  /** The listening HTTP server (REST, web app, WebSocket upgrades). */
  server: Server;
  gateway: Pick<Gateway, 'goAway' | 'connectionCount'>;
  log: Logger;
}

/**
 * Stops accepting connections, lets frames already being handled commit and answer, then closes
 * every signaling socket with 1001 "going away" so clients reconnect at once. Resolves within
 * `timeoutMs`. HTTP requests in flight are left to `app.close()`, which waits for them.
 */
export async function drainForShutdown(t: DrainTargets, timeoutMs: number): Promise<void> {
  const started = Date.now();
  const sockets = t.gateway.connectionCount;
  // No callback: it fires only once every connection (upgraded ones included) has ended.
  t.server.close();
  await t.gateway.goAway(started + timeoutMs);
  t.log.info({ sockets, ms: Date.now() - started }, 'drained: stopped accepting, in-flight frames answered, sockets closed with 1001');
}
