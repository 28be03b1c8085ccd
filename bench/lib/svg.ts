/**
 * A small SVG line-chart writer (no external tools): axes with ticks, optional log-scale x,
 * several series with markers and a legend, and side-by-side panels in one file.
 */

/** One line of a chart. */
export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

/** One chart panel. */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  series: Series[];
  /** Horizontal reference lines (goals). */
  refs?: { y: number; label: string; color: string }[];
}

const W = 420;
const H = 300;
const M = { l: 62, r: 16, t: 34, b: 70 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick steps: 1, 2, 5 × 10^k, about `n` of them. */
function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(Math.round(v * 1e6) / 1e6);
  if (ticks[ticks.length - 1]! < max) ticks.push(ticks[ticks.length - 1]! + step);
  return ticks;
}

function fmt(v: number): string {
  if (v >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  return String(Math.round(v * 100) / 100);
}

/** One panel as an SVG fragment of size W×H at the origin. */
function panel(c: Chart): string {
  const xs = c.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [...c.series.flatMap((s) => s.points.map((p) => p[1])), ...(c.refs ?? []).map((r) => r.y)];
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const yTicks = niceTicks(Math.max(...ys, 0) * 1.05);
  const yMax = yTicks[yTicks.length - 1]!;
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const tx = (x: number): number =>
    M.l + (c.xLog ? (Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1) : (x - xMin) / (xMax - xMin || 1)) * pw;
  const ty = (y: number): number => M.t + ph - (y / yMax) * ph;
  const out: string[] = [];
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  for (const t of yTicks) {
    const y = ty(t).toFixed(1);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.l - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  const xTicks = [...new Set(xs)].sort((a, b) => a - b);
  for (const t of xTicks) {
    const x = tx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${M.t}" y2="${M.t + ph}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${M.t + ph + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${M.t + ph}" stroke="#333"/>`);
  out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${M.t + ph}" y2="${M.t + ph}" stroke="#333"/>`);
  out.push(`<text x="${M.l + pw / 2}" y="${M.t + ph + 34}" text-anchor="middle" font-size="12">${esc(c.xLabel)}</text>`);
  out.push(
    `<text x="14" y="${M.t + ph / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${M.t + ph / 2})">${esc(c.yLabel)}</text>`,
  );
  for (const r of c.refs ?? []) {
    const y = ty(r.y).toFixed(1);
    out.push(`<line x1="${M.l}" x2="${W - M.r}" y1="${y}" y2="${y}" stroke="${r.color}" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${W - M.r - 2}" y="${y}" dy="-3" text-anchor="end" font-size="10" fill="${r.color}">${esc(r.label)}</text>`);
  }
  c.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    const d = pts.map((p, k) => `${k === 0 ? 'M' : 'L'}${tx(p[0]).toFixed(1)},${ty(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    for (const p of pts) out.push(`<circle cx="${tx(p[0]).toFixed(1)}" cy="${ty(p[1]).toFixed(1)}" r="3" fill="${s.color}"/>`);
    const lx = M.l + (i % 2) * (pw / 2);
    const ly = H - 18 + Math.floor(i / 2) * 14;
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${lx + 22}" y="${ly}" font-size="11">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** Several panels side by side in one SVG document. */
export function chartsSvg(charts: Chart[]): string {
  const width = W * charts.length;
  const body = charts.map((c, i) => `<g transform="translate(${i * W},0)">\n${panel(c)}\n</g>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif">\n${body}\n</svg>\n`;
}
