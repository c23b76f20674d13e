// Runs every suite of the project and ends with one line totalling them: `N passed, N failed`.
// Static checks (tsc, ESLint, Prettier) and the benchmark's smoke run count as one test each; pytest, Vitest,
// Playwright and the cross-engine suite (Vitest driving Chromium, Firefox and WebKitGTK) are counted from their
// own machine-readable reports, so the total is exact rather than parsed from human output.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { PYTHON } from './python.mjs';

const REPORTS = 'test-results';
mkdirSync(REPORTS, { recursive: true });

/** Runs a command with inherited output; returns its exit status. */
function run(cmd, args, env = {}) {
  console.log(`\n$ ${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return res.status ?? 1;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

const totals = [];
function record(suite, passed, failed, skipped = 0) {
  totals.push({ suite, passed, failed, skipped });
  console.log(`[${suite}] ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
}

function staticCheck(name, cmd, args) {
  const ok = run(cmd, args) === 0;
  record(name, ok ? 1 : 0, ok ? 0 : 1);
}

/** pytest's JUnit XML: count testcases and their failure/error/skipped children. */
function pytestCounts(path) {
  if (!existsSync(path)) return null;
  const xml = readFileSync(path, 'utf8');
  const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
  let failed = 0;
  let skipped = 0;
  for (const c of cases) {
    if (/<(failure|error)\b/.test(c)) failed++;
    else if (/<skipped\b/.test(c)) skipped++;
  }
  return { passed: cases.length - failed - skipped, failed, skipped };
}

const only = process.argv.slice(2);
const wants = (name) => only.length === 0 || only.includes(name);

if (wants('system')) {
  if (run('bash', ['scripts/system-deps.sh']) !== 0) record('system-deps', 0, 1);
}
if (wants('static')) {
  staticCheck('tsc', 'npx', ['tsc', '--noEmit']);
  // The benchmarks have their own tsconfig (they are not part of the app build); checked so they cannot rot.
  staticCheck('tsc bench', 'npx', ['tsc', '-p', 'bench/tsconfig.json', '--noEmit']);
  staticCheck('eslint', 'npx', ['eslint', '.']);
  staticCheck('prettier', 'npx', ['prettier', '--check', '.']);
  // The Python toolchain gets the same care: pyflakes/pycodestyle, and black's formatting (settings in .flake8 and
  // pyproject.toml).
  const PYTHON_DIRS = ['models', 'bench', 'e2e/support', 'scripts'];
  staticCheck('flake8', PYTHON, ['-m', 'flake8', ...PYTHON_DIRS]);
  staticCheck('black', PYTHON, ['-m', 'black', '--check', '--quiet', ...PYTHON_DIRS]);
}
if (wants('pytest')) {
  const xml = `${REPORTS}/pytest.xml`;
  rmSync(xml, { force: true });
  const status = run(PYTHON, ['-m', 'pytest', 'models/tests', '-q', `--junitxml=${xml}`], {
    PYTHONPATH: 'models',
    OPENBLAS_NUM_THREADS: '2',
  });
  const c = pytestCounts(xml);
  if (c) record('pytest', c.passed, c.failed + (status !== 0 && c.failed === 0 ? 1 : 0), c.skipped);
  else record('pytest', 0, 1);
}
if (wants('vitest')) {
  const out = `${REPORTS}/vitest.json`;
  rmSync(out, { force: true });
  const status = run(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`],
    {
      // Parity suites whose inputs (pytest's artifacts) are missing fail here instead of skipping.
      EVA_LENS_REQUIRE_INPUTS: '1',
    },
  );
  const r = readJson(out);
  if (r) {
    const failed = r.numFailedTests + (status !== 0 && r.numFailedTests === 0 ? 1 : 0);
    record('vitest', r.numPassedTests, failed, r.numPendingTests + r.numTodoTests);
  } else record('vitest', 0, 1);
}
if (wants('bench')) {
  // The benchmark as a smoke test (issue #19): `npm run bench -- --quick` runs every kind of case on the demo model
  // in headless Chromium (WASM, few repetitions), writes nothing and asserts nothing about speed; it fails when the
  // bench page does not build or a case fails, so the benchmark cannot rot. About a minute on 2 cores; one test.
  staticCheck('bench --quick', 'npm', ['run', 'bench', '--', '--quick']);
}
if (wants('e2e')) {
  const out = `${REPORTS}/playwright.json`;
  rmSync(out, { force: true });
  const status = run('npx', ['playwright', 'test']);
  const r = readJson(out);
  if (r?.stats) {
    const failed = r.stats.unexpected + r.stats.flaky;
    record('playwright', r.stats.expected, failed + (status !== 0 && failed === 0 ? 1 : 0), r.stats.skipped);
  } else record('playwright', 0, 1);
}
if (wants('engines')) {
  // The shared scenarios in Chromium, Firefox ESR and WebKitGTK (e2e-engines/, issue #20). A missing browser fails
  // here (system-deps installs them), it never skips.
  const out = `${REPORTS}/engines.json`;
  rmSync(out, { force: true });
  const status = run('npx', [
    'vitest',
    'run',
    '--config',
    'e2e-engines/vitest.config.ts',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  const r = readJson(out);
  if (r) {
    const failed = r.numFailedTests + (status !== 0 && r.numFailedTests === 0 ? 1 : 0);
    record('engines', r.numPassedTests, failed, r.numPendingTests + r.numTodoTests);
  } else record('engines', 0, 1);
}

const sum = (key) => totals.reduce((n, t) => n + t[key], 0);
const passed = sum('passed');
const failed = sum('failed');
const skipped = sum('skipped');
console.log('\nsummary by suite:');
for (const t of totals)
  console.log(`  ${t.suite}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
