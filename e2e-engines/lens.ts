/**
 * Driving EVA Lens through any `EngineDriver`: the same steps as e2e/support/lens.ts (drop zone, label box, the
 * read-only test hook `window.__evaLens`), written once for all three engines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LensSnapshot } from '../src/state/testHook';
import { SAMPLES_DIR } from '../e2e/support/paths';
import type { EngineDriver, PageFile } from './driver';

export type { LensSnapshot };

export function sampleFile(name: string): PageFile {
  return { name, type: 'image/png', base64: readFileSync(join(SAMPLES_DIR, name)).toString('base64') };
}

/** `promise`, or a rejection after `ms`: one read that never answers (a page torn down under it) must not stall a poll. */
function withinMs<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the page did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Polls `read` until `accept` holds; fails with the last value seen (the app's own words) when time runs out. */
export async function poll<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    try {
      last = await withinMs(read(), Math.max(5_000, Math.min(60_000, deadline - Date.now())), what);
    } catch (error) {
      // A page that is navigating (a reload, "Forget everything") cannot answer yet: try again.
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    if (accept(last)) return last;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not reached in ${timeoutMs / 1000} s; last seen ${JSON.stringify(last).slice(0, 1500)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Reloads and makes sure a new document came (a marker set before must be gone): a driver's reload that returned
 * without reloading would otherwise let a scenario go on against the old page.
 */
export async function reloadPage(driver: EngineDriver): Promise<void> {
  await driver.evaluate(() => {
    (window as unknown as { __beforeReload?: boolean }).__beforeReload = true;
  }, null);
  await driver.reload();
  await poll(
    'a new document after the reload',
    () =>
      driver.evaluate(
        () => (window as unknown as { __beforeReload?: boolean }).__beforeReload === true,
        null,
      ),
    (old) => !old,
    60_000,
  );
}

export function snapshot(driver: EngineDriver): Promise<LensSnapshot> {
  return driver.evaluate(() => {
    if (!window.__evaLens)
      throw new Error('window.__evaLens is missing: is src/state/testHook.ts installed?');
    return window.__evaLens.snapshot();
  }, null);
}

/** Waits for the test hook (the page has booted), then for the model; a failed load fails with the app's message. */
export async function waitForModel(driver: EngineDriver, timeoutMs = 120_000): Promise<LensSnapshot> {
  await poll(
    'the page boots',
    () => driver.evaluate(() => Boolean(window.__evaLens), null),
    (ready) => ready,
    60_000,
  );
  const state = await poll(
    'model status',
    () => snapshot(driver),
    (s) => s.modelStatus === 'ready' || s.modelStatus === 'error',
    timeoutMs,
  );
  if (state.modelStatus === 'error') throw new Error(`The model did not load: ${state.modelError ?? ''}`);
  return state;
}

/**
 * Drops files on the drop zone through a script-made DataTransfer, as a drag from the file manager does. In
 * WebKitGTK the drop zone receives such a drop (types include 'Files') but reads no file from its items (measured:
 * the grid stays empty), so there the same files go through the "Add images" file input, the way a person picking
 * them does. Returns which way they went (recorded in the engine's facts).
 */
export async function dropFiles(
  driver: EngineDriver,
  files: readonly PageFile[],
): Promise<'drop' | 'file input'> {
  const via = driver.engine === 'webkit' ? 'file input' : 'drop';
  await driver.evaluate(
    ({ list, via }: { list: PageFile[]; via: string }) => {
      const transfer = new DataTransfer();
      for (const file of list) {
        const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
        transfer.items.add(
          new File([bytes], file.name, { type: file.type, lastModified: 1_700_000_000_000 }),
        );
      }
      if (via === 'file input') {
        const input = document.querySelector('[data-testid="file-input"]') as HTMLInputElement | null;
        if (!input) throw new Error('No file input on the page.');
        input.files = transfer.files;
        input.dispatchEvent(new Event('change', { bubbles: true }));
        return;
      }
      const zone = document.querySelector('[data-testid="drop-zone"]');
      if (!zone) throw new Error('No drop zone on the page.');
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    },
    { list: [...files], via },
  );
  return via;
}

export async function typeLabels(driver: EngineDriver, labels: readonly string[]): Promise<void> {
  for (const label of labels) {
    await driver.type({ testId: 'label-input' }, label, true);
    await poll(
      `label box empties after "${label}"`,
      () =>
        driver.evaluate(
          () => (document.querySelector('[data-testid="label-input"]') as HTMLInputElement | null)?.value,
          null,
        ),
      (value) => value === '',
      10_000,
    );
  }
}

export async function waitForLabelEmbeddings(
  driver: EngineDriver,
  labels: readonly string[],
  timeoutMs = 120_000,
): Promise<LensSnapshot> {
  const want = JSON.stringify([...labels]);
  return poll(
    'label embeddings',
    () => snapshot(driver),
    (s) => {
      if (s.labelEmbeddingError) throw new Error(`Label embedding failed: ${s.labelEmbeddingError}`);
      return s.labelEmbeddingStatus === 'ready' && JSON.stringify(s.labelEmbeddings?.texts) === want;
    },
    timeoutMs,
  );
}

/** Waits until `count` images are in the grid and none is queued or embedding. */
export async function waitForImagesSettled(
  driver: EngineDriver,
  count: number,
  timeoutMs = 180_000,
): Promise<LensSnapshot> {
  return poll(
    `${count} images settled`,
    () => snapshot(driver),
    (s) =>
      !s.run.isRunning &&
      s.images.filter((image) => image.status === 'done' || image.status === 'failed').length === count,
    timeoutMs,
  );
}

export interface CardReading {
  name: string;
  status: string;
  top1: string | null;
  message: string | null;
}

export function readCards(driver: EngineDriver): Promise<CardReading[]> {
  return driver.evaluate(
    () =>
      Array.from(document.querySelectorAll('[data-testid="image-card"]'), (card) => ({
        name: card.getAttribute('aria-label') ?? '',
        status: card.getAttribute('data-status') ?? '',
        top1: card.querySelector('[data-testid="top-label"]')?.getAttribute('data-label') ?? null,
        message: card.querySelector('.card__status')?.textContent ?? null,
      })),
    null,
  );
}

/** Waits until `count` cards show a top label (the grid renders a frame after the store). */
export function waitForCardsScored(driver: EngineDriver, count: number): Promise<CardReading[]> {
  return poll(
    'cards showing a top label',
    () => readCards(driver),
    (cards) => cards.filter((card) => card.top1 !== null).length === count,
    30_000,
  );
}

export function textOf(driver: EngineDriver, selector: string): Promise<string> {
  return driver.evaluate(
    (css: string) =>
      (document.querySelector(css) as HTMLElement | null)?.innerText.replace(/\s+/g, ' ').trim() ?? '',
    selector,
  );
}

/** What this engine offers the app, read in the page (the facts behind the README's browser table). */
export interface PageFacts {
  userAgent: string;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  webgpu: boolean;
  opfs: boolean;
  showDirectoryPicker: boolean;
  serviceWorker: boolean;
  webpEncode: boolean;
  hardwareConcurrency: number;
  beforeInstallPrompt: boolean;
  deviceMemory: number | null;
}

export function pageFacts(driver: EngineDriver): Promise<PageFacts> {
  return driver.evaluate(async () => {
    let webpEncode = false;
    try {
      const canvas = new OffscreenCanvas(4, 4);
      canvas.getContext('2d')?.fillRect(0, 0, 4, 4);
      webpEncode = (await canvas.convertToBlob({ type: 'image/webp' })).type === 'image/webp';
    } catch {
      webpEncode = false;
    }
    return {
      userAgent: navigator.userAgent,
      crossOriginIsolated: globalThis.crossOriginIsolated === true,
      sharedArrayBuffer: typeof SharedArrayBuffer !== 'undefined',
      webgpu: 'gpu' in navigator,
      opfs: typeof navigator.storage?.getDirectory === 'function',
      showDirectoryPicker: 'showDirectoryPicker' in window,
      serviceWorker: 'serviceWorker' in navigator,
      webpEncode,
      hardwareConcurrency: navigator.hardwareConcurrency,
      beforeInstallPrompt: 'onbeforeinstallprompt' in window,
      deviceMemory: (navigator as { deviceMemory?: number }).deviceMemory ?? null,
    };
  }, null);
}
