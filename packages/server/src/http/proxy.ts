/**
 * Behind a reverse proxy (SPEC §2 `trustProxy`, `publicUrl`): the client address of a WebSocket
 * upgrade (a bare `IncomingMessage`, outside fastify's `req.ip`, resolved by the same library so
 * both name the same client) and the base URL the server hands out.
 */
import type { IncomingMessage } from 'node:http';
import proxyaddr from '@fastify/proxy-addr';
import type { ServerConfig } from '../config/schema.js';

/**
 * The base URL users reach: `publicUrl` when configured, else the request's own scheme and host
 * (through a trusted proxy: its X-Forwarded-Proto/-Host).
 */
export function publicBase(config: Pick<ServerConfig, 'publicUrl'>, req: { protocol: string; host: string }): string {
  return (config.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}

/** Returns a function giving a request's client address under the `trustProxy` setting. */
export function clientAddressOf(trustProxy: boolean | readonly string[]): (req: IncomingMessage) => string {
  if (trustProxy === false || (Array.isArray(trustProxy) && trustProxy.length === 0)) return (req) => req.socket.remoteAddress ?? '';
  // `true` trusts every hop: the left-most X-Forwarded-For entry.
  const trust = trustProxy === true ? (): boolean => true : proxyaddr.compile([...(trustProxy as readonly string[])]);
  return (req) => {
    try {
      return proxyaddr(req, trust);
    } catch {
      // A socket already closed has no address.
      return req.socket.remoteAddress ?? '';
    }
  };
}
