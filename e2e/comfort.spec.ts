/**
 * Comfort (issue #8, part 6): the image lightbox with every label's score, driven by the keyboard; the help panel;
 * light and dark themes following the system; and an axe-core accessibility scan of the main states (every control
 * named for screen readers, contrast, landmarks).
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, readCards, saveScreen, snapshot, test, waitForModel } from './support/lens';
import { trySamples } from './support/classifyFlow';
import { sampleLabels } from './support/reference';
import { recordMeasurement } from './support/timings';

/** Serious and critical axe findings, as short lines (rule, target) for a readable failure. */
async function axeProblems(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .flatMap((violation) =>
      violation.nodes
        .slice(0, 3)
        .map((node) => `${violation.id}: ${node.target.join(' ')} — ${violation.help}`),
    );
}

test('the lightbox shows every label score and is driven by the keyboard', async ({ page }) => {
  const { cards } = await trySamples(page);
  const first = cards[0]!;
  await page.getByRole('button', { name: `Open ${first.name} with all its scores` }).focus();
  await page.keyboard.press('Enter');
  const lightbox = page.getByTestId('lightbox');
  await expect(lightbox).toBeVisible();
  await expect(lightbox.getByRole('heading', { name: first.name })).toBeVisible();
  const rows = lightbox.locator('tbody tr');
  await expect(rows).toHaveCount(sampleLabels.length);
  await expect(rows.first().locator('td').first()).toHaveText(first.top1!);
  // The full-size original is shown (a blob: URL of the dropped file, not the thumbnail).
  const shown = await lightbox
    .locator('figure img')
    .evaluate((img: HTMLImageElement) => [img.naturalWidth, img.src]);
  expect(shown[0]).toBeGreaterThan(0);
  await saveScreen(page, '16-lightbox');

  await page.keyboard.press('ArrowRight');
  await expect(lightbox.getByRole('heading', { name: cards[1]!.name })).toBeVisible();
  await page.keyboard.press('ArrowLeft');
  await expect(lightbox.getByRole('heading', { name: first.name })).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(lightbox).toBeHidden();
  // Focus goes back to where it was, so a keyboard user keeps their place in the grid.
  await expect(page.getByRole('button', { name: `Open ${first.name} with all its scores` })).toBeFocused();
});

test('help explains the numbers with the logit scale of the model in use', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  const scale = (await snapshot(page)).model!.logitScale;
  await page.getByRole('button', { name: 'Help' }).click();
  const help = page.getByTestId('help');
  await expect(help.getByRole('heading', { name: 'What the numbers mean' })).toBeVisible();
  await expect(help).toContainText(`(${scale.toFixed(1)} for the model in use)`);
  await saveScreen(page, '17-help');
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
});

test('light and dark themes follow the system, and axe finds no serious accessibility problem', async ({
  page,
}) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await trySamples(page);
  const background = () =>
    page.evaluate(() => {
      const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g)!.map(Number);
      return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
    });
  expect(await background(), 'dark background').toBeLessThan(0.2);
  const dark = await axeProblems(page);
  await saveScreen(page, '18-dark');
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background(), 'light background').toBeGreaterThan(0.8);
  const light = await axeProblems(page);
  await page
    .getByRole('button', { name: `Open ${(await readCards(page))[0]!.name} with all its scores` })
    .click();
  const lightbox = await axeProblems(page);
  await page.keyboard.press('Escape');
  await page.getByRole('button', { name: 'Help' }).click();
  const help = await axeProblems(page);
  recordMeasurement('axe serious/critical findings', { dark, light, lightbox, help });
  expect([...dark, ...light, ...lightbox, ...help]).toEqual([]);
});
