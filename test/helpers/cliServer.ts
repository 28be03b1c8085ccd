/**
 * The real `opencall-server` command (packages/server/src/cli.ts, through tsx) as a child process:
 * subcommands run to completion, the server runs until a signal. Ports are free ones chosen here.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../../packages/server/src/media/ports.js';

const CLI = fileURLToPath(new URL('../../packages/server/src/cli.ts', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', '--conditions=source', CLI];

/** Runs a subcommand (`init`, `backup`, or a server start expected to fail); resolves with its exit. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A server started by the CLI. */
export interface CliServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed so far (stdout: JSON log lines; stderr: the banner). */
  output(): string;
  /** Sends `signal` and resolves with the exit code and how long the exit took. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

/** Starts `opencall-server ...args --port <free>` and resolves once `/readyz` answers 200. */
export async function startCli(args: string[], env: NodeJS.ProcessEnv = {}, port?: number): Promise<CliServer> {
  const p = port ?? (await freeTcpPort());
  const child = spawn(process.execPath, [...NODE_ARGS, ...args, '--port', String(p)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((r) => child.once('exit', (code) => ((exitCode = code), r())));
  const url = `http://127.0.0.1:${p}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`opencall-server exited (${exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`opencall-server did not become ready:\n${out}`);
    }
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: p,
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      const t0 = Date.now();
      if (exitCode === undefined) child.kill(signal);
      await exited;
      return { code: exitCode ?? null, ms: Date.now() - t0 };
    },
  };
}
