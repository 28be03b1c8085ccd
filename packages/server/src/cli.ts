#!/usr/bin/env node
/**
 * `opencall-server`: the same settings as `startServer`, from `--config FILE`, `OPENCALL_SNAKE_CASE`
 * environment variables and `--kebab-case` flags (each overriding the one before). `--help` lists
 * them. Subcommands: `init` (a production config with fresh secrets), `backup --to FILE`.
 */
import { startServer } from './index.js';
import { cliOptions, HELP } from './config/cli.js';
import { runBackup } from './cli/backup.js';
import { runInit } from './cli/init.js';
import { serveUntilSignal } from './cli/serve.js';

const [first, ...rest] = process.argv.slice(2);
const argv = process.argv.slice(2);
const print = (line: string): void => void process.stdout.write(`${line}\n`);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
try {
  if (first === 'init') runInit(rest, print);
  else if (first === 'backup') await runBackup(rest, process.env, print);
  else serveUntilSignal(await startServer(cliOptions(argv, process.env)));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
