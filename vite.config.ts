import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER } from './src/contentSecurityPolicy';

/**
 * Headers that make the page cross-origin isolated: without them `SharedArrayBuffer` is missing and
 * onnxruntime-web silently runs its WASM kernels on one thread.
 */
const CROSS_ORIGIN_ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const ORT_DIST_DIR = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));
/** onnxruntime-web's runtime files: `ort-wasm-simd-threaded[.variant].{mjs,wasm}`. */
const ORT_RUNTIME_FILE = /^ort-wasm-simd-threaded(?:\.(?:jsep|asyncify|jspi))?\.(?:mjs|wasm)$/;
/** How a bundle names the runtime it loads; the capture is the variant ('' for the plain WASM build). */
const ORT_RUNTIME_REFERENCE = /ort-wasm-simd-threaded((?:\.(?:jsep|asyncify|jspi))?)\.(?:mjs|wasm)/g;
const CONTENT_TYPES: Record<string, string> = { mjs: 'text/javascript', wasm: 'application/wasm' };

function listOrtRuntimeFiles(): string[] {
  return readdirSync(ORT_DIST_DIR).filter((name) => ORT_RUNTIME_FILE.test(name));
}

function listFilesRecursively(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFilesRecursively(path) : [path];
  });
}

/** Variants of the ORT runtime that the built JavaScript refers to (the worker bundle holds the reference). */
function findReferencedOrtVariants(outDir: string): Set<string> {
  const variants = new Set<string>();
  for (const file of listFilesRecursively(outDir)) {
    if (!/\.(?:js|mjs)$/.test(file) || file.includes(`${join(outDir, 'ort')}`)) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(ORT_RUNTIME_REFERENCE))
      variants.add(match[1] ?? '');
  }
  return variants;
}

/**
 * Serves onnxruntime-web's `.mjs`/`.wasm` runtime at `${base}ort/` in dev and copies the ones the app refers to
 * into the build, so the engine can point `ort.env.wasm.wasmPaths` at our own origin (never a CDN) and the
 * service worker can precache them for offline use.
 */
function onnxRuntimeFiles(): Plugin {
  let base = '/';
  let outDir = 'dist';
  return {
    name: 'eva-lens:onnxruntime-files',
    configResolved(config) {
      base = config.base;
      outDir = resolve(config.root, config.build.outDir);
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const pathname = (req.url ?? '').split('?')[0] ?? '';
        const prefix = `${base}ort/`;
        const name = pathname.startsWith(prefix) ? pathname.slice(prefix.length) : '';
        if (!ORT_RUNTIME_FILE.test(name)) return next();
        const file = join(ORT_DIST_DIR, name);
        res.setHeader(
          'Content-Type',
          CONTENT_TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
        );
        res.setHeader('Content-Length', statSync(file).size);
        for (const [key, value] of Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS)) res.setHeader(key, value);
        createReadStream(file).pipe(res);
      });
    },
    async writeBundle() {
      const referenced = findReferencedOrtVariants(outDir);
      const available = listOrtRuntimeFiles();
      const wanted =
        referenced.size > 0
          ? available.filter((name) =>
              referenced.has(name.replace(/^ort-wasm-simd-threaded|\.(mjs|wasm)$/g, '')),
            )
          : available;
      if (referenced.size === 0) {
        this.warn('No onnxruntime-web runtime reference found in the bundle; copying every runtime variant.');
      }
      await mkdir(join(outDir, 'ort'), { recursive: true });
      await Promise.all(wanted.map((name) => copyFile(join(ORT_DIST_DIR, name), join(outDir, 'ort', name))));
      // ORT's fallback `new URL('ort-wasm-….wasm', import.meta.url)` makes Vite emit hashed copies (~40 MB) into
      // assets/. The engine always sets wasmPaths to ort/, so those copies are never fetched: drop them.
      const assetsDir = join(outDir, 'assets');
      const unusedCopies = existsSync(assetsDir)
        ? readdirSync(assetsDir).filter((name) => /^ort-wasm-simd-threaded.*\.wasm$/.test(name))
        : [];
      await Promise.all(unusedCopies.map((name) => rm(join(assetsDir, name))));
    },
  };
}

/**
 * The CSP as a `<meta>` tag in the built index.html only: the dev server's React refresh needs an inline script,
 * so `npm run dev` runs without it (the production build and its e2e suite are what the policy is checked on).
 */
function contentSecurityPolicyMeta(): Plugin {
  return {
    name: 'eva-lens-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [
      {
        tag: 'meta',
        attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY },
        injectTo: 'head-prepend',
      },
    ],
  };
}

const ICONS_DIR = fileURLToPath(new URL('./public/icons/', import.meta.url));
const pwaIcons = existsSync(ICONS_DIR)
  ? [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: 'favicon.svg', sizes: 'any', type: 'image/svg+xml' },
    ]
  : [];

export default defineConfig({
  plugins: [
    react(),
    onnxRuntimeFiles(),
    contentSecurityPolicyMeta(),
    VitePWA({
      // Our own service worker (src/sw.ts): Workbox's precache plus the COOP/COEP headers on every response it
      // serves, so WASM threads stay on when the app runs from the service worker or from a host without headers.
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      // globPatterns below already cover the icons; listing them again would precache them twice.
      includeManifestIcons: false,
      manifest: {
        name: 'EVA Lens',
        short_name: 'EVA Lens',
        description: 'Zero-shot image classification with EVA-CLIP, entirely in your browser.',
        theme_color: '#4c4fd6',
        background_color: '#f6f6f8',
        display: 'standalone',
        start_url: '.',
        icons: pwaIcons,
      },
      injectManifest: {
        globPatterns: [
          '**/*.{js,css,html,svg,png,ico}',
          'ort/*.{mjs,wasm}',
          'models/eva-lens-demo/**/*',
          'samples/**/*',
        ],
        // The ORT runtime (~28 MB) and the demo model are far above Workbox's 2 MiB default.
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
      },
      devOptions: { enabled: false },
    }),
  ],
  optimizeDeps: {
    // onnxruntime-web locates its .mjs/.wasm relative to its own module; pre-bundling breaks that.
    exclude: ['onnxruntime-web'],
  },
  worker: { format: 'es' },
  server: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  preview: {
    headers: { ...CROSS_ORIGIN_ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY_HEADER },
  },
  build: { target: 'es2022' },
});
