/**
 * nginx in front of OpenCall nodes, from the checked-in `deploy/nginx/cluster.conf`: the config is
 * rendered with the nodes' ports and a free listen port, and nginx runs in the foreground with
 * its own prefix folder (pid, temp files), stopped by PID. Used by the cluster tests,
 * `npm run cluster` and `npm run bench:cluster`, so the file a deployment copies is the one tested.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './processServer.js';

/** The checked-in config. */
export const NGINX_CONF = fileURLToPath(new URL('../../deploy/nginx/cluster.conf', import.meta.url));

/** Where nginx is looked for (Debian's nginx-light installs /usr/sbin/nginx), unless NGINX_BIN says. */
export function nginxBinary(): string | null {
  const candidates = [process.env.NGINX_BIN, '/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx'];
  return candidates.find((p): p is string => Boolean(p && existsSync(p))) ?? null;
}

/**
 * `template` with the `server` lines between `# BEGIN nodes` / `# END nodes` replaced by one per
 * port (with the first line's parameters) and `listen` set to `127.0.0.1:<listenPort>`.
 */
export function renderNginxConf(template: string, nodePorts: readonly number[], listenPort: number): string {
  const block = /^([ \t]*)# BEGIN nodes\n([\s\S]*?)^[ \t]*# END nodes$/m.exec(template);
  if (!block) throw new Error('cluster.conf: no "# BEGIN nodes" … "# END nodes" block');
  const indent = block[1] ?? '';
  const first = /server\s+\S+(.*);/.exec(block[2] ?? '');
  if (!first) throw new Error('cluster.conf: no server line between the markers');
  if (nodePorts.length === 0) throw new Error('renderNginxConf: at least one node port');
  const servers = nodePorts.map((p) => `${indent}server 127.0.0.1:${p}${first[1] ?? ''};\n`).join('');
  const withNodes = template.replace(block[0], `${indent}# BEGIN nodes\n${servers}${indent}# END nodes`);
  const listen = /^([ \t]*)listen\s+[^;]+;/m;
  if (!listen.test(withNodes)) throw new Error('cluster.conf: no listen line');
  return withNodes.replace(listen, `$1listen 127.0.0.1:${listenPort};`);
}

/** A running nginx. */
export interface TestNginx {
  /** `http://127.0.0.1:<port>`: the cluster's URL. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** nginx's stderr so far (warnings, upstream errors). */
  output(): string;
  /** Points nginx at another set of nodes (rewrites the config, then SIGHUP: live sockets stay). */
  reload(nodePorts: readonly number[]): Promise<void>;
  /** SIGTERM (fast shutdown: open WebSockets are cut), SIGKILL to the group after 5 s; removes the prefix folder. */
  stop(): Promise<void>;
}

/** Starts nginx on a free port (or `port`) in front of `nodePorts`; resolves once it answers. */
export async function startNginx(nodePorts: readonly number[], port?: number): Promise<TestNginx> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is not installed (apt-get install nginx-light)');
  const listenPort = port ?? (await freePort());
  const prefix = mkdtempSync(join(tmpdir(), 'opencall-nginx-'));
  mkdirSync(join(prefix, 'tmp'));
  const conf = join(prefix, 'nginx.conf');
  const template = readFileSync(NGINX_CONF, 'utf8');
  writeFileSync(conf, renderNginxConf(template, nodePorts, listenPort));
  const child: ChildProcess = spawn(bin, ['-p', `${prefix}/`, '-c', conf, '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a last-resort SIGKILL also reaches the workers.
    detached: true,
  });
  let out = '';
  const capture = (d: Buffer): void => {
    out = (out + d.toString()).slice(-65_536);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${out}`);
    // Any answer (even 502 while nodes start) means nginx listens.
    const answered = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) }).then(() => true, () => false);
    if (answered) break;
    if (Date.now() > deadline) {
      process.kill(-(child.pid as number), 'SIGKILL');
      throw new Error(`nginx did not listen on ${listenPort}:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port: listenPort,
    pid: child.pid as number,
    output: () => out,
    reload: async (ports) => {
      writeFileSync(conf, renderNginxConf(template, ports, listenPort));
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}
