/**
 * EVA02-CLIP-B/16 (int8) for `npm run bench:engines` (issue #20, part 3): the toolchain's random-weight conversion
 * (real shapes, so the speed is real; the scores mean nothing), imported into each engine the way a person does it,
 * through the Models dialog's "Import a converted model…" folder input.
 *
 * The files are served from a second local origin (CORS + CORP, as a model host answers a cross-origin-isolated
 * app) and the page hands them to the folder input as a folder pick would. Only the manifest, the tokenizer and the
 * int8 graphs are served: the importer keeps the variants whose graphs are present, so the engine stores the 157 MB
 * int8 variant alone instead of all four (1.2 GB).
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../e2e/support/paths';
import { CORS_HEADERS } from '../e2e/support/modelServer';
import type { EngineDriver } from './driver';
import { poll, snapshot } from './lens';
import { openModels } from './scenarios';

/** Written by the Python tests (models/tests): `manifest.json` plus each variant's graphs. */
export const B16_DIR = join(ROOT, 'models', '.artifacts', 'eva02-b16-random');
const DTYPE = 'int8';

export interface B16Model {
  id: string;
  name: string;
  /** The files the import is given: manifest, tokenizer, int8 image and text graphs. */
  files: string[];
  bytes: number;
}

interface Manifest {
  id: string;
  name: string;
  text: { tokenizer: { path: string } };
  variants: { dtype: string; imageModel: { path: string }; textModel: { path: string } }[];
}

/** The B/16 conversion's int8 files, or the reason it cannot be benchmarked here. */
export function readB16(): B16Model | string {
  const manifestPath = join(B16_DIR, 'manifest.json');
  if (!existsSync(manifestPath))
    return `${manifestPath} is missing: the Python tests write it (npm run test:py).`;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  const variant = manifest.variants.find((v) => v.dtype === DTYPE);
  if (!variant) return `${manifestPath} has no ${DTYPE} variant.`;
  const files = [
    'manifest.json',
    manifest.text.tokenizer.path,
    variant.imageModel.path,
    variant.textModel.path,
  ];
  const missing = files.filter((file) => !existsSync(join(B16_DIR, file)));
  if (missing.length) return `${B16_DIR} lacks ${missing.join(', ')}.`;
  const bytes = files.reduce((sum, file) => sum + statSync(join(B16_DIR, file)).size, 0);
  return { id: manifest.id, name: manifest.name, files, bytes };
}

export interface FileServer {
  url: string;
  close(): Promise<void>;
}

/** Serves exactly `files` from B16_DIR on another origin (streamed: the graphs are 64–92 MB each). */
export async function serveB16(files: readonly string[]): Promise<FileServer> {
  const allowed = new Set(files);
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...CORS_HEADERS, 'Access-Control-Allow-Methods': 'GET' });
      res.end();
      return;
    }
    if (!allowed.has(name)) {
      res.writeHead(404, { ...CORS_HEADERS, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const path = join(B16_DIR, name);
    res.writeHead(200, {
      ...CORS_HEADERS,
      'Content-Type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
      'Content-Length': statSync(path).size,
    });
    createReadStream(path).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Opens the Models dialog, hands the B/16 files to its folder input and waits until the store lists the model.
 * Returns the wall time from the pick to "stored" (reading, checking every file's size and hash, writing).
 */
export async function importB16(driver: EngineDriver, model: B16Model, serverUrl: string): Promise<number> {
  await openModels(driver);
  // The page fetches the files first (not timed): what is timed is the app's import, from the pick on.
  await driver.evaluate(
    async ({ files, base }: { files: string[]; base: string }) => {
      const picked: File[] = [];
      for (const file of files) {
        const response = await fetch(base + file);
        if (!response.ok) throw new Error(`${base}${file}: HTTP ${response.status}`);
        const blob = await response.blob();
        picked.push(new File([blob], file, { type: blob.type }));
      }
      (window as unknown as { __b16Files?: File[] }).__b16Files = picked;
    },
    { files: model.files, base: serverUrl },
  );
  const started = Date.now();
  await driver.evaluate(() => {
    const transfer = new DataTransfer();
    for (const file of (window as unknown as { __b16Files: File[] }).__b16Files) transfer.items.add(file);
    delete (window as unknown as { __b16Files?: File[] }).__b16Files;
    const input = document.querySelector('input[aria-label="Import model folder"]') as HTMLInputElement;
    input.files = transfer.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  }, null);
  await poll(
    `${model.id} stored`,
    () => snapshot(driver),
    (s) => {
      const failed = s.downloads.import?.error;
      if (failed) throw new Error(`The import failed: ${failed}`);
      return s.storedModels.some((stored) => stored.id === model.id);
    },
    600_000,
  );
  return Date.now() - started;
}
