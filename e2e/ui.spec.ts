/**
 * What a person does with the app besides classifying: the first visit, the one-click samples, ranking by a label,
 * cancelling a batch, dropping a file that is not an image, and labels that look like HTML. Screenshots of the main
 * states go to test-results/screens/.
 */
import {
  dropFiles,
  dropGeneratedImages,
  expect,
  labelProbabilities,
  readCards,
  sampleFile,
  saveScreen,
  snapshot,
  test,
  textFile,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
} from './support/lens';
import {
  expectedAccuracy,
  manifest,
  reference,
  sampleLabels,
  samples,
  trueLabelOf,
} from './support/reference';
import { recordMeasurement } from './support/timings';

const CANCELLED_MESSAGE = 'Cancelled before it was embedded.';

test('first visit: the demo model loads with no setup, on WASM, cross-origin isolated', async ({ page }) => {
  // Hold the model files back until the loading state has been photographed.
  let releaseModel!: () => void;
  const modelHeld = new Promise<void>((resolve) => (releaseModel = resolve));
  await page.context().route('**/models/eva-lens-demo/*.onnx', async (route) => {
    await modelHeld;
    await route.continue();
  });

  await page.goto('/');
  await expect(page.getByRole('progressbar', { name: 'Model loading' })).toBeVisible();
  await expect(page.getByTestId('status-backend')).toHaveText('Starting…');
  await expect(page.getByTestId('status-model')).toHaveText('Loading model…');
  await saveScreen(page, '02-loading');
  releaseModel();

  const state = await waitForModel(page);
  expect(state.crossOriginIsolated, 'COOP/COEP headers must make the page cross-origin isolated').toBe(true);
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect(state.model?.backend).toBe('wasm');
  expect(state.model?.id).toBe(manifest.id);
  expect(state.model?.threads, 'isolated pages get WASM threads').toBeGreaterThan(1);
  await expect(page.getByTestId('status-backend')).toContainText('WASM');
  await expect(page.getByTestId('status-model')).toHaveText(manifest.name);
  await expect(page.getByLabel('Model')).toHaveText(manifest.name);
  await expect(page.getByRole('heading', { name: 'Drop images or a whole folder anywhere' })).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Model loading' })).toBeHidden();
  expect(state.templates).toEqual([reference.template]);
  await saveScreen(page, '01-empty');
});

test('"Try the samples" loads images and labels in one click, and a label click ranks the grid', async ({
  page,
}) => {
  await page.goto('/');
  await waitForModel(page);
  await page.getByTestId('try-samples').click();

  await waitForLabelEmbeddings(page, sampleLabels);
  const state = await waitForImagesSettled(page, samples.length);
  expect(state.images.filter((image) => image.status !== 'done')).toEqual([]);
  const cards = await waitForCardsScored(page, samples.length);
  const correct = cards.filter((card) => card.top1 === trueLabelOf(card.name)).length;
  const accuracy = correct / cards.length;
  const dtype = state.model?.dtype ?? '';
  expect(accuracy, 'sample accuracy seen in the browser').toBeCloseTo(expectedAccuracy(dtype), 6);
  recordMeasurement('try-the-samples', {
    backend: state.model?.backend,
    dtype,
    images: cards.length,
    correct,
    accuracy,
  });
  await saveScreen(page, '03-results');

  // Rank by a label whose best image is not already first in the order the samples were added.
  const labelSet = state.labelEmbeddings!;
  const logitScale = state.model!.logitScale;
  const rankedLabel = sampleLabels[sampleLabels.length - 1]!;
  const labelIndex = labelSet.texts.indexOf(rankedLabel);
  const probabilityOf = (name: string) => {
    const embedding = state.images.find((image) => image.name === name)!.embedding!;
    return labelProbabilities(embedding, labelSet.vectors, logitScale)[labelIndex]!;
  };
  const best = [...state.images].sort((a, b) => probabilityOf(b.name) - probabilityOf(a.name))[0]!;

  await page.getByRole('button', { name: `Rank images by ${rankedLabel}` }).click();
  await expect(page.getByRole('button', { name: `Stop ranking by ${rankedLabel}` })).toBeVisible();
  await expect(page.getByTestId('image-card').first()).toHaveAttribute('aria-label', best.name);
  const ranked = (await readCards(page)).map((card) => probabilityOf(card.name));
  for (let i = 1; i < ranked.length; i++) {
    expect(ranked[i]!, `card ${i + 1} ranks after card ${i}`).toBeLessThanOrEqual(ranked[i - 1]! + 1e-9);
  }
  await expect(page.getByTestId('image-card').first().locator('.card__badge')).toBeVisible();
  await saveScreen(page, '04-sorted-by-label');

  // Clicking the chip returns to the order the images were added in.
  await page.getByRole('button', { name: `Stop ranking by ${rankedLabel}` }).click();
  await expect(page.getByTestId('image-card').first()).toHaveAttribute('aria-label', samples[0]!.file);
});

test('cancel stops a batch half-way without breaking anything, and the next batch runs', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/');
  await waitForModel(page);
  // Enough large photos that the batch cannot finish between "two are done" and the click, even on a quiet machine
  // (with 40 the demo model once finished them all first, and the Cancel button was gone).
  const count = 80;
  await dropGeneratedImages(page, count, 1600);

  const progress = page.getByTestId('progress');
  await expect(progress).toBeVisible();
  // Watched inside the page (no snapshot copied out per poll), so the click follows the second image closely.
  await page.waitForFunction(() => (window.__evaLens?.snapshot().run.embedded ?? 0) >= 2, null, {
    polling: 50,
    timeout: 120_000,
  });
  await page.getByTestId('cancel').click();

  await expect(progress).toHaveAttribute('data-state', 'cancelled');
  await expect(progress).toContainText('Cancelled');
  await expect(page.getByTestId('cancel')).toBeHidden();
  await expect.poll(async () => (await snapshot(page)).run.isRunning).toBe(false);
  // Whatever the worker had in hand when Cancel came must settle too; nothing stays "embedding".
  await expect
    .poll(async () => (await snapshot(page)).images.filter((image) => image.status === 'embedding').length)
    .toBe(0);
  const stopped = await snapshot(page);
  expect(stopped.run.wasCancelled).toBe(true);
  const done = stopped.images.filter((image) => image.status === 'done');
  const cancelled = stopped.images.filter(
    (image) => image.status === 'failed' && image.error === CANCELLED_MESSAGE,
  );
  expect(done.length).toBeGreaterThanOrEqual(2);
  expect(cancelled.length, 'images never embedded because of Cancel').toBeGreaterThan(0);
  expect(done.length + cancelled.length).toBe(count);
  await expect(page.getByText(CANCELLED_MESSAGE).first()).toBeVisible();
  await saveScreen(page, '06-cancelled');
  const times = done.map((image) => image.ms ?? 0);
  recordMeasurement('large-jpeg-wasm', {
    side: 1600,
    embeddedBeforeCancel: done.length,
    meanImageMs: Math.round(times.reduce((a, b) => a + b, 0) / times.length),
  });

  // A second batch after the cancelled one runs to the end.
  const second = ['red-star.png', 'blue-star.png', 'green-heart.png'];
  await dropFiles(page, second.map(sampleFile));
  // The "Cancelled" line goes (the three small images may already be done, and the bar with them).
  await expect(page.locator('[data-testid="progress"][data-state="cancelled"]')).toHaveCount(0);
  const after = await waitForImagesSettled(page, count + second.length);
  expect(after.run.wasCancelled).toBe(false);
  expect(after.images.filter((image) => second.includes(image.name)).map((image) => image.status)).toEqual(
    second.map(() => 'done'),
  );
  await expect(progress).toBeHidden();
});

test('a file that is not an image gets its own message and the other files go on', async ({ page }) => {
  await page.goto('/');
  await waitForModel(page);
  await typeLabels(page, ['red star', 'blue star']);
  await dropFiles(page, [
    textFile('notes.txt', 'not an image'),
    sampleFile('red-star.png'),
    // Named and typed as a PNG, but its bytes are text: only decoding can tell.
    textFile('broken.png', 'this is not a PNG', 'image/png'),
    sampleFile('blue-star.png'),
  ]);

  await expect(
    page.getByRole('status').filter({ hasText: 'Skipped notes.txt: it is not an image.' }),
  ).toBeVisible();
  const state = await waitForImagesSettled(page, 3);
  expect(state.images.map((image) => image.name)).toEqual(['red-star.png', 'broken.png', 'blue-star.png']);
  const broken = state.images.find((image) => image.name === 'broken.png')!;
  expect(broken.status).toBe('failed');
  expect(broken.error ?? '').not.toBe('');
  const brokenCard = page.getByRole('article', { name: 'broken.png' });
  await expect(brokenCard).toHaveAttribute('data-status', 'failed');
  await expect(brokenCard.locator('.card__status--error')).toHaveText(broken.error!);

  await waitForLabelEmbeddings(page, ['red star', 'blue star']);
  await expect(
    page.getByRole('article', { name: 'red-star.png' }).getByTestId('top-label').first(),
  ).toHaveAttribute('data-label', 'red star');
  await expect(
    page.getByRole('article', { name: 'blue-star.png' }).getByTestId('top-label').first(),
  ).toHaveAttribute('data-label', 'blue star');
  console.log(`Message on the undecodable file: ${broken.error}`);
});

test('a label written as HTML is shown as text and never runs', async ({ page }) => {
  const markup = '<img src=x onerror=alert(1)>';
  await page.goto('/');
  await waitForModel(page);
  await typeLabels(page, [markup, 'red star']);
  await dropFiles(page, [sampleFile('red-star.png')]);
  await waitForLabelEmbeddings(page, [markup, 'red star']);
  await waitForImagesSettled(page, 1);
  await waitForCardsScored(page, 1);

  await expect(page.getByTestId('label-list').getByText(markup, { exact: true })).toBeVisible();
  await expect(page.getByTestId('top-label').filter({ hasText: markup })).toHaveCount(1);
  await page.getByRole('button', { name: `Rank images by ${markup}` }).click();
  await expect(page.getByRole('button', { name: `Stop ranking by ${markup}` })).toContainText(markup);
  // No element was made from the label: the only <img> elements are the logo and the thumbnail.
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  // The test fixture fails the test if an alert dialog opened.
});
