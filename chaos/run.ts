/**
 * One chaos run: starts the system under test, a webhook receiver, one TCP proxy per simulated
 * user and the worker processes hosting the users; lets the workload and the fault injector loose
 * for the set time; then repairs every fault, lets the system settle (ring timeouts, heartbeats,
 * webhook retries), gathers every history, the REST records and the webhooks, and checks them.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '@opencall/server';
import { genUserSig } from '@opencall/server';
import { startTcpProxy } from '../test/helpers/tcpProxy.js';
import type { TcpProxy } from '../test/helpers/tcpProxy.js';
import { HOOK_SECRET, HookRecorder } from '../test/webhooks-support.js';
import { check } from './checker.js';
import { ClusterSystem } from './cluster.js';
import { CLUSTER_WEIGHTS, DEFAULT_WEIGHTS, FaultInjector } from './faults.js';
import { Rng } from './rng.js';
import { SingleNode } from './singleNode.js';
import type { SystemUnderTest } from './singleNode.js';
import type { Entry, FaultKind, Hook, RecordView, RunHistory, Violation } from './types.js';
import type { FromWorker, ToWorker } from './worker.js';

/** Knobs of a run. */
export interface ChaosOptions {
  seed: number;
  durationMs: number;
  users: number;
  workers: number;
  heartbeatMs: number;
  ringTimeoutSeconds: number;
  /** Transport/scheduling slack the timing promises get on a loaded machine. */
  slackMs: number;
  /** Mean pause between one user's actions. */
  thinkMs: number;
  /** Mean pause between two faults. */
  faultGapMs: number;
  /** Fault kinds and their weights (cluster mode adds {@link CLUSTER_WEIGHTS} to these). */
  faults: Partial<Record<FaultKind, number>>;
  /** How many users (u0, u1, …) get real Node media (@roamhq/wrtc); the others are signaling only. */
  mediaUsers: number;
  /** How long a connected 1-to-1 call between two media users may go without media (see checkMedia.ts). */
  mediaSlackMs: number;
  /** `single`: one node on SQLite; `cluster`: three nodes on PostgreSQL + Redis behind nginx. */
  mode: 'single' | 'cluster';
  /** Progress lines. */
  log: (line: string) => void;
}

/** Defaults for a short run. */
export const DEFAULTS: ChaosOptions = {
  seed: 1,
  durationMs: 60_000,
  users: 12,
  workers: 3,
  heartbeatMs: 5000,
  ringTimeoutSeconds: 6,
  slackMs: 3000,
  thinkMs: 1500,
  faultGapMs: 3000,
  faults: DEFAULT_WEIGHTS,
  mediaUsers: 0,
  mediaSlackMs: 4000,
  mode: 'single',
  log: () => undefined,
};

/** What a run produced. */
export interface ChaosResult {
  history: RunHistory;
  violations: Violation[];
  /** Distinct calls the users saw. */
  calls: number;
  faultsByKind: Partial<Record<FaultKind, number>>;
}

const APP_ID = 1400000000;
/** The server's webhook request timeout in a chaos run. */
const WEBHOOK_TIMEOUT_MS = 3000;
const SECRET = 'opencall-chaos-secret';
const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends a message to a worker and waits for its answer of type `expect`. */
function ask<T extends FromWorker['type']>(w: ChildProcess, msg: ToWorker, expect: T): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: FromWorker): void => {
      if (m.type !== expect) return;
      w.off('message', onMsg);
      resolve(m as Extract<FromWorker, { type: T }>);
    };
    w.on('message', onMsg);
    w.once('exit', (code) => reject(new Error(`chaos worker exited (${code}) waiting for ${expect}`)));
    w.send(msg);
  });
}

/** The REST record of one call, or null. */
async function record(url: string, callId: string): Promise<RecordView | null> {
  const q = new URLSearchParams({
    sdkappid: String(APP_ID),
    identifier: 'administrator',
    usersig: genUserSig({ sdkAppId: APP_ID, secretKey: SECRET, userId: 'administrator', expireSeconds: 3600 }),
    random: String(Math.floor(Math.random() * 2 ** 32)),
    contenttype: 'json',
  });
  const r = await fetch(`${url}/v4/call_record_http_srv/get_record_by_callid?${q}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ CallId: callId }),
  });
  const body = (await r.json()) as { ErrorCode: number; Response?: { CallRecord: RecordView } };
  return body.ErrorCode === 0 && body.Response ? body.Response.CallRecord : null;
}

/** Waits until the receiver got nothing new for `quietMs` (webhook retries drained), at most `maxMs`. */
async function drainHooks(hooks: HookRecorder, quietMs: number, maxMs: number): Promise<void> {
  const until = Date.now() + maxMs;
  let count = -1;
  while (Date.now() < until && count !== hooks.hits.length) {
    count = hooks.hits.length;
    await sleep(quietMs);
  }
}

/** Runs the workload under faults for `durationMs` and checks the history. */
export async function runChaos(opts: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const o: ChaosOptions = { ...DEFAULTS, ...opts };
  const rng = new Rng(o.seed);
  const hooks = await HookRecorder.start();
  let hookMode: 'ok' | 'fail' | 'hang' = 'ok';
  hooks.reply = () => (hookMode === 'ok' ? 200 : hookMode === 'fail' ? 500 : 'hang');
  const serverOptions: ServerOptions = {
    secretKey: SECRET,
    sdkAppId: APP_ID,
    sfu: 'none',
    logLevel: 'silent',
    webApp: false,
    heartbeatTimeoutMs: o.heartbeatMs,
    defaultRingTimeoutSeconds: o.ringTimeoutSeconds,
    webhookUrl: hooks.url,
    webhookSecret: HOOK_SECRET,
    webhookRetry: { initialDelayMs: 200, maxDelayMs: 1000, timeoutMs: WEBHOOK_TIMEOUT_MS },
    limits: { requestsPerSecondPerIp: 10_000 },
  };
  const system: SystemUnderTest =
    o.mode === 'cluster' ? await ClusterSystem.start(serverOptions, new Rng(o.seed ^ 0x5eed)) : await SingleNode.start(serverOptions);
  const ids = Array.from({ length: o.users }, (_, i) => `u${i}`);
  const mediaUsers = ids.slice(0, o.mediaUsers);
  const proxies = new Map<string, TcpProxy>();
  for (const id of ids) proxies.set(id, await startTcpProxy(system.port));
  const workers = Array.from({ length: o.workers }, () =>
    fork(WORKER, [], { execArgv: ['--import', 'tsx', '--conditions=source'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    const startedAt = Date.now();
    await Promise.all(
      workers.map((w, i) =>
        ask(w, {
          type: 'start', seed: o.seed, sdkAppId: APP_ID, secretKey: SECRET, everyone: ids, mediaUsers, thinkMs: o.thinkMs,
          users: ids.filter((_, j) => j % o.workers === i).map((id) => ({ id, url: proxies.get(id)!.url, media: mediaUsers.includes(id) })),
        }, 'ready'),
      ),
    );
    o.log(`seed ${o.seed}: ${o.users} users (${mediaUsers.length} with media) in ${o.workers} workers, faults for ${o.durationMs / 1000} s`);
    // In a cluster a crash takes one node: the same weight, logged as `nodeKill`.
    const { serverKill, ...others } = o.faults;
    const weights = o.mode === 'cluster' ? { ...CLUSTER_WEIGHTS, ...others, nodeKill: serverKill ?? 0 } : o.faults;
    const injector = new FaultInjector(
      rng,
      {
        killServer: (ms) => system.kill(ms),
        proxies,
        setWebhook: (m) => void (hookMode = m),
        ...(system.pauseDb ? { pauseDb: (ms: number) => system.pauseDb!(ms) } : {}),
        ...(system.pauseRedis ? { pauseRedis: (ms: number) => system.pauseRedis!(ms) } : {}),
        ...(system.stallNode ? { stallNode: (ms: number) => system.stallNode!(ms) } : {}),
      },
      o.heartbeatMs,
      weights,
      o.faultGapMs,
    );
    const faults = injector.run();
    await sleep(o.durationMs);
    o.log('stopping faults');
    await injector.stop();
    await faults;
    o.log(`faults stopped (${injector.log.length}); stopping the workload`);
    await Promise.all(workers.map((w) => ask(w, { type: 'stop' }, 'stopped')));
    o.log('settling');
    await sleep(o.ringTimeoutSeconds * 1000 + o.heartbeatMs + o.slackMs);
    await drainHooks(hooks, 3000, 60_000);
    o.log('collecting');
    const entries: Entry[] = (await Promise.all(workers.map((w) => ask(w, { type: 'collect' }, 'history')))).flatMap((m) => m.entries);
    const callIds = new Set<string>();
    for (const e of entries) {
      const c = e.kind === 'action' ? e.callId : typeof e.args[0] === 'string' && e.args[0].startsWith('c_') ? e.args[0] : undefined;
      if (c) callIds.add(c);
    }
    const records: Record<string, RecordView | null> = {};
    for (const c of callIds) records[c] = await record(system.restUrl, c);
    const hookList: Hook[] = hooks.hits.map((h) => ({
      t: h.at, eventId: h.eventId, callId: h.callId, seq: h.seq, command: h.command, status: h.status,
      ...(h.body.CallbackCommand === 'Call.CallbackAfterEndCall' ? { callResult: h.body.CallRecord.CallResult } : {}),
    }));
    const history: RunHistory = {
      seed: o.seed,
      promises: {
        ringTimeoutMs: o.ringTimeoutSeconds * 1000, heartbeatMs: o.heartbeatMs, slackMs: o.slackMs, webhooks: true,
        webhookTimeoutMs: WEBHOOK_TIMEOUT_MS, mediaSlackMs: o.mediaSlackMs,
      },
      startedAt,
      endedAt: Date.now(),
      entries,
      faults: injector.log,
      hooks: hookList,
      records,
      mediaUsers,
    };
    const faultsByKind: Partial<Record<FaultKind, number>> = {};
    for (const f of injector.log) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
    return { history, violations: check(history), calls: callIds.size, faultsByKind };
  } finally {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await Promise.all([...proxies.values()].map((p) => p.close()));
    await system.dispose();
    await hooks.close();
  }
}
