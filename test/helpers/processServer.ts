/** Starts `test/fixtures/serverProcess.ts` as a child process and waits until it listens. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
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

/** Spawns a server process with `options`; resolves with its URL. */
export function startServerProcess(options: ServerOptions): Promise<ProcessServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', fixture, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server process did not start: ${err}`)), 20_000);
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
