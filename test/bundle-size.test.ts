/**
 * Issue 13's bundle budget, enforced on every CI run: the call kit plus the client SDK, bundled for
 * the browser from the sources, minified and gzipped, stays ≤ 80 KB with both bundlers the
 * project measures (Vite/Rollup lib build and esbuild). Sizes are deterministic for a given tree,
 * so this is a plain check, not a timed one; bench/callkit/size.ts prints the full table.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KIT_BUDGET_BYTES, bundleSize, viteBundleSize } from '../bench/callkit/size.js';

const KIT = `export { CallKit } from '@opencall/callkit';`;

it('kit + client SDK: ≤ 80 KB minified and gzipped, no zod beyond what the schemas use', async () => {
  const esbuild = await bundleSize(KIT);
  const vite = await viteBundleSize(KIT);
  assert.ok(vite <= KIT_BUDGET_BYTES, `Vite lib build ${vite} B > ${KIT_BUDGET_BYTES} B`);
  assert.ok(esbuild.gzip <= KIT_BUDGET_BYTES, `esbuild ${esbuild.gzip} B > ${KIT_BUDGET_BYTES} B`);
  // The full zod build (or zod's compiler) is ~400 KB minified; the functional API used by the
  // protocol's schemas is ~35 KB. A regression here is an import of 'zod' or 'zod/mini''s `z` object.
  assert.ok((esbuild.byPackage.zod ?? 0) < 60 * 1024, `zod is ${esbuild.byPackage.zod} B minified in the browser bundle`);
});
