/** Starts a loopback coturn (`turnserver`) for relay tests: own config folder, free ports, stopped by PID. */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  // allow-loopback-peers: without it a relay call on 127.0.0.1 fails silently (MEDIA-NOTES).
  // userdb in the temp dir: else coturn writes /var/lib/turn.
  const conf = [
    'listening-ip=127.0.0.1',
    'relay-ip=127.0.0.1',
    `listening-port=${port}`,
    `min-port=${relayPorts.min}`,
    `max-port=${relayPorts.max}`,
    'fingerprint',
    'use-auth-secret',
    `static-auth-secret=${secret}`,
    `realm=${realm}`,
    'no-tls',
    'no-dtls',
    'no-cli',
    'no-rfc5780',
    'no-multicast-peers',
    'allow-loopback-peers',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turn.pid')}`,
    `log-file=${logFile}`,
    'simple-log',
    'no-stdout-log',
    '',
  ].join('\n');
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
