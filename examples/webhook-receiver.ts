/**
 * A runnable OpenCall webhook receiver (docs/webhooks.md) on plain node:http.
 *
 *   WEBHOOK_SECRET=… PORT=8080 node --import tsx --conditions=source examples/webhook-receiver.ts
 *   # and start the server with --webhook-url http://127.0.0.1:8080/opencall --webhook-secret …
 *
 * What every receiver must do, in order: read the raw body; check `X-OpenCall-Signature` over
 * those exact bytes with `verifyWebhook` (before parsing: a re-serialised body no longer matches;
 * the signature also covers the event id, sequence and `X-OpenCall-Timestamp`, which must be
 * within 5 minutes, so a captured delivery cannot be replayed under another id or later);
 * then parse, and answer 2xx once the event is safely handled. Anything else (an error status, a
 * timeout, a dropped connection) makes OpenCall retry the same event with the same
 * `X-OpenCall-Event-Id`, so handle events idempotently: deliveries are at-least-once.
 *
 * `startWebhookReceiver` is also what OpenCall's own webhook tests run against.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verifyWebhook } from '@opencall/server';
import type { WebhookBody } from '@opencall/server';

/** One verified webhook. */
export interface WebhookEvent {
  /** `X-OpenCall-Event-Id`: the same on every retry of this event. Dedupe on it. */
  eventId: string;
  /** `X-OpenCall-Sequence`: increasing per call in the order things happened. */
  sequence: number;
  /** `CallbackCommand` from the query (equal to `body.CallbackCommand`). */
  command: string;
  /** `SdkAppid` from the query. */
  sdkAppId: number;
  /** The parsed body. */
  body: WebhookBody;
  /** The exact bytes received (what the signature covers). */
  rawBody: Buffer;
  headers: IncomingHttpHeaders;
  /** The request's query string, `?` included. */
  search: string;
}

/**
 * Handles a verified event. Return (or resolve) nothing or a 2xx status to acknowledge it; return
 * another status, or throw, to have it retried later. Taking longer than the server's
 * `webhookRetry.timeoutMs` counts as a failure too.
 */
export type WebhookHandler = (event: WebhookEvent) => number | void | Promise<number | void>;

/** Options of {@link startWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** The server's `webhookSecret`. */
  secret: string;
  onEvent: WebhookHandler;
  /** Called for requests refused with 401 (bad or missing signature) or 400 (not JSON). */
  onRejected?: (status: 400 | 401, headers: IncomingHttpHeaders) => void;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Largest body accepted, bytes (default 1 MiB; OpenCall's bodies are a few KiB). */
  maxBodyBytes?: number;
}

/** A listening receiver. */
export interface WebhookReceiver {
  /** `http://host:port/opencall`: what to configure as `webhookUrl`. */
  url: string;
  port: number;
  /** Stops listening and drops open connections (including requests a handler is still on). */
  close(): Promise<void>;
}

/** Reads a request body, refusing more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolveBody(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolveBody(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Starts a receiver that verifies every request and passes verified events to `onEvent`. */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') return void res.writeHead(405).end();
      const raw = await readBody(req, limit);
      if (raw === null) return void res.writeHead(413).end();
      // Verify first, over the raw bytes.
      if (!verifyWebhook(raw, req.headers, options.secret)) {
        options.onRejected?.(401, req.headers);
        return void res.writeHead(401).end('bad signature');
      }
      let body: WebhookBody;
      try {
        body = JSON.parse(raw.toString('utf8')) as WebhookBody;
      } catch {
        options.onRejected?.(400, req.headers);
        return void res.writeHead(400).end('not JSON');
      }
      const url = new URL(req.url ?? '/', 'http://receiver');
      const event: WebhookEvent = {
        eventId: String(req.headers['x-opencall-event-id'] ?? ''),
        sequence: Number(req.headers['x-opencall-sequence'] ?? 0),
        command: url.searchParams.get('CallbackCommand') ?? body.CallbackCommand,
        sdkAppId: Number(url.searchParams.get('SdkAppid') ?? 0),
        body,
        rawBody: raw,
        headers: req.headers,
        search: url.search,
      };
      let status = 200;
      try {
        status = (await options.onEvent(event)) ?? 200;
      } catch {
        status = 500;
      }
      // The handler may have taken so long that the server gave up and hung up.
      if (!res.destroyed) res.writeHead(status).end();
    })().catch(() => {
      if (!res.headersSent && !res.destroyed) res.writeHead(500).end();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', ok);
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}/opencall`,
    port,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** The demo: logs each event once (deduplicated by event id) and acknowledges it. */
async function main(): Promise<void> {
  const secret = process.env['WEBHOOK_SECRET'];
  if (!secret) {
    console.error('set WEBHOOK_SECRET to the server\'s webhookSecret');
    process.exit(1);
  }
  // At-least-once delivery: remember what was handled. A real app would keep this in its database,
  // in the same transaction as the effect of the event.
  const seen = new Set<string>();
  const receiver = await startWebhookReceiver({
    secret,
    port: Number(process.env['PORT'] ?? 8080),
    onRejected: (status) => console.warn(`refused a request with ${status}`),
    onEvent: (e) => {
      if (seen.has(e.eventId)) return 200;
      seen.add(e.eventId);
      if (seen.size > 100_000) seen.delete(seen.values().next().value as string);
      const b = e.body;
      switch (b.CallbackCommand) {
        case 'Call.CallbackAfterStartCall':
          console.log(`#${e.sequence} ${b.CallInfo.CallId} started: ${b.UserList.map((u) => u.User_Account).join(', ')}`);
          break;
        case 'Call.CallbackAfterMemberChanged':
          console.log(`#${e.sequence} ${b.CallId} ${b.ChangedUserList.map((c) => `${c.User_Account} ${c.ActionType}`).join(', ')}`);
          if (b.OfflinePushInfo) console.log(`  push to offline invitees: ${JSON.stringify(b.OfflinePushInfo)}`);
          break;
        case 'Call.CallbackAfterEndCall':
          console.log(`#${e.sequence} ${b.CallRecord.CallId} ended: ${b.CallRecord.CallResult}`);
          break;
        default:
          // Unknown commands from a newer server: acknowledge and ignore.
          break;
      }
      return 200;
    },
  });
  console.log(`OpenCall webhook receiver on ${receiver.url}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
