/**
 * Scaling: cycles/s and p99 at growing numbers of pairs (OpenCall and the relay, interleaved),
 * and idle signed-in users up to 10,000 with the server's memory per user.
 */
import { Worker } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { round, rssBytes } from './lib/proc.js';
import { BENCH_APP_ID, BENCH_SECRET, startOpencall } from './lib/servers.js';
import { best, line, measure } from './signaling.js';
import type { LoadSettings } from './signaling.js';

/** One point of the scaling curve. */
export interface ScalePoint {
  pairs: number;
  relay: LoadResult;
  opencall: LoadResult;
  ratio: number;
}

/** Runs the pairs curve. */
export async function benchScale(s: LoadSettings, steps: number[], log: (m: string) => void): Promise<{ settings: LoadSettings; points: ScalePoint[] }> {
  const points: ScalePoint[] = [];
  for (const pairs of steps) {
    const runs: LoadResult[] = [];
    for (let i = 0; i < s.repeat; i++) {
      for (const kind of ['relay', 'opencall'] as const) {
        const r = await measure(kind, s, pairs);
        log(line(r));
        runs.push(r);
      }
    }
    const relay = best(runs, 'relay');
    const opencall = best(runs, 'opencall');
    points.push({ pairs, relay, opencall, ratio: round(opencall.cyclesPerSec / relay.cyclesPerSec, 3) });
  }
  return { settings: s, points };
}

/** Memory at one number of idle users. */
export interface IdlePoint {
  users: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** (RSS now − RSS with no user) / users, KiB. */
  rssPerUserKiB: number;
  heapPerUserKiB: number;
  /** Sign-ins per second for this step. */
  signInsPerSec: number;
}

/** Signs in idle users step by step and reads the server's memory (after a full GC) at each. */
export async function benchIdle(steps: number[], workers: number, log: (m: string) => void): Promise<{ workers: number; points: IdlePoint[]; baseRssMiB: number }> {
  const server = await startOpencall();
  const ws = Array.from({ length: workers }, () => new Worker());
  try {
    const mem = async (): Promise<{ rss: number; heap: number }> => {
      const m = await server.memory();
      // Let the GC's freed pages settle before reading RSS.
      await new Promise((r) => setTimeout(r, 300));
      return { rss: rssBytes(server.pid), heap: m?.heapUsed ?? 0 };
    };
    await new Promise((r) => setTimeout(r, 1000));
    const base = await mem();
    log(`idle: no users rss=${round(base.rss / 2 ** 20)} MiB heap=${round(base.heap / 2 ** 20)} MiB`);
    const points: IdlePoint[] = [];
    const tag = `i${Date.now().toString(36)}x`;
    let have = 0;
    for (const target of steps) {
      const add = target - have;
      const t0 = performance.now();
      await Promise.all(
        ws.map((w, k) => {
          const count = Math.floor(add / workers) + (k < add % workers ? 1 : 0);
          const from = have + Math.floor(add / workers) * k + Math.min(k, add % workers);
          return w.ask({ cmd: 'idle', url: server.url, from, count, tag, sdkAppId: BENCH_APP_ID, secretKey: BENCH_SECRET, concurrency: 100 }, 300_000);
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      have = target;
      await new Promise((r) => setTimeout(r, 1000));
      const m = await mem();
      const p: IdlePoint = {
        users: have,
        rssMiB: round(m.rss / 2 ** 20),
        heapUsedMiB: round(m.heap / 2 ** 20),
        rssPerUserKiB: round((m.rss - base.rss) / have / 1024),
        heapPerUserKiB: round((m.heap - base.heap) / have / 1024),
        signInsPerSec: round(add / secs),
      };
      log(`idle: users=${p.users} rss=${p.rssMiB} MiB (${p.rssPerUserKiB} KiB/user) heap=${p.heapUsedMiB} MiB (${p.heapPerUserKiB} KiB/user) sign-ins/s=${p.signInsPerSec}`);
      points.push(p);
    }
    return { workers, points, baseRssMiB: round(base.rss / 2 ** 20) };
  } finally {
    await Promise.all(ws.map((w) => w.close()));
    await server.stop();
  }
}
