/**
 * Builds both embedding examples (plain page and React app) into `examples/embed/dist`. Like the
 * web app, `@opencall/*` resolve through their `source` condition, so no package build is needed.
 */
import { defineConfig, defaultClientConditions } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  esbuild: { jsx: 'automatic' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: { plain: `${import.meta.dirname}/plain/index.html`, react: `${import.meta.dirname}/react/index.html` },
      onwarn(warning, warn) {
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('/node_modules/zod/')) return;
        warn(warning);
      },
    },
  },
});
