/**
 * Search and similarity (issue #8, parts 1 and 2): a free-text search ranks the loaded images live and a slider
 * hides the weak matches; "Similar" ranks every image by image-to-image cosine; near-duplicates are grouped.
 * Expected orders are computed here from the embeddings the page reports, so the test checks the ranking maths and
 * the UI, not the demo model's taste.
 */
import type { Page } from '@playwright/test';
import { dropFiles, expect, saveScreen, test, waitForImagesSettled } from './support/lens';
import { trySamples } from './support/classifyFlow';
import { dot, reference, samples } from './support/reference';
import { recordMeasurement } from './support/timings';

function cardNames(page: Page): Promise<string[]> {
  return page
    .getByTestId('image-card')
    .evaluateAll((cards) => cards.map((card) => card.getAttribute('aria-label') ?? ''));
}

/** Each card's name and the cosine its corner shows, in grid order. */
async function shownCosines(page: Page): Promise<{ name: string; cosine: number }[]> {
  return page.getByTestId('image-card').evaluateAll((cards) =>
    cards.map((card) => ({
      name: card.getAttribute('aria-label') ?? '',
      cosine: Number(
        card.querySelector('[data-testid="reference-cosine"]')?.textContent?.replace('cos ', ''),
      ),
    })),
  );
}

test('a text search ranks every image by cosine as you type, and the slider hides weak matches', async ({
  page,
}) => {
  const { state } = await trySamples(page);
  // The query is a label written out with the template, so its embedding is that label's, which the page reports.
  const label = 'red star';
  const query = reference.template.replace('{}', label);
  const vector = state.labelEmbeddings!.vectors[state.labelEmbeddings!.texts.indexOf(label)]!;
  const expected = state.images
    .map((image) => ({ name: image.name, cosine: dot(image.embedding!, vector) }))
    .sort((a, b) => b.cosine - a.cosine);

  const search = page.getByRole('searchbox', { name: 'Search images by text' });
  await search.pressSequentially(query, { delay: 20 });
  await expect(
    page.getByText(`${samples.length} images of ${samples.length} · best match first`),
  ).toBeVisible();
  // The query is embedded on its own and the labels in one batch; int8 text embeddings move by up to ~1e-3 with
  // their batch mates, so near-ties may swap: the grid must be in the order of the cosines it shows, and those
  // must be the expected ones within that noise.
  const expectedCosine = new Map(expected.map((entry) => [entry.name, entry.cosine]));
  const shown = await shownCosines(page);
  expect(shown.map((card) => card.name).sort()).toEqual([...expectedCosine.keys()].sort());
  for (const card of shown)
    expect(Math.abs(card.cosine - expectedCosine.get(card.name)!), card.name).toBeLessThan(3e-3);
  for (let i = 1; i < shown.length; i++)
    expect(shown[i]!.cosine).toBeLessThanOrEqual(shown[i - 1]!.cosine + 1e-3);
  expect(shown[0]!.name).toBe(expected[0]!.name);

  // Hide the weaker matches: the slider goes between two images whose cosines are well apart, so exactly the
  // cards above it stay.
  const kept = expected.findIndex((entry, i) => i >= 3 && expected[i - 1]!.cosine - entry.cosine > 0.01);
  expect(kept, 'two neighbouring cosines far enough apart for the slider').toBeGreaterThan(0);
  const between = (expected[kept - 1]!.cosine + expected[kept]!.cosine) / 2;
  await page.getByRole('slider', { name: 'Hide below cosine' }).fill(String(between));
  await expect
    .poll(async () => (await cardNames(page)).sort())
    .toEqual(
      expected
        .slice(0, kept)
        .map((entry) => entry.name)
        .sort(),
    );
  await expect(page.getByText(`${kept} images of ${samples.length} · best match first`)).toBeVisible();
  await saveScreen(page, '11-search');

  // Clearing the box gives the whole grid back in the order added.
  await search.fill('');
  await expect.poll(() => cardNames(page)).toEqual(state.images.map((image) => image.name));
});

test('"Similar" ranks every image by image-to-image cosine, and near-duplicates are grouped', async ({
  page,
}) => {
  const { state } = await trySamples(page);
  const byName = new Map(state.images.map((image) => [image.name, image.embedding!]));
  const chosen = 'blue-star.png';
  const expected = state.images
    .map((image) => ({ name: image.name, cosine: dot(image.embedding!, byName.get(chosen)!) }))
    .sort((a, b) => b.cosine - a.cosine);

  await page.getByRole('button', { name: `Rank images by similarity to ${chosen}` }).click();
  await expect.poll(() => cardNames(page)).toEqual(expected.map((entry) => entry.name));
  await expect(page.getByTestId('image-card').first().getByTestId('reference-cosine')).toHaveText(
    'This image',
  );
  await expect(page.getByRole('button', { name: `Stop ranking by similarity to ${chosen}` })).toBeVisible();
  await saveScreen(page, '12-similar');
  await page.getByRole('button', { name: `Stop ranking by similarity to ${chosen}` }).click();
  await expect.poll(() => cardNames(page)).toEqual(state.images.map((image) => image.name));

  // A JPEG copy of one sample, re-encoded at quality 0.35, is found as its near-duplicate.
  const copy = await page.evaluate(async () => {
    const bitmap = await createImageBitmap(await (await fetch('samples/green-heart.png')).blob());
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    const bytes = new Uint8Array(
      await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.35 })).arrayBuffer(),
    );
    return btoa(String.fromCharCode(...bytes));
  });
  await dropFiles(page, [{ name: 'green-heart copy.jpg', type: 'image/jpeg', base64: copy }]);
  const withCopy = await waitForImagesSettled(page, samples.length + 1);
  const copyEmbedding = withCopy.images.find((image) => image.name === 'green-heart copy.jpg')!.embedding!;
  const copyCosine = dot(copyEmbedding, byName.get('green-heart.png')!);
  expect(copyCosine, 'a re-encoded copy is nearly the same picture').toBeGreaterThan(0.95);
  recordMeasurement('near-duplicate JPEG copy', { cosineToOriginal: copyCosine });

  await page.getByRole('button', { name: 'Near-duplicates' }).click();
  const group = page.getByTestId('duplicate-group').filter({ hasText: 'green-heart copy.jpg' });
  await expect(group).toHaveCount(1);
  await expect(group).toContainText('green-heart.png');
  await saveScreen(page, '13-near-duplicates');
  // At a threshold above the copy's cosine the pair is no longer a group.
  await page.getByRole('slider', { name: 'Alike at cosine ≥' }).fill('1');
  await expect(page.getByTestId('duplicate-group')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'No near-duplicates' })).toBeVisible();
});
