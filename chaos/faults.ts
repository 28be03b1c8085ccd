/**
 * The fault injector: on a seeded random schedule it kills and restarts the server, cuts or
 * blackholes one user's connection (briefly, or past the heartbeat window: the user goes silent),
 * makes the webhook receiver fail or hang, and in cluster mode stalls a node (SIGSTOP, then
 * SIGCONT) or pauses the database or Redis connections of one node or all. Every fault is logged with its
 * start and repair time.
 */
import type { TcpProxy } from '../test/helpers/tcpProxy.js';
import type { Rng } from './rng.js';
import type { Fault, FaultKind } from './types.js';

/** What the injector can break. */
export interface Targets {
  /** SIGKILLs the server (or a random node) and starts it again; resolves once it listens. */
  killServer(downMs: number): Promise<void>;
  /** Each user's own proxy. */
  proxies: ReadonlyMap<string, TcpProxy>;
  /** Sets what the webhook receiver answers: 'ok', 'fail' (HTTP 500) or 'hang' (never). */
  setWebhook(mode: 'ok' | 'fail' | 'hang'): void;
  /**
   * Holds every byte between some nodes and the database for `ms` (cluster mode; absent on
   * SQLite), then resumes or cuts those connections; resolves with what it did (the fault's detail).
   */
  pauseDb?: (ms: number) => Promise<string>;
  /** The same for the nodes' Redis connections (beats, device logs, pub/sub). */
  pauseRedis?: (ms: number) => Promise<string>;
  /** SIGSTOPs one node for `ms`, then SIGCONTs it (cluster mode); resolves with its name, or null when none could be stalled. */
  stallNode?: (ms: number) => Promise<string | null>;
}

/** Relative weights of fault kinds. */
export const DEFAULT_WEIGHTS: Partial<Record<FaultKind, number>> = {
  serverKill: 2,
  cut: 4,
  blackhole: 3,
  silent: 2,
  webhookFail: 2,
  webhookHang: 1,
};

/** Weights of the faults only a cluster has, added to {@link DEFAULT_WEIGHTS} in cluster mode. */
export const CLUSTER_WEIGHTS: Partial<Record<FaultKind, number>> = {
  dbPause: 2,
  nodeStall: 2,
  redisPause: 1,
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs faults until `stop()`; `log` holds every fault injected. */
export class FaultInjector {
  readonly log: Fault[] = [];
  #running = true;
  #inFlight = new Set<Promise<void>>();
  #serverBusy = false;
  #webhookBusy = false;
  /** Connection pauses in progress (`dbPause`, `redisPause`): one of each kind at a time. */
  readonly #pausing = new Set<FaultKind>();
  readonly #busyUsers = new Set<string>();

  constructor(
    private readonly rng: Rng,
    private readonly targets: Targets,
    private readonly heartbeatMs: number,
    private readonly weights: Partial<Record<FaultKind, number>> = DEFAULT_WEIGHTS,
    private readonly meanGapMs = 3000,
  ) {}

  /** Injects faults until stopped. */
  async run(): Promise<void> {
    while (this.#running) {
      await sleep(this.rng.int(this.meanGapMs / 2, (this.meanGapMs * 3) / 2));
      if (!this.#running) break;
      const p = this.#one(this.rng.weighted(this.weights as Record<FaultKind, number>)).catch((err: unknown) => {
        process.stderr.write(`fault failed: ${String(err)}\n`);
      });
      this.#inFlight.add(p);
      void p.finally(() => this.#inFlight.delete(p));
    }
  }

  /** Stops injecting and waits until every fault in progress is repaired. */
  async stop(): Promise<void> {
    this.#running = false;
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  async #one(kind: FaultKind): Promise<void> {
    const { targets, rng } = this;
    const t = Date.now();
    const done = (user?: string, detail?: string): void =>
      void this.log.push({ kind, t, end: Date.now(), ...(user ? { user } : {}), ...(detail ? { detail } : {}) });
    if (kind === 'serverKill' || kind === 'nodeKill' || kind === 'nodeStall') {
      // One node out at a time (killed or stalled): the others carry the load meanwhile.
      if (this.#serverBusy || (kind === 'nodeStall' && !targets.stallNode)) return;
      this.#serverBusy = true;
      try {
        if (kind !== 'nodeStall') {
          await targets.killServer(rng.int(200, 2000));
          return done();
        }
        // 1–6 s: past the cluster's death verdict (three missed beats, 1.5 s), sometimes past the
        // heartbeat window after which the others reap the node's devices (5 s in a chaos run).
        const node = await targets.stallNode!(rng.int(1000, 6000));
        if (node) done(undefined, node);
      } finally {
        this.#serverBusy = false;
      }
      return;
    }
    if (kind === 'webhookFail' || kind === 'webhookHang') {
      if (this.#webhookBusy) return;
      this.#webhookBusy = true;
      targets.setWebhook(kind === 'webhookFail' ? 'fail' : 'hang');
      await sleep(rng.int(1000, 5000));
      targets.setWebhook('ok');
      this.#webhookBusy = false;
      return done();
    }
    if (kind === 'dbPause' || kind === 'redisPause') {
      const pause = kind === 'dbPause' ? targets.pauseDb : targets.pauseRedis;
      if (!pause || this.#pausing.has(kind)) return;
      this.#pausing.add(kind);
      try {
        return done(undefined, await pause(rng.int(500, 5000)));
      } finally {
        this.#pausing.delete(kind);
      }
    }
    const user = rng.pick([...targets.proxies.keys()].filter((u) => !this.#busyUsers.has(u)));
    if (user === undefined) return;
    const proxy = targets.proxies.get(user)!;
    this.#busyUsers.add(user);
    if (kind === 'cut') proxy.sever();
    else proxy.blackhole();
    const ms = kind === 'cut' ? rng.int(100, 2000) : kind === 'blackhole' ? rng.int(300, this.heartbeatMs / 2) : rng.int(this.heartbeatMs + 500, this.heartbeatMs * 2);
    await sleep(ms);
    proxy.restore();
    this.#busyUsers.delete(user);
    done(user);
  }
}
