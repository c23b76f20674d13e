/**
 * Defines one engine's run of the shared scenarios: a fresh browser per scenario, a screenshot at each named step
 * (test-results/engines/<engine>/), and the engine's facts written to test-results/engines/<engine>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, inject, test } from 'vitest';
import { ROOT } from '../e2e/support/paths';
import type { EngineDriver, EngineName } from './driver';
import { launchEngine, stopWebKitService } from './engines';
import { SCENARIOS } from './scenarios';

export const REPORT_DIR = join(ROOT, 'test-results', 'engines');

export function defineEngineSuite(engine: EngineName): void {
  const facts: Record<string, unknown> = { engine };
  const results: { scenario: string; ok: boolean; seconds: number; error?: string }[] = [];

  describe(engine, () => {
    afterAll(() => {
      stopWebKitService();
      mkdirSync(REPORT_DIR, { recursive: true });
      writeFileSync(
        join(REPORT_DIR, `${engine}.json`),
        JSON.stringify({ ...facts, results, date: new Date().toISOString() }, null, 2),
      );
    });

    for (const scenario of SCENARIOS) {
      // A scenario that fails is run once more in a new browser (WebKit: a new driver service); both attempts are in
      // the engine's report (test-results/engines/<engine>.json). Seen on this 2-core machine and not yet
      // explained: WebKitWebDriver stopping to answer mid-scenario (stop 21's CI, offline; one run today, CSP), and
      // Firefox's model load staying 'loading' for 120 s (one run today after "Forget everything", one on a first
      // visit in the offline scenario) — each scenario passed in the other runs.
      test(scenario.name, { timeout: scenario.timeoutMs + 60_000, retry: 1 }, async () => {
        const started = Date.now();
        const dir = join(REPORT_DIR, engine);
        mkdirSync(dir, { recursive: true });
        let driver: EngineDriver | null = null;
        try {
          driver = await launchEngine(engine);
          const open = driver;
          await withTimeout(
            scenario.run({
              driver: open,
              engine,
              url: inject('previewUrl'),
              facts,
              screen: (name) => open.screenshot(join(dir, `${name}.png`)).catch(() => undefined),
            }),
            scenario.timeoutMs,
            scenario.name,
          );
          results.push({ scenario: scenario.name, ok: true, seconds: (Date.now() - started) / 1000 });
        } catch (error) {
          if (driver) {
            const failed = driver;
            await withTimeout(
              failed.screenshot(join(dir, 'failure.png')),
              15_000,
              'failure screenshot',
            ).catch(() => undefined);
          }
          results.push({
            scenario: scenario.name,
            ok: false,
            seconds: (Date.now() - started) / 1000,
            error: String(error),
          });
          // A driver that stopped answering is not asked again: its whole service goes, and a retry starts anew.
          if (engine === 'webkit') stopWebKitService();
          throw error;
        } finally {
          if (driver) await withTimeout(driver.close(), 15_000, 'closing the browser').catch(() => undefined);
        }
      });
    }
  });
}

async function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`"${name}" took over ${ms / 1000} s.`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    previewUrl: string;
  }
}
