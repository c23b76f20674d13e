/**
 * `npx playwright test --config bench/hub/playwright.config.ts`: builds a large architecture from the local hub
 * stand-in in headless Chromium and prints the build's timings and peak memory (issue #9). Not part of `npm test`:
 * the L/14 checkpoint is 856 MB and the build takes minutes. Needs the stand-in checkpoint first:
 * `npm run models -- random-checkpoint --arch EVA02-CLIP-L-14 --layout open_clip-safetensors --out
 * models/.artifacts/hub-stand-in/timm/eva02_large_patch14_clip_224.merged2b_s4b_b131k/resolve/main/open_clip_model.safetensors`.
 */
import { join } from 'node:path';
import base from '../../playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({
  ...base,
  testDir: '.',
  globalSetup: undefined,
  timeout: 3_600_000,
  reporter: [['list']],
  // The app is built and served from the repository root, as in the e2e suite.
  webServer: {
    ...(base.webServer as object),
    cwd: join(import.meta.dirname, '..', '..'),
  } as typeof base.webServer,
});
