/**
 * The shared scenarios (issue #20, part 1), written once against `EngineDriver` and run in Chromium, Firefox and
 * WebKitGTK. Each takes a fresh browser profile; what it learns about the engine goes into `facts`, which the suite
 * writes to test-results/engines/<engine>.json (the source of the README's browser table).
 */
import { expect } from 'vitest';
import { expectedTop1, reference, sampleLabels, samples } from '../e2e/support/reference';
import type { EngineDriver, EngineName } from './driver';
import {
  pageFacts,
  poll,
  snapshot,
  textOf,
  waitForCardsScored,
  waitForImagesSettled,
  waitForLabelEmbeddings,
  waitForModel,
} from './lens';

export interface ScenarioContext {
  driver: EngineDriver;
  engine: EngineName;
  /** The preview server's root URL. */
  url: string;
  /** Facts for the engine report (merged across scenarios). */
  facts: Record<string, unknown>;
  screen(name: string): Promise<void>;
}

export interface Scenario {
  name: string;
  /** Budget for the whole scenario on a busy 2-core machine, in ms. */
  timeoutMs: number;
  run(context: ScenarioContext): Promise<void>;
}

/** WASM threads the engine can really run: more than one needs SharedArrayBuffer. */
function expectedThreads(facts: {
  sharedArrayBuffer: boolean;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
}) {
  return facts.sharedArrayBuffer && facts.crossOriginIsolated ? Math.min(4, facts.hardwareConcurrency) : 1;
}

const firstVisit: Scenario = {
  name: 'first visit: backend, threads and fallbacks in the status bar; the samples give the reference top-1',
  timeoutMs: 240_000,
  async run({ driver, url, facts, screen }) {
    const started = Date.now();
    await driver.goto(url);
    const state = await waitForModel(driver);
    const page = await pageFacts(driver);
    Object.assign(facts, { page, browserVersion: driver.version });
    const model = state.model!;
    expect(state.crossOriginIsolated).toBe(page.crossOriginIsolated);
    expect(model.backend, 'no hardware WebGPU here: WASM').toBe('wasm');
    expect(model.threads, 'threads the engine can run').toBe(expectedThreads(page));
    const backendText = await textOf(driver, '[data-testid="status-backend"]');
    expect(backendText).toBe(
      `WASM · ${model.dtype} · ${model.threads} ${model.threads === 1 ? 'thread' : 'threads'}`,
    );
    const statusBar = await textOf(driver, '.status-bar');
    for (const note of model.fallbackNotes) expect(statusBar).toContain(note);
    Object.assign(facts, {
      backend: model.backend,
      dtype: model.dtype,
      threads: model.threads,
      storageKind: state.storageKind,
      fallbackNotes: model.fallbackNotes,
      statusBar,
      firstVisitModelLoadMs: Math.round(model.loadMs),
    });
    await screen('first-visit');

    // "Try the samples" on the very first visit, while the service worker is still precaching.
    const clicked = Date.now();
    await driver.click({ testId: 'try-samples' });
    await waitForLabelEmbeddings(driver, sampleLabels, 180_000);
    const settled = await waitForImagesSettled(driver, samples.length, 180_000);
    const failed = settled.images.filter((image) => image.status !== 'done');
    expect(failed.map((image) => `${image.name}: ${image.error}`)).toEqual([]);
    const cards = await waitForCardsScored(driver, samples.length);
    expect([...sampleLabels].sort()).toEqual([...reference.labels].sort());
    const mismatches = cards
      .filter((card) => card.top1 !== expectedTop1(card.name, model.dtype))
      .map((card) => `${card.name}: ${card.top1} (reference ${expectedTop1(card.name, model.dtype)})`);
    expect(mismatches, `top-1 against the ${model.dtype} reference`).toEqual([]);
    Object.assign(facts, {
      samplesSecondsAfterClick: (Date.now() - clicked) / 1000,
      firstVisitTotalSeconds: (Date.now() - started) / 1000,
      samplesTop1MatchesReference: cards.length,
    });
    await screen('samples');
  },
};

export const SCENARIOS: Scenario[] = [firstVisit];

export { poll, snapshot };
