/**
 * The awkward and hostile image files (issue #7), made at test time by make_image_fixtures.py from the demo samples
 * and read back as name, type and base64, ready to drop or hand to a file input. Shared by the Chromium suite
 * (e2e/bad-images.spec.ts) and the three-engine suite (e2e-engines/scenarios.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PYTHON } from '../../scripts/python.mjs';
import { ROOT } from './paths';

export interface AwkwardFile {
  name: string;
  /** The MIME type a browser would give the file from its extension ('' when it has none it knows). */
  type: string;
  base64: string;
}

const TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  heic: 'image/heic',
};

export function makeAwkwardFiles(): AwkwardFile[] {
  const dir = mkdtempSync(join(tmpdir(), 'eva-lens-awkward-'));
  try {
    const names = execFileSync(PYTHON, ['e2e/support/make_image_fixtures.py', dir], {
      cwd: ROOT,
      encoding: 'utf8',
    })
      .trim()
      .split('\n');
    return names.map((name) => ({
      name,
      type: TYPES[name.split('.').pop()!] ?? '',
      base64: readFileSync(join(dir, name)).toString('base64'),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
