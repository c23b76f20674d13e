/**
 * Real EVA-CLIP from the model hub, built in the browser (issue #9), against a local stand-in of the hub that serves
 * a random-weight EVA02-CLIP-B/16 checkpoint with the real names, shapes and fp16 layout (300 MB), redirected to a CDN on
 * another origin as the public hub does: the download shows its progress, resumes a dropped connection by itself (with
 * Range), ends with a clear message when the hub stays down, keeps exactly what the store flushed on a cancel and
 * continues from there (each checked against what the server sent and the store reports), the build converts,
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

/** Download requests (the hub's resolve and its CDN) from `from` on in the log. */
const downloadRequests = (from = 0) =>
  hub.log.slice(from).filter((r) => r.method === 'GET' && !r.path.startsWith('/api/'));

/** Ranges the hub or its CDN was asked for that start past byte 0 (a resumed download). */
const resumedRanges = (from = 0) =>
  downloadRequests(from)
    .filter((r) => r.range && !/^bytes=0-/.test(r.range))
    .map((r) => r.range);

/** The checkpoint bytes the store reports (partial or committed), once the page has listed them. */
const keptBytes = async (page: Page) =>
  (await snapshot(page)).incompleteDownloads.find((d) => d.modelId === `${MODEL_ID}--checkpoint`)?.bytes ?? 0;

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

  let keptAtFailure = 0;
  await test.step('a dropped connection resumes by itself; a hub that stays down ends with a message, the demo in use', async () => {
    // The first drop is resumed with a Range request; at the second the hub and its CDN go down for good.
    hub.knobs.dropAt = [60_000_000, 120_000_000];
    hub.knobs.downAfterDrop = true;
    await buildRow(page).getByRole('button', { name: 'Build EVA02-CLIP-B/16' }).click();
    await expect(step(page, 'download')).toHaveAttribute('data-state', 'active');
    const alert = buildRow(page).getByRole('alert');
    await expect(alert).toContainText('Downloading failed: The download from 127.0.0.1:', {
      timeout: 120_000,
    });
    await expect(alert).toContainText('gave up after 5 tries. Check the connection, then build again.');
    await expect(alert).toContainText('The model you were using is still in use.');
    await expect(step(page, 'download')).toHaveAttribute('data-state', 'failed');
    expect((await snapshot(page)).activeModelId).toBe('eva-lens-demo');
    await saveScreen(page, 'hub-build-dropped');
    // The first drop was continued within the build, from what had been stored (at most what the CDN sent).
    const first = resumedRanges()[0];
    expect(first, 'a Range request after the first drop').toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(first!)![0])).toBeLessThanOrEqual(60_000_000);
    // What the store kept, once the page has listed it after the failure.
    await expect.poll(() => keptBytes(page), { timeout: 30_000 }).toBeGreaterThan(60_000_000);
    keptAtFailure = await keptBytes(page);
    expect(keptAtFailure).toBeLessThanOrEqual(120_000_000);
  });

  let keptAtCancel = 0;
  let logAtCancel = 0;
  await test.step('resume continues with a Range request from what was kept; cancel keeps what the store flushed', async () => {
    hub.knobs.down = false;
    hub.knobs.bytesPerSecond = 40_000_000;
    const logAtResume = hub.log.length;
    await buildRow(page)
      .getByRole('button', { name: /^Resume building EVA02-CLIP-B\/16/ })
      .click();
    const loaded = async () => (await snapshot(page)).downloads[MODEL_ID]?.loaded ?? 0;
    await expect.poll(loaded, { timeout: 60_000 }).toBeGreaterThan(160_000_000);
    await saveScreen(page, 'hub-build-downloading');
    // Bytes the page had reported as written before the cancel: the store must keep at least these.
    const written = await loaded();
    await buildRow(page).getByRole('button', { name: 'Cancel building EVA02-CLIP-B/16' }).click();
    await expect(buildRow(page)).toContainText(
      /Build stopped\. The downloaded part of the checkpoint \([\d.]+ MB\) is kept; resume any time\./,
    );
    hub.knobs.bytesPerSecond = 0;
    // The download continued exactly from the bytes the store had reported.
    expect(resumedRanges(logAtResume)[0]).toBe(`bytes=${keptAtFailure}-`);
    // The store's report after the cancel (the engine closes the partial before it answers; the page lists storage
    // after that answer): at least what had been written, at most what the servers sent.
    await expect.poll(() => keptBytes(page), { timeout: 30_000 }).toBeGreaterThanOrEqual(written);
    keptAtCancel = await keptBytes(page);
    const sent = downloadRequests(logAtResume).reduce((sum, r) => sum + r.sent, 0);
    expect(keptAtCancel).toBeLessThanOrEqual(keptAtFailure + sent);
    logAtCancel = hub.log.length;
  });

  await test.step('the build converts, quantizes and verifies against the recorded PyTorch probe', async () => {
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
    // The build continued from exactly what the store kept; a cancel after the last byte left nothing to fetch.
    const after = downloadRequests(logAtCancel);
    if (keptAtCancel === checkpointBytes) expect(after).toEqual([]);
    else expect(after[0]!.range).toBe(`bytes=${keptAtCancel}-`);
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
    await page.getByRole('button', { name: `Use ${BUILT_NAME}`, exact: true }).click();
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
