import { defineConfig } from 'vitest/config';

// Kept apart from vite.config.ts so unit tests load neither the PWA plugin nor the ORT file copier.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'scripts/**/*.test.ts'],
    exclude: ['e2e/**', 'node_modules/**', 'dist/**'],
    // The build machine is small; one worker keeps test runs from competing with model training.
    maxWorkers: 1,
    // Headroom for a loaded 2-core machine (Vitest's 5 s default failed tests that take 1 s on a quiet one);
    // heavy tests (model builds, parity runs) set their own, longer limits.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
