/**
 * The first visit as a new person meets it (issue #16): the demo model says what it knows (8 colours × 6 shapes, not
 * photos) before it can mislead, labels it cannot know are marked, Help and Models describe it, one click starts the
 * build of a real EVA-CLIP, and Models offers no button that can only fail (the default deployment hosts no catalog
 * model; offline it says so once). The full hub build is e2e/hub-build.spec.ts; here the hub answers 404.
 */
import { join } from 'node:path';
import type { ConsoleMessage, Page } from '@playwright/test';
import { expect, saveScreen, snapshot, test, typeLabels, waitForModel } from './support/lens';
import { SCREENS_DIR } from './support/paths';

const NOTE = 'Demo model: knows 8 colours × 6 shapes, not photos.';
const OFFER =
  /^Get EVA02-CLIP-B\/16 — 299\.4 MB download, built in this browser, about 42 s on a 2-core computer$/;

const note = (page: Page) => page.getByTestId('vocabulary-note');

async function openModels(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Models', exact: true }).click();
  await expect(page.getByRole('dialog', { name: 'Models' })).toBeVisible();
}

async function closeModels(page: Page): Promise<void> {
  await page.getByRole('dialog', { name: 'Models' }).getByRole('button', { name: 'Close' }).click();
  await expect(page.getByRole('dialog', { name: 'Models' })).toBeHidden();
}

test('first visit: the demo says what it knows, marks labels it cannot know, and comes back after dismissing', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await waitForModel(page);

  await test.step('the empty state names the demo model and shows the note with the one action', async () => {
    await expect(note(page)).toBeVisible();
    await expect(note(page)).toContainText(NOTE);
    await expect(note(page)).toContainText('It knows colours and shapes only');
    await expect(page.getByText(/EVA-CLIP model running in this tab/)).toHaveCount(0);
    await expect(page.locator('.empty__text')).toContainText('with the demo model running in this tab');
    await expect(note(page).getByRole('button', { name: OFFER })).toBeVisible();
    await saveScreen(page, 'first-visit-note-1280');
  });

  await test.step('a label outside the vocabulary gets a hint; one inside it does not', async () => {
    await typeLabels(page, ['a dog', 'red star']);
    const hints = page.getByTestId('label-hint');
    await expect(hints).toHaveCount(1);
    await expect(hints).toHaveText('The demo model does not know ‘dog’');
  });

  await test.step('dismissed, the note goes; the demo stays in use; it returns on the next visit', async () => {
    await note(page).getByRole('button', { name: 'Dismiss this note (keep using the demo)' }).click();
    await expect(note(page)).toBeHidden();
    expect((await snapshot(page)).activeModelId).toBe('eva-lens-demo');
    await page.reload();
    await waitForModel(page);
    await expect(note(page)).toBeVisible();
  });

  await test.step('above the results, the note is there too', async () => {
    await page.getByTestId('try-samples').click();
    // The labels typed above are the person's own: the app asks before the samples' labels replace them (#18).
    await page
      .getByTestId('samples-question')
      .getByRole('button', { name: 'Use the samples’ labels' })
      .click();
    await expect(page.getByTestId('image-card').first()).toBeVisible({ timeout: 60_000 });
    await expect(page.locator('.results > [data-testid="vocabulary-note"]')).toContainText(NOTE);
    await saveScreen(page, 'first-visit-results-note-1280');
  });

  await test.step('Help describes the model in use', async () => {
    await page.getByRole('button', { name: 'Help' }).click();
    const help = page.getByTestId('help-model');
    await expect(help).toContainText('EVA Lens demo (coloured shapes)');
    await expect(help).toContainText('knows 8 colours × 6 shapes, not photos');
    await expect(help).toContainText('trained by this project on synthetic coloured shapes');
    await page.keyboard.press('Escape');
  });
});

test('Models: the demo described at the top with the one action, and no Download the default deployment cannot serve', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await waitForModel(page);
  await openModels(page);
  const dialog = page.getByRole('dialog', { name: 'Models' });
  const top = dialog.getByTestId('model-in-use');
  await expect(top).toContainText('In use: EVA Lens demo (coloured shapes) — knows 8 colours × 6 shapes');
  const offer = top.getByRole('button', { name: OFFER });
  await expect(offer).toBeVisible();
  // "At the top": above the first model row.
  const offerBox = (await offer.boundingBox())!;
  const firstRow = (await dialog.getByTestId('model-row').first().boundingBox())!;
  expect(offerBox.y).toBeLessThan(firstRow.y);

  for (const id of ['eva02-clip-b-16', 'eva02-clip-l-14', 'eva02-clip-l-14-336']) {
    const row = dialog.locator(`[data-testid="model-row"][data-model-id="${id}"]`);
    await expect(row.getByRole('button', { name: /from the official weights$/ })).toBeVisible();
  }
  await expect(dialog.getByRole('button', { name: /^Download/ })).toHaveCount(0);
  await expect(dialog.getByRole('button', { name: /^Resume/ })).toHaveCount(0);
  await saveScreen(page, 'first-visit-models-1280');

  // The row's action points to the hub build of the same architecture.
  await dialog
    .locator('[data-testid="model-row"][data-model-id="eva02-clip-l-14"]')
    .getByRole('button', { name: 'Build EVA02-CLIP-L/14 from the official weights' })
    .click();
  await expect(
    dialog.locator(
      '[data-testid="hub-build"][data-model-id="eva02-clip-l-14-hub"] .model-row__actions button',
    ),
  ).toBeFocused();
});

test('390 px wide: the note and the top of Models fit', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto('/');
  await waitForModel(page);
  await expect(note(page)).toBeVisible();
  const box = (await note(page).boundingBox())!;
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(390);
  // The results panel scrolls by itself, so the note is photographed where a person scrolls to it.
  await note(page).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(SCREENS_DIR, 'first-visit-note-390.png') });
  await openModels(page);
  await expect(page.getByTestId('model-in-use').getByRole('button', { name: OFFER })).toBeVisible();
  await page.screenshot({ path: join(SCREENS_DIR, 'first-visit-models-390.png') });
});

test('one click from the note starts the hub build; a failure names the cause and keeps the demo', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  // The default hub, answered here: the checkpoint is not there (no internet, and no full build in this spec).
  const hubRequests: string[] = [];
  await context.route('https://huggingface.co/**', async (route) => {
    hubRequests.push(route.request().url());
    await route.fulfill({
      status: 404,
      body: 'Entry not found',
      headers: { 'access-control-allow-origin': '*' },
    });
  });
  await page.goto('/');
  await waitForModel(page);
  await note(page).getByRole('button', { name: OFFER }).click();
  const offer = page.getByTestId('real-model-offer-note');
  await expect(offer.getByRole('alert')).toBeVisible({ timeout: 60_000 });
  const message = (await offer.getByRole('alert').textContent()) ?? '';
  console.log(`Message when the hub has no checkpoint: ${message}`);
  expect(message).toMatch(/still in use/);
  expect(hubRequests.some((url) => url.includes('open_clip_model.safetensors'))).toBe(true);
  expect((await snapshot(page)).activeModelId).toBe('eva-lens-demo');
  await saveScreen(page, 'first-visit-build-failed-1280');
  // The action is still there to try again.
  await expect(offer.getByRole('button', { name: OFFER })).toBeVisible();
});

test('offline, Models says once that downloads need a connection, and logs no console error', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  await page.goto('/');
  await waitForModel(page);
  const errors: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await context.setOffline(true);
  await openModels(page);
  const dialog = page.getByRole('dialog', { name: 'Models' });
  await expect(dialog.getByRole('status').filter({ hasText: 'You are offline' })).toHaveText(
    'You are offline: downloads and builds need a connection. Stored models work as usual.',
  );
  await expect(
    dialog.getByTestId('model-row').getByRole('button', { name: /Download|Resume|official/ }),
  ).toHaveCount(0);
  await expect(dialog.getByTestId('model-in-use')).toContainText('needs a connection');
  await saveScreen(page, 'first-visit-models-offline-1280');
  await closeModels(page);
  await context.setOffline(false);
  expect(errors, 'console errors while offline').toEqual([]);
});
