/**
 * Big work (issue #7, part 3): a tab closed in the middle of a batch loses nothing that was finished — dropping the
 * same photos again in a new tab shows those results from the embedding cache at once and embeds only the rest.
 */
import type { Page } from '@playwright/test';
import {
  dropFiles,
  expect,
  snapshot,
  test,
  waitForImagesSettled,
  waitForModel,
  type DropFile,
} from './support/lens';

/** `count` different 1600-px JPEGs (each with its own pattern, so each has its own content hash), made in the page. */
async function makePhotos(page: Page, count: number): Promise<DropFile[]> {
  const encoded = await page.evaluate(async (count) => {
    const side = 1600;
    const out: string[] = [];
    for (let n = 0; n < count; n++) {
      const canvas = new OffscreenCanvas(side, side);
      const context = canvas.getContext('2d')!;
      const pixels = context.createImageData(side, side);
      for (let i = 0; i < pixels.data.length; i += 4) {
        pixels.data[i] = (i * 7919 + n * 31) % 251;
        pixels.data[i + 1] = (i * 104729 + n * 17) % 241;
        pixels.data[i + 2] = (i * 15485863 + n * 7) % 239;
        pixels.data[i + 3] = 255;
      }
      context.putImageData(pixels, 0, 0);
      const bytes = new Uint8Array(
        await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer(),
      );
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000)
        binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      out.push(btoa(binary));
    }
    return out;
  }, count);
  return encoded.map((base64, n) => ({
    name: `photo-${String(n).padStart(2, '0')}.jpg`,
    type: 'image/jpeg',
    base64,
  }));
}

test('a tab closed mid-batch keeps its finished results: the same photos in a new tab come from the cache', async ({
  context,
}) => {
  const first = await context.newPage();
  await first.goto('/');
  await waitForModel(first);
  const photos = await makePhotos(first, 16);
  await dropFiles(first, photos);
  await expect
    .poll(async () => (await snapshot(first)).images.filter((image) => image.status === 'done').length, {
      timeout: 60_000,
    })
    .toBeGreaterThanOrEqual(4);
  const before = await snapshot(first);
  const finished = new Map(
    before.images.filter((image) => image.status === 'done').map((image) => [image.name, image.embedding!]),
  );
  expect(finished.size, 'the tab is closed while images are still waiting').toBeLessThan(photos.length);
  await first.close();

  const second = await context.newPage();
  await second.goto('/');
  await waitForModel(second);
  await dropFiles(second, photos);
  const after = await waitForImagesSettled(second, photos.length, 120_000);
  expect(after.images.every((image) => image.status === 'done')).toBe(true);
  for (const image of after.images) {
    const earlier = finished.get(image.name);
    if (!earlier) continue;
    expect(image.fromCache, `${image.name} was finished before the tab closed`).toBe(true);
    expect(image.embedding).toEqual(earlier);
  }
  const fromCache = after.images.filter((image) => image.fromCache).length;
  expect(fromCache).toBeGreaterThanOrEqual(finished.size);
  console.log(
    `finished before closing: ${finished.size} of ${photos.length}; from the cache after: ${fromCache}`,
  );
});
