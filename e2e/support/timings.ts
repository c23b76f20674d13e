/**
 * Numbers the lead reports (per-image time, accuracy, parity), printed and merged into
 * test-results/e2e-timings.json under one key per measurement, so each spec adds its own.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TIMINGS_PATH } from './paths';

export function recordMeasurement(key: string, values: Record<string, unknown>): void {
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(TIMINGS_PATH, 'utf8')) as Record<string, unknown>;
  } catch {
    // First measurement of this run directory.
  }
  all[key] = { ...values, recordedAt: new Date().toISOString() };
  mkdirSync(dirname(TIMINGS_PATH), { recursive: true });
  writeFileSync(TIMINGS_PATH, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`[e2e measurement] ${key}: ${JSON.stringify(values)}`);
}
