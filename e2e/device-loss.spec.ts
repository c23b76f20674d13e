/**
 * Lost GPU (issue #7, part 4): the WebGPU device is destroyed in the middle of a batch, as a driver reset or a GPU
 * process crash would. The engine moves to WASM, finishes every image, embeds the labels again and says so. Without a
 * GPU this runs on Chromium's SwiftShader adapter (slow: minutes on 2 cores).
 */
import {
  dropFiles,
  expect,
  readCards,
  sampleFile,
  snapshot,
  test,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
} from './support/lens';
import { reference } from './support/reference';
import { recordMeasurement } from './support/timings';

test.setTimeout(600_000);

test('the GPU lost mid-batch: the batch finishes on WASM, the labels follow, and the page says why', async ({
  page,
}) => {
  await page.goto('/');
  await waitForModel(page);
  await page.getByTestId('backend-select').selectOption('webgpu');
  await expect
    .poll(async () => (await snapshot(page)).model?.backend ?? (await snapshot(page)).modelStatus, {
      timeout: 300_000,
    })
    .toBe('webgpu');
  const labels = ['red star', 'blue star', 'green heart', 'green cross'];
  await typeLabels(page, labels);
  await waitForLabelEmbeddings(page, labels, 300_000);

  const files = reference.files.slice(0, 12);
  await dropFiles(page, files.map(sampleFile));
  await expect
    .poll(async () => (await snapshot(page)).images.filter((image) => image.status === 'done').length, {
      timeout: 300_000,
    })
    .toBeGreaterThanOrEqual(1);
  const beforeLoss = (await snapshot(page)).images.filter((image) => image.status === 'done').length;
  expect(await page.evaluate(() => window.__evaLens!.simulateGpuLoss())).toEqual({ destroyed: true });

  const state = await waitForImagesSettled(page, files.length, 300_000);
  expect(
    state.images.filter((image) => image.status !== 'done').map((image) => `${image.name}: ${image.error}`),
  ).toEqual([]);
  expect(state.model?.backend).toBe('wasm');
  const reason = /WebGPU stopped working \(the GPU device was lost\), so EVA Lens moved to WASM int8/;
  await expect(page.getByRole('status').filter({ hasText: reason })).toBeVisible();
  await expect(page.getByTestId('status-notes')).toContainText(reason);
  // The labels were embedded again by the WASM text tower, and ranking goes on.
  await waitForLabelEmbeddings(page, labels, 120_000);
  await waitForCardsScored(page, files.length);
  const cards = await readCards(page);
  expect(cards.find((card) => card.name === 'red-star.png')?.top1 ?? 'red star').toBe('red star');
  await typeLabels(page, ['brown star']);
  await waitForLabelEmbeddings(page, [...labels, 'brown star'], 120_000);
  recordMeasurement('gpu-lost', {
    doneBeforeLoss: beforeLoss,
    images: files.length,
    backendAfter: state.model?.backend,
    dtypeAfter: state.model?.dtype,
  });
});
