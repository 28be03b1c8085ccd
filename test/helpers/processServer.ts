/**
 * Servers in child processes, so a test can SIGKILL them: `startServerProcess` (a fixture calling
 * `startServer` with JSON options) and `startNodeProcess` (the real `opencall-server` CLI, as an
 * operator runs a cluster node).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '@opencall/server';

const fixture = fileURLToPath(new URL('../fixtures/serverProcess.ts', import.meta.url));

/** A server running in a child process. */
export interface ProcessServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGKILL, no cleanup at all (a crash). */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/**
 * Spawns a server process with `options`; resolves with its URL. A process that does not listen
 * within `startTimeoutMs` is killed (so it cannot bind the port later) and the promise rejects.
 * `env` adds environment variables to the parent's (e.g. a test-only switch).
 */
export function startServerProcess(options: ServerOptions, startTimeoutMs = 20_000, env: Record<string, string> = {}): Promise<ProcessServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server process did not start within ${startTimeoutMs} ms: ${err}`));
    }, startTimeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(t);
      const url = m[1]!;
      resolve({
        url,
        port: Number(new URL(url).port),
        child,
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`server process exited (${code}): ${err}`)));
  });
}

const cli = fileURLToPath(new URL('../../packages/server/src/cli.ts', import.meta.url));
const distCli = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));
/** tsx by absolute path, so a node can run in its own working folder. */
const tsx = import.meta.resolve('tsx');
const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** What `GET /healthz` answers (the fields the tests read). */
export interface Healthz {
  ok: boolean;
  storage: string;
  connections: number;
  /** Cluster mode only (SPEC §8): this node and the live node ids. */
  cluster?: { nodeId: string; nodes: string[] };
}

/** Options of {@link startNodeProcess}. */
export interface NodeProcessOptions {
  /**
   * Server options, handed to the CLI as `OPENCALL_*` environment variables (objects as JSON), so
   * every option the CLI knows reaches the node exactly as an operator would set it. `port`
   * defaults to a free one; `storage` must be given (the CLI's default is ./data/opencall.db).
   */
  options: ServerOptions & Record<string, unknown>;
  /** Extra environment for the child (wins over `options`). */
  env?: NodeJS.ProcessEnv;
  /** Shown in errors and in the captured output. */
  name?: string;
  /** How long start-up may take before it is an error (default 60 s: tsx compiles on 2 shared cores). */
  startTimeoutMs?: number;
  /**
   * `source` (default): the TypeScript CLI through tsx, as tests run everything; `dist`: the built
   * `packages/server/dist/cli.js`, as an operator runs it (needs `npm run build`).
   */
  entry?: 'source' | 'dist';
  /** Working folder (kept); default: a fresh temporary one per start, removed when the node exits. */
  cwd?: string;
  /** With `entry: 'source'`: another tree's `packages/server/src/cli.ts` (A/B benches against a baseline checkout). */
  cli?: string;
  /** Also append everything the node prints (every incarnation) to this file, for a post-mortem. */
  logFile?: string;
}

/** A server node running the real CLI (`opencall-server`) in a child process. */
export interface NodeProcess {
  /** `http://127.0.0.1:<port>`; the port stays the same across {@link restart}. */
  readonly url: string;
  readonly port: number;
  readonly name: string;
  /** PID of the current incarnation (undefined while stopped). */
  readonly pid: number | undefined;
  /** True while the current incarnation runs. */
  readonly running: boolean;
  /** The last 64 kB of the node's stdout + stderr (for failure messages). */
  output(): string;
  /** `GET /healthz` of this node. */
  healthz(): Promise<Healthz>;
  /** SIGKILL: a crash, no goodbye, nothing flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. Resolves once the process exited (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** Starts the node again with the same options and port (after kill or stop; stops it first if running). */
  restart(): Promise<void>;
}

/** Resolves with a free loopback port (released before returning: a small race, fine for tests). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** The `OPENCALL_*` variables that carry `options` to the CLI. */
export function optionsToEnv(options: Record<string, unknown>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    env[`OPENCALL_${snake(k)}`] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return env;
}

/**
 * Starts a real node: `node --import tsx --conditions=source packages/server/src/cli.ts` with
 * `options` as environment, and resolves once its `/healthz` answers `ok`. Rejects with the
 * node's output when it exits or does not come up in time.
 */
export async function startNodeProcess(o: NodeProcessOptions): Promise<NodeProcess> {
  if (o.options.storage === undefined) throw new Error('startNodeProcess: options.storage is required');
  const port = o.options.port ? Number(o.options.port) : await freePort();
  const url = `http://127.0.0.1:${port}`;
  const name = o.name ?? `node:${port}`;
  const env = { ...process.env, ...optionsToEnv({ ...o.options, port, host: '127.0.0.1' }), ...o.env };
  let out = '';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const healthz = async (): Promise<Healthz> => {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`${name} /healthz answered ${res.status}`);
    return (await res.json()) as Healthz;
  };

  const launch = async (): Promise<void> => {
    // Its own working folder (removed when it exits): nothing a node writes by default (./data)
    // lands in the repository.
    const cwd = o.cwd ?? mkdtempSync(join(tmpdir(), 'opencall-node-'));
    const args = o.entry === 'dist' ? [distCli] : ['--import', tsx, '--conditions=source', o.cli ?? cli];
    const c = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    const capture = (d: Buffer): void => {
      out = (out + d.toString()).slice(-65_536);
      if (o.logFile) appendFileSync(o.logFile, d);
    };
    c.stdout?.on('data', capture);
    c.stderr?.on('data', capture);
    let gone = false;
    exited = new Promise<void>((res) => c.once('exit', () => {
      gone = true;
      if (!o.cwd) rmSync(cwd, { recursive: true, force: true });
      res();
    }));
    const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
    for (;;) {
      if (gone) throw new Error(`${name} exited during start-up (code ${c.exitCode}):\n${out.slice(-4000)}`);
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`${name} did not answer /healthz within ${o.startTimeoutMs ?? 60_000} ms:\n${out.slice(-4000)}`);
      }
      const h = await healthz().catch(() => null);
      if (h?.ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill(sig);
    const t = sig === 'SIGKILL' ? undefined : setTimeout(() => c.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };

  await launch();
  return {
    url,
    port,
    name,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    output: () => out,
    healthz,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    restart: async () => {
      await signal('SIGTERM');
      await launch();
    },
  };
}
