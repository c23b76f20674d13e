// Builds only the bench page (bench/index.html and its worker), apart from the app's build; run by bench/run.mjs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** transformers.js, installed apart for the peer case (bench/peer/package.json); absent until the bench installs it. */
// Its browser build, named directly: an alias to the package folder would pick the Node entry (package.json main).
const PEER_PACKAGE = fileURLToPath(
  new URL('./peer/node_modules/@huggingface/transformers/dist/transformers.web.js', import.meta.url),
);

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // run.mjs passes --outDir (a cache folder outside the source tree); this is the default for a manual build.
  build: { target: 'es2022', outDir: '../node_modules/.cache/eva-lens-bench/page', emptyOutDir: true },
  worker: { format: 'es' },
  resolve: {
    alias: {
      '@huggingface/transformers': existsSync(PEER_PACKAGE)
        ? PEER_PACKAGE
        : fileURLToPath(new URL('./peer/notInstalled.ts', import.meta.url)),
    },
  },
  logLevel: 'warn',
});
