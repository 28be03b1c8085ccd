/**
 * Benchmark entry point (never part of `npm test`):
 *
 *   node --import tsx --conditions=source bench/run.ts <signaling|scale|idle|profile|all> [flags]
 *
 * through `npm run bench` (all), `bench:signaling`, `bench:scale`, `bench:idle`, `bench:profile`.
 * Flags: --storage SPEC (profile: ':memory:', 'sqlite::memory:'; default a SQLite file) --pairs N (signaling, profile; 100) --steps 10,100,500,1000 (scale) --users 1000,2500,5000,10000
 * (idle) --seconds S (measured, 10) --warmup S (2) --workers N (client processes, 2) --repeat N
 * (rounds, 2) --pin (taskset: server on CPU 0, clients on CPU 1) --no-write (print only)
 * --clients (profile: the client workers' event loops instead of the server's).
 * Every server listens on 127.0.0.1; every run is bounded in time and stops by itself.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './lib/load.js';
import { machineInfo } from './lib/proc.js';
import { summarizeProfile } from './lib/profile.js';
import { startOpencall } from './lib/servers.js';
import { idleMarkdown, loadJson, saveJson, scaleMarkdown, signalingMarkdown, writeScaleSvg, writeSection } from './report.js';
import type { IdleResult, RunContext, ScaleResult } from './report.js';
import { benchIdle, benchScale } from './scale.js';
import { benchSignaling, line } from './signaling.js';
import type { LoadSettings } from './signaling.js';

const [what = 'all', ...rest] = process.argv.slice(2);
const flags = new Map<string, string>();
for (let i = 0; i < rest.length; i++) {
  const f = rest[i]!;
  if (!f.startsWith('--')) throw new Error(`unexpected argument ${f}`);
  const next = rest[i + 1];
  if (next !== undefined && !next.startsWith('--')) {
    flags.set(f.slice(2), next);
    i++;
  } else flags.set(f.slice(2), 'true');
}
const num = (k: string, d: number): number => {
  const v = flags.get(k);
  if (v === undefined) return d;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k} needs a positive number`);
  return n;
};
const list = (k: string, d: number[]): number[] => (flags.get(k)?.split(',').map(Number) ?? d);
const write = !flags.has('no-write');

const settings: LoadSettings = {
  pairs: num('pairs', 100),
  workers: num('workers', 2),
  warmupMs: num('warmup', 2) * 1000,
  durationMs: num('seconds', 10) * 1000,
  repeat: num('repeat', 2),
  pin: flags.has('pin') ? { server: '0', clients: '1' } : null,
};
const script = process.env['npm_lifecycle_event'];
const command = script
  ? `npm run ${script}${rest.length ? ` -- ${rest.join(' ')}` : ''}`
  : `node --import tsx --conditions=source bench/run.ts ${process.argv.slice(2).join(' ')}`;
const ctx: RunContext = { command, machine: machineInfo() };
const log = (m: string): void => void process.stdout.write(`${m}\n`);

log(`machine: ${JSON.stringify(ctx.machine)}`);

async function signaling(): Promise<void> {
  const r = await benchSignaling(settings, log);
  log(`ratio OpenCall/relay: cycles/s ${r.ratio.cyclesPerSec}× cpu/cycle ${r.ratio.serverCpuMsPerCycle}× — goals ${JSON.stringify(r.goals)}`);
  if (!write) return;
  saveJson('signaling', { ctx, ...r });
  writeSection('signaling', 'Signaling load: OpenCall against a bare relay', signalingMarkdown(r, ctx));
}

function plot(): string {
  return writeScaleSvg(loadJson<{ points: ScaleResult['points'] }>('scale')?.points ?? null, loadJson<IdleResult>('idle')?.points ?? null);
}

async function scale(): Promise<void> {
  const r = await benchScale(settings, list('steps', [10, 100, 500, 1000]), log);
  if (!write) return;
  saveJson('scale', { ctx, ...r });
  writeSection('scale', 'Connection scale', scaleMarkdown(r, ctx, plot()));
}

async function idle(): Promise<void> {
  const r = await benchIdle(list('users', [1000, 2500, 5000, 10000]), settings.workers, log);
  if (!write) return;
  saveJson('idle', { ctx, ...r });
  writeSection('idle', 'Idle signed-in users', idleMarkdown(r, ctx));
  plot();
}

/**
 * One OpenCall window under `--cpu-prof`; prints where the server's time went (with `--clients`,
 * where the first client worker's went: the clients share the machine's cores with the server).
 */
async function profile(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'opencall-prof-'));
  // --storage ':memory:' (the memory adapter) or 'sqlite::memory:' profiles without the file.
  const storage = flags.get('storage');
  const clients = flags.has('clients');
  const server = await startOpencall({ ...(clients ? {} : { cpuProfDir: dir }), ...(storage ? { options: { storage } } : {}) });
  const workerExecArgv = clients ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  try {
    log(line(await runLoad({ server, pairs: settings.pairs, workers: settings.workers, warmupMs: settings.warmupMs, durationMs: settings.durationMs, workerExecArgv })));
  } finally {
    await server.stop();
  }
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the event loop (tsx's loader
  // thread writes its own profile).
  const file = readdirSync(dir).sort().find((f) => /\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) throw new Error('no profile written');
  const s = summarizeProfile(join(dir, file), 30);
  log(`profile: ${join(dir, file)} (${s.busySamples} busy samples; open it in Chrome DevTools)`);
  log('self%  total%  function (by self time)');
  for (const l of s.bySelf) log(`${l.selfPct.toFixed(1).padStart(5)} ${l.totalPct.toFixed(1).padStart(6)}  ${l.name}`);
  log('self%  total%  function (by inclusive time)');
  for (const l of s.byTotal) log(`${l.selfPct.toFixed(1).padStart(5)} ${l.totalPct.toFixed(1).padStart(6)}  ${l.name}`);
}

const benches: Record<string, () => Promise<void>> = { signaling, scale, idle, profile };
const chosen = what === 'all' ? [signaling, scale, idle] : [benches[what]];
if (chosen.some((b) => b === undefined)) throw new Error(`unknown bench ${what}: signaling | scale | idle | profile | all`);
for (const b of chosen) await b!();
