/**
 * Privacy and security (issue #7, part 5): images never leave the device, the production build runs under a strict
 * Content-Security-Policy with no violation, and "Forget everything" empties what the app keeps in the browser.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, Request } from '@playwright/test';
import { classifySamples, expectTop1Parity } from './support/classifyFlow';
import {
  dropFiles,
  expect,
  sampleFile,
  saveScreen,
  snapshot,
  test,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
} from './support/lens';
import { writeModelCopy } from './support/modelServer';

const APP_ORIGIN = `http://127.0.0.1:${process.env.EVA_LENS_E2E_PORT ?? 4173}`;

/** Requests over the network (http/https); `blob:` thumbnails and `data:` URLs never leave the page. */
function networkUrls(requests: readonly Request[]): string[] {
  return requests.map((r) => r.url()).filter((url) => /^https?:/.test(url));
}

test('once both towers are open, classifying and new labels make no request; the app never calls another origin', async ({
  page,
  context,
}) => {
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  await page.goto('/');
  await waitForModel(page);
  // The text tower opens when labels first need it: its files are the last thing the app fetches.
  await typeLabels(page, ['red star', 'blue star']);
  await waitForLabelEmbeddings(page, ['red star', 'blue star']);
  const beforeClassifying = requests.length;

  await typeLabels(page, ['green heart']);
  await dropFiles(page, ['red-star.png', 'blue-star.png', 'green-heart.png'].map(sampleFile));
  await waitForLabelEmbeddings(page, ['red star', 'blue star', 'green heart']);
  await waitForImagesSettled(page, 3);
  await waitForCardsScored(page, 3);

  expect(networkUrls(requests.slice(beforeClassifying)), 'requests while classifying').toEqual([]);
  const foreign = networkUrls(requests).filter((url) => new URL(url).origin !== APP_ORIGIN);
  expect(foreign, 'requests to another origin').toEqual([]);
  console.log(`requests before classifying: ${beforeClassifying}; while classifying: 0`);
});

test('the production build runs under a strict CSP with no violation, and the policy bites', async ({
  page,
}) => {
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { __cspViolations: string[] }).__cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  const workerPolicies: string[] = [];
  page.on('response', (response) => {
    if (/lens\.worker.*\.js$/.test(response.url()))
      workerPolicies.push(response.headers()['content-security-policy'] ?? '(none)');
  });

  const response = await page.goto('/');
  const headerPolicy = response?.headers()['content-security-policy'] ?? '';
  expect(headerPolicy).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(headerPolicy).not.toMatch(/unsafe-inline|'unsafe-eval'/);
  const metaPolicy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(metaPolicy).toContain("default-src 'self'");

  await waitForModel(page);
  const run = await classifySamples(page, { labelsVia: 'type' });
  expectTop1Parity(run);
  expect(workerPolicies.length, 'the inference worker script was fetched').toBeGreaterThan(0);
  for (const policy of workerPolicies) expect(policy).toContain("'wasm-unsafe-eval'");

  const violations = await page.evaluate(
    () => (window as unknown as { __cspViolations: string[] }).__cspViolations,
  );
  expect(violations, 'CSP violations while loading and classifying').toEqual([]);
  expect(refused, 'CSP messages in the console while loading and classifying').toEqual([]);

  // The control: the same page refuses an inline script and an inline event handler, and reports both. (eval
  // cannot be the control: code Playwright evaluates runs with DevTools' exemption from the page's policy.)
  const control = await page.evaluate(async () => {
    const flags = window as unknown as { __inlineRan?: boolean; __handlerRan?: boolean };
    const script = document.createElement('script');
    script.textContent = 'window.__inlineRan = true;';
    document.head.append(script);
    const image = document.createElement('img');
    image.setAttribute('onerror', 'window.__handlerRan = true');
    document.body.append(image);
    image.src = 'data:,not-an-image';
    await new Promise((resolve) => setTimeout(resolve, 200));
    image.remove();
    return { inlineRan: flags.__inlineRan === true, handlerRan: flags.__handlerRan === true };
  });
  expect(control).toEqual({ inlineRan: false, handlerRan: false });
  await expect
    .poll(() =>
      page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations.length),
    )
    .toBeGreaterThanOrEqual(2);
});

/** What the app keeps in this browser: OPFS entries, embedding-cache records, Web Storage keys. */
async function deviceStorage(page: Page) {
  return page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const opfs: string[] = [];
    // Walks the whole private file system: models live in folders below the root.
    const walk = async (dir: FileSystemDirectoryHandle, prefix: string): Promise<void> => {
      for await (const [name, handle] of (
        dir as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
      ).entries()) {
        if (handle.kind === 'file') opfs.push(`${prefix}${name}`);
        else await walk(handle as FileSystemDirectoryHandle, `${prefix}${name}/`);
      }
    };
    await walk(root, '');
    const records: Record<string, number> = {};
    const labelKeys: string[] = [];
    const databases = await indexedDB.databases();
    for (const { name } of databases) {
      if (!name) continue;
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      if (db.objectStoreNames.contains('labels')) {
        const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
          const request = db.transaction('labels').objectStore('labels').getAllKeys();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        labelKeys.push(...keys.map(String));
      }
      for (const store of Array.from(db.objectStoreNames)) {
        records[`${name}/${store}`] = await new Promise<number>((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).count();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      }
      db.close();
    }
    const webStorage = [...Object.keys(localStorage), ...Object.keys(sessionStorage)].filter((key) =>
      key.startsWith('eva-lens'),
    );
    return { opfs, records, labelKeys, webStorage };
  });
}

test('"Forget everything" empties models, results, labels and settings, and the app starts afresh', async ({
  page,
}) => {
  const importDir = mkdtempSync(join(tmpdir(), 'eva-lens-forget-'));
  try {
    writeModelCopy(
      join(importDir, 'eva-lens-demo-private'),
      'eva-lens-demo-private',
      'EVA Lens demo (private copy)',
    );
    await page.goto('/');
    await waitForModel(page);
    await typeLabels(page, ['my sister’s bike', 'red star']);
    await dropFiles(page, [sampleFile('red-star.png')]);
    await waitForImagesSettled(page, 1);
    await waitForCardsScored(page, 1);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByLabel('Import model folder').setInputFiles(join(importDir, 'eva-lens-demo-private'));
    await expect
      .poll(async () => (await snapshot(page)).storedModels.map((m) => m.id), { timeout: 60_000 })
      .toEqual(['eva-lens-demo-private']);

    const before = await deviceStorage(page);
    expect(before.opfs.length, 'model files in OPFS').toBeGreaterThan(0);
    expect(before.records['eva-lens-embeddings/images'], 'cached image results').toBeGreaterThan(0);
    expect(before.labelKeys.some((key) => key.includes('my sister’s bike'))).toBe(true);
    expect(before.webStorage).toContain('eva-lens');

    await page.getByRole('button', { name: 'Forget everything…' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Delete downloaded models' })).toBeVisible();
    await saveScreen(page, 'forget-everything');
    await Promise.all([
      page.waitForEvent('load'),
      page.getByRole('button', { name: 'Forget everything', exact: true }).click(),
    ]);
    const state = await waitForModel(page);
    expect(state.labels, 'the labels are the first visit’s again').not.toContain('my sister’s bike');
    expect(state.images).toEqual([]);

    const after = await deviceStorage(page);
    expect(after.opfs, 'files left in OPFS').toEqual([]);
    // The fresh start embeds its default labels and checks the demo model again (labels, probes); nothing of the
    // earlier visit is left.
    expect(after.records['eva-lens-embeddings/images'], 'cached image results').toBe(0);
    expect(after.labelKeys.filter((key) => key.includes('my sister’s bike'))).toEqual([]);
    expect(after.webStorage.filter((key) => key !== 'eva-lens')).toEqual([]);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await expect(
      page.locator('[data-testid="model-row"][data-model-id="eva-lens-demo-private"]'),
    ).toHaveCount(0);
  } finally {
    rmSync(importDir, { recursive: true, force: true });
  }
});
