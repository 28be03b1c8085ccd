/**
 * Bundle budget of the call kit (issue 13: kit + client SDK ≤ 80 KB minified and gzipped).
 * esbuild bundles each entry for the browser from the sources (`source` condition), minified, ESM;
 * the size is gzip -9 of the result. The metafile says how much of it each package is.
 *
 *   node --import tsx --conditions=source bench/callkit/size.ts
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

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

const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const entries: [string, string][] = [
    ['client SDK (`CallEngine`)', `export { CallEngine } from '@opencall/client';`],
    ['kit + client SDK (`CallKit`)', `export { CallKit } from '@opencall/callkit';`],
  ];
  console.log('| bundle | minified | min + gzip | largest parts (minified) |\n|---|---|---|---|');
  for (const [name, code] of entries) {
    const r = await bundleSize(code);
    const parts = Object.entries(r.byPackage).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([p, n]) => `${p} ${kb(n)}`).join(', ');
    console.log(`| ${name} | ${kb(r.min)} | **${kb(r.gzip)}** | ${parts} |`);
  }
}
