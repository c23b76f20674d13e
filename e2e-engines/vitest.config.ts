import { defineConfig } from 'vitest/config';

/**
 * The cross-engine suite (issue #20): `npx vitest run --config e2e-engines/vitest.config.ts [chromium|firefox|webkit]`.
 * One engine file at a time and one scenario at a time: the machines have 2 cores.
 */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['e2e-engines/*.engine.ts'],
    globalSetup: ['e2e-engines/globalSetup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    sequence: { concurrent: false },
    testTimeout: 600_000,
    hookTimeout: 120_000,
    retry: 0,
  },
});
