import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { requireProgram } from '../../../../test/helpers/janus.js';
import { JANUS_DIR_PREFIX, reapStaleJanus } from './janusOrphans.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Waits up to `ms` for `pid` to be gone; true when it is. */
async function gone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (alive(pid) && Date.now() < until) await sleep(50);
  return !alive(pid);
}
/** A PID that ran and exited (a dead owner). */
function deadPid(): number {
  const r = spawnSync('true');
  assert.ok(r.pid && !alive(r.pid));
  return r.pid;
}
/** A stand-in process whose command line names `<dir>/janus.jcfg` the way Janus's does. */
function fakeJanus(dir: string): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', '--', '-C', join(dir, 'janus.jcfg')], { stdio: 'ignore' });
}

test('reapStaleJanus kills the Janus of a dead server and removes its folder, and leaves live owners alone', async () => {
  const temp = mkdtempSync(join(tmpdir(), 'reap-test-'));
  const staleDir = join(temp, `${JANUS_DIR_PREFIX}stale`);
  const liveDir = join(temp, `${JANUS_DIR_PREFIX}live`);
  const oldDir = join(temp, `${JANUS_DIR_PREFIX}noowner`);
  for (const d of [staleDir, liveDir, oldDir]) mkdirSync(d);
  writeFileSync(join(staleDir, 'owner.pid'), String(deadPid()));
  writeFileSync(join(liveDir, 'owner.pid'), String(process.pid));
  const stale = fakeJanus(staleDir);
  const live = fakeJanus(liveDir);
  try {
    await sleep(300);
    const killed = reapStaleJanus(temp);
    assert.deepEqual(killed, [stale.pid]);
    assert.ok(await gone(stale.pid!, 3000), 'the orphan is killed');
    assert.equal(existsSync(staleDir), false, 'its folder is removed');
    assert.ok(alive(live.pid!), 'a Janus whose server runs is left alone');
    assert.ok(existsSync(liveDir) && existsSync(oldDir));
  } finally {
    live.kill('SIGKILL');
    stale.kill('SIGKILL');
    rmSync(temp, { recursive: true, force: true });
  }
});

const skip = requireProgram('janus') ? false : 'janus not installed';
const janusModule = fileURLToPath(new URL('./JanusProcess.ts', import.meta.url));

test('a Janus started by a server that is SIGKILLed dies with it', { skip, timeout: 120_000 }, async () => {
  const script = `
    const { JanusProcess } = await import(${JSON.stringify(janusModule)});
    const j = new JanusProcess({ restart: false, rtpPortCount: 20, debugLevel: 2, startTimeoutMs: 60000 });
    const ep = await j.start();
    process.stdout.write('JANUS ' + ep.pid + '\\n');
    setInterval(() => {}, 1e6);`;
  const server = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let janusPid = 0;
  try {
    janusPid = await new Promise<number>((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /JANUS (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.once('exit', (code) => reject(new Error(`server exited (${code}) before Janus was up`)));
    });
    assert.ok(alive(janusPid));
    server.kill('SIGKILL');
    assert.ok(await gone(janusPid, 5000), `janus ${janusPid} outlived its SIGKILLed server`);
  } finally {
    server.kill('SIGKILL');
    if (janusPid && alive(janusPid)) process.kill(janusPid, 'SIGKILL');
  }
});
