/** One place says which Python runs (scripts/python.mjs); nothing else in the repository names an interpreter path. */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEBIAN_PYTHON, pythonFor } from './python.mjs';

describe('the Python interpreter', () => {
  it('is $EVA_LENS_PYTHON, else Debian’s /usr/bin/python3 where it exists, else python3 on PATH', () => {
    expect(pythonFor({ EVA_LENS_PYTHON: '/opt/py/bin/python' }, () => true)).toBe('/opt/py/bin/python');
    expect(pythonFor({}, (path) => path === DEBIAN_PYTHON)).toBe(DEBIAN_PYTHON);
    expect(pythonFor({ EVA_LENS_PYTHON: '' }, () => false)).toBe('python3');
  });

  it('is named by path only in scripts/python.mjs (and once in README and ARCHITECTURE, pointing to it)', () => {
    const files = execFileSync('git', ['grep', '-l', '--untracked', DEBIAN_PYTHON, '--', '.'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .sort();
    expect(files).toEqual([
      'README.md',
      'docs/ARCHITECTURE.md',
      'scripts/python.mjs',
      'scripts/python.test.ts',
    ]);
  });
});
