import { describe, expect, it } from 'vitest';
import { CancelledError, ManifestError, ModelFileError, StorageFullError } from '../../core/errors';
import { MemoryModelStore } from '../storage/memoryModelStore';
import { importModel, readImportFolder, type ImportedFile } from './modelImport';
import type { TransferProgress } from './transferProgress';
import { servedModel, type ServedModel } from '../../test/rangeServer';

const ALL_PATHS = ['tokenizer.json', 'image.int8.onnx', 'text.int8.onnx', 'image.q4.onnx', 'text.q4.onnx'];
const ALL_BYTES = 700 + 2000 + 1500 + 1200 + 900;

/** The model as a picked folder: `<folder>manifest.json` and its files, less those in `skip`. */
function pickedFolder(model: ServedModel, folder = 'eva-test/', skip: string[] = []): ImportedFile[] {
  const manifest = new Blob([JSON.stringify(model.manifest)], { type: 'application/json' });
  return [
    { path: `${folder}manifest.json`, file: manifest },
    ...ALL_PATHS.filter((p) => !skip.includes(p)).map((path) => ({
      path: folder + path,
      file: new Blob([model.bytesOf(path).slice()]),
    })),
  ];
}

async function expectNothingStored(store: MemoryModelStore): Promise<void> {
  expect(await store.list()).toEqual([]);
  expect(await store.listIncomplete()).toEqual([]);
  for (const path of ALL_PATHS) {
    expect(await store.fileInfo('store-test', path)).toEqual({ committedBytes: null, partialBytes: null });
  }
}

describe('importModel', () => {
  it('stores every variant of a picked folder, verified, reporting verify then store for each file', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore({ now: () => 5 });
    const progress: TransferProgress[] = [];
    const files = [...pickedFolder(model), { path: 'eva-test/README.txt', file: new Blob(['notes']) }];
    const stored = await importModel(files, store, { onProgress: (p) => progress.push(p) });

    expect(stored).toMatchObject({ id: 'store-test', bytes: ALL_BYTES, storedAt: 5 });
    expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8', 'q4']);
    for (const path of ALL_PATHS) {
      const bytes = new Uint8Array(await (await store.readFile('store-test', path)).arrayBuffer());
      expect(bytes).toEqual(model.bytesOf(path));
    }
    const steps = progress.map((p) => `${p.stage} ${p.file}`);
    expect([...new Set(steps)]).toEqual(ALL_PATHS.flatMap((path) => [`verify ${path}`, `store ${path}`]));
    const loaded = progress.map((p) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ loaded: ALL_BYTES, total: ALL_BYTES });
  });

  it('takes the manifest nearest the root, with Windows separators or a leading ./', async () => {
    const model = await servedModel();
    const files = pickedFolder(model, '.\\drop\\eva-test\\');
    files.push({ path: './drop/eva-test/old/manifest.json', file: new Blob(['{"broken": true}']) });
    const folder = await readImportFolder(files);
    expect(folder.manifestPath).toBe('drop/eva-test/manifest.json');
    expect(folder.files.map((f) => f.file.path)).toEqual(ALL_PATHS);
  });

  it('imports only the variants whose two graphs are there', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const stored = await importModel(pickedFolder(model, '', ['text.q4.onnx']), store);
    expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8']);
    expect(stored.bytes).toBe(700 + 2000 + 1500);
    expect((await store.fileInfo('store-test', 'image.q4.onnx')).committedBytes).toBeNull();
  });

  it('lists the missing files when the tokenizer or every complete variant is missing', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const error = await importModel(
      pickedFolder(model, 'm/', ['tokenizer.json', 'text.q4.onnx']),
      store,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toMatch(
      /^m\/manifest\.json lists files that are not among the imported ones: m\/tokenizer\.json, m\/text\.q4\.onnx\. The tokenizer and both graphs of at least one variant are needed\. Import the folder that `npm run models -- convert --out <folder>` wrote/,
    );
    await expectNothingStored(store);
  });

  it('says what a converted folder holds when there is no manifest.json', async () => {
    const model = await servedModel();
    const files = pickedFolder(model).filter((f) => !f.path.endsWith('manifest.json'));
    await expect(importModel(files, new MemoryModelStore())).rejects.toThrow(
      new ManifestError(
        'There is no manifest.json among the imported files. Import the folder that `npm run models -- convert ' +
          '--out <folder>` wrote: it holds manifest.json, tokenizer.json, and image.<dtype>.onnx and ' +
          'text.<dtype>.onnx for each variant.',
      ),
    );
  });

  it('refuses two models side by side, and an invalid manifest by its path', async () => {
    const model = await servedModel();
    await expect(
      importModel([...pickedFolder(model, 'a/'), ...pickedFolder(model, 'b/')], new MemoryModelStore()),
    ).rejects.toThrow(
      'The imported files hold several models (a/manifest.json, b/manifest.json). Import one model folder at a time.',
    );
    const invalid = [{ path: 'x/manifest.json', file: new Blob([JSON.stringify({ schemaVersion: 1 })]) }];
    await expect(importModel(invalid, new MemoryModelStore())).rejects.toThrow(
      /^The model manifest at x\/manifest\.json is invalid: /,
    );
    const notJson = [{ path: 'x/manifest.json', file: new Blob(['{']) }];
    await expect(importModel(notJson, new MemoryModelStore())).rejects.toThrow(
      /^x\/manifest\.json is not valid JSON/,
    );
  });

  it('names a corrupted file and stores nothing of the model', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const files = pickedFolder(model).map((entry) => {
      if (!entry.path.endsWith('text.q4.onnx')) return entry;
      const bytes = model.bytesOf('text.q4.onnx').slice();
      bytes[100] = bytes[100]! ^ 0xff;
      return { ...entry, file: new Blob([bytes]) };
    });
    const error = await importModel(files, store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    const sha = model.manifest.variants[1]!.textModel.sha256;
    expect((error as Error).message).toMatch(
      new RegExp(
        `^text\\.q4\\.onnx does not match the checksum in eva-test/manifest\\.json: expected sha256 ${sha.slice(0, 12)}…, ` +
          `got [0-9a-f]{12}…\\. The file was changed or damaged after conversion; nothing of Store test model was imported\\.`,
      ),
    );
    await expectNothingStored(store);
  });

  it('refuses a file of the wrong size before reading any file', async () => {
    const model = await servedModel();
    const files = pickedFolder(model).map((entry) =>
      entry.path.endsWith('image.int8.onnx') ? { ...entry, file: new Blob([new Uint8Array(10)]) } : entry,
    );
    await expect(importModel(files, new MemoryModelStore())).rejects.toThrow(
      'eva-test/image.int8.onnx is 10 bytes but eva-test/manifest.json says 2000: the file is incomplete or was ' +
        'changed after conversion. Copy the folder again, or convert the model again.',
    );
  });

  it('keeps nothing when cancelled, and nothing when the storage is too small', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const controller = new AbortController();
    const cancelled = await importModel(pickedFolder(model), store, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.stage === 'store' && p.file === 'image.q4.onnx') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(CancelledError);
    await expectNothingStored(store);

    const small = new MemoryModelStore({ quotaBytes: 5000 });
    const full = await importModel(pickedFolder(model), small).catch((e: unknown) => e);
    expect(full).toBeInstanceOf(StorageFullError);
    expect((full as Error).message).toMatch(
      /^Not enough storage for Store test model: it needs 6\.30 kB more/,
    );
    await expectNothingStored(small);
  });

  it('replaces a partial an earlier download left, and keeps variants stored before', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    await importModel(pickedFolder(model, '', ['image.q4.onnx', 'text.q4.onnx']), store);
    const stale = await store.beginWrite('store-test', 'image.q4.onnx', 1200);
    await stale.append(new Uint8Array(100).fill(7));
    await stale.close();
    const stored = await importModel(pickedFolder(model, '', ['image.int8.onnx', 'text.int8.onnx']), store);
    expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8', 'q4']);
    const q4 = new Uint8Array(await (await store.readFile('store-test', 'image.q4.onnx')).arrayBuffer());
    expect(q4).toEqual(model.bytesOf('image.q4.onnx'));
  });
});
