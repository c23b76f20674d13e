/**
 * Bad and hostile image files (issue #7, part 1), made at test time by e2e/support/make_image_fixtures.py from the
 * demo samples: each one is classified or refused with its own message, in one drop, while the good files go on.
 */
import { makeAwkwardFiles } from './support/awkwardFiles';
import {
  dropFiles,
  expect,
  readCards,
  sampleFile,
  saveScreen,
  snapshot,
  test,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
  textFile,
  type DropFile,
} from './support/lens';
import { recordMeasurement } from './support/timings';

const LABELS = ['red star', 'blue star', 'green heart'];

/** What each generated file must give: its top label, or the exact message on its card. */
const EXPECTED: Record<string, { top1: string } | { message: string } | { done: true }> = {
  'zero-bytes.png': { message: 'zero-bytes.png is empty (0 bytes), so there is no image in it.' },
  // Decided by content, whatever the name: the sentence says what the file is and what to do, and keeps the
  // browser's raw error ("The source image could not be decoded") out (issue #18).
  'notes-named.jpg': {
    message:
      'notes-named.jpg is not an image: its content is none of the formats EVA Lens reads (JPEG, PNG, WebP, GIF, ' +
      'BMP, AVIF), whatever its name says. Add the picture in one of those formats.',
  },
  'page-named.jpg': {
    message:
      'page-named.jpg is a web page (HTML), not an image. Open it in a browser, save the pictures you want from ' +
      'it, then add those.',
  },
  'drawing.svg': {
    message:
      'drawing.svg is an SVG drawing, which EVA Lens cannot read. Export it as PNG (a browser or any drawing ' +
      'program can), then add the PNG.',
  },
  'scan-named.jpg': {
    message: 'scan-named.jpg is a PDF document, not an image. Save its pages as images, then add those.',
  },
  'photo.heic': {
    message:
      'photo.heic is a HEIC/HEIF photo, which this browser cannot decode. Export it as JPEG (the Photos app and ' +
      'most phones can), then add it again.',
  },
  'bomb.png': {
    message:
      'bomb.png is 900 megapixels (30,000 × 30,000 pixels); EVA Lens reads images up to 100 megapixels. Add a ' +
      'smaller copy of it.',
  },
  // Chromium's createImageBitmap refuses a cut-off file rather than showing the part that arrived.
  'truncated.jpg': {
    message:
      'truncated.jpg is a JPEG file whose picture data is damaged or cut off. Open it in an image viewer: if it ' +
      'shows there, save it again as JPEG; otherwise add the original again.',
  },
  'truncated.png': {
    message:
      'truncated.png is a PNG file whose picture data is damaged or cut off. Open it in an image viewer: if it ' +
      'shows there, save it again as PNG; otherwise add the original again.',
  },
  // A PNG with no extension and no type: its bytes say PNG.
  noext: { top1: 'red star' },
  'animated.gif': { top1: 'red star' }, // the first frame is the red star, the second the blue one
  'cmyk.jpg': { top1: 'red star' },
  'sixteen-bit.png': { top1: 'red star' },
  'transparent.png': { top1: 'red star' }, // transparent pixels on white, as the reference preprocessing does
  'exif-rotated.jpg': { top1: 'red star' },
  'red-star.webp': { top1: 'red star' },
  'red-star.avif': { top1: 'red star' },
  'one-pixel.png': { done: true },
  'tall-strip.png': { done: true },
};

let files: DropFile[];

test.beforeAll(() => {
  files = makeAwkwardFiles();
  // Named for something they are not, or not named at all (issue #18).
  files.push(
    { ...sampleFile('red-star.png'), name: 'noext', type: '' },
    textFile(
      'page-named.jpg',
      '<!DOCTYPE html>\n<html><head><title>Photos</title></head><body></body></html>',
      'image/jpeg',
    ),
    textFile(
      'drawing.svg',
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><circle r="30"/></svg>',
      'image/svg+xml',
    ),
  );
});

test('each awkward or hostile file is classified or refused with its own message; the good files go on', async ({
  page,
}) => {
  expect(Object.keys(EXPECTED).sort()).toEqual(files.map((f) => f.name).sort());
  await page.goto('/');
  await waitForModel(page);
  await typeLabels(page, LABELS);
  await waitForLabelEmbeddings(page, LABELS);
  // A file name written as HTML must show as text (the fixture fails the test if an alert opens).
  const hostileName = '<img src=x onerror=alert(1)>.png';
  const good = [sampleFile('blue-star.png'), { ...sampleFile('green-heart.png'), name: hostileName }];
  const started = Date.now();
  const skipped = textFile('notes.txt', 'Shopping list: milk, bread.');
  await dropFiles(page, [good[0]!, ...files, skipped, good[1]!]);
  const state = await waitForImagesSettled(page, files.length + 2, 120_000);
  const seconds = (Date.now() - started) / 1000;
  const doneCount = state.images.filter((image) => image.status === 'done').length;
  await waitForCardsScored(page, doneCount);
  const cards = new Map((await readCards(page)).map((card) => [card.name, card]));

  expect(cards.get('blue-star.png')?.top1).toBe('blue star');
  expect(cards.get(hostileName)?.top1).toBe('green heart');
  await expect(page.getByRole('article', { name: hostileName }).locator('.card__name')).toHaveText(
    hostileName,
  );
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  const table: string[] = [];
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const image = state.images.find((i) => i.name === name)!;
    const card = cards.get(name)!;
    if ('message' in expected) {
      expect(image.status, name).toBe('failed');
      expect(image.error, name).toBe(expected.message);
      await expect(page.getByRole('article', { name }).locator('.card__status--error')).toHaveText(
        expected.message,
      );
      table.push(`${name}: refused: ${expected.message}`);
    } else {
      expect(image.status, `${name}: ${image.error}`).toBe('done');
      if ('top1' in expected) expect(card.top1, name).toBe(expected.top1);
      table.push(`${name}: classified, top label ${card.top1}`);
    }
  }
  // EXIF applied: the file stores a portrait picture whose Orientation tag turns it into the landscape original.
  const thumb = page.getByRole('article', { name: 'exif-rotated.jpg' }).locator('img');
  const [thumbWidth, thumbHeight] = await thumb.evaluate((img: HTMLImageElement) => [
    img.naturalWidth,
    img.naturalHeight,
  ]);
  expect(thumbWidth, 'the EXIF-rotated photo is shown landscape, as its camera meant').toBeGreaterThan(
    thumbHeight!,
  );
  recordMeasurement('bad-images', { files: files.length, secondsForAll: seconds, outcomes: table });
  for (const message of Object.values(EXPECTED).flatMap((e) => ('message' in e ? [e.message] : [])))
    expect(message, 'no raw browser error, no "use JPEG" for a JPEG').not.toMatch(
      /could not be decoded|Use JPEG/,
    );

  // After the notices fade, the count of refused files stays beside the image count; one click lists them.
  const refusedNames = [...Object.keys(EXPECTED).filter((name) => 'message' in EXPECTED[name]!), 'notes.txt'];
  const toolbar = page.locator('.toolbar');
  await expect(toolbar.getByRole('heading')).toHaveText(
    `${files.length + 2 - (refusedNames.length - 1)} images`,
  );
  const toggle = toolbar.getByRole('button', { name: `${refusedNames.length} files refused` });
  await expect(toggle).toBeVisible();
  await toggle.click();
  const list = page.getByRole('list', { name: 'Refused files' });
  await expect(list.locator('li')).toHaveCount(refusedNames.length);
  for (const name of refusedNames) await expect(list).toContainText(name);
  await expect(list).toContainText('notes.txt: Not an image: it says it is text/plain.');
  await saveScreen(page, 'bad-images-refused-list');
  // The page kept working: a new label is embedded and ranks a new image by it.
  await typeLabels(page, ['green cross']);
  await waitForLabelEmbeddings(page, [...LABELS, 'green cross']);
  await dropFiles(page, [sampleFile('green-cross.png')]);
  await waitForImagesSettled(page, files.length + 3, 60_000);
  await expect
    .poll(async () => (await readCards(page)).find((card) => card.name === 'green-cross.png')?.top1)
    .toBe('green cross');
  expect((await snapshot(page)).modelStatus).toBe('ready');
});
