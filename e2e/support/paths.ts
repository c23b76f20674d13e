/** Where the suite reads its inputs and writes what the lead reads, from the repository root. */
import { join } from 'node:path';

/** The repository root (this file is e2e/support/paths.ts). */
export const ROOT = join(import.meta.dirname, '..', '..');
export const SAMPLES_DIR = join(ROOT, 'public', 'samples');
export const SCREENS_DIR = join(ROOT, 'test-results', 'screens');
export const TIMINGS_PATH = join(ROOT, 'test-results', 'e2e-timings.json');
