// `npm run bench`: measures the towers in headless Chromium on onnxruntime-web WASM and writes
// bench-results/<date>-<machine>.json, then prints the tables (bench/report.mjs). Not part of `npm test`.
//
//   npm run bench                      # the full run (~8 min on 2 cores)
//   npm run bench -- --quick           # a smoke run (npm test's "bench" step): demo model, WASM, few repetitions,
//                                      # no peer, nothing written, nothing asserted about speed
//   npm run bench -- --dtypes int8,fp32 --no-write
//
// Steps: FLOPs of the towers and the MatMul graphs (Python toolchain) → type-check and build the bench page
// (bench/vite.config.ts) → serve it, the ORT runtime and the models from 127.0.0.1 with COOP/COEP → one fresh
// worker per case in Chromium, the renderer's memory sampled from /proc meanwhile.
/* global process, console, setTimeout, clearTimeout, window, document */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from '@playwright/test';
import * as prettier from 'prettier';
import { deriveAll } from './derive.mjs';
import {
  describeMachine,
  loadSnapshot,
  machineSlug,
  otherCpuCores,
  otherProcessTicks,
  startRendererSampler,
} from './machine.mjs';
import { renderReport } from './report.mjs';
import { startStaticServer } from './server.mjs';
import { PYTHON } from '../scripts/python.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, 'node_modules/.cache/eva-lens-bench');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  // Exposes WebGPU (Dawn's SwiftShader adapter without a GPU) for the demo model's WebGPU case; WASM is unaffected.
  '--enable-unsafe-webgpu',
];
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const IMAGES_DIR = resolve(ROOT, 'data/photos');
// The app's ImageNet-1k preset is the one copy of CLIP's 1,000 class names and 80 templates.
const IMAGENET = JSON.parse(readFileSync(join(ROOT, 'src/data/presets/imagenet-1k.json'), 'utf8'));
const CLASS_NAMES = IMAGENET.labels;
const TEMPLATES_80 = IMAGENET.templates;
/** The preset's templates for the first ranking (CLIP's 7 selected by forward selection; see the preset file). */
const FAST_TEMPLATES = IMAGENET.fastTemplates;
/**
 * The peer (issue #19): transformers.js on a random-weight CLIP ViT-B/16 built by models/eva_lens/peer_clip.py, with
 * transformers.js's own onnxruntime-web build (it bundles a different version from the app's).
 */
const PEER = {
  id: 'peer-clip-b16',
  modelsDir: join(ROOT, 'models/.artifacts'),
  dtype: 'q8',
  perImageLabelCount: 10,
  image: { warmupRuns: 1, timedRuns: 5 },
};
/** Where the peer's own install lives (bench/peer/package.json): apart from the app's, with install scripts off. */
const PEER_INSTALL_DIR = join(ROOT, 'bench/peer');

/**
 * The folder of transformers.js's own onnxruntime-web build (its WASM files are served to the peer's page),
 * installing the peer first if needed: `npm install --ignore-scripts` in bench/peer, because the package's
 * onnxruntime-node dependency downloads GPU parts from outside the npm registry at install time.
 */
function peerOrtDist() {
  const packageJson = join(PEER_INSTALL_DIR, 'node_modules/@huggingface/transformers/package.json');
  if (!existsSync(packageJson)) {
    log('installing the peer (transformers.js) into bench/peer with --ignore-scripts…');
    const res = spawnSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: PEER_INSTALL_DIR,
      stdio: 'inherit',
    });
    if (res.status !== 0) return null;
  }
  try {
    // Its package exports no package.json; its Node entry lies in dist/, beside the WASM files.
    return dirname(createRequire(packageJson).resolve('onnxruntime-web'));
  } catch {
    return null;
  }
}
/**
 * A case that takes longer than this is recorded as failed (its browser context is closed, ending its worker). The
 * B/16 int8 case runs the text batch sweep and ImageNet-1k's first ranking too: ~3 min quiet, 2-3x that under load.
 */
const CASE_TIMEOUT_MS = 900_000;

/** The models: where their folder is and how hard each is measured (B/16 fp32 images take about a second). */
const MODELS = {
  'eva-lens-demo': {
    dir: join(ROOT, 'public/models/eva-lens-demo'),
    flopsDtype: 'int8',
    image: { warmupRuns: 3, timedRuns: 20, batchSizes: [4, 8], batchRuns: 5 },
    paddedPromptCount: { wasm: CLASS_NAMES.length, webgpu: 32 },
    /** Classes run with all 80 templates (8,000 prompts, ~7 s on WASM); the rest is extrapolated. */
    ensembleClassCount: { wasm: 100, webgpu: 0 },
    /** SwiftShader runs the 1,000 prompts in ~35 s: the WebGPU case takes the first 256. */
    webgpuLabelCount: 256,
    /** Also on WebGPU: SwiftShader here, its first run compiles the shaders (~25 s); fewer repetitions. */
    webgpu: true,
    webgpuImage: { warmupRuns: 2, timedRuns: 5, batchSizes: [4, 8], batchRuns: 2 },
  },
  'eva02-b16-random': {
    dir: join(ROOT, 'models/.artifacts/eva02-b16-random'),
    flopsDtype: 'fp32',
    image: { warmupRuns: 2, timedRuns: 10, batchSizes: [4, 8], batchRuns: 3 },
    /** fp32 and fp16 take over a second per image here: fewer repetitions keep the full run near 8 minutes. */
    slowDtypeImage: { warmupRuns: 1, timedRuns: 5, batchSizes: [4, 8], batchRuns: 2 },
    slowDtypes: ['fp32', 'fp16'],
    paddedPromptCount: { wasm: 96 },
    /** 10 classes × 80 templates = 800 prompts (~7 s at int8 on a quiet machine); all 80,000 would take ~12 min. */
    ensembleClassCount: { wasm: 10 },
    /** Text batch sizes tried over the 1,000 class names (int8 WASM only; ~8 s each). */
    textBatchSweep: { wasm: [32, 64, 128] },
    /** ImageNet-1k × the preset's first-ranking templates, timed whole (int8 WASM only; ~1 min). */
    firstRanking: { wasm: true },
  },
};
/** Dtypes that also run the length-sorted text experiment (it costs one more pass over the class names). */
const SORTED_TEXT_DTYPES = ['int8'];
/** Dtypes that also run the 80-template ensemble, the batch sweep and the first ranking (the app's WASM path). */
const ENSEMBLE_DTYPES = ['int8'];
/** The app's text batch on WASM (src/engine/inference/zeroShotEngine.ts, DEFAULT_TEXT_BATCH_SIZE), used by the first ranking. */
const APP_TEXT_BATCH_WASM = 32;
const MISSING_B16 =
  'models/.artifacts/eva02-b16-random/ is missing: the pytest suite writes it. Run\n' +
  '  node scripts/python.mjs -m pytest models/tests/test_export.py\n' +
  'and then `npm run bench` again (or `npm run bench -- --models eva-lens-demo`).';

/** The real-photo case: the dtype it runs per model, and the app's settings it copies. */
const PHOTO_DTYPE = 'int8';
const PHOTO_SETTINGS = { thumbnailSize: 320, batchSize: 4 };
const PHOTOS_DIR = join(CACHE, 'photos');
/** B/16 takes 0.4–2 s per photo in the tower on a busy 2-core machine: ~70 tower runs in this case. */
const PHOTO_CASE_TIMEOUT_MS = 900_000;

const MATMUL_KINDS = ['fp32', 'int8', 'q4', 'fp16'];
const MATMUL_SHAPES = ['1024x768x2048', '197x768x2048'];
/** The smoke run keeps one small shape of two kernels: it checks the case runs, not the machine's limit. */
const QUICK_MATMUL = { kinds: ['fp32', 'int8'], shapes: ['197x768x2048'] };

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      models: { type: 'string' },
      dtypes: { type: 'string' },
      backends: { type: 'string' },
      threads: { type: 'string', default: '2' },
      'no-write': { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      json: { type: 'string' },
      'photos-only': { type: 'boolean', default: false },
    },
  });
  // The smoke run is npm test's "bench" step: the demo model on WASM only, so it stays short on a busy machine.
  const models = values.models?.split(',') ?? (values.quick ? ['eva-lens-demo'] : Object.keys(MODELS));
  for (const model of models) if (!MODELS[model]) throw new Error(`unknown model ${model}`);
  return {
    quick: values.quick,
    models,
    dtypes: values.dtypes?.split(',') ?? (values.quick ? ['int8'] : null),
    backends: values.backends?.split(',') ?? (values.quick ? ['wasm'] : ['wasm', 'webgpu']),
    peer: !values.quick && !values['no-peer'],
    threads: Number(values.threads),
    write: !values['no-write'] && !values.quick,
    json: values.json,
    photosOnly: values['photos-only'],
  };
}

function python(args, env = {}) {
  const res = spawnSync(PYTHON, args, {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, ...env },
  });
  if (res.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} failed:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

function npx(args) {
  const res = spawnSync('npx', args, { cwd: ROOT, stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`npx ${args.join(' ')} failed`);
}

function log(message) {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function readManifest(modelKey) {
  return JSON.parse(readFileSync(join(MODELS[modelKey].dir, 'manifest.json'), 'utf8'));
}

/** FLOPs per image and per prompt length, counted from the model's own ONNX graphs (bench/count_flops.py). */
function countFlops(modelKey) {
  const manifest = readManifest(modelKey);
  const variant = manifest.variants.find((v) => v.dtype === MODELS[modelKey].flopsDtype);
  const dir = MODELS[modelKey].dir;
  return {
    fromGraphs: [variant.imageModel.path, variant.textModel.path],
    ...python([
      'bench/count_flops.py',
      join(dir, variant.imageModel.path),
      join(dir, variant.textModel.path),
      String(manifest.text.contextLength),
    ]),
  };
}

/**
 * The peer's model folder (transformers.js layout), built once by the Python toolchain with a fixed seed; its
 * tokenizer is the B/16 package's CLIP tokenizer.json. Several minutes on 2 cores the first time.
 */
function ensurePeerModel() {
  const dir = join(PEER.modelsDir, PEER.id);
  if (existsSync(join(dir, 'peer.json'))) return JSON.parse(readFileSync(join(dir, 'peer.json'), 'utf8'));
  log(`building the peer model (random-weight CLIP ViT-B/16, transformers.js layout) into ${dir}…`);
  const tokenizer = join(MODELS['eva02-b16-random'].dir, 'tokenizer.json');
  const res = spawnSync(PYTHON, ['-m', 'eva_lens.peer_clip', dir, '--tokenizer', tokenizer], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PYTHONPATH: 'models' },
  });
  if (res.status !== 0) throw new Error(`the peer model could not be built:\n${res.stderr}`);
  return JSON.parse(readFileSync(join(dir, 'peer.json'), 'utf8'));
}

/** A fresh browser context (its own renderer process) on the bench page, ready to be driven. */
async function openBenchPage(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (message) => {
    // ORT's own warnings (e.g. shape ops assigned to the CPU on WebGPU) are expected; real errors are not.
    if (message.type() === 'error' && !message.text().includes('[W:onnxruntime'))
      console.error(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page] ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  return { context, page };
}

/**
 * Runs one case as `window.evaBench[method](request)` in a fresh browser context, so each case has a renderer
 * of its own (clean memory readings; every cold start compiles the WASM runtime as a first visit does). A failure
 * or timeout is recorded; closing the context ends a stuck worker.
 */
async function runCase(browser, url, label, method, request, timeoutMs = CASE_TIMEOUT_MS) {
  const loadAtStart = loadavg()[0];
  log(`${label}… (load average ${loadAtStart.toFixed(2)})`);
  const { context, page } = await openBenchPage(browser, url);
  // Playwright starts Chromium as a child of this process: its renderers are found below us in /proc.
  const sampler = startRendererSampler(process.pid);
  const othersBefore = otherProcessTicks(process.pid);
  const started = Date.now();
  const timing = () => {
    const seconds = (Date.now() - started) / 1000;
    const otherCores = otherCpuCores(process.pid, othersBefore, seconds);
    if (otherCores >= 0.1) log(`${label}: other processes used ${otherCores.toFixed(2)} CPU cores meanwhile`);
    return {
      seconds,
      loadavg1m: { start: loadAtStart, end: loadavg()[0] },
      otherProcessesCpuCores: otherCores,
    };
  };
  let timer;
  try {
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
    });
    const run = page.evaluate(([name, r]) => window.evaBench[name](r), [method, request]);
    const result = await Promise.race([run, timeout]);
    log(`${label} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { result, memory: sampler.stop(), ...timing() };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    log(`${label} FAILED: ${message}`);
    return { error: message, memory: sampler.stop(), ...timing() };
  } finally {
    clearTimeout(timer);
    await context.close();
  }
}

async function main() {
  const options = parseOptions();
  if (
    options.models.includes('eva02-b16-random') &&
    !existsSync(join(MODELS['eva02-b16-random'].dir, 'manifest.json'))
  ) {
    console.error(MISSING_B16);
    process.exit(1);
  }
  const PEER_ORT_DIST = options.peer ? peerOrtDist() : null;
  if (options.peer && !PEER_ORT_DIST) {
    console.error(
      '@huggingface/transformers could not be installed into bench/peer (npm install --ignore-scripts there): pass --no-peer to run without the peer.',
    );
    process.exit(1);
  }
  if (options.peer && !existsSync(join(MODELS['eva02-b16-random'].dir, 'manifest.json'))) {
    console.error(MISSING_B16);
    process.exit(1);
  }
  const startedAt = new Date();
  const loadBefore = await loadSnapshot(process.pid);
  log(
    `load average before: ${loadBefore.loadavg.one.toFixed(2)} ${loadBefore.loadavg.five.toFixed(2)} ${loadBefore.loadavg.fifteen.toFixed(2)}`,
  );

  log('counting FLOPs from the ONNX graphs and writing the MatMul graphs (Python)…');
  const flops = options.photosOnly ? {} : Object.fromEntries(options.models.map((m) => [m, countFlops(m)]));
  const matmulDir = join(CACHE, 'matmul');
  const matmulModels = options.photosOnly
    ? []
    : python(
        [
          'bench/matmul_models.py',
          matmulDir,
          (options.quick ? QUICK_MATMUL.kinds : MATMUL_KINDS).join(','),
          (options.quick ? QUICK_MATMUL.shapes : MATMUL_SHAPES).join(','),
        ],
        { PYTHONPATH: 'models' },
      );
  log('generating the phone-size JPEGs (Python, cached)…');
  const photos = python(['bench/make_photos.py', PHOTOS_DIR]);

  const peerModel = options.peer ? ensurePeerModel() : null;

  log('type-checking and building the bench page…');
  npx(['tsc', '-p', 'bench/tsconfig.json']);
  const pageDir = join(CACHE, 'page');
  npx(['vite', 'build', '--config', 'bench/vite.config.ts', '--outDir', pageDir, '--emptyOutDir']);

  const routes = {
    '/ort/': ORT_DIST,
    '/matmul/': matmulDir,
    '/images/': IMAGES_DIR,
    '/photos/': PHOTOS_DIR,
    ...Object.fromEntries(options.models.map((m) => [`/models/${m}/`, MODELS[m].dir])),
    ...(options.peer ? { '/peer-ort/': PEER_ORT_DIST, '/peer-models/': PEER.modelsDir } : {}),
    '/': pageDir,
  };
  const server = await startStaticServer(routes);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const results = {
    schema: 'eva-lens-bench/1',
    startedAt: startedAt.toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    machine: describeMachine(),
    browser: { executable: CHROMIUM, args: CHROMIUM_ARGS, version: browser.version() },
    ort: {
      version: JSON.parse(readFileSync(join(ROOT, 'node_modules/onnxruntime-web/package.json'), 'utf8'))
        .version,
      backend: 'wasm (every case); webgpu (demo model only)',
      build: 'onnxruntime-web/wasm for WASM, onnxruntime-web/webgpu for WebGPU, as the app loads them',
      threads: options.threads,
    },
    settings: {
      models: Object.fromEntries(options.models.map((m) => [m, { ...MODELS[m], dir: undefined }])),
      sortedTextDtypes: SORTED_TEXT_DTYPES,
      textBatchSize: 32,
      template: 'a photo of a {}.',
      classNames: 'src/data/presets/imagenet-1k.json (1,000 ImageNet class names; 2 are duplicates)',
      matmul: { kinds: MATMUL_KINDS, shapes: MATMUL_SHAPES, warmupRuns: 2, timedRuns: 5 },
      caseTimeoutSeconds: CASE_TIMEOUT_MS / 1000,
      photosOnly: options.photosOnly,
      photos: { dtype: PHOTO_DTYPE, ...PHOTO_SETTINGS, files: photos },
    },
    flops,
    matmul: [],
    preprocess: null,
    photos: [],
    models: [],
    peer: options.peer
      ? {
          library: '@huggingface/transformers',
          version: JSON.parse(
            readFileSync(join(ROOT, 'node_modules/@huggingface/transformers/package.json'), 'utf8'),
          ).version,
          model: { id: PEER.id, built: peerModel, by: 'models/eva_lens/peer_clip.py' },
          dtype: PEER.dtype,
          cases: [],
        }
      : null,
  };
  try {
    const pageUrl = `${server.url}/`;
    const first = await openBenchPage(browser, pageUrl);
    const environment = await first.page.evaluate(() => window.evaBench.environment());
    await first.context.close();
    Object.assign(results.browser, environment);
    if (!environment.crossOriginIsolated)
      throw new Error('the bench page is not cross-origin isolated: no WASM threads');
    const ortSettings = { wasmPaths: `${server.url}/ort/`, threads: options.threads };

    const matmulRequest = {
      kind: 'matmul',
      ...ortSettings,
      models: matmulModels.map((m) => ({ ...m, url: `${server.url}/matmul/${m.file}` })),
      warmupRuns: options.quick ? 1 : 2,
      timedRuns: options.quick ? 2 : 5,
    };
    const runMatmul = async (at) => {
      const outcome = await runCase(
        browser,
        pageUrl,
        `MatMul micro-benchmark (${at})`,
        'inWorker',
        matmulRequest,
      );
      results.matmul.push({ at, ...outcome });
    };
    for (const modelKey of options.models) {
      // --quick: two photos of each size, one timed pass.
      const chosen = options.quick
        ? photos.filter((p, i) => photos.findIndex((q) => q.label === p.label) + 2 > i)
        : photos;
      const outcome = await runCase(
        browser,
        pageUrl,
        `real photos, ${modelKey} ${PHOTO_DTYPE}`,
        'inWorker',
        {
          kind: 'photos',
          ...ortSettings,
          manifestUrl: `${server.url}/models/${modelKey}/manifest.json`,
          dtype: PHOTO_DTYPE,
          photos: chosen.map((p) => ({ url: `${server.url}/photos/${p.file}`, label: p.label })),
          ...PHOTO_SETTINGS,
          passes: 2,
          endToEndRuns: options.quick ? 1 : 2,
        },
        PHOTO_CASE_TIMEOUT_MS,
      );
      results.photos.push({ model: modelKey, dtype: PHOTO_DTYPE, ...outcome });
    }
    if (!options.photosOnly) {
      await runMatmul('start');

      if (existsSync(IMAGES_DIR)) {
        const manifest = readManifest(options.models.at(-1));
        const preprocessRequest = {
          kind: 'preprocess',
          imageUrls: readdirSync(IMAGES_DIR)
            .filter((name) => /\.(png|jpe?g)$/i.test(name))
            .sort()
            .map((name) => `${server.url}/images/${name}`),
          size: manifest.image.size,
          mean: manifest.image.mean,
          std: manifest.image.std,
          passes: options.quick ? 2 : 3,
        };
        const where = (label, method) => runCase(browser, pageUrl, label, method, preprocessRequest);
        const worker = await where('preprocessing in a worker', 'inWorker');
        const mainThread = options.quick
          ? worker
          : await where('preprocessing on the main thread', 'preprocessOnMainThread');
        results.preprocess = {
          size: manifest.image.size,
          worker: worker.result,
          mainThread: mainThread.result,
        };
      } else {
        results.preprocess = { note: `${IMAGES_DIR} not found` };
      }

      for (const modelKey of options.models) {
        const manifest = readManifest(modelKey);
        const settings = MODELS[modelKey];
        const quickImage = { warmupRuns: 1, timedRuns: 3, batchSizes: [4], batchRuns: 1 };
        // Every dtype on WASM; on WebGPU (SwiftShader here, ~100x slower) only the variants meant for it, and only
        // for the models that ask for it.
        const cases = ['wasm', 'webgpu']
          .filter((backend) => options.backends.includes(backend))
          .flatMap((backend) =>
            manifest.variants
              .filter((v) => backend === 'wasm' || (settings.webgpu && v.backends.includes('webgpu')))
              .filter((v) => !options.dtypes || options.dtypes.includes(v.dtype))
              .map((variant) => ({ backend, dtype: variant.dtype })),
          );
        for (const { backend, dtype } of cases) {
          const slow = settings.slowDtypes?.includes(dtype);
          const appPath = !options.quick && ENSEMBLE_DTYPES.includes(dtype);
          const request = {
            kind: 'model',
            ...ortSettings,
            manifestUrl: `${server.url}/models/${modelKey}/manifest.json`,
            dtype,
            backend,
            image: options.quick
              ? quickImage
              : backend === 'webgpu'
                ? settings.webgpuImage
                : slow
                  ? settings.slowDtypeImage
                  : settings.image,
            text: {
              labels: backend === 'webgpu' ? CLASS_NAMES.slice(0, settings.webgpuLabelCount) : CLASS_NAMES,
              template: results.settings.template,
              batchSize: results.settings.textBatchSize,
              paddedPromptCount: options.quick ? 32 : settings.paddedPromptCount[backend],
              sortedByLength: backend === 'wasm' && SORTED_TEXT_DTYPES.includes(dtype),
              ensemble: {
                templates: TEMPLATES_80,
                classCount: appPath ? (settings.ensembleClassCount[backend] ?? 0) : 0,
              },
              batchSweep: [],
              firstRanking: null,
            },
          };
          const outcome = await runCase(
            browser,
            pageUrl,
            `${modelKey} ${dtype} ${backend}`,
            'inWorker',
            request,
          );
          results.models.push({ model: modelKey, dtype, backend, ...outcome });
          // The big-label-set measurements in a case of their own (a fresh worker, its own time limit): the text batch
          // sweep and ImageNet-1k's first ranking, after one image-tower run that only checks the model.
          const sweep = appPath ? (settings.textBatchSweep?.[backend] ?? []) : [];
          if (appPath && (sweep.length > 0 || settings.firstRanking?.[backend])) {
            const textRequest = {
              ...request,
              image: { warmupRuns: 0, timedRuns: 1, batchSizes: [], batchRuns: 0 },
              text: {
                ...request.text,
                paddedPromptCount: 0,
                sortedByLength: false,
                ensemble: { templates: TEMPLATES_80, classCount: 0 },
                batchSweep: sweep,
                firstRanking: settings.firstRanking?.[backend]
                  ? {
                      name: `ImageNet-1k × ${FAST_TEMPLATES.length} templates`,
                      labels: CLASS_NAMES,
                      templates: FAST_TEMPLATES,
                      batchSize: APP_TEXT_BATCH_WASM,
                    }
                  : null,
              },
            };
            const textOutcome = await runCase(
              browser,
              pageUrl,
              `${modelKey} ${dtype} ${backend}: text batch sweep + first ranking`,
              'inWorker',
              textRequest,
            );
            results.models.push({ model: modelKey, dtype, backend, part: 'big label sets', ...textOutcome });
          }
        }
      }
      if (options.peer) {
        for (const mode of ['pipeline', 'split']) {
          const outcome = await runCase(browser, pageUrl, `transformers.js peer (${mode})`, 'inWorker', {
            kind: 'peer',
            mode,
            // A path, not a full URL: transformers.js 4.3 checks that a local file exists (tokenizer_config.json) only
            // for paths, and with a full URL and remote models off it finds no tokenizer.
            modelsUrl: '/peer-models/',
            modelId: PEER.id,
            dtype: PEER.dtype,
            wasmPaths: `${server.url}/peer-ort/`,
            threads: options.threads,
            labels: CLASS_NAMES,
            template: results.settings.template,
            perImageLabelCount: PEER.perImageLabelCount,
            ...PEER.image,
          });
          results.peer.cases.push({ mode, ...outcome });
        }
      }
      if (!options.quick) await runMatmul('end');
    }
  } finally {
    await browser.close();
    await server.close();
  }
  results.load = { before: loadBefore, after: await loadSnapshot(process.pid) };
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  if (!options.photosOnly) results.derived = deriveAll(results);

  const files = [];
  if (options.write) {
    files.push(
      join(
        ROOT,
        'bench-results',
        // A photos-only run must not replace the day's full run.
        `${results.startedAt.slice(0, 10)}-${machineSlug(results.machine)}${options.photosOnly ? '-photos' : ''}.json`,
      ),
    );
  }
  if (options.json) files.push(resolve(options.json));
  for (const file of files) {
    mkdirSync(dirname(file), { recursive: true });
    // Formatted as the repository's Prettier check wants it, so a committed result passes `npm test`.
    const config = (await prettier.resolveConfig(file)) ?? {};
    writeFileSync(file, await prettier.format(JSON.stringify(results), { ...config, parser: 'json' }));
    log(`wrote ${file}`);
  }
  if (files.length === 0) log('no result file written (--quick or --no-write without --json)');
  console.log(`\n${renderReport(results)}\n`);
  // A failed case is recorded above and fails the run (npm test's smoke run relies on it); speed never does.
  const failed = [...results.matmul, ...results.models, ...(results.peer?.cases ?? [])].filter(
    (c) => c.error,
  );
  if (failed.length > 0) {
    log(`${failed.length} case(s) failed: ${failed.map((c) => c.error).join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
