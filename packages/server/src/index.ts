/**
 * `@opencall/server`: `startServer(options)` runs the signaling server, REST API, webhooks and the
 * web app. See SPEC §2 for the options.
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CallService } from './call/CallService.js';
import { ClusterLink } from './cluster/ClusterLink.js';
import { LeaseKeeper } from './cluster/LeaseKeeper.js';
import { MediaOwners } from './cluster/MediaOwners.js';
import { checkDevModeHost, freezeConfig, parseOptions, redactConfig } from './config/schema.js';
import type { ServerConfig, ServerOptions } from './config/schema.js';
import { loadOrCreateDevKey } from './config/devKey.js';
import { buildApp } from './http/app.js';
import { IpRateLimiter } from './http/IpRateLimiter.js';
import { Gateway } from './signaling/Gateway.js';
import { MediaRelay } from './signaling/MediaRelay.js';
import { startSfu } from './media/sfu.js';
import { iceServersFor } from './media/turn.js';
import { Presence } from './signaling/Presence.js';
import { SessionManager } from './signaling/SessionManager.js';
import { openStorage } from './storage/index.js';
import { CRASH_AFTER_COMMIT_ENV, withCrashAfterCommit } from './storage/crashHook.js';
import { REPLAY_BEFORE_DEATH_MS, replayStoredEventsTo } from './signaling/restoreReplay.js';
import { ReplayRetention } from './storage/replayRetention.js';
import { HistoryRetention } from './storage/retention.js';
import { Metrics } from './observability/Metrics.js';
import { logCommitted } from './observability/callLog.js';
import { createLogger } from './observability/logger.js';
import { WebhookDispatcher } from './webhooks/index.js';
import { drainForShutdown } from './lifecycle/drain.js';
import { setupPush } from './push/index.js';

export { genUserSig, verifyUserSig } from '@opencall/protocol';
export { signWebhook, verifyWebhook } from './webhooks/index.js';
export type { VerifyWebhookOptions, WebhookSignedFields } from './webhooks/index.js';
export type { EndCallWebhook, MemberChangedWebhook, StartCallWebhook, WebhookActionType, WebhookBody, WebhookCallbackCommand } from './webhooks/index.js';
export type { LogDestination, ServerOptions, ServerConfig } from './config/schema.js';

/** A running server. */
export interface RunningServer {
  /** `http://host:port`; the signaling WebSocket is `${url.replace('http', 'ws')}/ws`. */
  url: string;
  port: number;
  /** The frozen configuration (secrets included: do not log). */
  config: ServerConfig;
  /**
   * Stops everything this server started, gracefully: no new connections, in-flight work finishes,
   * sockets close with 1001 (clients reconnect at once), then storage closes. Idempotent.
   */
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** apps/web/dist, three levels above this file in both src/ and dist/. */
const WEB_ROOT = resolve(here, '../../../apps/web/dist');

/** Starts a server. Resolves once it listens. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const parsed = parseOptions(options);
  checkDevModeHost(parsed);
  const devMode = !parsed.secretKey;
  const dataDir = parsed.dataDir ?? (parsed.storage === ':memory:' ? null : dirname(resolve(parsed.storage)));
  const secretKey = parsed.secretKey ?? loadOrCreateDevKey(dataDir);
  const config = freezeConfig(parsed, secretKey, devMode);
  const log = createLogger(config.logLevel, options.logStream);
  log.info({ config: redactConfig(config) }, 'starting OpenCall server');
  if (devMode) {
    log.warn('DEVELOPMENT MODE: no secretKey configured. A generated key is used and POST /dev/usersig mints UserSigs for anyone. Never expose this server.');
  }
  if (config.webhookUrl && !config.webhookSecret) {
    log.warn('WEBHOOKS ARE UNSIGNED: webhookUrl is set without webhookSecret, so receivers cannot tell OpenCall from anyone else. Set webhookSecret.');
  }

  // CRASH_AFTER_COMMIT_ENV is a test-only hook (storage/crashHook.ts); unset, nothing changes.
  const storage = withCrashAfterCommit(await openStorage(config.storage), process.env[CRASH_AFTER_COMMIT_ENV]);
  const presence = new Presence(config.devicePolicy, config.limits.replayBufferBytes);
  const now = (): number => Date.now();
  const nodeId = config.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
  // Cluster mode (SPEC §8): PostgreSQL holds what is durable, Redis what is live.
  const clustered = config.redis !== undefined;
  let sessions: SessionManager | null = null;
  // Loaded only in cluster mode: a single node never pays for the Redis client.
  const RedisLive = config.redis ? (await import('./cluster/redis/RedisLive.js')).RedisLive : null;
  const link = config.redis && RedisLive
    ? new ClusterLink({
        live: new RedisLive(config.redis, config.clusterName, nodeId, log.child({ component: 'cluster' })),
        presence,
        policy: config.devicePolicy,
        heartbeatTimeoutMs: config.heartbeatTimeoutMs,
        log: log.child({ component: 'cluster' }),
        now,
        deviceGone: (userId, deviceId) => sessions?.deviceGone(userId, deviceId) ?? Promise.resolve(),
        replayAfterDeath: async (lastBeat) => {
          const n = await replayStoredEventsTo(storage, lastBeat - REPLAY_BEFORE_DEATH_MS, (u, d, event, eid) => presence.deliver(u, d, event, eid, true));
          log.info({ events: n }, 'sent a dead node\'s recent events again');
        },
        onFenced: () => {
          for (const s of presence.all()) {
            // 1012 "service restart": the client reconnects at once, to a live node.
            s.socket?.close(1012, 'node lost its cluster link');
            s.socket = null;
            presence.remove(s);
          }
        },
      })
    : null;
  presence.link = link;
  // One webhook deliverer at a time across the cluster: the holder of the `webhooks` lease.
  let webhookLease: LeaseKeeper | null = null;
  let pushLease: LeaseKeeper | null = null;
  const webhooks = config.webhookUrl
    ? new WebhookDispatcher({
        storage,
        url: config.webhookUrl,
        ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
        sdkAppId: config.sdkAppId,
        retry: config.webhookRetry,
        log: log.child({ component: 'webhooks' }),
        now,
        ...(clustered ? { gate: () => webhookLease?.valid() ?? false } : {}),
      })
    : null;
  const push = setupPush(config, dataDir, storage, log.child({ component: 'push' }), now, clustered ? () => pushLease?.valid() ?? false : undefined);
  let relay: MediaRelay | null = null;
  let metrics: Metrics | null = null;
  const callLog = log.child({ component: 'calls' });
  const service = new CallService({
    storage,
    presence,
    deliver: (to, event, eid) => presence.deliver(to.userId, to.deviceId, event, eid),
    ringTimeoutMs: Math.round(config.defaultRingTimeoutSeconds * 1000),
    maxParticipants: config.maxParticipants,
    maxPendingInvites: config.limits.maxPendingInvitesPerUser,
    log: log.child({ component: 'calls' }),
    now,
    // Without a receiver the outbox would only grow.
    webhooks: webhooks !== null,
    timerClaims: clustered ? { store: storage, holder: nodeId } : null,
    keyedCommands: clustered,
    hooks: {
      onCommitted: (state, effects) => {
        const endedNow = effects.some((e) => e.kind === 'webhook' && e.command === 'Call.CallbackAfterEndCall');
        relay?.onCommitted(state, effects);
        metrics?.onCommitted(state, effects, endedNow);
        logCommitted(callLog, state, effects, endedNow);
        if (effects.some((e) => e.kind === 'webhook')) webhooks?.kick();
        if (effects.some((e) => e.kind === 'push')) push.dispatcher.kick();
      },
    },
  });
  sessions = new SessionManager({ config, presence, service, storage, log, iceServers: (userId) => iceServersFor(config.turn, userId), now, link });
  // Group-call media: a supervised loopback Janus ('auto'), an existing one ({ janusUrl }), or a mesh.
  const sfu = await startSfu(config.sfu, { logger: log.child({ component: 'sfu' }) });
  // Cluster mode: each call's media runs on one owner node, whichever node its devices are on.
  const owners = link ? new MediaOwners({ link, log: log.child({ component: 'media' }) }) : null;
  relay = new MediaRelay({ storage, presence, service, sfu: sfu?.sfu ?? null, log: log.child({ component: 'media' }), owners });
  const mediaRelay = relay;
  const perMinute = config.limits.callsPerMinutePerUser;
  const callStarts = new IpRateLimiter(perMinute / 60, Math.max(1, Math.floor(perMinute / 2)));
  const gateway = new Gateway(config, sessions, { config, service, storage, sessions, media: relay, callStarts, deliver: (u, d, event, eid, replay) => presence.deliver(u, d, event, eid, replay) }, log.child({ component: 'ws' }));
  metrics = new Metrics({
    users: () => presence.userCount(),
    devices: () => presence.all().length,
    connections: () => gateway.connectionCount,
    activeCalls: async () => (await storage.activeCalls()).length,
    webhookBacklog: () => storage.webhookBacklog(),
    refusals: () => gateway.refused,
    webhookStats: webhooks ? () => webhooks.stats() : null,
  });
  // Cluster mode: every series says which node it came from (SPEC §8).
  if (clustered) metrics.registry.setDefaultLabels({ node: nodeId });
  let ready = false;
  const app = await buildApp({
    metrics,
    ready: () => ready,
    config,
    log,
    gateway,
    storage,
    service,
    webRoot: WEB_ROOT,
    push,
    health: async () => ({
      ok: true,
      storage: storage.kind,
      sfu: mediaRelay.sfuKind,
      devMode: config.devMode,
      connections: gateway.connectionCount,
      nodeId,
      ...(link ? { cluster: { nodeId, nodes: await link.nodes() } } : {}),
    }),
  });

  // 429s from the per-IP limiter (http/app.ts) count as refusals with code 4029.
  app.addHook('onResponse', async (_req, reply) => {
    if (reply.statusCode === 429) metrics?.refusedHttp(4029);
  });

  try {
    await link?.start();
  } catch (err) {
    // Redis never answered: nothing runs yet but the storage, which must not keep the process alive.
    await storage.close().catch(() => undefined);
    throw err;
  }
  const restored = await sessions.restore();
  // In cluster mode every node claims overdue timers from the database (TimerRunner), so a node
  // does not re-arm the whole cluster's timers at start.
  const timers = clustered ? 0 : await service.restoreTimers();
  webhooks?.start();
  if (webhooks && clustered) {
    webhookLease = new LeaseKeeper({
      store: storage,
      name: 'webhooks',
      holder: `${nodeId}/${link?.live.boot ?? ''}`,
      // Longer than a delivery attempt, so a POST never outlives the lease that allowed it.
      ttlMs: Math.max(3000, config.webhookRetry.timeoutMs * 2),
      now,
      log: log.child({ component: 'webhooks' }),
      onChange: (held) => {
        if (held) webhooks.kick();
      },
    });
    await webhookLease.start();
  }
  const retention = config.historyRetentionDays
    ? new HistoryRetention({ storage, retentionDays: config.historyRetentionDays, log: log.child({ component: 'retention' }), now })
    : null;
  retention?.start();
  const replayRetention = new ReplayRetention(storage, log.child({ component: 'retention' }), now);
  replayRetention.start();
  push.dispatcher.start();
  if (clustered) {
    // One node at a time sends the push queue, like webhooks: two scanners would send a row twice.
    pushLease = new LeaseKeeper({
      store: storage,
      name: 'push',
      holder: `${nodeId}/${link?.live.boot ?? ''}`,
      ttlMs: Math.max(3000, config.push.timeoutMs * 2),
      now,
      log: log.child({ component: 'push' }),
      onChange: (held) => {
        if (held) push.dispatcher.kick();
      },
    });
    await pushLease.start();
  }
  if (restored || timers) log.info({ restoredDevices: restored, timers }, 'recovered calls from storage');

  await app.listen({ port: config.port, host: config.host });
  ready = true;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url, devMode }, `OpenCall listening on ${url}`);

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    config,
    close: () =>
      (closing ??= (async () => {
        ready = false;
        await drainForShutdown({ server: app.server, gateway, log }, config.shutdownTimeoutMs);
        service.close();
        await mediaRelay.close();
        await sfu?.close();
        await app.close();
        await webhooks?.close();
        await webhookLease?.close();
        await push.dispatcher.close();
        await pushLease?.close();
        await link?.shutdown();
        await retention?.close();
        await replayRetention.close();
        await storage.close();
      })()),
  };
}
