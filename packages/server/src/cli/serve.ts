/** The CLI's running server: the start-up banner, and SIGTERM/SIGINT draining with a bounded exit. */
import type { RunningServer } from '../index.js';

/** Extra time past `shutdownTimeoutMs` for closing storage and the SFU before the process gives up. */
const EXIT_GRACE_MS = 5000;

/** Prints the banner and exits cleanly on SIGTERM/SIGINT (a second signal exits at once). */
export function serveUntilSignal(server: RunningServer): void {
  const line = '='.repeat(72);
  const shown = server.config.publicUrl ?? server.url.replace('127.0.0.1', 'localhost');
  process.stderr.write(`\n${line}\n  OpenCall is running at ${shown}\n`);
  if (server.config.publicUrl) process.stderr.write(`  (listening on ${server.url})\n`);
  if (server.config.devMode) {
    process.stderr.write(
      `  DEVELOPMENT MODE: no secret key configured. A generated key is kept in the\n` +
        `  data folder and POST /dev/usersig mints UserSigs for ANYONE. Set --secret-key\n` +
        `  (or OPENCALL_SECRET_KEY) before exposing this server.\n`,
    );
  }
  process.stderr.write(`${line}\n\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    // Bounded: whatever hangs, the process is gone by then (systemd's TimeoutStopSec is longer).
    setTimeout(() => {
      process.stderr.write('shutdown took too long: exiting\n');
      process.exit(1);
    }, server.config.shutdownTimeoutMs + EXIT_GRACE_MS).unref();
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
