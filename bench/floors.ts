/**
 * `npm run bench:floors`: where the rest of a call cycle's cost is, and how far storage work alone
 * could take the cycle rate. One interleaved run of the signaling load against:
 *
 * - the bare relay (the baseline);
 * - OpenCall on a SQLite file (the product's default, durable);
 * - OpenCall on SQLite in memory (`sqlite::memory:`: the same SQL, no file, no WAL);
 * - OpenCall on the memory adapter (`:memory:`: no SQL at all, nothing durable).
 *
 * The last one is the ceiling of any storage work on this design: it pays everything else a
 * cycle costs (sockets, frames, validation, the machine, sessions, the clients). For each run it
 * prints the cycle rate and its ratio to the relay run of the same round, the server's and the
 * clients' CPU per cycle, and the capacity model's bound: two cores give at most
 * `2 / (server ms + clients ms)` cycles per ms, and one event loop at most `1 / server main ms`.
 *
 *   node --import tsx --conditions=source bench/floors.ts [--pairs 100] [--seconds 8]
 *     [--warmup 2] [--repeat 2] [--workers 2]
 */
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { machineInfo, round } from './lib/proc.js';
import { startOpencall, startRelay } from './lib/servers.js';
import { line } from './signaling.js';

const argv = process.argv.slice(2);
const num = (name: string, d: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const settings = { pairs: num('pairs', 100), workers: num('workers', 2), warmupMs: num('warmup', 2) * 1000, durationMs: num('seconds', 8) * 1000 };
const repeat = num('repeat', 2);

/** The servers of one round, in order; `storage` undefined is the relay. */
const KINDS: { name: string; storage?: string }[] = [
  { name: 'bare relay' },
  { name: 'OpenCall, SQLite file' },
  { name: 'OpenCall, SQLite in memory', storage: 'sqlite::memory:' },
  { name: 'OpenCall, memory adapter', storage: ':memory:' },
];

async function run(kind: (typeof KINDS)[number]): Promise<LoadResult> {
  const server =
    kind.name === 'bare relay'
      ? await startRelay()
      : await startOpencall(kind.storage ? { options: { storage: kind.storage } } : {});
  try {
    return await runLoad({ server, ...settings });
  } finally {
    await server.stop();
  }
}

/** ms of CPU per cycle spent by the clients. */
const clientsMs = (r: LoadResult): number => (r.clientCpu * 1000) / r.cyclesPerSec;

process.stdout.write(`machine: ${JSON.stringify(machineInfo())}\n`);
const rows: { round: number; name: string; r: LoadResult; ratio: number | null }[] = [];
for (let i = 0; i < repeat; i++) {
  let relay: LoadResult | null = null;
  for (const kind of KINDS) {
    const r = await run(kind);
    if (kind.name === 'bare relay') relay = r;
    const ratio = relay && r !== relay ? round(r.cyclesPerSec / relay.cyclesPerSec, 3) : null;
    rows.push({ round: i + 1, name: kind.name, r, ratio });
    process.stdout.write(`round ${i + 1} ${kind.name.padEnd(28)} ${line(r)}${ratio === null ? '' : ` ratio=${ratio}×`}\n`);
  }
}

process.stdout.write(
  '\n| round | server | cycles/s | ÷ relay | invite p99 ms | server ms/cycle (main thread) | clients ms/cycle | bound: 2 cores ÷ (server + clients) | bound: 1 ÷ main thread | others\' CPU |\n' +
    '|---|---|---|---|---|---|---|---|---|---|\n',
);
for (const { round: n, name, r, ratio } of rows) {
  const c = clientsMs(r);
  const twoCores = round(2000 / (r.serverCpuMsPerCycle + c), 0);
  const loop = round(1000 / r.serverMainCpuMsPerCycle, 0);
  process.stdout.write(
    `| ${n} | ${name} | ${round(r.cyclesPerSec, 0)} | ${ratio === null ? '' : `${ratio}×`} | ${r.latency.invite.p99} | ${r.serverCpuMsPerCycle} (${r.serverMainCpuMsPerCycle}) | ${round(c, 3)} | ${twoCores} | ${loop} | ${r.otherCpu} |\n`,
  );
}
