/**
 * Export (issue #8, part 5): every score as CSV and JSON, and the images sorted into one folder per top label —
 * into a picked folder through the File System Access API (here the picker hands over a folder of the origin's
 * private file system, a real FileSystemDirectoryHandle), and as a zip where that API is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Download } from '@playwright/test';
import { PYTHON } from '../scripts/python.mjs';
import { expect, saveScreen, test } from './support/lens';
import { trySamples } from './support/classifyFlow';
import { manifest, sampleLabels, samples } from './support/reference';

const SAMPLES_DIR = join(process.cwd(), 'public', 'samples');

async function downloadText(download: Download): Promise<string> {
  return readFileSync((await download.path())!, 'utf8');
}

test('CSV and JSON hold every score of every image, with the model id, and agree with the cards', async ({
  page,
}) => {
  const { cards } = await trySamples(page);
  const top1 = new Map(cards.map((card) => [card.name, card.top1]));

  const [csvDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  expect(csvDownload.suggestedFilename()).toMatch(
    new RegExp(`^eva-lens-${manifest.id.replace(/^eva-lens-/, '')}-\\d{4}-\\d\\d-\\d\\d\\.csv$`),
  );
  const lines = (await downloadText(csvDownload)).trimEnd().split('\r\n');
  expect(lines[0]).toBe('file,rank,label,probability,cosine,outcome,model,error');
  const rows = lines.slice(1).map((line) => line.split(','));
  expect(rows).toHaveLength(samples.length * sampleLabels.length);
  for (const [file, rank, label, probability, cosine, outcome, model] of rows) {
    expect(model).toBe(manifest.id);
    expect(outcome).toBe(top1.get(file!));
    if (rank === '1') expect(label, file).toBe(top1.get(file!));
    expect(Number(probability)).toBeGreaterThanOrEqual(0);
    expect(Math.abs(Number(cosine))).toBeLessThanOrEqual(1);
  }

  const [jsonDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const json = JSON.parse(await downloadText(jsonDownload)) as {
    model: { id: string };
    labels: string[];
    images: { file: string; outcome: string; scores: { label: string; probability: number }[] }[];
  };
  expect(json.model.id).toBe(manifest.id);
  expect([...json.labels].sort()).toEqual([...sampleLabels].sort());
  expect(json.images).toHaveLength(samples.length);
  for (const image of json.images) {
    expect(image.outcome).toBe(top1.get(image.file));
    const sum = image.scores.reduce((total, score) => total + score.probability, 0);
    expect(sum).toBeCloseTo(1, 3);
  }
  await expect(page.getByText(`Exported ${samples.length} images as JSON.`)).toBeVisible();
});

test('Sort into folders copies each image into its top label folder, or zips them where folders cannot be picked', async ({
  page,
}) => {
  const { cards } = await trySamples(page);
  const expected = cards.map((card) => `${card.top1}/${card.name}`).sort();

  // A picked folder: the origin's private file system stands in for the folder picker's answer.
  await page.evaluate(() => {
    (
      window as unknown as { showDirectoryPicker: () => Promise<FileSystemDirectoryHandle> }
    ).showDirectoryPicker = async () =>
      (await navigator.storage.getDirectory()).getDirectoryHandle('sorted', { create: true });
  });
  await page.getByRole('button', { name: 'Sort into folders' }).click();
  const folders = new Set(cards.map((card) => card.top1)).size;
  await expect(page.getByText(`Sorted ${samples.length} images into ${folders} folders.`)).toBeVisible();
  const written = await page.evaluate(async () => {
    const sorted = await (await navigator.storage.getDirectory()).getDirectoryHandle('sorted');
    const out: { path: string; bytes: number }[] = [];
    for await (const [folderName, folder] of sorted as unknown as AsyncIterable<[string, FileSystemHandle]>) {
      if (folder.kind !== 'directory') continue;
      for await (const [fileName, file] of folder as unknown as AsyncIterable<[string, FileSystemFileHandle]>)
        out.push({ path: `${folderName}/${fileName}`, bytes: (await file.getFile()).size });
    }
    return out;
  });
  expect(written.map((entry) => entry.path).sort()).toEqual(expected);
  for (const entry of written)
    expect(entry.bytes, entry.path).toBe(statSync(join(SAMPLES_DIR, entry.path.split('/')[1]!)).size);
  await saveScreen(page, '10-export');

  // No File System Access API: the same folders arrive as a zip.
  await page.evaluate(() => {
    (window as unknown as { showDirectoryPicker?: unknown }).showDirectoryPicker = undefined;
  });
  const [zipDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Sort into folders' }).click(),
  ]);
  expect(zipDownload.suggestedFilename()).toMatch(/-sorted\.zip$/);
  const listing = execFileSync(
    PYTHON,
    [
      '-c',
      'import json, sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps(z.namelist()))',
      (await zipDownload.path())!,
    ],
    { encoding: 'utf8' },
  );
  expect((JSON.parse(listing) as string[]).sort()).toEqual(expected);
  await expect(
    page.getByText(`Sorted ${samples.length} images into ${folders} folders (zip download).`),
  ).toBeVisible();
});
