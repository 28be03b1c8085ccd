#!/usr/bin/env node
/**
 * `opencall-server`: the same settings as `startServer`, as `--kebab-case` flags or
 * `OPENCALL_SNAKE_CASE` environment variables (flags win). `--help` lists them.
 */
import { startServer } from './index.js';
import { cliOptions, HELP } from './config/cli.js';

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(HELP);
  process.exit(0);
}
try {
  const server = await startServer(cliOptions(argv, process.env));
  const line = '='.repeat(72);
  process.stderr.write(`\n${line}\n  OpenCall is running at ${server.url.replace('127.0.0.1', 'localhost')}\n`);
  if (server.config.devMode) {
    process.stderr.write(
      `  DEVELOPMENT MODE: no secret key configured. A generated key is kept in the\n` +
        `  data folder and POST /dev/usersig mints UserSigs for ANYONE. Set --secret-key\n` +
        `  (or OPENCALL_SECRET_KEY) before exposing this server.\n`,
    );
  }
  process.stderr.write(`${line}\n\n`);
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
