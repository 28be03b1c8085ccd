/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and lists where the time went: self time per
 * function, and inclusive time per function (time with it anywhere on the stack), in percent of
 * all samples excluding idle.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

/** One line of the summary. */
export interface ProfileLine {
  name: string;
  selfPct: number;
  totalPct: number;
}

const root = process.cwd();

function label(n: ProfileNode): string {
  const f = n.callFrame;
  const url = f.url.replace(/^file:\/\//, '');
  const where = url ? `${url.includes('node_modules') ? url.slice(url.lastIndexOf('node_modules/') + 13) : relative(root, url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

/** Self and inclusive time by function, busiest first by self time; idle and GC kept apart. */
export function summarizeProfile(path: string, top = 25): { busySamples: number; bySelf: ProfileLine[]; byTotal: ProfileLine[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busy = 0;
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0 || n.callFrame.functionName === '(idle)') continue;
    busy += hits;
    const name = label(n);
    self.set(name, (self.get(name) ?? 0) + hits);
    // Inclusive: count each distinct function on this sample's stack once.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const l = label(byId.get(id)!);
      if (seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + hits);
    }
  }
  const pct = (x: number): number => Math.round((x / busy) * 1000) / 10;
  const lines = (m: Map<string, number>, other: Map<string, number>): ProfileLine[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => ({ name, selfPct: pct(self.get(name) ?? 0), totalPct: pct(total.get(name) ?? other.get(name) ?? 0) }));
  return { busySamples: busy, bySelf: lines(self, total), byTotal: lines(total, self) };
}
