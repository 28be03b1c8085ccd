/**
 * The load driver: forks client worker processes, spreads the pairs over them, runs one timed
 * window against a server process and merges what the workers measured with the server's CPU
 * and memory read from /proc over the same window.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CpuWindow, round, rssBytes } from './proc.js';
import type { FromWorker, Target, ToWorker, WorkerResult } from './protocol.js';
import { BENCH_APP_ID, BENCH_SECRET } from './servers.js';
import type { ServerProcess } from './servers.js';
import { summarize } from './stats.js';
import type { LatencySummary } from './stats.js';

const WORKER = fileURLToPath(new URL('../client/worker.ts', import.meta.url));

/** One client worker process. */
export class Worker {
  readonly child: ChildProcess;
  readonly #exited: Promise<void>;

  constructor(cpus?: string, entry = WORKER, execArgv: string[] = []) {
    const args = ['--import', 'tsx', '--conditions=source', ...execArgv, entry];
    const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
    this.child = cpus ? spawn('taskset', ['-c', cpus, process.execPath, ...args], { stdio }) : spawn(process.execPath, args, { stdio });
    this.#exited = new Promise((r) => this.child.once('exit', () => r()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `m` and resolves with the worker's next message (rejects if it fails or dies). */
  ask(m: ToWorker, timeoutMs: number): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(t);
        this.child.off('message', onMsg);
        this.child.off('exit', onExit);
      };
      const onMsg = (r: FromWorker): void => {
        done();
        if (r.evt === 'failed') reject(new Error(`worker ${this.pid}: ${r.message}`));
        else resolve(r);
      };
      const onExit = (code: number | null): void => {
        done();
        reject(new Error(`worker ${this.pid} exited (${code}) during ${m.cmd}`));
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`worker ${this.pid}: no answer to ${m.cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      this.child.on('message', onMsg);
      this.child.once('exit', onExit);
      this.child.send(m);
    });
  }

  /** Tells the worker to exit and waits; SIGKILL if it does not within 5 s. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ cmd: 'close' } satisfies ToWorker);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.#exited;
    clearTimeout(t);
  }
}

/** Settings of one load window. */
export interface LoadOptions {
  server: ServerProcess;
  pairs: number;
  workers: number;
  warmupMs: number;
  durationMs: number;
  /** A cycle step slower than this is an error. */
  stepTimeoutMs?: number;
  /** Sign-ins in flight per worker during setup. */
  concurrency?: number;
  /** Pin client workers to these CPUs (`taskset -c`). */
  cpus?: string;
  /**
   * The worker script (default: this tree's bench/client/worker.ts). The A/B bench runs a
   * baseline server with the baseline tree's own clients, so client costs compare like for like.
   */
  workerEntry?: string;
  /** Extra node flags of the workers (`--cpu-prof` for `bench:profile --clients`). */
  workerExecArgv?: string[];
  /** Called when the measured window opens and closes (extra CPU sampling: a cluster's other processes). */
  onWindow?: { begin(): void; end(): void };
}

/** Everything one load window measured. */
export interface LoadResult {
  target: Target;
  pairs: number;
  workers: number;
  seconds: number;
  cycles: number;
  cyclesPerSec: number;
  errors: number;
  errorSamples: string[];
  latency: { invite: LatencySummary; accept: LatencySummary; hangup: LatencySummary };
  /** Cores used over the window (1 = one core fully busy). */
  serverCpu: number;
  clientCpu: number;
  /** Client CPU time per full cycle, ms (both users of a pair; all worker processes). */
  clientCpuMsPerCycle: number;
  /** Cores used by everything else on the machine (other people's work). */
  otherCpu: number;
  /** The server's main thread (event loop) alone, cores. */
  serverMainCpu: number;
  /** Server CPU time per full cycle, ms (all threads). */
  serverCpuMsPerCycle: number;
  /** Server main-thread CPU time per full cycle, ms: the cost that limits throughput. */
  serverMainCpuMsPerCycle: number;
  serverRssMiB: number;
  setupSeconds: number;
}

/** Runs one load window against `o.server`. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const target = o.server.kind;
  const workers = Array.from({ length: o.workers }, () => new Worker(o.cpus, o.workerEntry, o.workerExecArgv));
  try {
    const tag = `p${Date.now().toString(36)}x`;
    const setupStart = performance.now();
    await Promise.all(
      workers.map((w, k) => {
        const pairs = Array.from({ length: o.pairs }, (_, i) => i).filter((i) => i % o.workers === k);
        const setup: ToWorker = {
          cmd: 'setup',
          target,
          url: o.server.url,
          pairs,
          tag,
          sdkAppId: BENCH_APP_ID,
          secretKey: BENCH_SECRET,
          concurrency: o.concurrency ?? 50,
        };
        return w.ask(setup, 120_000);
      }),
    );
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const pids: Record<string, number> = { server: o.server.pid };
    workers.forEach((w, k) => (pids[`client${k}`] = w.pid));
    const cpu = new CpuWindow(pids);
    const stepTimeoutMs = o.stepTimeoutMs ?? 10_000;
    let window: ReturnType<CpuWindow['end']> | null = null;
    let rss = 0;
    const t1 = setTimeout(() => {
      cpu.begin();
      o.onWindow?.begin();
    }, o.warmupMs);
    const t2 = setTimeout(() => {
      window = cpu.end();
      o.onWindow?.end();
      rss = rssBytes(o.server.pid);
    }, o.warmupMs + o.durationMs);
    const budget = o.warmupMs + o.durationMs + stepTimeoutMs * 4 + 10_000;
    const results = (
      await Promise.all(workers.map((w) => w.ask({ cmd: 'go', warmupMs: o.warmupMs, durationMs: o.durationMs, stepTimeoutMs }, budget)))
    ).map((r) => (r as { result: WorkerResult }).result);
    clearTimeout(t1);
    clearTimeout(t2);
    const w = window as ReturnType<CpuWindow['end']> | null;
    if (!w) throw new Error('the measurement window did not close');
    return merge(target, o, results, w, rss, setupSeconds);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

function merge(
  target: Target,
  o: LoadOptions,
  results: WorkerResult[],
  w: ReturnType<CpuWindow['end']>,
  rss: number,
  setupSeconds: number,
): LoadResult {
  const all = <K extends keyof WorkerResult['samples']>(k: K): number[] => results.flatMap((r) => r.samples[k]);
  const cycles = results.reduce((n, r) => n + r.cycles, 0);
  const clientCpu = Object.entries(w.cores).reduce((n, [k, v]) => (k.startsWith('client') && !k.endsWith(':main') ? n + v : n), 0);
  const serverCpu = w.cores['server'] ?? 0;
  const serverMainCpu = w.cores['server:main'] ?? 0;
  const perCycle = (cores: number): number => (cycles > 0 ? round((cores * w.wallSeconds * 1000) / cycles, 3) : NaN);
  return {
    target,
    pairs: o.pairs,
    workers: o.workers,
    seconds: w.wallSeconds,
    cycles,
    cyclesPerSec: round(cycles / w.wallSeconds, 1),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: results.flatMap((r) => r.errorSamples).slice(0, 5),
    latency: { invite: summarize(all('invite')), accept: summarize(all('accept')), hangup: summarize(all('hangup')) },
    serverCpu,
    serverMainCpu,
    clientCpu: round(clientCpu, 3),
    clientCpuMsPerCycle: perCycle(clientCpu),
    otherCpu: w.otherCores,
    serverCpuMsPerCycle: perCycle(serverCpu),
    serverMainCpuMsPerCycle: perCycle(serverMainCpu),
    serverRssMiB: round(rss / 2 ** 20, 1),
    setupSeconds: round(setupSeconds, 1),
  };
}
