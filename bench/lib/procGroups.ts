/**
 * CPU of groups of processes over a window, for a cluster: every process of a group is found in
 * /proc (nginx's master and workers, the PostgreSQL backends serving one database, redis-server),
 * and a process that starts or exits during the window counts for the part it was seen.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds } from './proc.js';

/** pid, parent pid, command name and command line of every process (those readable now). */
export function processes(): { pid: number; ppid: number; comm: string; cmdline: string }[] {
  const out: { pid: number; ppid: number; comm: string; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      out.push({ pid: Number(name), ppid, comm, cmdline });
    } catch {
      // Exited while we looked.
    }
  }
  return out;
}

/** A process and its children (nginx master + workers). */
export function withChildren(pid: number): number[] {
  return [pid, ...processes().filter((p) => p.ppid === pid).map((p) => p.pid)];
}

/**
 * A backend's title: `postgres: [<cluster>: ]<user> <db> <host>(<port>) <activity>` (Debian adds
 * the `15/main:` cluster name); null for PostgreSQL's own processes.
 */
function backendOf(cmdline: string): { user: string; db: string } | null {
  const m = /^postgres: (?:\S+: )?(\S+) (\S+) (?:[\d.:a-f]+\(\d+\)|\[local\])/.exec(cmdline);
  return m ? { user: m[1]!, db: m[2]! } : null;
}

/** PostgreSQL backends connected to database `db`. */
export function postgresBackends(db: string): number[] {
  return processes().filter((p) => backendOf(p.cmdline)?.db === db).map((p) => p.pid);
}

/** PostgreSQL's own processes (checkpointer, WAL writer, …): shared by every database on the server. */
export function postgresBackground(): number[] {
  return processes()
    .filter((p) => (p.comm === 'postgres' || p.cmdline.startsWith('postgres: ')) && !backendOf(p.cmdline))
    .map((p) => p.pid);
}

/** redis-server processes. */
export function redisServers(): number[] {
  return processes().filter((p) => p.comm === 'redis-server').map((p) => p.pid);
}

const safeCpu = (pid: number): number | null => {
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
};

/** CPU seconds of named groups between `begin()` and `end()`; groups are re-listed at both ends. */
export class GroupCpu {
  readonly #groups: Record<string, () => number[]>;
  #start = new Map<string, Map<number, number>>();
  #at = 0;
  /** Cores used per group over the last window. */
  cores: Record<string, number> = {};

  constructor(groups: Record<string, () => number[]>) {
    this.#groups = groups;
  }

  /** Marks the start. */
  begin(): void {
    this.#at = performance.now();
    for (const [name, list] of Object.entries(this.#groups)) {
      const m = new Map<number, number>();
      for (const pid of list()) {
        const c = safeCpu(pid);
        if (c !== null) m.set(pid, c);
      }
      this.#start.set(name, m);
    }
  }

  /** Marks the end and fills {@link cores}. */
  end(): void {
    const seconds = (performance.now() - this.#at) / 1000;
    for (const [name, list] of Object.entries(this.#groups)) {
      const start = this.#start.get(name) ?? new Map<number, number>();
      let used = 0;
      // A process gone by the end is not counted for the window (its last share is lost: backends
      // of a pool rarely exit under load); one that appeared counts from zero (its whole life).
      for (const pid of new Set([...list(), ...start.keys()])) {
        const c = safeCpu(pid);
        if (c !== null) used += c - (start.get(pid) ?? 0);
      }
      this.cores[name] = Math.round((used / seconds) * 1000) / 1000;
    }
  }
}
