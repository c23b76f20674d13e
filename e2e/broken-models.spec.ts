/**
 * A broken model (issue #7, part 4): a stored model whose graph was damaged on disk, and a folder whose files do not
 * match its manifest. Each gives a clear message, and the model in use before keeps working.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dropFiles,
  expect,
  sampleFile,
  snapshot,
  test,
  typeLabels,
  waitForCardsScored,
  waitForImagesSettled,
  waitForModel,
} from './support/lens';
import { writeModelCopy } from './support/modelServer';

const ID = 'eva-lens-demo-broken';
const NAME = 'EVA Lens demo (copy to break)';

test('a stored model damaged on disk is refused by name, and the previous model keeps working', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'eva-lens-broken-'));
  try {
    writeModelCopy(join(dir, ID), ID, NAME);
    await page.goto('/');
    await waitForModel(page);
    await typeLabels(page, ['red star', 'blue star']);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByLabel('Import model folder').setInputFiles(join(dir, ID));
    await expect
      .poll(async () => (await snapshot(page)).storedModels.map((m) => m.id), { timeout: 60_000 })
      .toContain(ID);

    // Flip the bytes of the stored image graphs, as a failing disk or a stray tool could.
    const damaged = await page.evaluate(async (id) => {
      const found: string[] = [];
      const walk = async (folder: FileSystemDirectoryHandle, path: string): Promise<void> => {
        for await (const [name, handle] of (
          folder as unknown as { entries(): AsyncIterable<[string, FileSystemHandle]> }
        ).entries()) {
          if (handle.kind === 'directory') await walk(handle as FileSystemDirectoryHandle, `${path}${name}/`);
          else if (path.includes(id) && /image\.(int8|q4)\.onnx/.test(name)) {
            const file = await (handle as FileSystemFileHandle).getFile();
            const bytes = new Uint8Array(await file.arrayBuffer()).map((b) => b ^ 0xa5);
            const writable = await (handle as FileSystemFileHandle).createWritable();
            await writable.write(bytes);
            await writable.close();
            found.push(`${path}${name}`);
          }
        }
      };
      await walk(await navigator.storage.getDirectory(), '');
      return found;
    }, ID);
    // Both variants (int8 and q4): with one intact, the engine would rightly use that one.
    expect(damaged).toHaveLength(2);

    await page
      .locator(`[data-testid="model-row"][data-model-id="${ID}"]`)
      .getByRole('button', { name: `Use ${NAME}` })
      .click();
    await expect(
      page.getByRole('alert').filter({
        hasText: `That model could not be used: image.int8.onnx of ${NAME} is damaged in this browser's model storage`,
      }),
    ).toBeVisible({ timeout: 60_000 });
    await expect
      .poll(async () => (await snapshot(page)).model?.id, { timeout: 60_000 })
      .toBe('eva-lens-demo');
    await page.getByRole('button', { name: 'Close' }).click();
    await dropFiles(page, [sampleFile('red-star.png')]);
    await waitForImagesSettled(page, 1);
    const [card] = await waitForCardsScored(page, 1);
    expect(card!.top1).toBe('red star');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a model folder whose files do not match its manifest is not imported, and says which file', async ({
  page,
}) => {
  const dir = mkdtempSync(join(tmpdir(), 'eva-lens-mismatch-'));
  try {
    writeModelCopy(join(dir, ID), ID, NAME);
    // Replaced after the manifest was written: same name, other bytes.
    writeFileSync(join(dir, ID, 'text.int8.onnx'), Buffer.from('not the graph the manifest describes'));
    await page.goto('/');
    await waitForModel(page);
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByLabel('Import model folder').setInputFiles(join(dir, ID));
    await expect(page.getByRole('alert').filter({ hasText: 'text.int8.onnx' })).toBeVisible({
      timeout: 60_000,
    });
    const alert = await page.getByRole('alert').filter({ hasText: 'text.int8.onnx' }).first().textContent();
    console.log(`Message on the mismatched folder: ${alert}`);
    expect((await snapshot(page)).storedModels.map((m) => m.id)).not.toContain(ID);
    expect((await snapshot(page)).model?.id).toBe('eva-lens-demo');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
