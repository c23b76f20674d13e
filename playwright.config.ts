import { existsSync } from 'node:fs';
import { defineConfig, devices } from '@playwright/test';

/** The system Chromium when there is one (this project's machines); otherwise Playwright's own download. */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';
// EVA_LENS_E2E_PORT lets a second checkout run its suite beside this one (the loaded-machine check of issue #17).
const PORT = Number(process.env.EVA_LENS_E2E_PORT ?? 4173);
const BASE_URL = `http://127.0.0.1:${PORT}/`;

export default defineConfig({
  testDir: 'e2e',
  globalSetup: './e2e/support/globalSetup.ts',
  // Results and screenshots live in test-results/ beside other suites' reports; Playwright empties its
  // outputDir at start, so it gets a folder of its own there.
  outputDir: 'test-results/playwright-artifacts',
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  // One browser at a time: the machines are small, and WebGPU on SwiftShader takes every core it gets.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  use: {
    ...devices['Desktop Chrome'],
    baseURL: BASE_URL,
    viewport: { width: 1280, height: 860 },
    // The PWA's service worker would precache ~40 MB of runtime and model on every fresh context.
    serviceWorkers: 'block',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        // WebGPU on a machine without a GPU: Dawn's SwiftShader (software) adapter, secure contexts only. The app
        // never picks a fallback adapter on 'auto'; the WebGPU spec selects it explicitly.
        '--enable-unsafe-webgpu',
      ],
    },
  },
  projects: [{ name: 'chromium' }],
  webServer: {
    // The production build, served with the COOP/COEP headers from vite.config.ts `preview.headers`.
    command: `npx vite build && npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: BASE_URL,
    reuseExistingServer: !process.env.CI,
    timeout: 300_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
