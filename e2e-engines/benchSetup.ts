/**
 * `npm run bench:engines`' own build and server: a folder of its own (not the suite's engines-dist, and the suite's
 * report folder is left alone), so a benchmark can run while `npm test` runs the engine suite.
 */
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ROOT } from '../e2e/support/paths';
import { buildApp, startPreview, type Preview } from './server';

const BENCH_BUILD_DIR = join(ROOT, 'test-results', 'engines-bench-dist');
let preview: Preview | null = null;

export async function setup(project: TestProject): Promise<void> {
  buildApp(BENCH_BUILD_DIR);
  preview = await startPreview(BENCH_BUILD_DIR);
  project.provide('previewUrl', preview.url);
}

export async function teardown(): Promise<void> {
  await preview?.stop();
}
