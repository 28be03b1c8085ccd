/**
 * A/B of the signaling load in one run: the bare relay, OpenCall from another tree (the
 * baseline: an older commit checked out with its own node_modules), and OpenCall from this tree,
 * interleaved round by round so the machine's load hits all three alike. Prints every run and,
 * per round, each OpenCall's cycle rate as a ratio of the relay run just before it.
 *
 *   node --import tsx --conditions=source bench/ab.ts --baseline DIR [--label NAME] [--pairs 100]
 *     [--seconds 10] [--warmup 2] [--repeat 3] [--workers 2]
 *
 * Make a baseline tree with: git worktree add /tmp/ab-base <commit> && cp -a node_modules
 * /tmp/ab-base/ (the copy's workspace links are relative, so they point into the baseline tree).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { round } from './lib/proc.js';
import { startOpencall, startRelay } from './lib/servers.js';
import { line } from './signaling.js';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, d: number): number => Number(arg(name) ?? d);
const baseline = arg('baseline');
if (!baseline) throw new Error('--baseline DIR (another checkout of OpenCall) is required');
const entry = join(baseline, 'bench/fixtures/server.ts');
if (!existsSync(entry)) throw new Error(`${entry} does not exist`);
// The baseline's own clients drive the baseline server (client and protocol change together).
const baseWorker = join(baseline, 'bench/client/worker.ts');
if (!existsSync(baseWorker)) throw new Error(`${baseWorker} does not exist`);
const label = arg('label') ?? 'baseline';
const settings = { pairs: num('pairs', 100), workers: num('workers', 2), warmupMs: num('warmup', 2) * 1000, durationMs: num('seconds', 10) * 1000 };
const repeat = num('repeat', 3);

async function run(which: 'relay' | 'base' | 'head'): Promise<LoadResult> {
  const server = which === 'relay' ? await startRelay() : await startOpencall(which === 'base' ? { entry } : {});
  try {
    return await runLoad({ server, ...settings, ...(which === 'base' ? { workerEntry: baseWorker } : {}) });
  } finally {
    await server.stop();
  }
}

const rows: { round: number; which: string; r: LoadResult; ratio: number | null }[] = [];
for (let i = 0; i < repeat; i++) {
  // Alternate which OpenCall goes first, so neither always follows the relay.
  const order = i % 2 === 0 ? (['relay', 'base', 'head'] as const) : (['relay', 'head', 'base'] as const);
  let relay: LoadResult | null = null;
  for (const which of order) {
    const r = await run(which);
    if (which === 'relay') relay = r;
    const ratio = which === 'relay' || !relay ? null : round(r.cyclesPerSec / relay.cyclesPerSec, 3);
    const name = which === 'relay' ? 'relay' : which === 'base' ? label : 'this tree';
    rows.push({ round: i + 1, which: name, r, ratio });
    process.stdout.write(`round ${i + 1} ${name.padEnd(10)} ${line(r)}${ratio === null ? '' : ` ratio=${ratio}×`}\n`);
  }
}
process.stdout.write('\n| round | server | cycles/s | ÷ relay | invite p99 ms | server main-thread ms/cycle | client ms/cycle | others\' CPU |\n|---|---|---|---|---|---|---|---|\n');
for (const { round: n, which, r, ratio } of rows) {
  process.stdout.write(
    `| ${n} | ${which} | ${r.cyclesPerSec} | ${ratio === null ? '' : `${ratio}×`} | ${r.latency.invite.p99} | ${r.serverMainCpuMsPerCycle} | ${r.clientCpuMsPerCycle} | ${r.otherCpu} |\n`,
  );
}
