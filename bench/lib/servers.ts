/**
 * Starts the servers under test as child processes (so their CPU and memory are theirs alone,
 * read from /proc): the OpenCall bench fixture with SQLite in a temporary folder, or the bare
 * relay. Both listen on 127.0.0.1 only and are stopped by PID.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '@opencall/server';

/** Secret key of every bench server (clients sign their UserSigs with it). */
export const BENCH_SECRET = 'opencall-bench-secret';
/** sdkAppId of every bench server. */
export const BENCH_APP_ID = 1400000000;

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** A server process under test. */
export interface ServerProcess {
  kind: 'opencall' | 'relay';
  url: string;
  pid: number;
  /** `process.memoryUsage()` after a full GC (OpenCall only; null for the relay). */
  memory(): Promise<NodeJS.MemoryUsage | null>;
  /** SIGTERM, wait for exit, remove temporary files. */
  stop(): Promise<void>;
}

/** How to start the OpenCall server. */
export interface OpencallStartOptions {
  /** Write a V8 CPU profile (`--cpu-prof`) into this folder when the process exits. */
  cpuProfDir?: string;
  /** Extra server options (merged over the bench defaults). */
  options?: ServerOptions;
  /** Pin the process to these CPUs (`taskset -c`), e.g. "0". */
  cpus?: string;
  /** Another fixture to run instead of bench/fixtures/server.ts (A/B against an older tree). */
  entry?: string;
}

/**
 * The load settings every OpenCall bench server uses: limits far above the load (the bench
 * measures the server, not its rate limiter), a heartbeat long enough that 10,000 idle devices
 * ping rarely, and ring timeouts that never fire during a cycle.
 */
export function benchServerOptions(storagePath: string): ServerOptions {
  return {
    port: 0,
    host: '127.0.0.1',
    secretKey: BENCH_SECRET,
    sdkAppId: BENCH_APP_ID,
    storage: storagePath,
    sfu: 'none',
    webApp: false,
    logLevel: 'info',
    heartbeatTimeoutMs: 120_000,
    defaultRingTimeoutSeconds: 60,
    limits: {
      maxMessageBytes: 256 * 1024,
      messagesPerSecondPerConnection: 100_000,
      requestsPerSecondPerIp: 100_000,
      maxDevicesPerUser: 5,
      // Every bench client connects from loopback, and bench users call back to back.
      maxConnections: 1_000_000,
      maxConnectionsPerIp: 1_000_000,
      callsPerMinutePerUser: 1_000_000,
    },
  };
}

/** Spawns `node [execArgv] script [args]` (optionally under taskset) and waits for `LISTENING <url>`. */
function spawnListening(script: string, args: string[], execArgv: string[], cpus: string | undefined): Promise<{ child: ChildProcess; url: string }> {
  const nodeArgs = [...execArgv, script, ...args];
  const child = cpus
    ? spawn('taskset', ['-c', cpus, process.execPath, ...nodeArgs], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start in 30 s: ${err}`));
    }, 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      // Keep draining stdout (pino writes there) so the pipe never blocks the server.
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({ child, url: m[1]! });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before listening: ${err}`));
    });
  });
}

/** Waits for a child to exit after SIGTERM; SIGKILL after 10 s. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

/** Starts OpenCall (source through tsx, SQLite in a fresh temp folder). */
export async function startOpencall(o: OpencallStartOptions = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-bench-'));
  const options = { ...benchServerOptions(join(dir, 'opencall.db')), ...o.options };
  const execArgv = ['--import', 'tsx', '--conditions=source', '--expose-gc'];
  if (o.cpuProfDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`);
  const { child, url } = await spawnListening(o.entry ?? here('../fixtures/server.ts'), [JSON.stringify(options)], execArgv, o.cpus);
  return {
    kind: 'opencall',
    url,
    // Under taskset the node process replaces taskset (exec), so the pid is node's.
    pid: child.pid!,
    memory: () =>
      new Promise((resolve) => {
        const onMsg = (m: { memory?: NodeJS.MemoryUsage }): void => {
          if (!m.memory) return;
          child.off('message', onMsg);
          resolve(m.memory);
        };
        child.on('message', onMsg);
        child.send({ cmd: 'memory' });
      }),
    stop: async () => {
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts the bare relay baseline. */
export async function startRelay(o: { cpus?: string } = {}): Promise<ServerProcess> {
  const { child, url } = await spawnListening(here('../relay.ts'), [], ['--import', 'tsx'], o.cpus);
  return { kind: 'relay', url, pid: child.pid!, memory: async () => null, stop: () => terminate(child) };
}
