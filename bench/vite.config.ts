// Builds only the bench page (bench/index.html and its worker), apart from the app's build; run by bench/run.mjs.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // run.mjs passes --outDir (a cache folder outside the source tree); this is the default for a manual build.
  build: { target: 'es2022', outDir: '../node_modules/.cache/eva-lens-bench/page', emptyOutDir: true },
  worker: { format: 'es' },
  logLevel: 'warn',
});
