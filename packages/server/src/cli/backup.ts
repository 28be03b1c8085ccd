/**
 * `opencall-server backup --to FILE [--config FILE | --storage PATH]` (SPEC §2): a consistent copy
 * of the SQLite database while the server keeps running, through SQLite's online backup API
 * (better-sqlite3 `db.backup`). The copy is checked (`PRAGMA integrity_check`) before it replaces
 * FILE, so a FILE that exists is always a whole, valid database. PostgreSQL: use `pg_dump`.
 */
import { chmodSync, renameSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { cliOptions } from '../config/cli.js';
import { parseSubcommandFlags } from './flags.js';

/** What a backup reports. */
export interface BackupReport {
  to: string;
  bytes: number;
  schemaVersion: number;
  calls: number;
  records: number;
  ms: number;
}

/** The SQLite file the server would open with these settings, or a clear error for the others. */
function sqliteFile(storage: string): string {
  if (storage === ':memory:' || storage === 'sqlite::memory:') throw new Error('backup: storage is in memory; there is nothing to back up');
  if (/^postgres(ql)?:\/\//.test(storage)) throw new Error('backup: storage is PostgreSQL; use pg_dump (docs/deploy.md, "Backups")');
  return resolve(storage.replace(/^sqlite:/, ''));
}

/** Copies `from` (a live SQLite database) to `to` consistently; checks the copy. */
export async function backupSqlite(from: string, to: string): Promise<BackupReport> {
  const started = Date.now();
  let src: Database.Database;
  try {
    // Not read-only: a reader of a WAL database may need to create the -shm index.
    src = new Database(from, { fileMustExist: true });
  } catch (err) {
    throw new Error(`backup: cannot open ${from}: ${(err as Error).message}`);
  }
  const tmp = `${to}.partial-${process.pid}`;
  try {
    src.pragma('busy_timeout = 5000');
    // Copy everything left in each step: a step never waits on writers (WAL), and the fewer the
    // steps, the fewer restarts when the server commits between them.
    await src.backup(tmp, { progress: ({ remainingPages }) => Math.max(100, remainingPages) });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new Error(`backup: copying ${from} failed: ${(err as Error).message}`);
  } finally {
    src.close();
  }
  const copy = new Database(tmp);
  let report: Omit<BackupReport, 'bytes' | 'ms'>;
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`backup: the copy failed PRAGMA integrity_check: ${String(check)}`);
    // The backup keeps the source's journal mode; a single self-contained file is easier to move.
    copy.pragma('journal_mode = DELETE');
    const isOpenCall = copy.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls'`).get();
    if (!isOpenCall) throw new Error(`backup: ${from} is not an OpenCall database (no calls table)`);
    const count = (table: string): number => (copy.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    report = { to, schemaVersion: Number(copy.pragma('user_version', { simple: true })), calls: count('calls'), records: count('records') };
  } catch (err) {
    copy.close();
    rmSync(tmp, { force: true });
    throw err;
  }
  copy.close();
  // It holds every user's call history.
  chmodSync(tmp, 0o600);
  renameSync(tmp, to);
  return { ...report, bytes: statSync(to).size, ms: Date.now() - started };
}

/** Runs `backup`; the storage comes from `--storage`, else from the server's own settings (`--config`, env). */
export async function runBackup(argv: string[], env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<BackupReport> {
  const { flags, rest } = parseSubcommandFlags('backup', argv, { to: 'value', storage: 'value' }, true);
  if (!flags['to']) throw new Error('backup: --to FILE is required');
  const storage = flags['storage'] ?? String(cliOptions(rest, env).storage);
  const report = await backupSqlite(sqliteFile(storage), resolve(flags['to']));
  out(JSON.stringify(report));
  return report;
}
