/**
 * Driving EVA Lens the way a person does (drop zone, label box, backend select), plus reading the store through
 * the read-only test hook (src/state/testHook.ts) for the numbers the page does not print.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test as base, type Page } from '@playwright/test';
import type { LensSnapshot } from '../../src/state/testHook';
import { SAMPLES_DIR, SCREENS_DIR } from './paths';

export type { LensSnapshot };

/** A file as the drop zone receives it; bytes travel to the page as base64. */
export interface DropFile {
  name: string;
  type: string;
  base64: string;
}

export function sampleFile(name: string): DropFile {
  return { name, type: 'image/png', base64: readFileSync(join(SAMPLES_DIR, name)).toString('base64') };
}

export function textFile(name: string, text: string, type = 'text/plain'): DropFile {
  return { name, type, base64: Buffer.from(text, 'utf8').toString('base64') };
}

export async function snapshot(page: Page): Promise<LensSnapshot> {
  return page.evaluate(() => {
    if (!window.__evaLens)
      throw new Error('window.__evaLens is missing: is src/state/testHook.ts installed?');
    return window.__evaLens.snapshot();
  });
}

/**
 * Waits until the model is ready; fails at once with the app's own message if loading failed (a WebGPU variant
 * the backend cannot run must fail the test, never be skipped).
 */
export async function waitForModel(page: Page, timeout = 60_000): Promise<LensSnapshot> {
  await expect
    .poll(async () => (await snapshot(page)).modelStatus, { timeout, message: 'model status' })
    .toMatch(/^(ready|error)$/);
  const state = await snapshot(page);
  if (state.modelStatus === 'error')
    throw new Error(`The model did not load: ${state.modelError ?? '(no message)'}`);
  return state;
}

/** Drops files on the page's drop zone through a real DataTransfer, as a drag from the file manager does. */
export async function dropFiles(page: Page, files: readonly DropFile[]): Promise<void> {
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const file of list) {
      const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], file.name, { type: file.type, lastModified: 1_700_000_000_000 }));
    }
    return transfer;
  }, files);
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('dragover', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

/**
 * Drops `count` large photos-like JPEGs (random noise, `side`×`side`) made in the page: big enough that each one
 * takes the worker a noticeable time to decode and resize, so a batch can be cancelled half-way. One encoded image
 * is shared by files with different names (the app tells files apart by name, size and date).
 */
export async function dropGeneratedImages(page: Page, count: number, side: number): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    async ({ count, side }) => {
      const canvas = new OffscreenCanvas(side, side);
      const context = canvas.getContext('2d');
      if (!context) throw new Error('No 2D canvas in this browser.');
      const pixels = context.createImageData(side, side);
      for (let i = 0; i < pixels.data.length; i += 4) {
        pixels.data[i] = (i * 7919) % 251;
        pixels.data[i + 1] = (i * 104729) % 241;
        pixels.data[i + 2] = (i >> 10) % 256;
        pixels.data[i + 3] = 255;
      }
      context.putImageData(pixels, 0, 0);
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
      const transfer = new DataTransfer();
      for (let n = 0; n < count; n++) {
        const name = `large-${String(n + 1).padStart(3, '0')}.jpg`;
        transfer.items.add(new File([blob], name, { type: 'image/jpeg', lastModified: 1_700_000_000_000 }));
      }
      return transfer;
    },
    { count, side },
  );
  const zone = page.getByTestId('drop-zone');
  await zone.dispatchEvent('dragenter', { dataTransfer });
  await zone.dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

/** Types each label into the label box and presses Enter. */
export async function typeLabels(page: Page, labels: readonly string[]): Promise<void> {
  const input = page.getByTestId('label-input');
  for (const label of labels) {
    await input.fill(label);
    await input.press('Enter');
    await expect(input).toHaveValue('');
  }
}

/** Replaces the labels through the "Paste a list" box. */
export async function pasteLabels(page: Page, labels: readonly string[]): Promise<void> {
  await page.getByRole('button', { name: 'Paste a list of labels' }).click();
  await page.getByLabel('Labels, one per line').fill(labels.join('\n'));
  await page.getByRole('button', { name: 'Use these labels' }).click();
}

/** Waits until `labels` (in this order) are the embedded label set. */
export async function waitForLabelEmbeddings(page: Page, labels: readonly string[], timeout = 60_000) {
  await expect
    .poll(
      async () => {
        const state = await snapshot(page);
        if (state.labelEmbeddingError) return `error: ${state.labelEmbeddingError}`;
        return state.labelEmbeddingStatus === 'ready' ? (state.labelEmbeddings?.texts ?? []) : [];
      },
      { timeout, message: 'label embeddings' },
    )
    .toEqual([...labels]);
}

/** Waits until `count` images are in the grid and none is queued or embedding any more. */
export async function waitForImagesSettled(
  page: Page,
  count: number,
  timeout = 60_000,
): Promise<LensSnapshot> {
  await expect
    .poll(
      async () => {
        const state = await snapshot(page);
        const settled = state.images.filter((image) => image.status === 'done' || image.status === 'failed');
        return state.run.isRunning ? -1 : settled.length;
      },
      { timeout, message: 'images settled' },
    )
    .toBe(count);
  return snapshot(page);
}

export interface CardReading {
  name: string;
  status: string;
  /** The first (most probable) label the card lists, or null when it lists none. */
  top1: string | null;
  top1Probability: number | null;
  /** The card's status or error line, when it shows one. */
  message: string | null;
}

/** What each card in the grid shows, in grid order. */
export async function readCards(page: Page): Promise<CardReading[]> {
  return page.getByTestId('image-card').evaluateAll((cards) =>
    cards.map((card) => {
      const top = card.querySelector('[data-testid="top-label"]');
      return {
        name: card.getAttribute('aria-label') ?? '',
        status: card.getAttribute('data-status') ?? '',
        top1: top?.getAttribute('data-label') ?? null,
        top1Probability: top ? Number(top.getAttribute('data-probability')) : null,
        message: card.querySelector('.card__status')?.textContent ?? null,
      };
    }),
  );
}

/** Waits until every card that is done shows a top label (the grid re-renders a frame after the store). */
export async function waitForCardsScored(page: Page, count: number): Promise<CardReading[]> {
  await expect
    .poll(async () => (await readCards(page)).filter((card) => card.top1 !== null).length, {
      message: 'cards showing a top label',
    })
    .toBe(count);
  return readCards(page);
}

export async function saveScreen(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS_DIR, { recursive: true });
  await page.screenshot({ path: join(SCREENS_DIR, `${name}.png`), fullPage: true });
}

/** softmax(logitScale × cosine) of one image over the label set, as the app computes it. */
export function labelProbabilities(
  image: readonly number[],
  labels: readonly number[][],
  logitScale: number,
) {
  const logits = labels.map((label) => logitScale * label.reduce((sum, v, i) => sum + v * image[i]!, 0));
  const max = Math.max(...logits);
  const exps = logits.map((logit) => Math.exp(logit - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The test with uncaught page errors and `alert` dialogs recorded: both fail the test when it ends (an `alert`
 * can only come from injected markup, e.g. a label rendered as HTML).
 */
export const test = base.extend<{ pageProblems: string[] }>({
  pageProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('dialog', (dialog) => {
        problems.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
        void dialog.dismiss();
      });
      await use(problems);
      expect(problems, 'uncaught errors or dialogs in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
