/**
 * Per-engine numbers for BENCHMARKS.md (issue #20, part 3), all read from what the app itself measured
 * (`window.__evaLens.snapshot()`): the demo model's load on a first visit (service worker precaching alongside) and
 * after a reload, the per-image time over the 24 samples, and 1,000 labels embedded at once; then the same for
 * EVA02-CLIP-B/16 int8 imported from a folder (b16.ts): its first load from storage and its load after a reload.
 * Peak memory only where the engine exposes it (Chromium's `performance.memory`, the page's JS heap; the worker's
 * heap, where the WASM model lives, is not included).
 *
 * One engine or one model at a time: `npm run bench:engines -- -t 'webkit: B/16'`. Each model's results are merged
 * by engine into its JSON file, so separate runs add up.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { afterAll, inject, test } from 'vitest';
import { ROOT } from '../e2e/support/paths';
import { sampleLabels, samples } from '../e2e/support/reference';
import { importB16, readB16, serveB16 } from './b16';
import type { EngineDriver, EngineName } from './driver';
import type { LensSnapshot } from './lens';
import { launchEngine, stopWebKitService } from './engines';
import {
  dropFiles,
  poll,
  reloadPage,
  sampleFile,
  snapshot,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
} from './lens';

const ENGINES: EngineName[] = ['chromium', 'firefox', 'webkit'];
const RESULTS_DIR = join(ROOT, 'test-results');
const results: Record<string, unknown>[] = [];
const b16Results: Record<string, unknown>[] = [];

/** 1,000 distinct labels in the demo's vocabulary style ("red star 17"). */
function thousandLabels(): string[] {
  const labels: string[] = [];
  for (let n = 0; labels.length < 1000; n++) for (const label of sampleLabels) labels.push(`${label} ${n}`);
  return labels.slice(0, 1000);
}

async function pasteLabels(driver: EngineDriver, labels: string[]): Promise<void> {
  await driver.click({ button: 'Paste a list of labels' });
  await driver.evaluate((text: string) => {
    const box = document.querySelector('textarea[aria-label="Labels, one per line"]') as HTMLTextAreaElement;
    // React tracks the value through the native setter; an input event then updates its state.
    Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!.call(box, text);
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }, labels.join('\n'));
  await driver.click({ button: 'Use these labels' });
}

function heapMb(driver: EngineDriver): Promise<number | null> {
  return driver.evaluate(() => {
    const memory = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
    return memory ? Math.round(memory.usedJSHeapSize / 1e5) / 10 : null;
  }, null);
}

/**
 * `performance.measureUserAgentSpecificMemory()` (Chromium, cross-origin isolated pages): the page and its workers,
 * so the inference worker's WASM heap is in it. Null where the engine has none or it does not answer in 30 s (it
 * waits for a garbage collection).
 */
function agentMemoryMb(driver: EngineDriver): Promise<number | null> {
  return driver.evaluate(async () => {
    const measure = (
      performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }
    ).measureUserAgentSpecificMemory;
    if (!measure || !self.crossOriginIsolated) return null;
    const result = await Promise.race([
      measure.call(performance),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 30_000)),
    ]);
    return result ? Math.round(result.bytes / 1e5) / 10 : null;
  }, null);
}

/** What both cases record of a model: backend, load on a first visit and after a reload, per image, 1,000 labels. */
function speedFacts(first: LensSnapshot, warm: LensSnapshot, times: number[], embedded: LensSnapshot) {
  const model = warm.model!;
  return {
    backend: `${model.backend} ${model.dtype}, ${model.threads} thread${model.threads === 1 ? '' : 's'}`,
    firstLoadMs: Math.round(first.model!.loadMs),
    firstLoadStages: first.model!.loadStages,
    reloadLoadMs: Math.round(model.loadMs),
    reloadLoadStages: model.loadStages,
    medianImageMs: Math.round(median(times)),
    meanImageMs: Math.round(times.reduce((a, b) => a + b, 0) / times.length),
    thousandLabelsMs: Math.round(embedded.labelEmbeddings!.ms),
    thousandLabelsFromCache: embedded.labelEmbeddings!.fromCache,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Writes `fresh` into `file`, keeping the entries of engines this run did not measure. */
function mergeInto(file: string, fresh: Record<string, unknown>[]): Record<string, unknown>[] {
  const path = join(RESULTS_DIR, file);
  const old = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[]) : [];
  const merged = [...old.filter((r) => !fresh.some((f) => f.engine === r.engine)), ...fresh];
  writeFileSync(path, JSON.stringify(merged, null, 2));
  return merged;
}

afterAll(() => {
  stopWebKitService();
  mkdirSync(RESULTS_DIR, { recursive: true });
  // Beside the suite's folder (test-results/engines), which each suite run empties.
  if (b16Results.length) {
    console.log(
      '\n| Engine | Backend | Import | First load | Load after reload | Per image (median / mean) | 1,000 labels | Peak JS heap | Page + workers | Load avg |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of mergeInto('engines-bench-b16.json', b16Results))
      console.log(
        r.failed
          ? `| ${r.engine} | failed: ${String(r.failed)} |`
          : `| ${r.browser} | ${r.backend} | ${r.importMs} ms | ${r.firstLoadMs} ms | ${r.reloadLoadMs} ms | ` +
              `${r.medianImageMs} / ${r.meanImageMs} ms | ${r.thousandLabelsMs} ms | ` +
              `${r.peakHeapMb === null ? 'not exposed' : `${r.peakHeapMb} MB`} | ` +
              `${r.agentMemoryMb === null ? 'not exposed' : `${r.agentMemoryMb} MB`} | ${JSON.stringify(r.loadAverage)} |`,
      );
  }
  if (!results.length) return;
  writeFileSync(join(RESULTS_DIR, 'engines-bench.json'), JSON.stringify(results, null, 2));
  console.log(
    '\n| Engine | Backend | First-visit load | Load after reload | Median per image | 1,000 labels | Peak JS heap |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.browser} | ${r.backend} | ${r.firstLoadMs} ms | ${r.reloadLoadMs} ms | ${r.medianImageMs} ms | ` +
        `${r.thousandLabelsMs} ms | ${r.peakHeapMb === null ? 'not exposed' : `${r.peakHeapMb} MB`} |`,
    );
});

for (const engine of ENGINES) {
  test(`${engine}: demo model load, per-image time, 1,000 labels`, async () => {
    const driver = await launchEngine(engine);
    try {
      let peak: number | null = null;
      const sample = async () => {
        const mb = await heapMb(driver);
        if (mb !== null) peak = Math.max(peak ?? 0, mb);
      };
      await driver.goto(inject('previewUrl'));
      const first = await waitForModel(driver);
      await poll(
        'the service worker controls the page',
        () => driver.evaluate(() => Boolean(navigator.serviceWorker?.controller), null),
        (controlled) => controlled,
        120_000,
      );
      await reloadPage(driver);
      const warm = await waitForModel(driver);
      await sample();
      await pasteLabels(driver, sampleLabels);
      await waitForLabelEmbeddings(driver, sampleLabels);
      await dropFiles(
        driver,
        samples.map((entry) => sampleFile(entry.file)),
      );
      const images = await waitForImagesSettled(driver, samples.length, 300_000);
      await sample();
      const times = images.images.map((image) => image.ms ?? Number.NaN);
      const labels = thousandLabels();
      await pasteLabels(driver, labels);
      const embedded = await waitForLabelEmbeddings(driver, labels, 300_000);
      await sample();
      results.push({
        engine,
        browser: driver.version,
        ...speedFacts(first, warm, times, embedded),
        peakHeapMb: peak,
        storage: (await snapshot(driver)).storageKind,
      });
    } finally {
      await driver.close();
    }
  });
}

const b16 = readB16();
const loadAverage = () => loadavg().map((load) => Math.round(load * 100) / 100);

for (const engine of ENGINES) {
  test.skipIf(typeof b16 === 'string')(
    `${engine}: B/16 int8 imported from a folder: load, per-image time, 1,000 labels`,
    async () => {
      if (typeof b16 === 'string') throw new Error(b16);
      const loadBefore = loadAverage();
      const server = await serveB16(b16.files);
      const driver = await launchEngine(engine);
      let step = 'first visit (demo model)';
      try {
        let peak: number | null = null;
        let agentPeak: number | null = null;
        const sample = async (withAgent = false) => {
          const mb = await heapMb(driver);
          if (mb !== null) peak = Math.max(peak ?? 0, mb);
          const agent = withAgent ? await agentMemoryMb(driver) : null;
          if (agent !== null) agentPeak = Math.max(agentPeak ?? 0, agent);
        };
        await driver.goto(inject('previewUrl'));
        await waitForModel(driver);
        step = `import of ${(b16.bytes / 1e6).toFixed(0)} MB`;
        const importMs = await importB16(driver, b16, server.url);
        await sample();
        step = 'first load from storage';
        await driver.click({ button: `Use ${b16.name}` });
        const first = await poll(
          `${b16.id} in use`,
          () => snapshot(driver),
          (s) => {
            if (s.modelStatus === 'error') throw new Error(`The model did not load: ${s.modelError ?? ''}`);
            return s.model?.id === b16.id && s.modelStatus === 'ready';
          },
          600_000,
        );
        await sample();
        step = 'load after a reload';
        await reloadPage(driver);
        const warm = await waitForModel(driver, 600_000);
        if (warm.model?.id !== b16.id) throw new Error(`After the reload the app used ${warm.model?.id}.`);
        await sample();
        step = 'the 24 samples';
        await pasteLabels(driver, sampleLabels);
        await waitForLabelEmbeddings(driver, sampleLabels, 300_000);
        await dropFiles(
          driver,
          samples.map((entry) => sampleFile(entry.file)),
        );
        const images = await waitForImagesSettled(driver, samples.length, 900_000);
        await sample(true);
        const times = images.images.map((image) => image.ms ?? Number.NaN);
        step = '1,000 labels';
        const labels = thousandLabels();
        await pasteLabels(driver, labels);
        const embedded = await waitForLabelEmbeddings(driver, labels, 900_000);
        await sample(true);
        b16Results.push({
          engine,
          model: b16.id,
          browser: driver.version,
          importMs,
          ...speedFacts(first, warm, times, embedded),
          images: times.length,
          peakHeapMb: peak,
          // Sampled after the images and after the labels (not a continuous peak).
          agentMemoryMb: agentPeak,
          loadAverage: { before: loadBefore, after: loadAverage() },
          date: new Date().toISOString(),
        });
      } catch (error) {
        // What happened is the result for this engine (memory, quota, time): recorded, and the test fails.
        const message = error instanceof Error ? error.message : String(error);
        b16Results.push({
          engine,
          model: b16.id,
          browser: driver.version,
          failed: `${step}: ${message.slice(0, 600)}`,
          loadAverage: { before: loadBefore, after: loadAverage() },
          date: new Date().toISOString(),
        });
        throw error;
      } finally {
        await driver.close();
        await server.close();
      }
    },
    1_800_000,
  );
}
