/** Builds the app once for the whole run and serves it to every engine (server.ts). */
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildApp, startPreview, type Preview } from './server';
import { REPORT_DIR } from './suite';

let preview: Preview | null = null;

export async function setup(project: TestProject): Promise<void> {
  rmSync(REPORT_DIR, { recursive: true, force: true });
  buildApp();
  preview = await startPreview();
  project.provide('previewUrl', preview.url);
}

export async function teardown(): Promise<void> {
  await preview?.stop();
}
