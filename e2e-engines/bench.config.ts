import { defineConfig } from 'vitest/config';

/**
 * `npm run bench:engines`: the demo model's and B/16 int8's numbers in Chromium, Firefox ESR and WebKitGTK
 * (e2e-engines/measure.ts), written to test-results/engines-bench.json and engines-bench-b16.json and printed as the
 * BENCHMARKS.md tables. One engine at a time.
 */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['e2e-engines/measure.ts'],
    globalSetup: ['e2e-engines/benchSetup.ts'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
