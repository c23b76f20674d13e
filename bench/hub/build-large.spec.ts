/**
 * Builds EVA02-CLIP-L/14 (or the model named by EVA_LENS_HUB_MODEL) from the local hub stand-in in Chromium and
 * prints how long each step took and the renderer's peak memory. See playwright.config.ts beside it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { startHubServer } from '../../e2e/support/hubServer';

const MODEL_ID = process.env.EVA_LENS_HUB_MODEL ?? 'eva02-clip-l-14-hub';

function rendererRssBytes(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (rss) total += Number(rss[1]) * 1024;
    } catch {
      // The process ended while we looked.
    }
  }
  return total;
}

test(`build ${MODEL_ID} from the hub stand-in`, async ({ baseURL, launchOptions }) => {
  const hub = await startHubServer();
  // A persistent profile: a fresh test context is incognito, whose storage quota (~1 GB here) is too small for the
  // L/14 checkpoint and its built files together.
  const profile = mkdtempSync(join(tmpdir(), 'eva-lens-hub-bench-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...launchOptions,
    baseURL,
    serviceWorkers: 'block',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  try {
    await page.goto('/');
    await expect
      .poll(() => page.evaluate(() => window.__evaLens?.snapshot().modelStatus), { timeout: 60_000 })
      .toBe('ready');
    await page.getByRole('button', { name: 'Models', exact: true }).click();
    await page.getByRole('textbox', { name: 'Model hub' }).fill(hub.url);
    await page.getByRole('button', { name: 'Save hub' }).click();
    const row = page.locator(`[data-testid="hub-build"][data-model-id="${MODEL_ID}"]`);
    const baseline = rendererRssBytes();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rendererRssBytes())), 250);
    const started = Date.now();
    await row.getByRole('button', { name: /^Build / }).click();
    await expect(row.getByText('Built', { exact: true }).or(row.getByRole('alert'))).toBeVisible({
      timeout: 3_000_000,
    });
    clearInterval(sampler);
    await expect(row.getByRole('alert')).toHaveCount(0);
    const stored = await page.evaluate(
      (id) => window.__evaLens!.snapshot().storedModels.find((m) => m.id === id),
      MODEL_ID,
    );
    console.log(
      `[hub build] ${JSON.stringify({
        model: MODEL_ID,
        totalSeconds: (Date.now() - started) / 1000,
        ...stored?.metrics,
        probeCosine: stored?.probeCosine,
        storedBytes: stored?.bytes,
        rendererRssBeforeMiB: Math.round(baseline / 2 ** 20),
        rendererPeakRssMiB: Math.round(peak / 2 ** 20),
      })}`,
    );
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
    await hub.close();
  }
});
