/**
 * Single-label and multi-label modes, and "none of these" (issue #8, part 4). The expected outcomes are computed
 * here from the embeddings the page reports, with the formulas of src/core/labelDecisions.ts written out again,
 * so the test checks the page's maths and what the cards show.
 */
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, saveScreen, snapshot, test, waitForLabelEmbeddings } from './support/lens';
import { trySamples } from './support/classifyFlow';
import { dot, sampleLabels, trueLabelOf } from './support/reference';
import { recordMeasurement } from './support/timings';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function centroid(vectors: number[][]): number[] {
  const sum = vectors[0]!.map((_, i) => vectors.reduce((total, vector) => total + vector[i]!, 0));
  const norm = Math.hypot(...sum);
  return sum.map((value) => value / norm);
}

/** Multi-label: sigmoid(logit − logsumexp + ln n) per label, n counting the anchor when given. */
function multiLabel(cosines: number[], scale: number, anchor: number | null): number[] {
  const logits = cosines.map((c) => scale * c);
  if (anchor !== null) logits.push(scale * anchor);
  const max = Math.max(...logits);
  const lse = max + Math.log(logits.reduce((sum, l) => sum + Math.exp(l - max), 0));
  return cosines.map((c) => sigmoid(scale * c - lse + Math.log(logits.length)));
}

/** Per card: the labels it marks as applying (among the three it lists) and whether it says "none of these". */
function readDecisions(page: Page): Promise<{ name: string; applied: string[]; none: boolean }[]> {
  return page.getByTestId('image-card').evaluateAll((cards) =>
    cards.map((card) => ({
      name: card.getAttribute('aria-label') ?? '',
      applied: [...card.querySelectorAll('[data-testid="top-label"][data-applied]')].map(
        (row) => row.getAttribute('data-label') ?? '',
      ),
      none: card.getAttribute('data-outcome') === 'none',
    })),
  );
}

test('multi-label: each label on its own at its threshold; the cards mark the labels that apply', async ({
  page,
}) => {
  const { state } = await trySamples(page);
  const { texts, vectors } = state.labelEmbeddings!;
  const scale = state.model!.logitScale;
  const expectedApplied = (thresholds: Record<string, number>, shown = 3) =>
    new Map(
      state.images.map((image) => {
        const p = multiLabel(
          vectors.map((v) => dot(image.embedding!, v)),
          scale,
          null,
        );
        const ranked = texts.map((label, i) => ({ label, p: p[i]! })).sort((a, b) => b.p - a.p);
        // The card lists the three most probable labels; of those, the ones at or above their threshold apply.
        return [
          image.name,
          ranked
            .slice(0, shown)
            .filter((entry) => entry.p >= (thresholds[entry.label] ?? 0.5))
            .map((e) => e.label),
        ];
      }),
    );

  await page.getByRole('radio', { name: 'Any number of labels' }).check();
  let expected = expectedApplied({});
  await expect
    .poll(async () => new Map((await readDecisions(page)).map((c) => [c.name, c.applied])))
    .toEqual(expected);
  const trueApplied = state.images.filter((image) =>
    expected.get(image.name)!.includes(trueLabelOf(image.name)),
  );
  await saveScreen(page, '14-multi-label');

  // Raise one label's threshold to 99 %: it stays only where its probability reaches that.
  const label = trueLabelOf(state.images[0]!.name);
  await page.getByRole('spinbutton', { name: `Threshold for ${label} (%)` }).fill('99');
  expected = expectedApplied({ [label]: 0.99 });
  await expect
    .poll(async () => new Map((await readDecisions(page)).map((c) => [c.name, c.applied])))
    .toEqual(expected);

  // Sort into folders copies each image into the folder of every label that applies (all labels, not only the
  // three a card lists); the origin's private file system stands in for the picked folder.
  const applied = expectedApplied({ [label]: 0.99 }, texts.length);
  const expectedPaths = [...applied]
    .flatMap(([name, labels]) => (labels.length > 0 ? labels : ['none of these']).map((l) => `${l}/${name}`))
    .sort();
  await page.evaluate(() => {
    (
      window as unknown as { showDirectoryPicker: () => Promise<FileSystemDirectoryHandle> }
    ).showDirectoryPicker = async () =>
      (await navigator.storage.getDirectory()).getDirectoryHandle('sorted-multi', { create: true });
  });
  await page.getByRole('button', { name: 'Sort into folders' }).click();
  await expect(page.getByText(/^Sorted 24 images into \d+ folders/)).toBeVisible();
  const written = await page.evaluate(async () => {
    const root = await (await navigator.storage.getDirectory()).getDirectoryHandle('sorted-multi');
    const out: string[] = [];
    for await (const [folderName, folder] of root as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      if (folder.kind !== 'directory') continue;
      for await (const [fileName] of folder as unknown as AsyncIterable<[string, FileSystemHandle]>)
        out.push(`${folderName}/${fileName}`);
    }
    return out.sort();
  });
  expect(written).toEqual(expectedPaths);

  // The export writes the applied labels as the outcome.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const json = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
    mode: string;
    images: { file: string; outcome: string }[];
  };
  expect(json.mode).toBe('multi-label');
  recordMeasurement('multi-label on the samples', {
    imagesWithTrueLabelApplied: trueApplied.length,
    images: state.images.length,
    meanLabelsApplied:
      [...expectedApplied({}).values()].reduce((sum, labels) => sum + labels.length, 0) / state.images.length,
  });
});

test('"none of these": with labels removed, each card says none exactly where the centroid anchor wins', async ({
  page,
}) => {
  const { state } = await trySamples(page);
  await page.getByRole('checkbox', { name: 'Allow “none of these”' }).check();
  // Take away the labels of half the samples; the page re-embeds the rest.
  const removed = sampleLabels.slice(0, Math.floor(sampleLabels.length / 2));
  for (const label of removed) await page.getByRole('button', { name: `Remove label ${label}` }).click();
  const kept = sampleLabels.filter((label) => !removed.includes(label));
  await waitForLabelEmbeddings(page, kept);
  const after = await snapshot(page);
  const { vectors } = after.labelEmbeddings!;
  const scale = after.model!.logitScale;
  const anchorOf = centroid(vectors);
  const expectedNone = new Map(
    state.images.map((image) => {
      const logits = vectors.map((v) => scale * dot(image.embedding!, v));
      return [image.name, scale * dot(image.embedding!, anchorOf) > Math.max(...logits)];
    }),
  );
  await expect
    .poll(async () => new Map((await readDecisions(page)).map((card) => [card.name, card.none])))
    .toEqual(expectedNone);
  await saveScreen(page, '15-none-of-these');
  const lostTheirLabel = state.images.filter((image) => removed.includes(trueLabelOf(image.name)));
  const stillHaveIt = state.images.filter((image) => !removed.includes(trueLabelOf(image.name)));
  recordMeasurement('none of these on the samples (demo model)', {
    noneAmongImagesWhoseLabelWasRemoved: lostTheirLabel.filter((image) => expectedNone.get(image.name))
      .length,
    imagesWhoseLabelWasRemoved: lostTheirLabel.length,
    noneAmongImagesWhoseLabelIsListed: stillHaveIt.filter((image) => expectedNone.get(image.name)).length,
    imagesWhoseLabelIsListed: stillHaveIt.length,
  });
});
