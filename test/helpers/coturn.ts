/**
 * Starts a loopback coturn (`turnserver`) for relay tests from the production config
 * deploy/coturn/turnserver.conf: own config folder, free ports, stopped by PID.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort, releaseUdpRange, reserveUdpRange, udpPortFree } from '../../packages/server/src/media/ports.js';

/** A coturn started for a test. */
export interface TestCoturn {
  /** `turn:127.0.0.1:<port>?transport=udp` */
  url: string;
  port: number;
  pid: number;
  /** Relay port range (min-port..max-port): relayed media uses these. */
  relayPorts: { min: number; max: number };
  /** Milliseconds until it answered a STUN binding request. */
  startMs: number;
  /** The log file (inside the temp folder, gone after stop). */
  logFile: string;
  stop(): Promise<void>;
}

/** Resolves true when a STUN Binding Request to 127.0.0.1:`port` gets a Binding Success response. */
function stunAnswers(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0); // Binding Request, no attributes
    req.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(req, 8);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.close();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.on('error', () => done(false));
    sock.on('message', (msg) => done(msg.length >= 20 && msg.readUInt16BE(0) === 0x0101 && msg.subarray(8, 20).equals(req.subarray(8, 20))));
    sock.send(req, port, '127.0.0.1');
  });
}

/** The production coturn config the tests start from (docs/deploy.md installs this file). */
const PRODUCTION_CONF = fileURLToPath(new URL('../../deploy/coturn/turnserver.conf', import.meta.url));
/** Production lines a loopback test replaces: TLS (no certificate here) and the loopback denial. */
const DROPPED = new Set(['tls-listening-port', 'cert', 'pkey', 'external-ip']);

/**
 * deploy/coturn/turnserver.conf turned into a loopback test config: every key in `set` must
 * already be in the file (so the test cannot drift from it) and gets the test's value; TLS is
 * off and loopback peers are allowed, every other production rule stays.
 */
export function loopbackTurnConfig(production: string, set: Record<string, string>): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const raw of production.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (DROPPED.has(key)) continue;
    if (key === 'denied-peer-ip' && line.slice(eq + 1).startsWith('127.')) continue;
    if (key in set) {
      seen.add(key);
      lines.push(`${key}=${set[key]}`);
    } else lines.push(line);
  }
  const added = ['listening-ip', 'relay-ip', 'userdb'];
  for (const key of Object.keys(set)) {
    if (seen.has(key)) continue;
    if (!added.includes(key)) throw new Error(`deploy/coturn/turnserver.conf has no ${key}= line`);
    lines.push(`${key}=${set[key]}`);
  }
  for (const must of ['use-auth-secret', 'no-multicast-peers']) if (!lines.includes(must)) throw new Error(`deploy/coturn/turnserver.conf lacks ${must}`);
  lines.push('no-tls', 'no-dtls', 'allow-loopback-peers', 'no-stdout-log', '');
  return lines.join('\n');
}

async function freeUdpTcpPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freeTcpPort();
    if (await udpPortFree(port)) return port;
  }
  throw new Error('no free port for coturn');
}

/** Starts coturn with `use-auth-secret` (credentials: see packages/server/src/media/turn.ts). */
export async function startCoturn({ secret, realm = 'opencall.test' }: { secret: string; realm?: string }): Promise<TestCoturn> {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-coturn-'));
  const port = await freeUdpTcpPort();
  const relayPorts = await reserveUdpRange(100);
  const logFile = join(dir, 'turn.log');
  const conf = loopbackTurnConfig(readFileSync(PRODUCTION_CONF, 'utf8'), {
    // allow-loopback-peers: without it a relay call on 127.0.0.1 fails silently (MEDIA-NOTES).
    // userdb in the temp dir: else coturn writes /var/lib/turn.
    'listening-ip': '127.0.0.1',
    'relay-ip': '127.0.0.1',
    'listening-port': String(port),
    'min-port': String(relayPorts.min),
    'max-port': String(relayPorts.max),
    'static-auth-secret': secret,
    realm,
    userdb: join(dir, 'turndb'),
    pidfile: join(dir, 'turn.pid'),
    'log-file': logFile,
  });
  const confFile = join(dir, 'turnserver.conf');
  writeFileSync(confFile, conf);
  const t0 = performance.now();
  const child = spawn('turnserver', ['-c', confFile], { stdio: 'ignore' });
  let exited = false;
  const gone = new Promise<void>((r) => child.once('exit', () => ((exited = true), r())));
  const cleanup = (): void => {
    releaseUdpRange(relayPorts);
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async (): Promise<void> => {
    if (!exited) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (!exited) {
        child.kill('SIGKILL');
        await gone;
      }
    }
    cleanup();
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !exited) {
    if (await stunAnswers(port, 200)) {
      return { url: `turn:127.0.0.1:${port}?transport=udp`, port, pid: child.pid!, relayPorts, startMs: Math.round(performance.now() - t0), logFile, stop };
    }
  }
  let log = '';
  try {
    log = readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    // No log written.
  }
  await stop();
  throw new Error(`coturn did not answer STUN on 127.0.0.1:${port}\n${log}`);
}
