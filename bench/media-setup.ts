/**
 * Media benchmark: how long after `accept()` the first remote audio and video frames arrive, over
 * N calls peer-to-peer (1-to-1) and through Janus (a 2-person group call), and what Janus costs in
 * CPU and memory with 3 and 9 participants sending audio + 160x120 video. Real server, real Janus,
 * real @roamhq/wrtc engines (all clients in this process), everything on 127.0.0.1.
 *
 *   node --import tsx --conditions=source bench/media-setup.ts [--calls 20] [--seconds 10] [--no-write]
 *
 * Writes the "Media" section of BENCHMARKS.md (between `<!-- bench:media -->` markers) and
 * bench/results/media.json.
 */
import { CallEngine, CallMediaType } from '@opencall/client';
import type { CallEngineOptions } from '@opencall/client';
import { createNodeMedia, keepLoopbackCandidates } from '@opencall/client/node';
import type { NodeMedia } from '@opencall/client/node';
import { startServer } from '@opencall/server';
import type { RunningServer } from '@opencall/server';
import { requireProgram, startJanus } from '../test/helpers/janus.js';
import type { TestJanus } from '../test/helpers/janus.js';
import { TEST_APP_ID, TEST_SECRET, sig } from '../test/helpers/server.js';
import { CpuWindow, machineInfo, round, rssBytes } from './lib/proc.js';
import { saveJson, writeSection } from './report.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const CALLS = flag('calls', 20);
const SECONDS = flag('seconds', 10);
const WRITE = !args.includes('--no-write');

interface Bot {
  id: string;
  engine: CallEngine;
  media: NodeMedia;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quiet: CallEngineOptions['logger'] = { warn: () => undefined, error: (m, f) => console.error(m, f) };

async function bot(server: RunningServer, id: string): Promise<Bot> {
  const media = createNodeMedia({ rewriteCandidate: keepLoopbackCandidates, video: { width: 160, height: 120, fps: 15 } });
  const engine = new CallEngine({ serverUrl: server.url, sdkAppId: TEST_APP_ID, media, logger: quiet });
  await engine.init(id, sig(id));
  return { id, engine, media };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Percentile (nearest rank) of a sample. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
}

interface SetupResult {
  calls: number;
  audio: number[];
  video: number[];
  /** Until both directions had both kinds. */
  both: number[];
}

/** `calls` times: a calls b, b accepts; time from accept() to the first frames each way. */
async function setupTimes(a: Bot, b: Bot, calls: number, params?: { chatGroupId: string }): Promise<SetupResult> {
  const r: SetupResult = { calls, audio: [], video: [], both: [] };
  for (let i = 0; i < calls; i++) {
    await a.engine.calls([b.id], CallMediaType.video, params);
    await until(() => b.engine.currentCall !== null, 5000, 'ringing');
    const base = { ab: b.media.receivedFrames(a.id), ba: a.media.receivedFrames(b.id) };
    const first = { ab: { audio: 0, video: 0 }, ba: { audio: 0, video: 0 } };
    const t0 = performance.now();
    const accepted = b.engine.accept();
    await until(() => {
      const t = performance.now() - t0;
      const now = { ab: b.media.receivedFrames(a.id), ba: a.media.receivedFrames(b.id) };
      for (const dir of ['ab', 'ba'] as const) {
        for (const kind of ['audio', 'video'] as const) if (!first[dir][kind] && now[dir][kind] > base[dir][kind]) first[dir][kind] = t;
      }
      return first.ab.audio > 0 && first.ab.video > 0 && first.ba.audio > 0 && first.ba.video > 0;
    }, 15_000, 'first frames');
    await accepted;
    r.audio.push(first.ab.audio, first.ba.audio);
    r.video.push(first.ab.video, first.ba.video);
    r.both.push(Math.max(first.ab.audio, first.ab.video, first.ba.audio, first.ba.video));
    await a.engine.hangup();
    await until(() => b.engine.currentCall === null && a.engine.currentCall === null, 5000, 'call end');
    await sleep(150); // let the last concealment frames drain before the next baseline
  }
  return r;
}

interface LoadPoint {
  participants: number;
  janusCores: number;
  janusRssMiB: number;
  harnessCores: number;
  otherCores: number;
}

/** A group call of `k` through Janus held for `seconds`: Janus CPU and RSS in that window. */
async function janusLoad(server: RunningServer, janus: TestJanus, k: number, seconds: number): Promise<LoadPoint> {
  const bots: Bot[] = [];
  for (let i = 0; i < k; i++) bots.push(await bot(server, `load${k}_${i}`));
  try {
    await bots[0]!.engine.calls(bots.slice(1).map((b) => b.id), CallMediaType.video, { chatGroupId: `load-${k}` });
    for (const b of bots.slice(1)) {
      await until(() => b.engine.currentCall !== null, 5000, 'ringing');
      await b.engine.accept();
    }
    await until(() => bots.every((u) => bots.every((o) => o === u || (u.media.receivedFrames(o.id).video > 5 && u.media.receivedFrames(o.id).audio > 20))), 30_000, 'frames everywhere');
    await sleep(1000);
    const w = new CpuWindow({ janus: janus.pid, harness: process.pid });
    w.begin();
    await sleep(seconds * 1000);
    const cpu = w.end();
    return { participants: k, janusCores: cpu.cores.janus ?? 0, janusRssMiB: round(rssBytes(janus.pid) / 2 ** 20, 1), harnessCores: cpu.cores.harness ?? 0, otherCores: cpu.otherCores };
  } finally {
    await Promise.all(bots.map((b) => b.engine.unInit()));
  }
}

const row = (name: string, r: SetupResult): string =>
  `| ${name} | ${r.calls} | ${pct(r.audio, 50).toFixed(0)} / ${pct(r.audio, 99).toFixed(0)} | ${pct(r.video, 50).toFixed(0)} / ${pct(r.video, 99).toFixed(0)} | ${pct(r.both, 50).toFixed(0)} / ${pct(r.both, 99).toFixed(0)} |`;

async function main(): Promise<void> {
  requireProgram('janus');
  const machine = machineInfo();
  const janus = await startJanus({ requireAdminKey: false, rtpPortCount: 200, debugLevel: 2 });
  const server = await startServer({ port: 0, secretKey: TEST_SECRET, sdkAppId: TEST_APP_ID, sfu: { janusUrl: janus.url }, logLevel: 'silent', webApp: false, maxParticipants: 9 });
  try {
    const [a, b] = [await bot(server, 'bench_a'), await bot(server, 'bench_b')];
    console.log(`peer-to-peer: ${CALLS} calls…`);
    const p2p = await setupTimes(a, b, CALLS);
    console.log(row('p2p', p2p));
    console.log(`through Janus: ${CALLS} calls…`);
    const sfu = await setupTimes(a, b, CALLS, { chatGroupId: 'bench-group' });
    console.log(row('janus', sfu));
    await Promise.all([a.engine.unInit(), b.engine.unInit()]);
    const idleRss = round(rssBytes(janus.pid) / 2 ** 20, 1);
    const loads: LoadPoint[] = [];
    for (const k of [3, 9]) {
      console.log(`Janus load with ${k} participants, ${SECONDS} s…`);
      loads.push(await janusLoad(server, janus, k, SECONDS));
      console.log(loads.at(-1));
    }
    const result = { machine, calls: CALLS, seconds: SECONDS, p2p, sfu, janusIdleRssMiB: idleRss, loads };
    const md = [
      `Command: \`node --import tsx --conditions=source bench/media-setup.ts --calls ${CALLS} --seconds ${SECONDS}\` — ${machine.date.slice(0, 16).replace('T', ' ')} UTC — ${machine.nproc} cores (${machine.cpuModel}), Node ${machine.node}, load average ${machine.loadAvg1} at start (shared machine). Every client is a real \`@roamhq/wrtc\` engine in the bench process (audio tone + 160x120 @ 15 fps test pattern), server and Janus 1.1.2 on 127.0.0.1.`,
      '',
      '**Call setup**: time from `accept()` on the callee to the first remote frame that really arrived (counted by the receiving sink), each direction one sample; "both ways" = until audio and video flowed in both directions.',
      '',
      '| path | calls | first audio p50 / p99 ms | first video p50 / p99 ms | both ways, both kinds p50 / p99 ms |',
      '|---|---|---|---|---|',
      row('peer-to-peer (1-to-1)', p2p),
      row('through Janus (2-person group call)', sfu),
      '',
      `**Janus cost**: a group call held for ${SECONDS} s after every participant received every other one's audio and video (CPU in cores: 1.0 = one core busy). Idle Janus RSS: ${idleRss} MiB.`,
      '',
      '| participants | Janus CPU, cores | Janus RSS MiB | bench clients CPU, cores | others\' CPU, cores |',
      '|---|---|---|---|---|',
      ...loads.map((l) => `| ${l.participants} | ${l.janusCores} | ${l.janusRssMiB} | ${l.harnessCores} | ${l.otherCores} |`),
      '',
      `Janus forwards without transcoding: with 9 participants (9 publishers, 72 forwarded streams of each kind) it used ${loads.at(-1)?.janusCores ?? '—'} cores while the 9 clients in the bench process (9 encoders, 72 decoders) used ${loads.at(-1)?.harnessCores ?? '—'}.`,
    ].join('\n');
    if (WRITE) {
      saveJson('media', result);
      writeSection('media', 'Media', md);
      console.log('wrote BENCHMARKS.md (## Media) and bench/results/media.json');
    } else {
      console.log(md);
    }
  } finally {
    await server.close();
    await janus.stop();
  }
}

await main();
