/**
 * Big label sets (issue #18, area 5, in part): while a preset's labels embed, the cards holding the previous labels'
 * scores are greyed and say so; pasting 10,000 labels is measured through the Long Tasks and Event Timing APIs.
 */
import { expect, snapshot, test, waitForModel } from './support/lens';
import { trySamples } from './support/classifyFlow';
import { recordMeasurement } from './support/timings';

test('while new labels embed, the old results are greyed and marked out of date', async ({ page }) => {
  test.setTimeout(240_000);
  await trySamples(page);
  await expect(page.getByTestId('stale-results')).toHaveCount(0);
  await page.getByLabel('Use a label preset').selectOption('cifar-100');
  const note = page.getByTestId('stale-results');
  await expect(note).toBeVisible();
  await expect(note).toHaveText(/These scores are for the previous labels/);
  const opacity = await page
    .locator('.grid')
    .first()
    .evaluate((grid) => Number(getComputedStyle(grid).opacity));
  expect(opacity, 'the stale grid is greyed').toBeLessThan(0.6);
  await expect
    .poll(async () => (await snapshot(page)).labelEmbeddingStatus, { timeout: 200_000 })
    .toBe('ready');
  await expect(note).toHaveCount(0);
});

// A measurement, not yet a promise: the bounds (no task over 200 ms, typing within a frame) need the
// windowed label list, which is not built yet; the numbers go to test-results/e2e-timings.json.
test('pasting 10,000 labels: longest main-thread task and typing latency, measured', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/');
  await waitForModel(page);
  await page.evaluate(() => {
    const record = window as unknown as { __longTasks: number[]; __events: number[] };
    record.__longTasks = [];
    record.__events = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) record.__longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: false });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        if (entry.name === 'keydown') record.__events.push(entry.duration);
    }).observe({ type: 'event', durationThreshold: 16, buffered: false } as PerformanceObserverInit);
  });
  const labels = Array.from({ length: 10_000 }, (_, i) => `label number ${i + 1}`);
  await page.getByRole('button', { name: 'Paste a list of labels' }).click();
  // One paste of 200 kB, as the clipboard delivers it.
  await page.getByLabel('Labels, one per line').evaluate((area, text) => {
    const setValue = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value')!.set!;
    setValue.call(area, text);
    area.dispatchEvent(new Event('input', { bubbles: true }));
  }, labels.join('\n'));
  await page.evaluate(() => ((window as unknown as { __longTasks: number[] }).__longTasks.length = 0));
  await page.getByRole('button', { name: 'Use these labels' }).click();
  await expect.poll(async () => (await snapshot(page)).labels.length, { timeout: 60_000 }).toBe(10_000);
  await page.waitForTimeout(1000);
  const pasteTasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  await page.getByTestId('label-input').click();
  await page.keyboard.type('a new label typed here', { delay: 30 });
  await page.waitForTimeout(500);
  const keyEvents = await page.evaluate(() => (window as unknown as { __events: number[] }).__events);
  const elements = await page.evaluate(() => document.querySelectorAll('*').length);
  await expect(page.getByTestId('label-input')).toHaveValue('a new label typed here');
  recordMeasurement('10,000 pasted labels', {
    longestPasteTaskMs: Math.max(0, ...pasteTasks),
    longTasks: pasteTasks.length,
    slowKeydownsOver16ms: keyEvents.length,
    longestKeydownMs: Math.max(0, ...keyEvents),
    elements,
  });
  console.log(
    `paste: longest task ${Math.max(0, ...pasteTasks)} ms (${pasteTasks.length} long tasks); keydowns over 16 ms: ${keyEvents.length}, longest ${Math.max(0, ...keyEvents)} ms; ${elements} elements`,
  );
});
