/**
 * A parity suite cannot go quiet: with its input missing it is skipped when run alone, but under `npm test`
 * (EVA_LENS_REQUIRE_INPUTS=1, set by scripts/test-all.mjs) it fails and names what is missing.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

function runMissingInputSuite(requireInputs: boolean) {
  const env = { ...process.env };
  delete env.EVA_LENS_REQUIRE_INPUTS;
  if (requireInputs) env.EVA_LENS_REQUIRE_INPUTS = '1';
  const run = spawnSync(
    'npx',
    ['vitest', 'run', '--config', 'scripts/fixtures/vitest.missing-input.config.ts', '--reporter=default'],
    { env, encoding: 'utf8' },
  );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('parity inputs', () => {
  it('a suite whose input is missing fails under npm test, naming it', { timeout: 120_000 }, () => {
    const { status, output } = runMissingInputSuite(true);
    expect(status).not.toBe(0);
    expect(output).toContain('missing models/.artifacts/this-artifact-does-not-exist');
  });

  it('the same suite run alone is skipped, not failed', { timeout: 120_000 }, () => {
    const { status, output } = runMissingInputSuite(false);
    expect(status).toBe(0);
    expect(output).toMatch(/skipped/i);
  });
});
