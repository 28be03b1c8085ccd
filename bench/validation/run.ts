/**
 * Validation cost of the hot messages, A/B in one run (issue 14, item 4): the server's
 * `parseClientMessage` on the frames of a call cycle and the client's `parseServerMessage` on the
 * events and responses it receives, each with
 *
 *   - `zod` (classic): the schemas as they were before the move to zod/mini (bench/validation/classic),
 *   - `zod/mini`: the protocol's schemas now, plain (as browsers run them),
 *   - `zod/mini + z.compile`: the same schemas through zod's ahead-of-time compiled fast path, as
 *     Node resolves `@opencall/protocol` and `@opencall/protocol/wire` (the server's parser, and
 *     the client SDK's in Node; browsers keep the plain zod/mini one).
 *
 * Each cell is the median over rounds of ns per call, text frame in, parsed message out (JSON.parse
 * included, as in the product; the `JSON.parse` row is that part alone). Variants run interleaved,
 * in a rotating order, so drift on a shared machine hits them alike.
 *
 *   npm run bench:validation [-- --rounds 15 --ms 150]
 */
// The plain parsers as browsers get them (in Node, '@opencall/protocol/wire' resolves to the compiled ones).
import { parseClientMessage, parseServerMessage } from '../../packages/protocol/src/wire.js';
import type { ParseResult } from '@opencall/protocol/wire';
import * as compiled from '@opencall/protocol';
import * as classic from './classic/index.js';
import { CLIENT_DATA, SERVER_MESSAGES, clientFrame } from './messages.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = arg('rounds', 15);
const MS_PER_CELL = arg('ms', 150);

/** Runs `fn(input)` for about `ms`, returns ns per call. */
function time(fn: (raw: string) => unknown, input: string, ms: number): number {
  let n = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms * 1e6);
  let now = start;
  while (now < until) {
    for (let i = 0; i < 64; i++) if (fn(input)) sink++;
    n += 64;
    now = process.hrtime.bigint();
  }
  if (sink !== n) throw new Error('a hot message was refused: the bench would time the error path');
  return Number(now - start) / n;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

type Row = { side: string; message: string; raw: string; variants: [string, (raw: string) => unknown][] };
const HOT_CLIENT = ['call.start', 'call.accept', 'call.invite', 'call.hangup', 'media.signal', 'media.state', 'ping'];
const HOT_EVENTS = ['onCallReceived', 'onCallBegin', 'onCallEnd', 'onUserJoin', 'media.signal'];
const ok = (r: ParseResult): boolean => r.ok;
const rows: Row[] = [];
for (const type of HOT_CLIENT) {
  const [, data] = CLIENT_DATA.find(([t, d]) => t === type && (type !== 'media.signal' || (d.signal as { kind: string }).kind === 'candidate'))!;
  rows.push({
    side: 'server',
    message: type === 'media.signal' ? 'media.signal (ICE candidate)' : type,
    raw: clientFrame(type, data),
    variants: [
      ['zod', (r) => ok(classic.parseClientMessage(r))],
      ['zod/mini', (r) => ok(parseClientMessage(r))],
      ['zod/mini + z.compile', (r) => ok(compiled.parseClientMessage(r))],
    ],
  });
}
for (const name of HOT_EVENTS) {
  const msg = SERVER_MESSAGES.find((m) => (m.event as { name?: string } | undefined)?.name === name)!;
  rows.push({
    side: 'client',
    message: `event ${name}${name === 'media.signal' ? ' (SDP answer)' : ''}`,
    raw: JSON.stringify(msg),
    variants: [
      ['zod', classic.parseServerMessage],
      ['zod/mini', parseServerMessage],
      ['zod/mini + z.compile', compiled.parseServerMessage],
    ],
  });
}
rows.push({
  side: 'client',
  message: 'response (ok)',
  raw: JSON.stringify(SERVER_MESSAGES.find((m) => m.type === 'response' && m.ok === true)),
  variants: [
    ['zod', classic.parseServerMessage],
    ['zod/mini', parseServerMessage],
    ['zod/mini + z.compile', compiled.parseServerMessage],
  ],
});

// Warm-up: every variant on every message until the JIT has settled.
for (const row of rows) for (const [, fn] of row.variants) time(fn, row.raw, 200);

const results = rows.map(() => new Map<string, number[]>());
const jsonOnly = rows.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  rows.forEach((row, i) => {
    const order = row.variants.map((_, k) => row.variants[(k + round) % row.variants.length]!);
    for (const [name, fn] of order) {
      const list = results[i]!.get(name) ?? [];
      list.push(time(fn, row.raw, MS_PER_CELL));
      results[i]!.set(name, list);
    }
    jsonOnly[i]!.push(time((r) => JSON.parse(r) as unknown, row.raw, MS_PER_CELL / 2));
  });
}

const names = rows[0]!.variants.map(([n]) => n);
console.log(`Node ${process.version}, ${ROUNDS} rounds × ${MS_PER_CELL} ms per cell, median ns per parse (JSON.parse included)\n`);
console.log(`| side | message | bytes | JSON.parse | ${names.join(' | ')} | mini ÷ zod | compiled ÷ zod |`);
console.log(`|---|---|---|---|${names.map(() => '---|').join('')}---|---|`);
rows.forEach((row, i) => {
  const m = names.map((n) => median(results[i]!.get(n)!));
  const f = (x: number): string => x.toFixed(0);
  console.log(`| ${row.side} | ${row.message} | ${row.raw.length} | ${f(median(jsonOnly[i]!))} | ${m.map(f).join(' | ')} | ${(m[1]! / m[0]!).toFixed(2)}× | ${(m[2]! / m[0]!).toFixed(2)}× |`);
});
