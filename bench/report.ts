/**
 * Writes results: raw JSON under bench/results/, the scaling plot as SVG, and this bench's own
 * sections of BENCHMARKS.md between `<!-- bench:NAME -->` markers. Other sections of that file
 * (media, hand-written notes) are never touched: the file is re-read right before each write.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './lib/load.js';
import type { MachineInfo } from './lib/proc.js';
import { chartsSvg } from './lib/svg.js';
import type { IdlePoint, ScalePoint } from './scale.js';
import type { SignalingResult } from './signaling.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const BENCHMARKS = `${ROOT}BENCHMARKS.md`;

/** How a result was produced. */
export interface RunContext {
  command: string;
  machine: MachineInfo;
}

/** Saves a raw result as bench/results/NAME.json. */
export function saveJson(name: string, value: unknown): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}${name}.json`, `${JSON.stringify(value, null, 2)}\n`);
}

/** Replaces the marked section `key` of BENCHMARKS.md, or appends it under a `## title` heading. */
export function writeSection(key: string, title: string, markdown: string): void {
  const begin = `<!-- bench:${key} -->`;
  const end = `<!-- /bench:${key} -->`;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  // Re-read right before writing: another engineer owns other sections of this file.
  const text = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : '# Benchmarks\n';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  const next = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n## ${title}\n\n${block}\n`;
  writeFileSync(BENCHMARKS, next);
}

function conditions(ctx: RunContext, extra: string): string {
  const m = ctx.machine;
  return (
    `Command: \`${ctx.command}\` — ${m.date.slice(0, 16).replace('T', ' ')} UTC — ${m.nproc} cores (${m.cpuModel}), ` +
    `${m.ramGiB} GiB RAM, Node ${m.node}, load average ${m.loadAvg1} at start (shared machine). ${extra}`
  );
}

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : '—');
const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');

function loadRow(r: LoadResult): string {
  const l = r.latency;
  return (
    `| ${r.target === 'relay' ? 'bare relay' : 'OpenCall'} | ${r.pairs} | ${r.cyclesPerSec} | ${r.errors} | ` +
    `${ms(l.invite.p50)} / ${ms(l.invite.p90)} / ${ms(l.invite.p99)} | ${ms(l.accept.p50)} / ${ms(l.accept.p90)} / ${ms(l.accept.p99)} | ` +
    `${ms(l.hangup.p50)} / ${ms(l.hangup.p90)} / ${ms(l.hangup.p99)} | ${r.serverCpu} (${r.serverMainCpu}) | ` +
    `${r.serverCpuMsPerCycle} (${r.serverMainCpuMsPerCycle}) | ${r.clientCpu} | ${r.otherCpu} | ${r.serverRssMiB} |`
  );
}

const LOAD_HEADER =
  '| server | pairs | cycles/s | errors | invite→onCallReceived p50/p90/p99 ms | accept→onCallBegin p50/p90/p99 ms | hangup→onCallEnd p50/p90/p99 ms | server CPU, cores (main thread) | server CPU ms/cycle (main thread) | clients CPU, cores | others\' CPU (cores) | server RSS MiB |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|';

/** The signaling section. */
export function signalingMarkdown(r: SignalingResult, ctx: RunContext): string {
  const s = r.settings;
  const how =
    `${s.pairs} pairs, ${s.workers} client worker processes, ${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s measured, ` +
    `best of ${s.repeat} interleaved rounds per server${s.pin ? `, server pinned to CPU ${s.pin.server} and clients to CPU ${s.pin.clients}` : ', no CPU pinning'}.`;
  return [
    conditions(ctx, how),
    '',
    LOAD_HEADER,
    loadRow(r.relay),
    loadRow(r.opencall),
    '',
    `**Ratios (OpenCall ÷ relay, same run):** cycle rate **${r.ratio.cyclesPerSec}×**, server CPU per cycle ${r.ratio.serverCpuMsPerCycle}× ` +
      `(main thread ${r.ratio.serverMainCpuMsPerCycle}×), invite p99 ${r.ratio.inviteP99}×. ` +
      `Cycle-rate ratio per round (each relay run and the OpenCall run right after it): ${r.roundRatios.map((x) => `${x}×`).join(', ')}.`,
    '',
    `Goals: cycle rate ≥ 0.30× relay at 100 pairs — ${yes(r.goals.rate)}; zero errors — ${yes(r.goals.errors)}; invite→onCallReceived p99 ≤ 25 ms — ${yes(r.goals.inviteP99)}.`,
    ...(r.opencall.errorSamples.length > 0 ? ['', `Error samples: ${r.opencall.errorSamples.map((e) => `\`${e}\``).join(', ')}`] : []),
    '',
    'All runs:',
    '',
    LOAD_HEADER,
    ...r.runs.map(loadRow),
  ].join('\n');
}

/** Result of the pairs curve. */
export interface ScaleResult {
  settings: { workers: number; warmupMs: number; durationMs: number; repeat: number };
  points: ScalePoint[];
}

/** Result of the idle-users bench. */
export interface IdleResult {
  workers: number;
  points: IdlePoint[];
  baseRssMiB: number;
}

/** The scaling section (pairs curve), with the plot. */
export function scaleMarkdown(scale: ScaleResult, ctx: RunContext, svgName: string): string {
  const s = scale.settings;
  return [
    conditions(ctx, `${s.workers} client worker processes, ${s.warmupMs / 1000} s warm-up + ${s.durationMs / 1000} s measured per point, best of ${s.repeat}.`),
    '',
    '| pairs | relay cycles/s | OpenCall cycles/s | ratio | OpenCall errors | relay invite p99 ms | OpenCall invite p99 ms | OpenCall accept p99 ms | OpenCall hangup p99 ms | OpenCall server CPU, cores (main) | OpenCall CPU ms/cycle (main) | OpenCall RSS MiB | other load, cores (relay run / OpenCall run) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...scale.points.map(
      (p) =>
        `| ${p.pairs} | ${p.relay.cyclesPerSec} | ${p.opencall.cyclesPerSec} | ${p.ratio}× | ${p.opencall.errors} | ${ms(p.relay.latency.invite.p99)} | ` +
        `${ms(p.opencall.latency.invite.p99)} | ${ms(p.opencall.latency.accept.p99)} | ${ms(p.opencall.latency.hangup.p99)} | ` +
        `${p.opencall.serverCpu} (${p.opencall.serverMainCpu}) | ${p.opencall.serverCpuMsPerCycle} (${p.opencall.serverMainCpuMsPerCycle}) | ${p.opencall.serverRssMiB} | ` +
        `${p.relay.otherCpu} / ${p.opencall.otherCpu} |`,
    ),
    '',
    `![Cycles per second, invite p99 and server CPU per cycle against pairs; server RSS per idle user](bench/results/${svgName})`,
  ].join('\n');
}

/** The idle-users section. */
export function idleMarkdown(idle: IdleResult, ctx: RunContext): string {
  const last = idle.points[idle.points.length - 1];
  return [
    conditions(ctx, `${idle.workers} client worker processes; server memory read after a forced full GC; RSS with no user ${idle.baseRssMiB} MiB.`),
    '',
    '| users | server RSS MiB | RSS per user KiB | JS heap used MiB | heap per user KiB | sign-ins/s |',
    '|---|---|---|---|---|---|',
    ...idle.points.map((p) => `| ${p.users} | ${p.rssMiB} | ${p.rssPerUserKiB} | ${p.heapUsedMiB} | ${p.heapPerUserKiB} | ${p.signInsPerSec} |`),
    '',
    last ? `Goal ≤ 25 KB RSS per idle user: ${yes(last.rssPerUserKiB * 1.024 <= 25)} (${last.rssPerUserKiB} KiB = ${Math.round(last.rssPerUserKiB * 1.024 * 10) / 10} KB at ${last.users} users).` : '',
  ].join('\n');
}

/** Reads a saved result, or null. */
export function loadJson<T>(name: string): T | null {
  const p = `${RESULTS}${name}.json`;
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as T) : null;
}

/** Writes the scaling plot; returns its file name. */
export function writeScaleSvg(points: ScalePoint[] | null, idle: IdlePoint[] | null): string {
  const charts = [];
  if (points && points.length > 0) {
    charts.push({
      title: 'Call cycles per second',
      xLabel: 'pairs (log scale)',
      yLabel: 'cycles/s',
      xLog: true,
      series: [
        { name: 'bare relay', color: '#888', dashed: true, points: points.map((p): [number, number] => [p.pairs, p.relay.cyclesPerSec]) },
        { name: 'OpenCall', color: '#1f6feb', points: points.map((p): [number, number] => [p.pairs, p.opencall.cyclesPerSec]) },
      ],
    });
    charts.push({
      title: 'invite → onCallReceived p99',
      xLabel: 'pairs (log scale)',
      yLabel: 'ms',
      xLog: true,
      refs: [{ y: 25, label: 'goal 25 ms', color: '#d29922' }],
      series: [
        { name: 'bare relay', color: '#888', dashed: true, points: points.map((p): [number, number] => [p.pairs, p.relay.latency.invite.p99]) },
        { name: 'OpenCall', color: '#1f6feb', points: points.map((p): [number, number] => [p.pairs, p.opencall.latency.invite.p99]) },
      ],
    });
  }
  if (points && points.length > 0) {
    charts.push({
      title: 'Server event-loop CPU per cycle',
      xLabel: 'pairs (log scale)',
      yLabel: 'ms per cycle',
      xLog: true,
      series: [
        { name: 'bare relay', color: '#888', dashed: true, points: points.map((p): [number, number] => [p.pairs, p.relay.serverMainCpuMsPerCycle]) },
        { name: 'OpenCall', color: '#1f6feb', points: points.map((p): [number, number] => [p.pairs, p.opencall.serverMainCpuMsPerCycle]) },
      ],
    });
  }
  if (idle && idle.length > 0) {
    charts.push({
      title: 'Server RSS per idle user',
      xLabel: 'signed-in idle users',
      yLabel: 'KiB per user',
      refs: [{ y: 25 / 1.024, label: 'goal 25 KB', color: '#d29922' }],
      series: [
        { name: 'RSS', color: '#1f6feb', points: idle.map((p): [number, number] => [p.users, p.rssPerUserKiB]) },
        { name: 'JS heap', color: '#2da44e', dashed: true, points: idle.map((p): [number, number] => [p.users, p.heapPerUserKiB]) },
      ],
    });
  }
  const name = 'scale.svg';
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}${name}`, chartsSvg(charts));
  return name;
}
