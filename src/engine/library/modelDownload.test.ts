import { describe, expect, it } from 'vitest';
import { CacheStorageModelStore } from '../storage/cacheModelStore';
import { CancelledError, ManifestError, ModelFileError, StorageFullError } from '../../core/errors';
import { MemoryModelStore } from '../storage/memoryModelStore';
import { downloadModel, type ModelDownloadProgress } from './modelDownload';
import type { ModelStore } from '../storage/modelStore';
import { FakeCacheStorage } from '../../test/fakeCacheStorage';
import { SERVED_MANIFEST_URL, rangeServer, servedModel } from '../../test/rangeServer';

const INT8_PATHS = ['tokenizer.json', 'image.int8.onnx', 'text.int8.onnx'];
const INT8_BYTES = 700 + 2000 + 1500;

async function storedBytes(store: ModelStore, path: string): Promise<Uint8Array> {
  return new Uint8Array(await (await store.readFile('store-test', path)).arrayBuffer());
}

/** Requests for model files (the manifest request left out), as `path range`. */
function fileRequests(requests: { url: string; range: string | null }[]): string[] {
  return requests
    .filter((r) => r.url !== SERVED_MANIFEST_URL)
    .map((r) => `${r.url.split('/').pop()} ${r.range ?? '-'}`);
}

describe('downloadModel', () => {
  it('stores the tokenizer and the requested variant, verified, and lists the model with only that variant', async () => {
    const model = await servedModel();
    let clock = 0;
    const server = rangeServer(model.files, { onChunk: () => (clock += 10) });
    const store = new MemoryModelStore({ now: () => 99 });
    const progress: ModelDownloadProgress[] = [];
    const stored = await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: server.fetch,
      onProgress: (p) => progress.push(p),
      now: () => clock,
    });

    expect(fileRequests(server.requests)).toEqual(INT8_PATHS.map((p) => `${p} -`));
    for (const path of INT8_PATHS) expect(await storedBytes(store, path)).toEqual(model.bytesOf(path));
    expect((await store.fileInfo('store-test', 'image.q4.onnx')).committedBytes).toBeNull();
    expect(stored).toMatchObject({
      id: 'store-test',
      name: 'Store test model',
      bytes: INT8_BYTES,
      storedAt: 99,
    });
    expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8']);
    expect(await store.list()).toEqual([stored]);

    expect(progress.every((p) => p.total === INT8_BYTES)).toBe(true);
    const loaded = progress.map((p) => p.loaded);
    expect(loaded).toEqual([...loaded].sort((a, b) => a - b));
    expect(progress.at(-1)).toMatchObject({ file: 'text.int8.onnx', stage: 'verify', loaded: INT8_BYTES });
    // Chunks of 64 bytes (the last of a file shorter), one every 10 ms on the fake clock: about 6,400 bytes/s.
    const mid = progress.filter((p) => p.stage === 'download' && p.file === 'image.int8.onnx').at(-1)!;
    expect(Math.abs(mid.bytesPerSecond - 6400)).toBeLessThan(100);
    expect(mid.secondsLeft).toBeCloseTo((INT8_BYTES - mid.loaded) / mid.bytesPerSecond, 6);
  });

  it('resumes an interrupted file with Range: bytes=<n>- and ends with identical bytes', async () => {
    const model = await servedModel();
    const server = rangeServer(model.files);
    const store = new MemoryModelStore();
    const controller = new AbortController();
    const cancelled = await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: server.fetch,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'image.int8.onnx' && p.loaded >= 700 + 1000) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(CancelledError);

    const { partialBytes } = await store.fileInfo('store-test', 'image.int8.onnx');
    expect(partialBytes).toBe(1024); // 16 chunks of 64 bytes
    expect(await store.has('store-test')).toBe(false);
    expect(await store.list()).toEqual([]);

    server.requests.length = 0;
    await downloadModel(SERVED_MANIFEST_URL, store, { dtypes: ['int8'], fetch: server.fetch });
    expect(fileRequests(server.requests)).toEqual(['image.int8.onnx bytes=1024-', 'text.int8.onnx -']);
    for (const path of INT8_PATHS) expect(await storedBytes(store, path)).toEqual(model.bytesOf(path));
    expect(await store.has('store-test')).toBe(true);
  });

  it('restarts from byte 0 when the server ignores Range and answers 200', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const controller = new AbortController();
    const first = rangeServer(model.files);
    await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: first.fetch,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'image.int8.onnx' && p.loaded >= 700 + 500) controller.abort();
      },
    }).catch(() => undefined);
    expect((await store.fileInfo('store-test', 'image.int8.onnx')).partialBytes).toBe(512);

    const noRanges = rangeServer(model.files, { ignoreRange: true });
    await downloadModel(SERVED_MANIFEST_URL, store, { dtypes: ['int8'], fetch: noRanges.fetch });
    expect(fileRequests(noRanges.requests)).toEqual(['image.int8.onnx bytes=512-', 'text.int8.onnx -']);
    expect(await storedBytes(store, 'image.int8.onnx')).toEqual(model.bytesOf('image.int8.onnx'));
  });

  it('refuses corrupted bytes: nothing is stored under the name, the partial is gone, the model is not listed', async () => {
    const model = await servedModel();
    const url = new URL('text.int8.onnx', SERVED_MANIFEST_URL).href;
    const corrupted = model.files.get(url)!.slice();
    corrupted[777] = corrupted[777]! ^ 0xff;
    model.files.set(url, corrupted);
    const store = new MemoryModelStore();
    const error = await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: rangeServer(model.files).fetch,
    }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelFileError);
    const sha = model.manifest.variants[0]!.textModel.sha256;
    expect((error as Error).message).toMatch(
      new RegExp(
        `^text\\.int8\\.onnx does not match the checksum in the manifest: expected sha256 ${sha.slice(0, 12)}…, got [0-9a-f]{12}…\\.`,
      ),
    );
    expect(await store.fileInfo('store-test', 'text.int8.onnx')).toEqual({
      committedBytes: null,
      partialBytes: null,
    });
    expect(await store.list()).toEqual([]);
  });

  it('fetches a resumed file again from byte 0 when it fails its checksum (a partial of an older file)', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    const stale = await store.beginWrite('store-test', 'tokenizer.json', 700);
    await stale.append(new Uint8Array(300).fill(1));
    await stale.close();
    const server = rangeServer(model.files);
    await downloadModel(SERVED_MANIFEST_URL, store, { dtypes: ['int8'], fetch: server.fetch });
    expect(fileRequests(server.requests).slice(0, 2)).toEqual([
      'tokenizer.json bytes=300-',
      'tokenizer.json -',
    ]);
    expect(await storedBytes(store, 'tokenizer.json')).toEqual(model.bytesOf('tokenizer.json'));
  });

  it('fails before the first byte when the estimate shows too little free storage', async () => {
    const model = await servedModel();
    const server = rangeServer(model.files);
    const store = new MemoryModelStore({ quotaBytes: 3000 });
    const error = await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: server.fetch,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as Error).message).toBe(
      "Not enough storage for Store test model: it needs 4.20 kB more, but only 3.00 kB is free in this browser's " +
        'storage for this site. Delete a stored model or free disk space, then retry.',
    );
    expect(fileRequests(server.requests)).toEqual([]);
    expect(await store.fileInfo('store-test', 'tokenizer.json')).toEqual({
      committedBytes: null,
      partialBytes: null,
    });
  });

  it('checks stored files instead of downloading them again, and adds a second variant to the listing', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: rangeServer(model.files).fetch,
    });
    const server = rangeServer(model.files);
    const stored = await downloadModel(SERVED_MANIFEST_URL, store, { dtypes: ['q4'], fetch: server.fetch });
    expect(fileRequests(server.requests)).toEqual(['image.q4.onnx -', 'text.q4.onnx -']);
    expect(stored.manifest.variants.map((v) => v.dtype)).toEqual(['int8', 'q4']);
    expect(stored.bytes).toBe(INT8_BYTES + 1200 + 900);
  });

  it('names an unknown dtype', async () => {
    const model = await servedModel();
    await expect(
      downloadModel(SERVED_MANIFEST_URL, new MemoryModelStore(), {
        dtypes: ['fp16'],
        fetch: rangeServer(model.files).fetch,
      }),
    ).rejects.toThrow(new ManifestError('Store test model has no fp16 variant (it has int8, q4).'));
  });

  it('delete removes every file and partial of the model', async () => {
    const model = await servedModel();
    const store = new MemoryModelStore();
    await downloadModel(SERVED_MANIFEST_URL, store, {
      dtypes: ['int8'],
      fetch: rangeServer(model.files).fetch,
    });
    const partial = await store.beginWrite('store-test', 'image.q4.onnx', 1200);
    await partial.append(new Uint8Array(10));
    await partial.close();
    await store.delete('store-test');
    expect(await store.list()).toEqual([]);
    for (const path of [...INT8_PATHS, 'image.q4.onnx']) {
      expect(await store.fileInfo('store-test', path)).toEqual({ committedBytes: null, partialBytes: null });
    }
  });

  it('resumes into Cache Storage from the last stored chunk and lists the model', async () => {
    const model = await servedModel();
    const caches = new FakeCacheStorage();
    const open = () => new CacheStorageModelStore({ caches, chunkBytes: 256, estimate: async () => null });
    const controller = new AbortController();
    const cancelled = await downloadModel(SERVED_MANIFEST_URL, open(), {
      dtypes: ['int8'],
      fetch: rangeServer(model.files).fetch,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.file === 'image.int8.onnx' && p.loaded >= 700 + 1100) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(cancelled).toBeInstanceOf(CancelledError);

    // 1,152 bytes of the file had arrived (18 network chunks of 64): 4 chunk entries of 256, and close() stored the rest.
    const reloaded = open();
    const { partialBytes } = await reloaded.fileInfo('store-test', 'image.int8.onnx');
    expect(partialBytes).toBe(1152);
    expect(await reloaded.listIncomplete()).toEqual([{ modelId: 'store-test', bytes: 700 + 1152 }]);

    const server = rangeServer(model.files);
    const stored = await downloadModel(SERVED_MANIFEST_URL, reloaded, {
      dtypes: ['int8'],
      fetch: server.fetch,
    });
    expect(fileRequests(server.requests)).toEqual(['image.int8.onnx bytes=1152-', 'text.int8.onnx -']);
    for (const path of INT8_PATHS) expect(await storedBytes(reloaded, path)).toEqual(model.bytesOf(path));
    expect(stored).toMatchObject({ id: 'store-test', bytes: INT8_BYTES });
    expect(await reloaded.listIncomplete()).toEqual([]);
  });
});
