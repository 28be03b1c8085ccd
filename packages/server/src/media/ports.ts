/** Port and program helpers for the processes the media layer starts (Janus; coturn in tests). */
import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

const RTP_MIN = 20000;
const RTP_MAX = 59000;
/** RTP ranges handed out in this process, so two instances in one process never overlap. */
const reservedRanges = new Set<number>();

/** Absolute path of `name` if it is an executable file on PATH (or `name` is such a path), else null. */
export function findOnPath(name: string): string | null {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // Not here: keep looking.
    }
  }
  return null;
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when UDP `port` can be bound on 127.0.0.1 right now. */
export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Picks `count` consecutive UDP ports at a random base in 20000–59000, not overlapping any range
 * reserved in this process, and verifies every one binds on 127.0.0.1 (another Janus, coturn or a
 * test may hold some). Randomness keeps separate test processes apart.
 */
export async function reserveUdpRange(count: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const min = randomInt(RTP_MIN, RTP_MAX - count);
    const max = min + count - 1;
    const overlaps = [...reservedRanges].some((r) => min <= r + count * 2 && r <= max);
    if (overlaps) continue;
    const ports = Array.from({ length: count }, (_, i) => min + i);
    const ok = await Promise.all(ports.map(udpPortFree));
    if (ok.every(Boolean)) {
      reservedRanges.add(min);
      return { min, max };
    }
  }
  throw new Error(`no free range of ${count} UDP ports found`);
}

/** Gives back a range from {@link reserveUdpRange}. */
export function releaseUdpRange(range: { min: number } | null): void {
  if (range) reservedRanges.delete(range.min);
}
