/**
 * A client worker process of the load generator. The driver forks several so the clients are not
 * limited to one event loop; both users of a pair live in the same worker so every latency is
 * measured on one clock. Protocol: lib/protocol.ts. Exits when told to, or when the driver dies.
 */
import type { CallEngine } from '@opencall/client';
import type { FromWorker, HopSamples, ToWorker, WorkerResult } from '../lib/protocol.js';
import { OpencallPair, engineWarnings, signedInEngine } from './opencallPair.js';
import type { Pair } from './pair.js';
import { RelayPair } from './relayPair.js';

const send = (m: FromWorker): void => void process.send?.(m);
let pairs: Pair[] = [];
const idle: CallEngine[] = [];

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Every pair cycles back to back until the window closes; cycles ending inside it are counted. */
async function run(warmupMs: number, durationMs: number, stepTimeoutMs: number): Promise<WorkerResult> {
  const start = performance.now();
  const from = start + warmupMs;
  const until = from + durationMs;
  const samples: HopSamples = { invite: [], accept: [], hangup: [] };
  const result: WorkerResult = { cycles: 0, errors: 0, errorSamples: [], samples };
  await Promise.all(
    pairs.map(async (p) => {
      while (performance.now() < until) {
        try {
          const t = await p.cycle(stepTimeoutMs);
          const done = performance.now();
          if (done < from || done > until) continue;
          result.cycles++;
          samples.invite.push(t.invite);
          samples.accept.push(t.accept);
          samples.hangup.push(t.hangup);
        } catch (err) {
          result.errors++;
          if (result.errorSamples.length < 5) result.errorSamples.push(err instanceof Error ? err.message : String(err));
          await p.recover();
        }
      }
    }),
  );
  if (engineWarnings.count > 0 && result.errorSamples.length < 5) {
    result.errorSamples.push(`${engineWarnings.count} engine warnings, last: ${engineWarnings.last}`);
  }
  return result;
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.cmd) {
    case 'setup': {
      const t0 = performance.now();
      pairs = m.pairs.map((i) => {
        const a = `${m.tag}${i}a`;
        const b = `${m.tag}${i}b`;
        return m.target === 'relay' ? new RelayPair(m.url, a, b) : new OpencallPair({ url: m.url, sdkAppId: m.sdkAppId, secretKey: m.secretKey }, a, b);
      });
      await pool(pairs, m.concurrency, (p) => p.open());
      send({ evt: 'ready', signedIn: pairs.length * 2, ms: performance.now() - t0 });
      return;
    }
    case 'idle': {
      const t0 = performance.now();
      const ids = Array.from({ length: m.count }, (_, k) => `${m.tag}${m.from + k}`);
      await pool(ids, m.concurrency, async (id) => {
        idle.push(await signedInEngine({ url: m.url, sdkAppId: m.sdkAppId, secretKey: m.secretKey }, id));
      });
      send({ evt: 'ready', signedIn: idle.length, ms: performance.now() - t0 });
      return;
    }
    case 'go':
      send({ evt: 'done', result: await run(m.warmupMs, m.durationMs, m.stepTimeoutMs) });
      return;
    case 'close':
      // The server is stopped right after; sockets simply close with the process.
      process.exit(0);
  }
}

process.on('message', (m: ToWorker) => {
  handle(m).catch((err: unknown) => send({ evt: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
});
process.on('disconnect', () => process.exit(0));
