/**
 * A new deployment while the app is open: the waiting service worker is announced by the update prompt, and
 * "Reload" hands over to it. The "new version" is the built service worker with one precache revision changed (the
 * same length, so the preview server's cached Content-Length still fits), which is all a browser needs to see an
 * update; the file is restored afterwards.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, saveScreen, test, waitForModel } from './support/lens';
import { ROOT } from './support/paths';

test.use({ serviceWorkers: 'allow' });

const SW_FILE = join(ROOT, 'dist', 'sw.js');

test('a new version is announced and taken on "Reload"', async ({ page }) => {
  const original = readFileSync(SW_FILE);
  try {
    await page.goto('/');
    await waitForModel(page);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
    const firstScript = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);

    const text = original.toString('utf8');
    const revision = /"revision":"([0-9a-f])/.exec(text)!;
    const at = revision.index + '"revision":"'.length;
    writeFileSync(SW_FILE, text.slice(0, at) + (revision[1] === '0' ? '1' : '0') + text.slice(at + 1));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    const prompt = page.getByRole('status').filter({ hasText: 'A new version of EVA Lens is ready.' });
    await expect(prompt).toBeVisible({ timeout: 60_000 });
    await saveScreen(page, 'pwa-update-prompt');

    const reloaded = page.waitForEvent('load');
    await page.getByRole('button', { name: 'Reload to update' }).click();
    await reloaded;
    await waitForModel(page);
    const after = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      return {
        waiting: registration?.waiting !== null,
        script: navigator.serviceWorker.controller?.scriptURL,
      };
    });
    expect(after).toEqual({ waiting: false, script: firstScript });
    await expect(prompt).toBeHidden();
  } finally {
    writeFileSync(SW_FILE, original);
  }
});
