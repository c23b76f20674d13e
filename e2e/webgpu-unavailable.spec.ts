/**
 * WebGPU missing or failing before the model runs (issue #7, part 4): the person chose WebGPU, but this browser has
 * none, the adapter request fails, or the adapter gives no device. Each time the model loads on WASM, the status bar
 * says why, and the samples are classified as the reference says. The failure is made inside the inference worker
 * (where the engine looks for WebGPU) by putting a few lines in front of the worker's script as it is served.
 */
import type { Page } from '@playwright/test';
import { classifySamples, expectTop1Parity } from './support/classifyFlow';
import { expect, snapshot, test, waitForModel } from './support/lens';
import { recordMeasurement } from './support/timings';

interface Case {
  title: string;
  /** Runs in the worker before its own code. */
  prelude: string;
  /** What the status bar's notes must say. */
  note: RegExp;
}

const CASES: Case[] = [
  {
    title: 'a browser without WebGPU',
    prelude: `Object.defineProperty(Object.getPrototypeOf(navigator), 'gpu', { get: () => undefined, configurable: true });`,
    note: /WebGPU is not used: this browser has no WebGPU\./,
  },
  {
    title: 'a WebGPU adapter request that fails',
    prelude: `navigator.gpu.requestAdapter = () => Promise.reject(new Error('simulated adapter failure'));`,
    note: /WebGPU is not used: requesting a WebGPU adapter failed \(simulated adapter failure\)\./,
  },
  {
    title: 'an adapter that gives no device',
    prelude: `GPUAdapter.prototype.requestDevice = () => Promise.reject(new Error('simulated device failure'));`,
    note: /WebGPU \S+ could not start \(the WebGPU adapter gave no device: simulated device failure\)\./,
  },
];

/** Serves the inference worker's script with `prelude` in front of it. */
async function breakWebGpuInWorker(page: Page, prelude: string): Promise<() => number> {
  let served = 0;
  await page.route(/\/assets\/lens\.worker[^/]*\.js$/, async (route) => {
    const response = await route.fetch();
    served++;
    await route.fulfill({ response, body: `${prelude}\n${await response.text()}` });
  });
  return () => served;
}

for (const { title, prelude, note } of CASES) {
  test(`WebGPU chosen on ${title}: the model runs on WASM and the page says why`, async ({ page }) => {
    test.setTimeout(300_000);
    const servedCount = await breakWebGpuInWorker(page, prelude);
    await page.goto('/');
    await waitForModel(page);
    // 'Auto' may already have said the same note; a new load time tells that the WebGPU choice was loaded.
    const autoLoad = (await snapshot(page)).model?.loadMs;
    await page.getByTestId('backend-select').selectOption('webgpu');
    await expect
      .poll(async () => {
        const state = await snapshot(page);
        const reloaded = state.modelStatus === 'ready' && state.model?.loadMs !== autoLoad;
        return reloaded ? state.model?.backend : null;
      })
      .toBe('wasm');
    expect(servedCount(), 'the worker script went through the route').toBeGreaterThan(0);
    await expect(page.getByTestId('status-notes')).toContainText(note);
    const run = await classifySamples(page, { labelsVia: 'type' });
    expect(run.backend).toBe('wasm');
    expectTop1Parity(run);
    const state = await snapshot(page);
    recordMeasurement(`webgpu-unavailable: ${title}`, {
      backend: state.model?.backend,
      dtype: state.model?.dtype,
      notes: state.model?.fallbackNotes,
    });
  });
}
