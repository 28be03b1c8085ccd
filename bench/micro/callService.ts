/**
 * In-process micro-benchmark of the call path without sockets: CallService + a storage running
 * start → accept → hangup for many 1-to-1 calls, so storage and machine costs can be measured and
 * profiled apart from the network. Not part of `npm test`.
 *
 *   node --import tsx --conditions=source bench/micro/callService.ts [calls=5000] [storage] [pairs=1]
 *
 * `pairs`: how many call loops run at once (each on its own two users); with more than one, the
 * commands of one event-loop turn share a group commit, as under real load.
 * `storage`: a SQLite file in a temp folder (default), `:memory:`, `postgres` (a fresh database on
 * the test server, dropped after: see test/helpers/pg.ts), or any `openStorage` spec.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { CallMediaType } from '@opencall/protocol/wire';
import { CallService } from '../../packages/server/src/call/CallService.js';
import { openStorage } from '../../packages/server/src/storage/index.js';
import { createTestDatabase } from '../../test/helpers/pg.js';
import { cpuSeconds } from '../lib/proc.js';
import { postgresBackends } from '../lib/procGroups.js';

const calls = Number(process.argv[2] ?? 5000);
const spec = process.argv[3] ?? 'sqlite';
const pairs = Number(process.argv[4] ?? 1);
const dir = mkdtempSync(join(tmpdir(), 'opencall-micro-'));
const pg = spec === 'postgres' ? await createTestDatabase() : null;
const storage = await openStorage(pg ? pg.url : spec === 'sqlite' ? join(dir, 'db.sqlite') : spec);
let delivered = 0;
const service = new CallService({
  storage,
  presence: { ringDevices: (u) => [`${u}-dev`] },
  deliver: () => void delivered++,
  ringTimeoutMs: 30_000,
  maxParticipants: 9,
  log: pino({ level: 'silent' }),
  // As the server runs without a webhook URL (the load benches configure none).
  webhooks: false,
  // As a cluster node runs (commands queued per call); a staging storage (SQLite) ignores it.
  keyedCommands: true,
});

/** CPU seconds of the PostgreSQL backends serving the bench database, by pid (empty off PostgreSQL). */
function backendCpu(): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pg ? postgresBackends(pg.name) : []) {
    try {
      out.set(pid, cpuSeconds(pid));
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}
/** Statements (each its own transaction outside explicit ones) and rows written in the bench database so far. */
async function dbStats(): Promise<{ xacts: number; rows: number } | null> {
  if (!pg) return null;
  const { default: postgres } = await import('postgres');
  const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
  try {
    // The statistics collector reports with a delay; force this backend's view to be fresh.
    const [r] = await sql<{ xacts: string; rows: string }[]>`SELECT xact_commit + xact_rollback AS xacts,
      tup_inserted + tup_updated + tup_deleted AS rows FROM pg_stat_database WHERE datname = current_database()`;
    return { xacts: Number(r!.xacts), rows: Number(r!.rows) };
  } finally {
    await sql.end({ timeout: 1 });
  }
}
const db0 = await dbStats();
const pgCpu0 = backendCpu();

/** Bytes and calls of write(2)-family syscalls of this process so far (all threads). */
function io(): { wchar: number; syscw: number } {
  const text = readFileSync('/proc/self/io', 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { wchar: field('wchar'), syscw: field('syscw') };
}
const io0 = io();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
async function loop(p: number): Promise<void> {
  for (let i = p; i < calls; i += pairs) {
    const a = `u${i % 200}a`;
    const b = `u${i % 200}b`;
    const callId = await service.exclusive(
      () => service.startCall({ userId: a, deviceId: `${a}-dev`, callees: [b], mediaType: CallMediaType.audio, params: {}, callerProfile: null }),
      // Keyed by the caller, as the server's call.start handler runs it.
      { defer: true, key: `user:${a}` },
    );
    await service.run(callId, { type: 'accept', userId: b, deviceId: `${b}-dev` });
    await service.run(callId, { type: 'hangup', userId: a, deviceId: `${a}-dev` });
  }
}
// Pair p uses users u{p}a/u{p}b (i ≡ p mod pairs, and pairs ≤ 200 divides the user space evenly
// enough that no two loops share a user at the same time when pairs divides 200).
await Promise.all(Array.from({ length: pairs }, (_, p) => loop(p)));
const secs = (performance.now() - t0) / 1000;
const io1 = io();
const cpu = process.cpuUsage(cpu0);
let pgCpu = 0;
for (const [pid, s1] of backendCpu()) pgCpu += s1 - (pgCpu0.get(pid) ?? 0);
const perCycle = (us: number): string => (us / 1000 / calls).toFixed(3);
process.stdout.write(
  `${storage.kind}: ${calls} cycles in ${secs.toFixed(2)} s: ${(calls / secs).toFixed(0)} cycles/s, wall ${((secs * 1000) / calls).toFixed(3)} ms/cycle, ` +
    `CPU ${perCycle(cpu.user + cpu.system)} ms/cycle (system ${perCycle(cpu.system)}; all threads), ` +
    `writes ${((io1.wchar - io0.wchar) / 1024 / calls).toFixed(1)} KiB and ${((io1.syscw - io0.syscw) / calls).toFixed(1)} write calls per cycle ` +
    `(WAL + checkpoint), ${delivered} events\n`,
);
service.close();
await storage.close();
// Read after the pool closed: an idle backend reports its statistics only every few seconds, an exiting one at once.
const db1 = await dbStats();
if (db0 && db1) {
  process.stdout.write(
    `postgres: backends CPU ${((pgCpu * 1000) / calls).toFixed(3)} ms/cycle, ` +
      `${((db1.xacts - db0.xacts - 1) / calls).toFixed(2)} transactions (≈ statements) and ${((db1.rows - db0.rows) / calls).toFixed(1)} rows written per cycle\n`,
  );
}
await pg?.drop();
if (process.env.KEEP_DB) process.stdout.write(`kept ${dir}\n`);
else rmSync(dir, { recursive: true, force: true });
