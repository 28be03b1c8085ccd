/**
 * Signaling load: OpenCall (own process, SQLite in a temp folder, `sfu: 'none'`) against the bare
 * relay baseline, same harness, same pairs, interleaved runs, in one invocation. Goals (issue):
 * cycle rate ≥ 0.30× the relay's at 100 pairs with zero errors, invite→onCallReceived p99 ≤ 25 ms.
 */
import { runLoad } from './lib/load.js';
import type { LoadResult } from './lib/load.js';
import { round } from './lib/proc.js';
import { startOpencall, startRelay } from './lib/servers.js';
import type { ServerProcess } from './lib/servers.js';

/** Settings shared by the load benches. */
export interface LoadSettings {
  pairs: number;
  workers: number;
  warmupMs: number;
  durationMs: number;
  /** Rounds of (relay, OpenCall); the best round of each counts (noise from other work only slows). */
  repeat: number;
  /** `taskset` CPU lists for the server and the clients, when pinning. */
  pin: { server: string; clients: string } | null;
}

/** Result of the signaling bench. */
export interface SignalingResult {
  settings: LoadSettings;
  runs: LoadResult[];
  relay: LoadResult;
  opencall: LoadResult;
  ratio: { cyclesPerSec: number; serverCpuMsPerCycle: number; serverMainCpuMsPerCycle: number; inviteP99: number };
  /** Cycle-rate ratio of each round (a relay run and the OpenCall run right after it). */
  roundRatios: number[];
  goals: { rate: boolean; errors: boolean; inviteP99: boolean };
}

/** Starts a server of `kind`, runs one window, stops it. */
export async function measure(kind: 'relay' | 'opencall', s: LoadSettings, pairs = s.pairs): Promise<LoadResult> {
  const cpus = s.pin?.server;
  const server: ServerProcess = kind === 'relay' ? await startRelay(cpus ? { cpus } : {}) : await startOpencall(cpus ? { cpus } : {});
  try {
    return await runLoad({
      server,
      pairs,
      workers: s.workers,
      warmupMs: s.warmupMs,
      durationMs: s.durationMs,
      ...(s.pin ? { cpus: s.pin.clients } : {}),
    });
  } finally {
    await server.stop();
  }
}

/** The best run of a target: most cycles per second. */
export function best(runs: LoadResult[], target: 'relay' | 'opencall', pairs?: number): LoadResult {
  const mine = runs.filter((r) => r.target === target && (pairs === undefined || r.pairs === pairs));
  if (mine.length === 0) throw new Error(`no ${target} run`);
  return mine.reduce((a, b) => (b.cyclesPerSec > a.cyclesPerSec ? b : a));
}

/** Prints one run as a line. */
export function line(r: LoadResult): string {
  const l = r.latency;
  return (
    `${r.target.padEnd(8)} pairs=${r.pairs} cycles/s=${r.cyclesPerSec} errors=${r.errors} ` +
    `invite p50/p90/p99=${l.invite.p50}/${l.invite.p90}/${l.invite.p99} ms accept p99=${l.accept.p99} hangup p99=${l.hangup.p99} ` +
    `server cpu=${r.serverCpu} (main ${r.serverMainCpu}) clients=${r.clientCpu} (${r.clientCpuMsPerCycle} ms/cycle) other=${r.otherCpu} ` +
    `cpu/cycle=${r.serverCpuMsPerCycle} ms (main ${r.serverMainCpuMsPerCycle}) rss=${r.serverRssMiB} MiB`
  );
}

/** Runs the signaling bench. */
export async function benchSignaling(s: LoadSettings, log: (m: string) => void): Promise<SignalingResult> {
  const runs: LoadResult[] = [];
  for (let i = 0; i < s.repeat; i++) {
    for (const kind of ['relay', 'opencall'] as const) {
      const r = await measure(kind, s);
      log(line(r));
      runs.push(r);
    }
  }
  const relay = best(runs, 'relay');
  const opencall = best(runs, 'opencall');
  const ratio = {
    cyclesPerSec: round(opencall.cyclesPerSec / relay.cyclesPerSec, 3),
    serverCpuMsPerCycle: round(opencall.serverCpuMsPerCycle / relay.serverCpuMsPerCycle, 2),
    serverMainCpuMsPerCycle: round(opencall.serverMainCpuMsPerCycle / relay.serverMainCpuMsPerCycle, 2),
    inviteP99: round(opencall.latency.invite.p99 / relay.latency.invite.p99, 2),
  };
  const roundRatios: number[] = [];
  for (let i = 0; i + 1 < runs.length; i += 2) roundRatios.push(round(runs[i + 1]!.cyclesPerSec / runs[i]!.cyclesPerSec, 3));
  const goals = { rate: ratio.cyclesPerSec >= 0.3, errors: opencall.errors === 0, inviteP99: opencall.latency.invite.p99 <= 25 };
  return { settings: s, runs, relay, opencall, ratio, roundRatios, goals };
}
