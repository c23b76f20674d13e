/**
 * The Python the tests run (the rule lives in one place, scripts/python.mjs), and whether it can import what a suite
 * needs.
 */
import { spawnSync } from 'node:child_process';
import { PYTHON, pythonEnv } from '../../scripts/python.mjs';

export { PYTHON, pythonEnv };

/** True when PYTHON runs and imports every one of `modules` (e.g. ['numpy', 'PIL']). */
export function pythonCanImport(modules: readonly string[]): boolean {
  const result = spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], {
    stdio: 'ignore',
    timeout: 60_000,
  });
  return result.status === 0;
}
