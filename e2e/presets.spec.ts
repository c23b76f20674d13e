/**
 * Label presets and Undo (issue #8, parts 3 and 6): a preset sets labels and templates in one step; ImageNet-1k's
 * 998 distinct names × 80 templates are embedded once, and chosen a second time they come back from the embedding
 * cache without the text tower; Undo (button and Ctrl+Z) walks label edits back.
 */
import { readFileSync } from 'node:fs';
import {
  expect,
  saveScreen,
  snapshot,
  test,
  typeLabels,
  waitForLabelEmbeddings,
  waitForModel,
} from './support/lens';
import { recordMeasurement } from './support/timings';

interface PresetFile {
  labels: string[];
  templates: string[];
}
const preset = (id: string) => JSON.parse(readFileSync(`src/data/presets/${id}.json`, 'utf8')) as PresetFile;
const distinct = (labels: string[]) => [...new Set(labels)];

test('presets set labels and templates; ImageNet-1k a second time comes from the cache; Undo walks back', async ({
  page,
}) => {
  test.setTimeout(600_000);
  await page.goto('/');
  await waitForModel(page);
  await typeLabels(page, ['red star']);
  await waitForLabelEmbeddings(page, ['red star']);
  // By value: each option's text also says how many prompts it runs and, once measured, how long that takes.
  const choose = (id: string) => page.getByRole('combobox', { name: 'Use a label preset' }).selectOption(id);

  const cifar = preset('cifar-10');
  await choose('cifar-10');
  await waitForLabelEmbeddings(page, cifar.labels);
  expect((await snapshot(page)).templates).toEqual(cifar.templates);
  await saveScreen(page, '19-presets');
  await expect(
    page.getByText(/CIFAR-10 \(10 classes, 18 prompts\): 10 labels, 18 prompt templates\./),
  ).toBeVisible();

  const imagenet = preset('imagenet-1k');
  let started = Date.now();
  await choose('imagenet-1k');
  await expect(page.getByText(/998 labels \(2 repeated names left out\), 80 prompt templates/)).toBeVisible();
  await waitForLabelEmbeddings(page, distinct(imagenet.labels), 480_000);
  const firstSeconds = (Date.now() - started) / 1000;
  const first = await snapshot(page);
  expect(first.templates).toHaveLength(80);
  expect(first.labelEmbeddings!.fromCache).toBe(0);

  // Undo goes back to CIFAR-10 (the button names the step), then Ctrl+Z outside a text field to 'red star'.
  await page.getByRole('button', { name: /^Undo use ImageNet-1k/ }).click();
  await waitForLabelEmbeddings(page, cifar.labels);
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+z');
  await waitForLabelEmbeddings(page, ['red star']);
  expect((await snapshot(page)).templates).toEqual(['a photo of a {}.']);

  // ImageNet-1k again: every label embedding is read back from the cache.
  started = Date.now();
  await choose('imagenet-1k');
  await waitForLabelEmbeddings(page, distinct(imagenet.labels), 120_000);
  const secondSeconds = (Date.now() - started) / 1000;
  const second = await snapshot(page);
  expect(second.labelEmbeddings!.fromCache).toBe(998);
  recordMeasurement('imagenet-1k preset (998 labels × 80 templates, demo model)', {
    firstSeconds,
    secondSeconds,
    secondFromCache: second.labelEmbeddings!.fromCache,
  });
});
