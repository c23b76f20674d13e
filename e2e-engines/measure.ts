/**
 * Per-engine numbers for BENCHMARKS.md (issue #20, part 3), all read from what the app itself measured
 * (`window.__evaLens.snapshot()`): the demo model's load on a first visit (service worker precaching alongside) and
 * after a reload, the per-image time over the 24 samples, and 1,000 labels embedded at once. Peak memory only where
 * the engine exposes it (Chromium's `performance.memory`, the page's JS heap; the worker's heap is not included).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, inject, test } from 'vitest';
import { sampleLabels, samples } from '../e2e/support/reference';
import type { EngineDriver, EngineName } from './driver';
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
import { REPORT_DIR } from './suite';

const ENGINES: EngineName[] = ['chromium', 'firefox', 'webkit'];
const results: Record<string, unknown>[] = [];

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

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

afterAll(() => {
  stopWebKitService();
  mkdirSync(REPORT_DIR, { recursive: true });
  // Beside the suite's folder, which each suite run empties.
  writeFileSync(join(REPORT_DIR, '..', 'engines-bench.json'), JSON.stringify(results, null, 2));
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
      const model = warm.model!;
      results.push({
        engine,
        browser: driver.version,
        backend: `${model.backend} ${model.dtype}, ${model.threads} thread${model.threads === 1 ? '' : 's'}`,
        firstLoadMs: Math.round(first.model!.loadMs),
        firstLoadStages: first.model!.loadStages,
        reloadLoadMs: Math.round(model.loadMs),
        reloadLoadStages: model.loadStages,
        medianImageMs: Math.round(median(times)),
        meanImageMs: Math.round(times.reduce((a, b) => a + b, 0) / times.length),
        thousandLabelsMs: Math.round(embedded.labelEmbeddings!.ms),
        thousandLabelsFromCache: embedded.labelEmbeddings!.fromCache,
        peakHeapMb: peak,
        storage: (await snapshot(driver)).storageKind,
      });
    } finally {
      await driver.close();
    }
  });
}
