/**
 * Janus must not outlive the server that started it: a SIGKILLed server runs no exit hook, and an
 * orphaned Janus keeps its ports and rooms. Two guards: Janus is started under
 * `setpriv --pdeathsig KILL` so the kernel kills it when its parent dies, and at start-up every
 * Janus left by a dead server (its config folder names an owner PID that no longer runs) is killed
 * and its folder removed.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from './ports.js';
import { silentLogger } from './types.js';
import type { MediaLogger } from './types.js';

/** Prefix of every Janus config folder (in the OS temp folder). */
export const JANUS_DIR_PREFIX = 'opencall-janus-';
/** File in the config folder holding the PID of the server that owns it. */
const OWNER_FILE = 'owner.pid';

/** Records this process as the owner of a Janus config folder. */
export function writeOwner(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
}

/**
 * The command prefix that makes a child die with its parent: `setpriv --pdeathsig KILL --` when
 * util-linux's setpriv is installed (it sets the signal, then execs, so the PID stays Janus's);
 * empty elsewhere, where only the start-up reaping protects.
 */
export function dieWithParentPrefix(): string[] {
  const setpriv = process.platform === 'linux' ? findOnPath('setpriv') : null;
  return setpriv ? [setpriv, '--pdeathsig', 'KILL', '--'] : [];
}

/** True while `pid` runs (EPERM: it runs, as someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** PIDs whose command line uses `<dir>/janus.jcfg` as its config (Linux /proc). */
function processesUsing(dir: string): number[] {
  const cfg = join(dir, 'janus.jcfg');
  const out: number[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return out;
  }
  for (const p of pids) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv.some((a, i) => a === cfg && argv[i - 1] === '-C')) out.push(Number(p));
    } catch {
      // The process ended meanwhile, or is not ours to read.
    }
  }
  return out;
}

/**
 * Kills every Janus whose owning server is gone and removes its config folder; folders of live
 * owners and folders without an owner file (started by an older version) are left alone.
 * Returns the PIDs killed.
 */
export function reapStaleJanus(tempDir = tmpdir(), log: MediaLogger = silentLogger): number[] {
  const killed: number[] = [];
  let names: string[];
  try {
    names = readdirSync(tempDir).filter((n) => n.startsWith(JANUS_DIR_PREFIX));
  } catch {
    return killed;
  }
  for (const name of names) {
    const dir = join(tempDir, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue;
    }
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    for (const pid of processesUsing(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(pid);
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  if (killed.length > 0) log.warn({ pids: killed }, 'killed Janus processes left by a server that died');
  return killed;
}
