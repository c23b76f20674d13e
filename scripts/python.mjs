// The one place that says which Python runs the model toolchain, its tests, the test helpers and the benchmarks:
// $EVA_LENS_PYTHON when set; else Debian's /usr/bin/python3, which has the packages scripts/system-deps.sh installs
// (torch, onnx, numpy, PIL, pytest, flake8, black) even where another python3 comes first on PATH; else python3.
//
// Imported (`import { PYTHON } from '<repo>/scripts/python.mjs'`), or run as a command, which runs that Python with
// the arguments given and models/ on PYTHONPATH: `node scripts/python.mjs -m eva_lens catalog`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEBIAN_PYTHON = '/usr/bin/python3';
const REPO_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The interpreter for `env` (a parameter so the rule can be tested without changing the process). */
export function pythonFor(env = process.env, exists = existsSync) {
  if (env.EVA_LENS_PYTHON) return env.EVA_LENS_PYTHON;
  return exists(DEBIAN_PYTHON) ? DEBIAN_PYTHON : 'python3';
}

export const PYTHON = pythonFor();

/** `env` with models/ first on PYTHONPATH, so `eva_lens` imports from any working directory. */
export function pythonEnv(env = process.env) {
  const models = join(REPO_ROOT, 'models');
  return { ...env, PYTHONPATH: env.PYTHONPATH ? `${models}${delimiter}${env.PYTHONPATH}` : models };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result = spawnSync(PYTHON, process.argv.slice(2), { stdio: 'inherit', env: pythonEnv() });
  if (result.error)
    console.error(
      `${PYTHON}: ${result.error.message} (set EVA_LENS_PYTHON to a Python 3 with the toolchain's packages)`,
    );
  process.exit(result.status ?? 1);
}
