// `npm run bench`: measures the towers in headless Chromium on onnxruntime-web WASM and writes
// bench-results/<date>-<machine>.json, then prints the tables (bench/report.mjs). Not part of `npm test`.
//
//   npm run bench                      # the full run (~8 min on 2 cores)
//   npm run bench -- --quick           # a smoke run: demo model + B/16 int8, few repetitions, nothing written
//   npm run bench -- --dtypes int8,fp32 --no-write
//
// Steps: FLOPs of the towers and the MatMul graphs (Python toolchain) → type-check and build the bench page
// (bench/vite.config.ts) → serve it, the ORT runtime and the models from 127.0.0.1 with COOP/COEP → one fresh
// worker per case in Chromium, the renderer's memory sampled from /proc meanwhile.
/* global process, console, setTimeout, clearTimeout, window, document */
import { spawnSync } from 'node:child_process';
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
/** A case that takes longer than this is recorded as failed (its browser context is closed, ending its worker). */
const CASE_TIMEOUT_MS = 300_000;

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
    /** 25 classes × 80 templates = 2,000 prompts (~20 s at int8); all 80,000 would take ~12 min. */
    ensembleClassCount: { wasm: 25 },
  },
};
/** Dtypes that also run the length-sorted text experiment (it costs one more pass over the class names). */
const SORTED_TEXT_DTYPES = ['int8'];
/** Dtypes that also run the 80-template ensemble (the app's WASM path). */
const ENSEMBLE_DTYPES = ['int8'];
const MISSING_B16 =
  'models/.artifacts/eva02-b16-random/ is missing: the pytest suite writes it. Run\n' +
  '  node scripts/python.mjs -m pytest models/tests/test_export.py\n' +
  'and then `npm run bench` again (or `npm run bench -- --models eva-lens-demo`).';

const MATMUL_KINDS = ['fp32', 'int8', 'q4', 'fp16'];
const MATMUL_SHAPES = ['1024x768x2048', '197x768x2048'];

function parseOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      models: { type: 'string' },
      dtypes: { type: 'string' },
      backends: { type: 'string', default: 'wasm,webgpu' },
      threads: { type: 'string', default: '2' },
      'no-write': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const models = values.models?.split(',') ?? Object.keys(MODELS);
  for (const model of models) if (!MODELS[model]) throw new Error(`unknown model ${model}`);
  return {
    quick: values.quick,
    models,
    dtypes: values.dtypes?.split(',') ?? (values.quick ? ['int8'] : null),
    backends: values.backends.split(','),
    threads: Number(values.threads),
    write: !values['no-write'] && !values.quick,
    json: values.json,
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
async function runCase(browser, url, label, method, request) {
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
      timer = setTimeout(
        () => reject(new Error(`timed out after ${CASE_TIMEOUT_MS / 1000} s`)),
        CASE_TIMEOUT_MS,
      );
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
  const startedAt = new Date();
  const loadBefore = await loadSnapshot(process.pid);
  log(
    `load average before: ${loadBefore.loadavg.one.toFixed(2)} ${loadBefore.loadavg.five.toFixed(2)} ${loadBefore.loadavg.fifteen.toFixed(2)}`,
  );

  log('counting FLOPs from the ONNX graphs and writing the MatMul graphs (Python)…');
  const flops = Object.fromEntries(options.models.map((m) => [m, countFlops(m)]));
  const matmulDir = join(CACHE, 'matmul');
  const matmulModels = python(
    ['bench/matmul_models.py', matmulDir, MATMUL_KINDS.join(','), MATMUL_SHAPES.join(',')],
    { PYTHONPATH: 'models' },
  );

  log('type-checking and building the bench page…');
  npx(['tsc', '-p', 'bench/tsconfig.json']);
  const pageDir = join(CACHE, 'page');
  npx(['vite', 'build', '--config', 'bench/vite.config.ts', '--outDir', pageDir, '--emptyOutDir']);

  const routes = {
    '/ort/': ORT_DIST,
    '/matmul/': matmulDir,
    '/images/': IMAGES_DIR,
    ...Object.fromEntries(options.models.map((m) => [`/models/${m}/`, MODELS[m].dir])),
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
    },
    flops,
    matmul: [],
    preprocess: null,
    models: [],
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
      warmupRuns: 2,
      timedRuns: options.quick ? 3 : 5,
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
        passes: 3,
      };
      const where = (label, method) => runCase(browser, pageUrl, label, method, preprocessRequest);
      const worker = await where('preprocessing in a worker', 'inWorker');
      const mainThread = await where('preprocessing on the main thread', 'preprocessOnMainThread');
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
              classCount:
                options.quick || !ENSEMBLE_DTYPES.includes(dtype)
                  ? 0
                  : (settings.ensembleClassCount[backend] ?? 0),
            },
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
      }
    }
    await runMatmul('end');
  } finally {
    await browser.close();
    await server.close();
  }
  results.load = { before: loadBefore, after: await loadSnapshot(process.pid) };
  results.finishedAt = new Date().toISOString();
  results.durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
  results.derived = deriveAll(results);

  const files = [];
  if (options.write) {
    files.push(
      join(ROOT, 'bench-results', `${results.startedAt.slice(0, 10)}-${machineSlug(results.machine)}.json`),
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
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
