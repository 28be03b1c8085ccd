/**
 * Real nginx with TLS in front of a test server, from the production site file deploy/nginx/opencall.conf
 * (the cluster balancer deploy/nginx/cluster.conf has its own helper, nginx.ts):
 * a self-signed certificate made here with `openssl`, free loopback ports, its own prefix and
 * temp folders, run in the foreground (`daemon off`) and stopped by PID.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../../packages/server/src/media/ports.js';

/** The site file the tests run, as installed by docs/deploy.md. */
export const SITE_CONF = fileURLToPath(new URL('../../deploy/nginx/opencall.conf', import.meta.url));

/** A running nginx. */
export interface TlsNginx {
  /** `https://127.0.0.1:<port>` */
  httpsUrl: string;
  /** `http://127.0.0.1:<port>`: the port-80 block (redirects to https). */
  httpUrl: string;
  /** The self-signed certificate (PEM) clients must trust. */
  ca: string;
  pid: number;
  /** nginx's error log so far. */
  errors(): string;
  stop(): Promise<void>;
}

/** Replaces `from` in `text`, which must occur exactly `times` times: the test cannot drift from the file. */
function replaceExactly(text: string, from: string, to: string, times = 1): string {
  const n = text.split(from).length - 1;
  if (n !== times) throw new Error(`deploy/nginx/opencall.conf: expected ${times} × "${from}", found ${n}`);
  return text.split(from).join(to);
}

/**
 * The production site with the test's ports, host name and certificate. IPv6 listens are dropped
 * (the test machine may have no ::1); every other directive is the file's own.
 */
export function testSite(site: string, o: { httpsPort: number; httpPort: number; upstreamPort: number; cert: string; key: string }): string {
  let s = site;
  s = replaceExactly(s, 'listen 443 ssl http2;', `listen 127.0.0.1:${o.httpsPort} ssl http2;`);
  s = replaceExactly(s, 'listen [::]:443 ssl http2;', '');
  s = replaceExactly(s, 'listen 80;', `listen 127.0.0.1:${o.httpPort};`);
  s = replaceExactly(s, 'listen [::]:80;', '');
  s = replaceExactly(s, '/etc/letsencrypt/live/call.example.com/fullchain.pem', o.cert);
  s = replaceExactly(s, '/etc/letsencrypt/live/call.example.com/privkey.pem', o.key);
  s = replaceExactly(s, 'server_name call.example.com;', 'server_name localhost 127.0.0.1;', 2);
  s = replaceExactly(s, 'server 127.0.0.1:3000 ', `server 127.0.0.1:${o.upstreamPort} `);
  return s;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('error', () => resolve(false));
  });
}

/** Starts nginx proxying to `127.0.0.1:upstreamPort`. */
export async function startTlsNginx(nginx: string, upstreamPort: number): Promise<TlsNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-nginx-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const [httpsPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
  writeFileSync(join(dir, 'opencall.conf'), testSite(readFileSync(SITE_CONF, 'utf8'), { httpsPort, httpPort, upstreamPort, cert, key }));
  const errorLog = join(dir, 'error.log');
  const main = [
    'daemon off;',
    // As root, workers would drop to `nobody` and could not use the private temp folders.
    process.getuid?.() === 0 ? 'user root;' : '',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${errorLog} info;`,
    'events { worker_connections 512; }',
    'http {',
    `  access_log ${join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    `  include ${join(dir, 'opencall.conf')};`,
    '}',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'nginx.conf'), main);
  const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const errors = (): string => {
    try {
      return stderr + readFileSync(errorLog, 'utf8');
    } catch {
      return stderr;
    }
  };
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!exited && Date.now() < deadline) {
    if (await portOpen(httpsPort)) {
      return { httpsUrl: `https://127.0.0.1:${httpsPort}`, httpUrl: `http://127.0.0.1:${httpPort}`, ca: readFileSync(cert, 'utf8'), pid: child.pid!, errors, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = errors();
  await stop();
  throw new Error(`nginx did not start:\n${log}`);
}
