/**
 * Real models the way a person gets them (issue #5): the PWA installs and precaches itself; the Models dialog lists
 * a model server's models; a download shows its progress, survives a dropped connection and a reload (resuming with
 * HTTP Range), refuses corrupted bytes; a converted folder can be imported; the downloaded model classifies the
 * samples, and after going offline and reloading it is still there and still classifies them.
 *
 * One page carries state from step to step (storage, service worker), so the steps run in one test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { classifySamples, expectTop1Parity } from './support/classifyFlow';
import { expect, saveScreen, snapshot, test, waitForModel } from './support/lens';
import {
  HOSTED_ID,
  HOSTED_NAME,
  SECOND_ID,
  SECOND_NAME,
  startModelServer,
  writeModelCopy,
  type ModelServer,
} from './support/modelServer';
import { recordMeasurement } from './support/timings';

// The service worker is what makes the offline reload work, so this spec lets it run.
test.use({ serviceWorkers: 'allow' });

const IMPORTED_ID = 'eva-lens-demo-imported';
const IMPORTED_NAME = 'EVA Lens demo (imported copy)';
const TEXT_FILE = `/${HOSTED_ID}/text.int8.onnx`;

let server: ModelServer;
let importDir: string;

test.beforeAll(async () => {
  server = await startModelServer();
  importDir = mkdtempSync(join(tmpdir(), 'eva-lens-import-'));
  writeModelCopy(join(importDir, IMPORTED_ID), IMPORTED_ID, IMPORTED_NAME);
});

test.afterAll(async () => {
  await server.close();
  rmSync(importDir, { recursive: true, force: true });
});

const row = (page: Page, id: string) => page.locator(`[data-testid="model-row"][data-model-id="${id}"]`);

async function storedIds(page: Page): Promise<string[]> {
  return (await snapshot(page)).storedModels.map((model) => model.id);
}

async function openModels(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Models' })).toBeVisible();
}

/** GETs of `path` that asked for bytes from a non-zero offset (a resumed download). */
function resumedRequests(path: string): string[] {
  return server.log
    .filter((r) => r.path === path && r.range !== null && !/^bytes=0-/.test(r.range))
    .map((r) => r.range!);
}

test('download, resume, refuse, import, use, then offline', async ({ page, context }) => {
  test.setTimeout(420_000);

  await test.step('the app installs: manifest, service worker, Chromium finds no installability error', async () => {
    await page.goto('/');
    await waitForModel(page);
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const manifestHref = await page.locator('link[rel="manifest"]').getAttribute('href');
    expect(manifestHref).toBeTruthy();
    const manifest = (await (await page.request.get(manifestHref!)).json()) as {
      name: string;
      display: string;
      start_url: string;
      icons: { sizes: string }[];
    };
    expect(manifest).toMatchObject({ name: 'EVA Lens', display: 'standalone', start_url: '.' });
    expect(manifest.icons.map((icon) => icon.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    // Playwright's browser contexts are off-the-record profiles, where Chromium never offers installation
    // ('in-incognito'); any other error would be ours.
    expect(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
    const precached = await page.evaluate(async () => {
      const names = await caches.keys();
      let count = 0;
      for (const name of names.filter((n) => n.includes('precache')))
        count += (await (await caches.open(name)).keys()).length;
      return count;
    });
    expect(precached).toBeGreaterThan(40);
    recordMeasurement('pwa-precache', { entries: precached });
  });

  await test.step('the Models dialog lists the server catalog', async () => {
    await openModels(page);
    await page.getByLabel('Model server').fill(server.url);
    await page.getByRole('button', { name: 'Save server' }).click();
    await expect(row(page, HOSTED_ID)).toBeVisible();
    await expect(row(page, 'eva02-clip-b-16')).toContainText('ImageNet zero-shot 74.7% (published)');
    await expect(page.getByText(/^Storage:/)).toContainText('OPFS');
    await saveScreen(page, 'models-dialog');
  });

  await test.step('corrupted bytes are refused and nothing is stored', async () => {
    server.knobs.corrupt.add(TEXT_FILE);
    await page.getByRole('button', { name: `Download ${HOSTED_NAME}` }).click();
    await expect(row(page, HOSTED_ID).getByRole('alert')).toContainText(/checksum|sha256/i);
    expect(await storedIds(page)).not.toContain(HOSTED_ID);
    await saveScreen(page, 'models-corrupt');
    server.knobs.corrupt.clear();
  });

  await test.step('a dropped connection stops the download; resuming finishes it with a Range request', async () => {
    server.knobs.dropAfter.set(TEXT_FILE, 3_000_000);
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Resume download of ${HOSTED_NAME}` })
      .click();
    await expect(row(page, HOSTED_ID).getByRole('alert')).toBeVisible({ timeout: 30_000 });
    await saveScreen(page, 'models-dropped');
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Resume download of ${HOSTED_NAME}` })
      .click();
    await expect(row(page, HOSTED_ID).getByRole('button', { name: `Use ${HOSTED_NAME}` })).toBeVisible({
      timeout: 60_000,
    });
    expect(await storedIds(page)).toContain(HOSTED_ID);
    expect(resumedRequests(TEXT_FILE).length, 'a Range request from the dropped offset').toBeGreaterThan(0);
  });

  await test.step('delete asks first, then removes the model from storage', async () => {
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Delete ${HOSTED_NAME}` })
      .click();
    await row(page, HOSTED_ID).getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => storedIds(page)).not.toContain(HOSTED_ID);
  });

  await test.step('a reload mid-download keeps what arrived; resume continues from there', async () => {
    server.log.length = 0;
    server.knobs.bytesPerSecond = 1_500_000;
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Download ${HOSTED_NAME}` })
      .click();
    const bar = page.getByRole('progressbar', { name: `Downloading ${HOSTED_NAME}` });
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 })
      .toBeGreaterThan(40);
    await saveScreen(page, 'models-downloading');
    const before = Number(await bar.getAttribute('aria-valuenow'));
    await page.reload();
    await waitForModel(page);
    server.knobs.bytesPerSecond = 0;
    await openModels(page);
    await expect
      .poll(async () => (await snapshot(page)).incompleteDownloads.map((d) => d.modelId))
      .toContain(HOSTED_ID);
    await saveScreen(page, 'models-resume-offered');
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Resume download of ${HOSTED_NAME}` })
      .click();
    await expect(row(page, HOSTED_ID).getByRole('button', { name: `Use ${HOSTED_NAME}` })).toBeVisible({
      timeout: 60_000,
    });
    expect(await storedIds(page)).toContain(HOSTED_ID);
    const resumed = server.log.filter(
      (r) => r.path.endsWith('.onnx') && r.range && !/^bytes=0-/.test(r.range),
    );
    expect(resumed.length, `a Range request after the reload (progress was ${before}%)`).toBeGreaterThan(0);
    recordMeasurement('download-resume', {
      percentBeforeReload: before,
      resumed: resumed.map((r) => `${r.path} ${r.range}`),
    });
  });

  await test.step('a converted folder can be imported', async () => {
    await page.getByLabel('Import model folder').setInputFiles(join(importDir, IMPORTED_ID));
    await expect.poll(() => storedIds(page), { timeout: 30_000 }).toContain(IMPORTED_ID);
    await expect(row(page, IMPORTED_ID)).toBeVisible();
    await saveScreen(page, 'models-imported');
  });

  await test.step('a full disk gives a clear message and leaves the stored models intact', async () => {
    const cdp = await context.newCDPSession(page);
    const origin = new URL(page.url()).origin;
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
    // A nearly full disk: 1 MB left for a 10 MB model. (Chromium enforces the override on writes but does not show
    // it in estimate(), so this exercises the write-time refusal, not the check before the first byte.)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 1_000_000 });
    await row(page, SECOND_ID)
      .getByRole('button', { name: `Download ${SECOND_NAME}` })
      .click();
    const alert = row(page, SECOND_ID).getByRole('alert');
    await expect(alert).toContainText(/Not enough storage|the storage is full/);
    await expect(alert).toContainText('Your other stored models are intact.');
    await saveScreen(page, 'models-disk-full');
    expect((await storedIds(page)).sort()).toEqual([HOSTED_ID, IMPORTED_ID]);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  });

  await test.step('the downloaded model classifies the samples like the reference', async () => {
    await row(page, HOSTED_ID)
      .getByRole('button', { name: `Use ${HOSTED_NAME}` })
      .click();
    await expect(row(page, HOSTED_ID)).toContainText('In use');
    await page.getByRole('button', { name: 'Close' }).click();
    await expect.poll(async () => (await snapshot(page)).model?.id, { timeout: 60_000 }).toBe(HOSTED_ID);
    const run = await classifySamples(page, { labelsVia: 'paste' });
    expectTop1Parity(run);
  });

  await test.step('offline, a reload starts with the downloaded model from storage and classifies', async () => {
    await context.setOffline(true);
    server.log.length = 0;
    await page.reload();
    const state = await waitForModel(page);
    expect(state.model?.id, 'the last used model, read from storage').toBe(HOSTED_ID);
    expect(state.crossOriginIsolated, 'COOP/COEP from the service worker').toBe(true);
    expect(state.model?.threads).toBeGreaterThan(1);
    const run = await classifySamples(page, { labelsVia: 'paste' });
    expectTop1Parity(run);
    const labels = (await snapshot(page)).labelEmbeddings;
    expect(labels?.fromCache, 'label embeddings remembered from before the reload').toBe(
      labels?.texts.length,
    );
    expect(server.log, 'no request reached the model server while offline').toEqual([]);
    await saveScreen(page, 'models-offline-classified');
  });

  await test.step('offline, the embedded demo model loads from the service worker precache', async () => {
    await openModels(page);
    // The 24 samples were embedded twice with the same model: the second time came from the image cache.
    await expect(page.getByText('Image cache: results of 24 images kept on this device')).toBeVisible();
    await row(page, 'eva-lens-demo').getByRole('button', { name: /^Use / }).click();
    await expect
      .poll(async () => (await snapshot(page)).model?.id, { timeout: 60_000 })
      .toBe('eva-lens-demo');
    expect((await snapshot(page)).modelStatus).toBe('ready');
    await context.setOffline(false);
  });
});
