/**
 * Vite build of the calling page. `@opencall/client` (and the protocol it imports) resolve through
 * their `source` export condition, so a clean `npm install && npm run build` bundles the TypeScript
 * sources directly and does not depend on the packages' dist/ being built first.
 */
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Everything (styles, icons, fonts) is inline or local: nothing is fetched from a CDN.
    assetsInlineLimit: 8192,
    sourcemap: true,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod's sources carry /*@__PURE__*/ comments in places Rollup cannot use; harmless noise.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
        warn(warning);
      },
    },
  },
  server: { proxy: { '/config.json': 'http://127.0.0.1:3000', '/dev': 'http://127.0.0.1:3000', '/ws': { target: 'ws://127.0.0.1:3000', ws: true } } },
});
