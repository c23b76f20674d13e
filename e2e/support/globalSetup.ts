/** Clears the previous run's measurements and screenshots, so every file under them comes from this run. */
import { rmSync } from 'node:fs';
import { SCREENS_DIR, TIMINGS_PATH } from './paths';

export default function globalSetup(): void {
  rmSync(TIMINGS_PATH, { force: true });
  rmSync(SCREENS_DIR, { recursive: true, force: true });
}
