/**
 * The end-to-end classification of the sample images, shared by the WASM and WebGPU specs: labels typed or
 * pasted, PNGs dropped on the drop zone, then the browser's results checked against the toolchain's PyTorch and
 * ONNX references for the dtype that actually ran.
 */
import type { Page } from '@playwright/test';
import {
  snapshot,
  waitForModel,
  dropFiles,
  expect,
  median,
  pasteLabels,
  sampleFile,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  type CardReading,
  type LensSnapshot,
} from './lens';
import {
  cosine,
  expectedAccuracy,
  expectedTop1,
  minCosineFor,
  reference,
  sampleLabels,
  samples,
  trueLabelOf,
} from './reference';
import { recordMeasurement } from './timings';

export interface ClassifiedSamples {
  state: LensSnapshot;
  cards: CardReading[];
  backend: string;
  dtype: string;
}

/** Sets the reference labels, drops every reference sample, and waits until each card shows its top label. */
export async function classifySamples(
  page: Page,
  { labelsVia }: { labelsVia: 'type' | 'paste' },
): Promise<ClassifiedSamples> {
  if (labelsVia === 'type') await typeLabels(page, reference.labels);
  else await pasteLabels(page, reference.labels);
  await dropFiles(page, reference.files.map(sampleFile));
  await waitForLabelEmbeddings(page, reference.labels, 300_000);
  const state = await waitForImagesSettled(page, reference.files.length, 600_000);
  const failed = state.images.filter((image) => image.status !== 'done');
  expect(
    failed.map((image) => `${image.name}: ${image.error}`),
    'images that failed',
  ).toEqual([]);
  const cards = await waitForCardsScored(page, reference.files.length);
  const { model } = state;
  if (!model) throw new Error('No model in the store after classification.');
  return { state, cards, backend: model.backend, dtype: model.dtype };
}

/** Every card's top-1 equals the reference top-1 for the dtype that ran; returns the browser's sample accuracy. */
export function expectTop1Parity({ cards, dtype }: ClassifiedSamples): number {
  const mismatches = cards
    .filter((card) => card.top1 !== expectedTop1(card.name, dtype))
    .map((card) => `${card.name}: browser "${card.top1}", reference "${expectedTop1(card.name, dtype)}"`);
  expect(mismatches, `top-1 labels that differ from the ${dtype} reference`).toEqual([]);
  const correct = cards.filter((card) => card.top1 === trueLabelOf(card.name)).length;
  const accuracy = correct / cards.length;
  expect(accuracy, `sample accuracy against the toolchain's ${dtype} accuracy`).toBeCloseTo(
    expectedAccuracy(dtype),
    6,
  );
  return accuracy;
}

export interface ParityCosines {
  minImageCosine: number;
  minTextCosine: number;
}

/** Browser embeddings against PyTorch's (same template, same files), each cosine above the dtype's bar. */
export function expectEmbeddingParity({ state, dtype }: ClassifiedSamples): ParityCosines {
  expect(state.templates, 'the app must embed labels with the reference template').toEqual([
    reference.template,
  ]);
  const bar = minCosineFor(dtype);
  const imageCosines = reference.files.map((file, index) => {
    const embedding = state.images.find((image) => image.name === file)?.embedding;
    if (!embedding) throw new Error(`No browser embedding for ${file}.`);
    return { file, cosine: cosine(embedding, reference.pytorch.imageEmbeddings[index]!) };
  });
  const labelSet = state.labelEmbeddings;
  if (!labelSet) throw new Error('No label embeddings in the store.');
  const textCosines = reference.labels.map((label, index) => {
    const row = labelSet.texts.indexOf(label);
    const vector = labelSet.vectors[row];
    if (!vector) throw new Error(`No browser embedding for the label "${label}".`);
    return { label, cosine: cosine(vector, reference.pytorch.textEmbeddings[index]!) };
  });
  const lowImages = imageCosines.filter((entry) => !(entry.cosine >= bar));
  const lowLabels = textCosines.filter((entry) => !(entry.cosine >= bar));
  expect(lowImages, `image embeddings with cosine < ${bar} to PyTorch (${dtype})`).toEqual([]);
  expect(lowLabels, `label embeddings with cosine < ${bar} to PyTorch (${dtype})`).toEqual([]);
  return {
    minImageCosine: Math.min(...imageCosines.map((entry) => entry.cosine)),
    minTextCosine: Math.min(...textCosines.map((entry) => entry.cosine)),
  };
}

/** Records the per-image times the app reported, its status-bar figure and the accuracy seen in the browser. */
export async function recordRun(
  page: Page,
  run: ClassifiedSamples,
  extra: Record<string, unknown>,
): Promise<void> {
  const times = run.state.images.map((image) => image.ms ?? Number.NaN);
  const statusBar = await page.locator('.status-bar').innerText();
  const { model } = run.state;
  recordMeasurement(`samples-${run.backend}`, {
    backend: run.backend,
    dtype: run.dtype,
    threads: model?.threads,
    modelLoadMs: model && Math.round(model.loadMs),
    probeCosine: model?.probeCosine,
    images: times.length,
    meanImageMs: round(times.reduce((a, b) => a + b, 0) / times.length),
    medianImageMs: round(median(times)),
    minImageMs: round(Math.min(...times)),
    maxImageMs: round(Math.max(...times)),
    labelEmbeddingMs: run.state.labelEmbeddings && round(run.state.labelEmbeddings.ms),
    labels: run.state.labelEmbeddings?.texts.length,
    statusBar: statusBar.replace(/\s+/g, ' ').trim(),
    ...extra,
  });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Opens the app, waits for the model and clicks "Try the samples"; returns once every sample card shows its top
 * label, with the cards in grid order and the page's state.
 */
export async function trySamples(page: Page): Promise<{ cards: CardReading[]; state: LensSnapshot }> {
  await page.goto('/');
  await waitForModel(page);
  await page.getByTestId('try-samples').click();
  await waitForLabelEmbeddings(page, sampleLabels);
  await waitForImagesSettled(page, samples.length);
  const cards = await waitForCardsScored(page, samples.length);
  return { cards, state: await snapshot(page) };
}
