#!/usr/bin/env node
// Runs every test file with node's test runner (TypeScript through tsx, packages resolved to
// their sources via the "source" export condition). Usage: npm test [-- <filter substring>...]
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'apps', 'test', 'chaos'];
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) {
  try {
    walk(join(root, r));
  } catch {
    // A missing folder has no tests.
  }
}
const filters = process.argv.slice(2);
const chosen = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
if (process.env.TEST_LIST) console.log(chosen.join('\n'));
// CI runs one file at a time: the browser, media and cluster suites each start several processes
// (Chromium, Janus, three nodes) and, two at a time on two cores, starve each other's timing.
const concurrency = process.env.TEST_CONCURRENCY ?? (process.env.CI === 'true' ? 1 : 2);
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--conditions=source', '--test', '--test-timeout=180000', `--test-concurrency=${concurrency}`, ...chosen],
  // A watchdog instead of --test-force-exit (which can cut a file's report short): a run that
  // hangs fails loudly here rather than running into CI's own time limit.
  { cwd: root, stdio: 'inherit', timeout: 30 * 60 * 1000, killSignal: 'SIGKILL' },
);
if (r.error || r.signal) {
  console.error(`test run aborted: ${r.error?.message ?? `killed by ${r.signal}`} (limit 30 min)`);
  process.exit(1);
}
process.exit(r.status ?? 1);
