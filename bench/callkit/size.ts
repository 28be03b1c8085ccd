/**
 * Bundle budget of the call kit (issue 13: kit + client SDK ≤ 80 KB minified and gzipped).
 * Each entry is bundled for the browser from the sources (`source` condition), minified, ESM, by
 * two bundlers: Vite (Rollup, what the web app and the examples use) and esbuild (whose metafile
 * says how much of the output each package is). The size is gzip -9 of the result.
 *
 *   npm run bench:size        (node --import tsx --conditions=source bench/callkit/size.ts)
 *
 * It enforces the budget: the run fails (exit code 1) when the kit plus the SDK is over 80 KB with
 * either bundler, so CI or a release check can run it as is.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { build as viteBuild, defaultClientConditions } from 'vite';
import type { Rollup } from 'vite';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Minified and gzipped size of a bundle of `code`, with the minified bytes per package. */
export async function bundleSize(code: string): Promise<{ min: number; gzip: number; byPackage: Record<string, number> }> {
  const out = await build({
    stdin: { contents: code, resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const bytes = out.outputFiles[0]!.contents;
  const byPackage: Record<string, number> = {};
  for (const output of Object.values(out.metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/u.exec(path)?.[1] ?? /packages\/([^/]+)/u.exec(path)?.[1] ?? 'other';
      byPackage[pkg] = (byPackage[pkg] ?? 0) + bytesInOutput;
    }
  }
  return { min: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, byPackage };
}

/** Minified + gzipped size of `code` bundled by Vite (Rollup tree-shaking, esbuild minify). */
export async function viteBundleSize(code: string): Promise<number> {
  const dir = join(ROOT, '.scratch', `size-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.ts'), code);
  try {
    const out = (await viteBuild({
      configFile: false,
      logLevel: 'silent',
      root: dir,
      resolve: { conditions: ['source', ...defaultClientConditions] },
      build: { write: false, minify: true, target: 'es2022', lib: { entry: join(dir, 'entry.ts'), formats: ['es'], fileName: 'out' }, rollupOptions: { onwarn: () => undefined } },
    })) as Rollup.RollupOutput[];
    const chunks = out.flatMap((o) => o.output).filter((c): c is Rollup.OutputChunk => c.type === 'chunk');
    return chunks.reduce((n, c) => n + gzipSync(Buffer.from(c.code), { level: 9 }).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

/** Issue 13's budget for the kit plus the client SDK, minified and gzipped (KB of 1024 bytes, as printed). */
export const KIT_BUDGET_BYTES = 80 * 1024;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entries: [string, string, budget: number | null][] = [
    ['client SDK (`CallEngine`)', `export { CallEngine } from '@opencall/client';`, null],
    ['kit + client SDK (`CallKit`)', `export { CallKit } from '@opencall/callkit';`, KIT_BUDGET_BYTES],
  ];
  const over: string[] = [];
  console.log('| bundle | Vite (Rollup): min + gzip | esbuild: minified | esbuild: min + gzip | esbuild: largest parts (minified) |\n|---|---|---|---|---|');
  for (const [name, code, budget] of entries) {
    const r = await bundleSize(code);
    const v = await viteBundleSize(code);
    if (budget !== null && Math.max(r.gzip, v) > budget) over.push(`${name}: ${kb(Math.max(r.gzip, v))} > ${kb(budget)}`);
    const parts = Object.entries(r.byPackage).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([p, n]) => `${p} ${kb(n)}`).join(', ');
    console.log(`| ${name} | **${kb(v)}** | ${kb(r.min)} | ${kb(r.gzip)} | ${parts} |`);
  }
  if (over.length) {
    console.error(`\nOver the budget: ${over.join('; ')}`);
    process.exitCode = 1;
  } else {
    console.log(`\nWithin the budget: kit + client SDK ≤ ${kb(KIT_BUDGET_BYTES)} min + gzip with both bundlers.`);
  }
}
