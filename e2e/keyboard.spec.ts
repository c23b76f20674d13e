/**
 * Keyboard and screen reader (issue #18, area 2): a skip link takes the Tab key past the header and the label list
 * to the images; every focusable element shows where the focus is (an image card checked by its pixels); the
 * accessible name of each control contains its visible text (axe's label-content-name-mismatch, which axe keeps out
 * of its default rules); the hidden file inputs are not in the accessibility tree.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import {
  dropFiles,
  expect,
  pasteLabels,
  sampleFile,
  test,
  waitForImagesSettled,
  waitForModel,
} from './support/lens';
import { sampleLabels, samples } from './support/reference';
import { saveScreen } from './support/lens';
import { recordMeasurement } from './support/timings';

/** Puts the sequential focus starting point at the very top of the page, as a fresh load would. */
async function focusPageStart(page: Page): Promise<void> {
  await page.evaluate(() => {
    const start = document.createElement('div');
    start.tabIndex = -1;
    start.id = 'test-page-start';
    document.body.prepend(start);
    start.focus();
  });
}

async function setUpResults(page: Page): Promise<void> {
  await page.goto('/');
  await waitForModel(page);
  await pasteLabels(page, sampleLabels);
  await dropFiles(
    page,
    samples.map((entry) => sampleFile(entry.file)),
  );
  await waitForImagesSettled(page, samples.length, 120_000);
}

/** axe with the rules this area is about, which its WCAG tags leave out (label-content-name-mismatch). */
async function nameProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withRules(['label-content-name-mismatch', 'button-name', 'label', 'aria-hidden-focus', 'link-name'])
    .analyze();
  return results.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${violation.id}: ${node.target.join(' ')} — ${node.failureSummary ?? ''}`),
  );
}

test('the skip link reaches the first image within 5 Tab presses, past every label', async ({ page }) => {
  test.setTimeout(180_000);
  await setUpResults(page);
  await focusPageStart(page);
  let presses = 0;
  let onImage = false;
  while (presses < 40 && !onImage) {
    await page.keyboard.press('Tab');
    presses += 1;
    const focused = await page.evaluate(() => document.activeElement?.className ?? '');
    if (focused === 'skip-link') {
      await expect(page.getByRole('link', { name: 'Skip to the images' })).toBeVisible();
      await page.keyboard.press('Enter');
    }
    onImage = focused === 'card__open';
  }
  recordMeasurement('Tab presses from the page start to the first image', {
    presses,
    labels: sampleLabels.length,
  });
  expect(onImage, 'reached an image card').toBe(true);
  expect(presses).toBeLessThanOrEqual(5);
});

test('every focusable element shows the focus; a focused card is outlined (checked by pixels)', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await setUpResults(page);
  const card = page.getByTestId('image-card').first();
  const box = (await card.boundingBox())!;
  const clip = { x: box.x - 6, y: box.y - 6, width: box.width + 12, height: box.height + 12 };
  await page.mouse.move(0, 0);
  const before = await page.screenshot({ clip });

  await focusPageStart(page);
  await page.keyboard.press('Tab'); // the skip link
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab'); // the first card
  await expect(card.getByRole('button', { name: /with all its scores$/ })).toBeFocused();
  const after = await page.screenshot({ clip });
  await saveScreen(page, 'keyboard-focused-card');

  // Pixels that changed between the two shots, counted in the page (a canvas decodes the PNGs).
  const changed = await page.evaluate(
    async ([a, b]) => {
      const decode = async (base64: string) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const context = canvas.getContext('2d')!;
        context.drawImage(bitmap, 0, 0);
        return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
      };
      const [one, two] = [await decode(a!), await decode(b!)];
      let count = 0;
      for (let i = 0; i < one.length; i += 4) {
        const delta =
          Math.abs(one[i]! - two[i]!) +
          Math.abs(one[i + 1]! - two[i + 1]!) +
          Math.abs(one[i + 2]! - two[i + 2]!);
        if (delta > 60) count += 1;
      }
      return count;
    },
    [before.toString('base64'), after.toString('base64')],
  );
  // A 3 px ring around a ~200×330 card is over 3,000 pixels; a faint change (a shadow) is far fewer.
  recordMeasurement('pixels changed by focusing a card', { changed });
  expect(changed).toBeGreaterThan(1500);

  // Every other stop of the Tab key draws an outline or a ring (its own, or its card's).
  const invisible: string[] = [];
  await focusPageStart(page);
  for (let stop = 0; stop < 80; stop++) {
    await page.keyboard.press('Tab');
    const reading = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element || element === document.body) return null;
      const shows = (target: Element | null) => {
        if (!target) return false;
        const style = getComputedStyle(target);
        return (
          (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) ||
          (style.boxShadow !== 'none' && style.boxShadow !== '')
        );
      };
      const name = element.getAttribute('aria-label') ?? element.textContent?.trim().slice(0, 30) ?? '';
      return {
        name: `${element.tagName.toLowerCase()} "${name}"`,
        shows: shows(element) || shows(element.closest('.card')),
      };
    });
    if (reading && !reading.shows) invisible.push(reading.name);
  }
  expect(invisible, 'focused elements without a visible indicator').toEqual([]);
});

test('accessible names contain the visible text, and the hidden file inputs are not exposed', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await waitForModel(page);
  const empty = await nameProblems(page);
  const tree = await page.locator('body').ariaSnapshot();
  expect(tree).not.toMatch(/Image files|Folder of images|Choose File|No file chosen/);
  await expect(page.getByTestId('try-samples')).toHaveAccessibleName('Try the samples');
  await expect(page.getByRole('button', { name: 'Add folder', exact: true })).toBeVisible();

  await pasteLabels(page, sampleLabels);
  await dropFiles(
    page,
    samples.map((entry) => sampleFile(entry.file)),
  );
  await waitForImagesSettled(page, samples.length, 120_000);
  const results = await nameProblems(page);
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  const models = await nameProblems(page);
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Help' }).click();
  const help = await nameProblems(page);
  await page.keyboard.press('Escape');
  recordMeasurement('axe name findings', { empty, results, models, help });
  expect([...empty, ...results, ...models, ...help]).toEqual([]);
});
