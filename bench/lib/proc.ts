/**
 * Process and machine facts from /proc (Linux): CPU time and RSS of one process, whole-machine
 * CPU counters, and the machine description every result carries.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** Kernel clock ticks per second (`getconf CLK_TCK`; 100 on every Linux we run on). */
const CLK_TCK = 100;

/**
 * CPU seconds (user + system) a process has used so far, all threads; with `mainThreadOnly`, only
 * its main thread (for Node: the event loop, the part that limits throughput).
 */
export function cpuSeconds(pid: number, mainThreadOnly = false): number {
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of stat(5); utime and stime are 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size of a process, bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Busy and total CPU seconds of the whole machine since boot (all cores). */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

/** What a result was measured on. */
export interface MachineInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  node: string;
  /** 1-minute load average when the run started (other work on a shared machine). */
  loadAvg1: number;
}

/** Describes this machine now. */
export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    loadAvg1: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

/** Samples CPU of a set of processes and of the machine between two points in time. */
export class CpuWindow {
  readonly #pids: Map<string, number>;
  #start: { at: number; procs: Map<string, number>; machine: { busy: number; total: number } } | null = null;

  constructor(pids: Record<string, number>) {
    this.#pids = new Map(Object.entries(pids));
  }

  /** Marks the window's start. */
  begin(): void {
    const procs = new Map<string, number>();
    for (const [k, pid] of this.#pids) {
      procs.set(k, cpuSeconds(pid));
      procs.set(`${k}:main`, cpuSeconds(pid, true));
    }
    this.#start = { at: performance.now(), procs, machine: machineCpu() };
  }

  /**
   * Ends the window: CPU use per process in cores (1.0 = one core busy the whole window), the
   * machine's busy cores, and what the rest of the machine used (other people's work).
   */
  end(): { wallSeconds: number; cores: Record<string, number>; machineBusyCores: number; otherCores: number } {
    const s = this.#start;
    if (!s) throw new Error('CpuWindow.end() before begin()');
    const wall = (performance.now() - s.at) / 1000;
    const cores: Record<string, number> = {};
    let ours = 0;
    for (const [k, pid] of this.#pids) {
      const used = cpuSeconds(pid) - (s.procs.get(k) ?? 0);
      cores[k] = round(used / wall, 3);
      cores[`${k}:main`] = round((cpuSeconds(pid, true) - (s.procs.get(`${k}:main`) ?? 0)) / wall, 3);
      ours += used;
    }
    const m = machineCpu();
    const busy = (m.busy - s.machine.busy) / wall;
    return { wallSeconds: round(wall, 2), cores, machineBusyCores: round(busy, 2), otherCores: round(Math.max(0, busy - ours / wall), 2) };
  }
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
