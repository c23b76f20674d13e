// `npm run bench:start`: time from page load to the first result in the real app (production build), for a person
// who comes back to EVA Lens with a model already stored in the browser and drops a photo the app has not seen.
// Issue #6 asks for at most 3 s with B/16 on this kind of machine. Not part of `npm test`.
//
//   npm run bench:start                       # B/16 int8 (random weights), 5 visits, prints a table and writes JSON
//   npm run bench:start -- --model eva-lens-demo --visits 3 --no-write
//
// Steps: `vite build` → serve dist/ from 127.0.0.1 with COOP/COEP → a persistent Chromium profile (so OPFS,
// IndexedDB and the service worker survive between visits) → first visit: import the model folder through the
// Models dialog, "Use" it, embed the labels → each timed visit: a fresh tab, the photo handed to the file input as
// soon as the page has one, and the clock stopped when the first image card shows its top labels.
/* global process, console, document, performance, MutationObserver, window, navigator, setTimeout */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import * as prettier from 'prettier';
import { describeMachine, machineSlug, otherCpuCores, otherProcessTicks } from './machine.mjs';
import { startStaticServer } from './server.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'node_modules/.cache/eva-lens-bench');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update'];
const IMAGES_DIR = resolve(ROOT, 'data/photos');
const MODEL_DIRS = {
  'eva02-b16-random': join(ROOT, 'models/.artifacts/eva02-b16-random'),
  'eva-lens-demo': join(ROOT, 'public/models/eva-lens-demo'),
};
/** Ten everyday labels: what a person might have typed on an earlier visit. */
const LABELS = [
  'a cat',
  'a dog',
  'a bird',
  'a car',
  'a bicycle',
  'a tree',
  'a house',
  'a boat',
  'food',
  'a person',
];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'eva02-b16-random' },
      dtype: { type: 'string', default: 'int8' },
      visits: { type: 'string', default: '5' },
      'no-build': { type: 'boolean', default: false },
      'no-write': { type: 'boolean', default: false },
    },
  });
  if (!MODEL_DIRS[values.model]) throw new Error(`unknown model ${values.model}`);
  return {
    model: values.model,
    dtype: values.dtype,
    visits: Number(values.visits),
    build: !values['no-build'],
    write: !values['no-write'],
  };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function log(message) {
  console.log(`[bench:start ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/**
 * A folder holding one variant of the model (hard links, no copy) with a manifest that lists only it, as
 * `npm run models -- convert --dtypes <dtype>` would write, under an id of its own: the import stores only it.
 */
function importFolder(model, dtype) {
  const source = MODEL_DIRS[model];
  const manifest = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8'));
  const variant = manifest.variants.find((v) => v.dtype === dtype);
  if (!variant) throw new Error(`${model} has no ${dtype} variant`);
  // Its own id, so the embedded demo model (always listed as "In use"/embedded) can be benchmarked too.
  const id = `${manifest.id}-bench`;
  const dir = join(CACHE, 'app-start-import', id);
  rmSync(dirname(dir), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of [variant.imageModel.path, variant.textModel.path, manifest.text.tokenizer.path]) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    linkSync(join(source, file), join(dir, file));
  }
  const copy = { ...manifest, id, name: `${manifest.name} (bench copy)`, variants: [variant] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(copy, null, 2));
  return { dir, manifest: copy };
}

/** Photos the app has not seen, one per timed visit (the image cache must miss). */
function photos(count) {
  const names = readdirSync(IMAGES_DIR)
    .filter((name) => /\.(jpe?g|png)$/i.test(name))
    .sort();
  if (names.length < count) throw new Error(`${IMAGES_DIR} has ${names.length} photos, ${count} needed`);
  return names.slice(0, count).map((name) => join(IMAGES_DIR, name));
}

async function snapshot(page) {
  return page.evaluate(() => window.__evaLens?.snapshot() ?? null);
}

async function waitFor(page, predicate, what, timeoutMs = 300_000) {
  const started = Date.now();
  for (;;) {
    const state = await snapshot(page);
    if (state?.modelStatus === 'error') throw new Error(`model error: ${state.modelError}`);
    if (state && predicate(state)) return state;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** First visit: import the model through the Models dialog, use it, type the labels and let them embed. */
async function prepare(context, url, folder, name) {
  const page = await context.newPage();
  await page.goto(url);
  await waitFor(page, (s) => s.modelStatus === 'ready', 'the demo model');
  await page.getByRole('button', { name: 'Models' }).click();
  await page.getByLabel('Import model folder').setInputFiles(folder);
  const id = basename(folder);
  await waitFor(page, (s) => s.storedModels.some((m) => m.id === id), 'the import', 600_000);
  await page.getByRole('button', { name: `Use ${name}` }).click();
  await waitFor(page, (s) => s.modelStatus === 'ready' && s.activeModelId === id, 'the imported model');
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Paste a list of labels' }).click();
  await page.getByRole('textbox', { name: 'Labels, one per line' }).fill(LABELS.join('\n'));
  await page.getByRole('button', { name: 'Use these labels' }).click();
  await waitFor(
    page,
    (s) => s.labelEmbeddingStatus === 'ready' && s.labelEmbeddings?.texts.length === LABELS.length,
    'the label embeddings',
  );
  // The service worker precaches the app in the background: let it finish so visits read the app from it.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForTimeout(3000);
  await page.close();
}

/**
 * One returning visit: a new tab, the photo given to the file input the moment it exists, and the time (on the
 * page's clock, from navigation start) when the first card lists its top labels.
 */
async function visit(context, url, photo) {
  const page = await context.newPage();
  // Stamps, on the page's own clock, when the first result is in the DOM (checked on every DOM change).
  await page.addInitScript(() => {
    const stamps = {};
    window.__startStamps = stamps;
    const observer = new MutationObserver(() => {
      if (stamps.fileInput === undefined && document.querySelector('[data-testid="file-input"]'))
        stamps.fileInput = performance.now();
      if (document.querySelector('[data-testid="image-card"] .card__scores')) {
        stamps.firstResult = performance.now();
        observer.disconnect();
      }
    });
    document.addEventListener('DOMContentLoaded', () =>
      observer.observe(document.body, { childList: true, subtree: true }),
    );
  });
  const othersBefore = otherProcessTicks(process.pid);
  const wallStart = Date.now();
  await page.goto(url, { waitUntil: 'commit' });
  const input = page.getByTestId('file-input');
  await input.setInputFiles(photo);
  const filesGivenAt = await page.evaluate(() => performance.now());
  await page.waitForFunction(() => window.__startStamps.firstResult !== undefined, null, {
    timeout: 120_000,
  });
  const stamps = await page.evaluate(() => ({
    ...window.__startStamps,
    domContentLoaded: performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null,
    controlledBySw: navigator.serviceWorker.controller !== null,
  }));
  const state = await snapshot(page);
  const seconds = (Date.now() - wallStart) / 1000;
  await page.close();
  const image = state.images[0];
  return {
    photo: basename(photo),
    firstResultMs: stamps.firstResult,
    fileInputMs: stamps.fileInput ?? null,
    filesGivenMs: filesGivenAt,
    domContentLoadedMs: stamps.domContentLoaded,
    controlledByServiceWorker: stamps.controlledBySw,
    modelLoadMs: state.model?.loadMs ?? null,
    loadStages: state.model?.loadStages ?? null,
    labelEmbeddingMs: state.labelEmbeddings?.ms ?? null,
    imageMs: image?.ms ?? null,
    imageFromCache: image?.fromCache ?? null,
    backend: state.model?.backend,
    dtype: state.model?.dtype,
    threads: state.model?.threads,
    crossOriginIsolated: state.crossOriginIsolated,
    otherProcessesCpuCores: otherCpuCores(process.pid, othersBefore, seconds),
  };
}

async function main() {
  const options = parseOptions();
  const photoFiles = photos(options.visits);
  if (options.build) {
    log('vite build');
    const res = spawnSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (res.status !== 0) throw new Error('vite build failed');
  }
  const { dir, manifest } = importFolder(options.model, options.dtype);
  const server = await startStaticServer({ '/': join(ROOT, 'dist') });
  const profile = mkdtempSync(join(tmpdir(), 'eva-lens-start-'));
  const context = await chromium.launchPersistentContext(profile, {
    headless: true,
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  const started = new Date();
  const loadBefore = loadavg();
  try {
    log(`first visit: import ${manifest.id} (${options.dtype}) and embed ${LABELS.length} labels`);
    await prepare(context, `${server.url}/`, dir, manifest.name);
    const visits = [];
    for (const [index, photo] of photoFiles.entries()) {
      const result = await visit(context, `${server.url}/`, photo);
      log(
        `visit ${index + 1}: first result at ${(result.firstResultMs / 1000).toFixed(2)} s ` +
          `(model ${(result.modelLoadMs / 1000).toFixed(2)} s, labels ${result.labelEmbeddingMs?.toFixed(0)} ms, ` +
          `image ${result.imageMs?.toFixed(0)} ms; other processes ${result.otherProcessesCpuCores.toFixed(2)} cores)`,
      );
      log(
        `  load stages (ms): ${JSON.stringify(result.loadStages)}; page: ${JSON.stringify({ dcl: result.domContentLoadedMs, input: result.fileInputMs, given: result.filesGivenMs, sw: result.controlledByServiceWorker })}`,
      );
      visits.push(result);
    }
    const result = {
      date: started.toISOString(),
      machine: describeMachine(),
      browser: { version: context.browser()?.version() ?? null, executable: CHROMIUM, args: CHROMIUM_ARGS },
      model: manifest.id,
      dtype: options.dtype,
      labels: LABELS,
      loadavg: { before: loadBefore, after: loadavg() },
      visits,
      medianFirstResultMs: median(visits.map((v) => v.firstResultMs)),
    };
    log(`median page load → first result: ${(result.medianFirstResultMs / 1000).toFixed(2)} s`);
    if (options.write) {
      const file = join(
        ROOT,
        'bench-results',
        `${started.toISOString().slice(0, 10)}-${machineSlug(result.machine)}-app-start-${options.model}-${options.dtype}.json`,
      );
      // Formatted as the repository's Prettier check expects.
      const config = (await prettier.resolveConfig(file)) ?? {};
      writeFileSync(file, await prettier.format(JSON.stringify(result), { ...config, parser: 'json' }));
      log(`wrote ${file}`);
    }
  } finally {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
