/**
 * Parity suites compare against files another suite writes (pytest's models/.artifacts, the Python toolchain).
 * Run alone (`npx vitest run …`) a suite whose inputs are missing is skipped, which is convenient while working;
 * under `npm test` (scripts/test-all.mjs sets EVA_LENS_REQUIRE_INPUTS=1, after pytest has written them) a missing
 * input is a failure, so the suite can never go quiet.
 */
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const inputsRequired = (): boolean => process.env.EVA_LENS_REQUIRE_INPUTS === '1';

/**
 * `describe(name, body)` when `ready` holds (or every path in it exists); otherwise a skipped suite, or under
 * `npm test` one failing test that names what is missing and who writes it.
 */
export function describeWithInputs(
  name: string,
  ready: readonly string[] | boolean,
  missingWhat: string,
  body: () => void,
): void {
  const missing =
    typeof ready === 'boolean' ? (ready ? [] : [missingWhat]) : ready.filter((p) => !existsSync(p));
  if (missing.length === 0) {
    describe(name, body);
  } else if (inputsRequired()) {
    describe(name, () => {
      it('has its inputs', () => {
        throw new Error(`${name}: missing ${missing.join(', ')} (${missingWhat}).`);
      });
    });
  } else {
    describe.skip(name, body);
  }
}
