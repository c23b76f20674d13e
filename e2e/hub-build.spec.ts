/**
 * Real EVA-CLIP from the model hub, built in the browser (issue #9), against a local stand-in of the hub that serves
 * a random-weight EVA02-CLIP-B/16 checkpoint with the real names, shapes and fp16 layout (300 MB): the download
 * shows its progress, survives a dropped connection and a cancel (resuming with Range), the build converts,
 * quantizes and verifies it (against the PyTorch probe the toolchain recorded for these exact bytes), the model
 * classifies the samples, and after going offline and reloading it is still there.
 *
 * One page carries state from step to step (storage, service worker), so the steps run in one test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { Page } from '@playwright/test';
import {
  expect,
  saveScreen,
  snapshot,
  test,
  waitForCardsScored,
  waitForImagesSettled,
  waitForModel,
} from './support/lens';
import { ensureB16Checkpoint, startHubServer, type HubServer } from './support/hubServer';
import { samples } from './support/reference';
import { recordMeasurement } from './support/timings';

test.use({ serviceWorkers: 'allow' });

const MODEL_ID = 'eva02-clip-b-16-hub';
const BUILT_NAME = 'EVA02-CLIP-B/16 (from the official weights)';

let hub: HubServer;
let checkpointBytes = 0;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  checkpointBytes = statSync(ensureB16Checkpoint()).size;
  hub = await startHubServer();
});

test.afterAll(async () => {
  await hub?.close();
});

const buildRow = (page: Page) => page.locator(`[data-testid="hub-build"][data-model-id="${MODEL_ID}"]`);
const step = (page: Page, name: string) => buildRow(page).locator(`[data-step="${name}"]`);

/** Ranges the hub was asked for that start past byte 0 (a resumed download). */
const resumedRanges = () =>
  hub.log
    .filter((r) => r.path.startsWith('/cdn/') && r.range && !/^bytes=0-/.test(r.range))
    .map((r) => r.range);

/** "Try the samples" on the model in use; every card gets a top label (random weights: which one means nothing). */
async function classifyTheSamples(page: Page): Promise<void> {
  await page.getByTestId('try-samples').click();
  const state = await waitForImagesSettled(page, samples.length, 180_000);
  expect(state.images.filter((image) => image.status === 'done')).toHaveLength(samples.length);
  await waitForCardsScored(page, samples.length);
}

/** Peak resident memory of Chromium's renderer processes (the page and its worker), sampled from /proc. */
function rendererRssBytes(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('--type=renderer')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

test('build EVA02-CLIP-B/16 from the hub: download, resume, convert, quantize, verify, classify, offline', async ({
  page,
  context,
}) => {
  test.setTimeout(600_000);

  await test.step('the Models dialog offers the official weights with source, licence and size', async () => {
    await page.goto('/');
    await waitForModel(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    const row = buildRow(page);
    await expect(row).toContainText('EVA02-CLIP-B/16 (from the official weights, 299.4 MB download)');
    await expect(row).toContainText(
      'Source: huggingface.co/timm/eva02_base_patch16_clip_224.merged2b_s8b_b131k',
    );
    await expect(row).toContainText('Licence: MIT');
    // Point the app at the stand-in, as a person would at a mirror.
    const hubInput = page.getByRole('textbox', { name: 'Model hub' });
    await expect(hubInput).toHaveValue('https://huggingface.co');
    await hubInput.fill(hub.url);
    await page.getByRole('button', { name: 'Save hub' }).click();
  });

  await test.step('a dropped connection stops the download and names the step; the demo model stays in use', async () => {
    hub.knobs.dropAt = 120_000_000;
    await buildRow(page).getByRole('button', { name: 'Build EVA02-CLIP-B/16' }).click();
    await expect(step(page, 'download')).toHaveAttribute('data-state', 'active');
    await expect(buildRow(page).getByRole('alert')).toContainText(
      'Downloading failed: The download of open_clip_model.safetensors was interrupted',
      { timeout: 120_000 },
    );
    await expect(buildRow(page).getByRole('alert')).toContainText(
      'The model you were using is still in use.',
    );
    await expect(step(page, 'download')).toHaveAttribute('data-state', 'failed');
    expect((await snapshot(page)).activeModelId).toBe('eva-lens-demo');
    await saveScreen(page, 'hub-build-dropped');
  });

  await test.step('resume continues with a Range request; cancel keeps what arrived; resume again', async () => {
    hub.knobs.bytesPerSecond = 40_000_000;
    await buildRow(page)
      .getByRole('button', { name: /^Resume building EVA02-CLIP-B\/16/ })
      .click();
    const bar = page.getByRole('progressbar', { name: 'Building EVA02-CLIP-B/16' });
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 })
      .toBeGreaterThan(55);
    await saveScreen(page, 'hub-build-downloading');
    await buildRow(page).getByRole('button', { name: 'Cancel building EVA02-CLIP-B/16' }).click();
    await expect(buildRow(page)).toContainText(
      'Build stopped. The downloaded part of the checkpoint is kept',
    );
    const kept = (await snapshot(page)).incompleteDownloads.find(
      (d) => d.modelId === `${MODEL_ID}--checkpoint`,
    );
    expect(kept?.bytes ?? 0).toBeGreaterThan(120_000_000);
    hub.knobs.bytesPerSecond = 0;
    expect(resumedRanges().length, 'a Range request from the dropped offset').toBeGreaterThan(0);
  });

  await test.step('the build converts, quantizes and verifies against the recorded PyTorch probe', async () => {
    const before = resumedRanges().length;
    const baselineRss = rendererRssBytes();
    let peakRss = baselineRss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rendererRssBytes())), 250);
    const started = Date.now();
    try {
      await buildRow(page)
        .getByRole('button', { name: /^Resume building EVA02-CLIP-B\/16/ })
        .click();
      await expect(step(page, 'convert')).toHaveAttribute('data-state', 'active', { timeout: 120_000 });
      await saveScreen(page, 'hub-build-converting');
      await expect(buildRow(page)).toContainText('Built', { timeout: 300_000 });
    } finally {
      clearInterval(sampler);
    }
    // (No second Range is required here: the cancel can land after the last byte, leaving the file complete.)
    expect(resumedRanges().length).toBeGreaterThanOrEqual(before);
    const stored = (await snapshot(page)).storedModels.find((m) => m.id === MODEL_ID)!;
    expect(stored.dtypes).toEqual(['int8', 'q4']);
    expect(String(stored.metrics.probeReference)).toContain(
      'PyTorch fp32 embeddings the toolchain recorded for this checkpoint (random-weight B/16 (seed 0)',
    );
    // The browser's files are the ones `npm run models -- convert` makes from the same bytes, bit for bit.
    expect(String(stored.metrics.probeReference)).toContain('files identical to its convert output');
    expect(stored.probeCosine.int8!.image).toBeGreaterThanOrEqual(0.99);
    expect(stored.probeCosine.int8!.text).toBeGreaterThanOrEqual(0.99);
    expect(stored.probeCosine.q4!.image).toBeGreaterThanOrEqual(0.97);
    expect((await snapshot(page)).incompleteDownloads.map((d) => d.modelId)).not.toContain(
      `${MODEL_ID}--checkpoint`,
    );
    recordMeasurement('hub-build-b16', {
      checkpointBytes,
      lastStepsSeconds: (Date.now() - started) / 1000,
      downloadSeconds: stored.metrics.downloadSeconds,
      convertAndQuantizeSeconds: stored.metrics.convertAndQuantizeSeconds,
      verifySeconds: stored.metrics.verifySeconds,
      rendererRssBeforeMiB: Math.round(baselineRss / 2 ** 20),
      rendererPeakRssMiB: Math.round(peakRss / 2 ** 20),
      storedBytes: stored.bytes,
      probeCosine: stored.probeCosine,
    });
    await saveScreen(page, 'hub-build-done');
  });

  await test.step('the built model classifies the samples', async () => {
    await page.getByRole('button', { name: `Use ${BUILT_NAME}` }).click();
    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(async () => (await snapshot(page)).activeModelId).toBe(MODEL_ID);
    const state = await waitForModel(page, 120_000);
    expect(state.model?.dtype).toBe('int8');
    await classifyTheSamples(page);
  });

  await test.step('offline, a reload starts with the built model from storage', async () => {
    hub.log.length = 0;
    await context.setOffline(true);
    await page.reload();
    const state = await waitForModel(page, 120_000);
    expect(state.activeModelId).toBe(MODEL_ID);
    expect(state.model?.id).toBe(MODEL_ID);
    await classifyTheSamples(page);
    expect(hub.log, 'no request reached the hub while offline').toEqual([]);
    await context.setOffline(false);
  });
});
