/**
 * Frames and bytes per call cycle on the signaling socket, both directions, as the client sees
 * them (the bench's cycle: A calls B, B accepts, A hangs up; every request, response and event).
 * Counts what the wire carries, so it is exact and independent of machine load. Not in `npm test`.
 *
 *   node --import tsx --conditions=source bench/micro/frames.ts [cycles=50]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer } from '@opencall/server';
import { CallMediaType } from '@opencall/client';
import { signedInEngine } from '../client/opencallPair.js';
import { Waiters } from '../client/waiters.js';
import { BENCH_APP_ID, BENCH_SECRET, benchServerOptions } from '../lib/servers.js';

const cycles = Number(process.argv[2] ?? 50);
const count = { up: 0, upBytes: 0, down: 0, downBytes: 0, types: new Map<string, number>() };

/** A `ws` socket that counts every frame it sends and receives. */
class CountingSocket extends WebSocket {
  constructor(url: string) {
    super(url);
    this.on('message', (data: Buffer) => {
      count.down++;
      count.downBytes += data.length;
      tally('↓', data.toString());
    });
  }
  override send(data: string, ...rest: unknown[]): void {
    count.up++;
    count.upBytes += Buffer.byteLength(data);
    tally('↑', data);
    (super.send as (d: string, ...r: unknown[]) => void)(data, ...rest);
  }
}

type Msg = { type?: string; event?: { name?: string }; m?: Msg[] };

/** Counts a frame by kind; a batch frame counts as `batch`, and each message in it as `  in batch: …`. */
function tally(dir: string, text: string): void {
  const m = JSON.parse(text) as Msg;
  const kind = (x: Msg): string => (x.type === 'event' ? `event ${x.event?.name}` : String(x.type));
  const add = (key: string): void => void count.types.set(key, (count.types.get(key) ?? 0) + 1);
  add(`${dir} ${kind(m)}`);
  for (const item of m.m ?? []) add(`${dir}   in batch: ${kind(item)}`);
}

const dir = mkdtempSync(join(tmpdir(), 'opencall-frames-'));
const server = await startServer({ ...benchServerOptions(join(dir, 'db.sqlite')), logLevel: 'warn' });
const target = { url: server.url, sdkAppId: BENCH_APP_ID, secretKey: BENCH_SECRET, WebSocket: CountingSocket };
const w = new Waiters();
const a = await signedInEngine(target, 'frames-a', { onCallBegin: () => w.fire('a:begin') });
const b = await signedInEngine(target, 'frames-b', { onCallReceived: () => w.fire('b:received'), onCallEnd: () => w.fire('b:end') });
// Only the cycles count: sign-in frames are before this point.
Object.assign(count, { up: 0, upBytes: 0, down: 0, downBytes: 0, types: new Map() });
for (let i = 0; i < cycles; i++) {
  const received = w.expect('b:received', 5000);
  const begun = w.expect('a:begin', 5000);
  await a.calls(['frames-b'], CallMediaType.audio);
  await received;
  await b.accept();
  await begun;
  const ended = w.expect('b:end', 5000);
  await a.hangup();
  await ended;
}
// Late frames of the last cycle (e.g. a response after the event that ended the wait).
await new Promise((r) => setTimeout(r, 200));
const per = (n: number) => (n / cycles).toFixed(1);
process.stdout.write(
  `per cycle (both clients): ${per(count.up)} frames up (${per(count.upBytes)} B), ${per(count.down)} frames down (${per(count.downBytes)} B); ` +
    `${per(count.up + count.down)} frames, ${per(count.upBytes + count.downBytes)} B in all\n`,
);
for (const [k, n] of [...count.types].sort()) process.stdout.write(`  ${k}: ${per(n)}\n`);
await a.unInit();
await b.unInit();
await server.close();
rmSync(dir, { recursive: true, force: true });
