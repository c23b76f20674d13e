/**
 * Reference tensors from models/eva_lens/preprocess.py (PIL + torchvision semantics) for the preprocessing parity
 * test. They live in the git-ignored models/.artifacts/preprocess/ and are written on first use by running the
 * Python reference, so a fresh checkout needs nothing but Python (src/test/python.ts) with PIL and numpy.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, pythonCanImport } from './python';

export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const PREPROCESS_FIXTURES_DIR = join(REPO_ROOT, 'models', '.artifacts', 'preprocess');
const FIXTURES_VERSION = 3;

export interface PreprocessFixture {
  image: string;
  source: string;
  format: 'png' | 'jpeg';
  mode: string;
  width: number;
  height: number;
  size: number;
  rgba: string;
  exact: string;
  reduced: string | null;
  reduceFactors: [number, number] | null;
}

export interface PreprocessFixtureIndex {
  version: number;
  mean: [number, number, number];
  std: [number, number, number];
  reducingGap: number;
  entries: PreprocessFixture[];
}

function readIndex(): PreprocessFixtureIndex | null {
  const path = join(PREPROCESS_FIXTURES_DIR, 'index.json');
  if (!existsSync(path)) return null;
  const index = JSON.parse(readFileSync(path, 'utf8')) as PreprocessFixtureIndex;
  // Stale too when it names source images that are not there: the index keeps absolute paths, so fixtures written
  // from another checkout sharing this artifacts folder point into that checkout.
  const sourcesThere = index.entries?.every((entry) => existsSync(entry.source)) ?? false;
  return index.version === FIXTURES_VERSION && sourcesThere ? index : null;
}

/** The fixture index, running the Python reference first when the fixtures are missing or stale. */
export function ensurePreprocessFixtures(): PreprocessFixtureIndex {
  const existing = readIndex();
  if (existing) return existing;
  execFileSync(
    PYTHON,
    ['-c', 'from eva_lens.preprocess import write_preprocess_fixtures; write_preprocess_fixtures()'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, PYTHONPATH: join(REPO_ROOT, 'models') },
      stdio: 'pipe',
      timeout: 300_000,
    },
  );
  const written = readIndex();
  if (!written) throw new Error('The Python reference ran but wrote no fixture index.');
  return written;
}

/** A raw little-endian float32 fixture file. */
export function readFloat32(name: string): Float32Array {
  const bytes = readFileSync(join(PREPROCESS_FIXTURES_DIR, name));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** A raw uint8 fixture file. */
export function readBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(PREPROCESS_FIXTURES_DIR, name)));
}

export const pythonAvailable = pythonCanImport(['numpy', 'PIL']);
