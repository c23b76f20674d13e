import { describe, expect, it } from 'vitest';
import { CacheStorageModelStore, MODEL_CACHE_PREFIX, type CacheStorageLike } from './cacheModelStore';
import { ModelFileError } from '../../core/errors';
import { FakeCacheStorage, type FakeCache } from '../../test/fakeCacheStorage';

const read = async (blob: Blob) => Array.from(new Uint8Array(await blob.arrayBuffer()));
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function setup(chunkBytes = 4) {
  const caches = new FakeCacheStorage();
  let writes = 0;
  const open = () => new CacheStorageModelStore({ caches, chunkBytes, newWriteId: () => `w${++writes}` });
  return { caches, store: open(), open };
}

async function modelCache(caches: FakeCacheStorage, modelId: string): Promise<FakeCache> {
  return caches.open(MODEL_CACHE_PREFIX + encodeURIComponent(modelId));
}

/** The entries of a model's cache by kind, as `kind path…` strings with the key origin left out. */
async function entryNames(caches: FakeCacheStorage, modelId: string): Promise<string[]> {
  const cache = await modelCache(caches, modelId);
  return [...cache.entries.keys()].map((url) => new URL(url).pathname.slice(1)).sort();
}

describe('CacheStorageModelStore', () => {
  it('stores a file as chunk entries and reads it back as one Blob, never as one whole entry', async () => {
    const { caches, store } = setup(4);
    const partial = await store.beginWrite('m', 'a.onnx', 10);
    for (const piece of [range(0, 3), range(3, 6), range(6, 10)]) await partial.append(new Uint8Array(piece));
    await partial.commit();
    expect(await read(await store.readFile('m', 'a.onnx'))).toEqual(range(0, 10));
    expect(await entryNames(caches, 'm')).toEqual([
      'chunk/a.onnx/w1/0/6',
      'chunk/a.onnx/w1/1/4',
      'file/a.onnx',
    ]);
    const record = await (await (
      await modelCache(caches, 'm')
    ).match('https://eva-lens-model-store.invalid/file/a.onnx'))!.json();
    expect(record).toEqual({ writeId: 'w1', bytes: 10, chunks: [6, 4] });
  });

  it('keeps the stored chunks over a reload and loses only the bytes still buffered', async () => {
    const { store, open } = setup(4);
    const partial = await store.beginWrite('m', 'a', 12);
    for (const piece of [range(0, 5), range(5, 7)]) await partial.append(new Uint8Array(piece));
    expect(partial.bytesWritten).toBe(7);
    // No close: the page went away with 2 bytes buffered.
    const reloaded = open();
    expect(await reloaded.fileInfo('m', 'a')).toEqual({ committedBytes: null, partialBytes: 5 });
    const resumed = await reloaded.beginWrite('m', 'a', 12);
    expect(resumed.bytesWritten).toBe(5);
    await resumed.append(new Uint8Array(range(5, 12)));
    await resumed.commit();
    expect(await read(await reloaded.readFile('m', 'a'))).toEqual(range(0, 12));
  });

  it('switches a file to its new chunks on commit and removes the old ones', async () => {
    const { caches, store } = setup(4);
    for (const value of [1, 2]) {
      const partial = await store.beginWrite('m', 'a', 5);
      await partial.append(new Uint8Array(5).fill(value));
      await partial.commit();
    }
    expect(await read(await store.readFile('m', 'a'))).toEqual([2, 2, 2, 2, 2]);
    expect(await entryNames(caches, 'm')).toEqual(['chunk/a/w2/0/5', 'file/a']);
  });

  it('does not resume a part record that names the committed write (a reload in the middle of commit)', async () => {
    const { caches, store } = setup(4);
    const partial = await store.beginWrite('m', 'a', 4);
    await partial.append(new Uint8Array([1, 2, 3, 4]));
    await partial.commit();
    const cache = await modelCache(caches, 'm');
    await cache.put(
      'https://eva-lens-model-store.invalid/part/a',
      new Response(JSON.stringify({ writeId: 'w1' })),
    );
    expect(await store.fileInfo('m', 'a')).toEqual({ committedBytes: 4, partialBytes: null });
    const next = await store.beginWrite('m', 'a', 4);
    expect(next.bytesWritten).toBe(0);
    await next.abort();
    expect(await read(await store.readFile('m', 'a'))).toEqual([1, 2, 3, 4]);
  });

  it('reports a file with a missing chunk as damaged, naming it', async () => {
    const { caches, store } = setup(2);
    const partial = await store.beginWrite('m', 'image.int8.onnx', 4);
    await partial.append(new Uint8Array([1, 2]));
    await partial.append(new Uint8Array([3, 4]));
    await partial.commit();
    await (
      await modelCache(caches, 'm')
    ).delete('https://eva-lens-model-store.invalid/chunk/image.int8.onnx/w1/1/2');
    const error = await store.readFile('m', 'image.int8.onnx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelFileError);
    expect((error as Error).message).toBe(
      "image.int8.onnx of model m is damaged in this browser's storage (part of it is missing). " +
        'Delete the model and download it again.',
    );
  });

  it('creates no cache when it only reads', async () => {
    const { caches, store } = setup();
    await store.fileInfo('m', 'a');
    await store.has('m');
    await store.readFile('m', 'a').catch(() => undefined);
    expect(caches.caches.size).toBe(0);
  });

  it('is available only where Cache Storage opens', async () => {
    expect(await CacheStorageModelStore.isAvailable(new FakeCacheStorage())).toBe(true);
    const refusing: CacheStorageLike = {
      ...new FakeCacheStorage(),
      has: () => Promise.reject(new DOMException('denied', 'SecurityError')),
      open: () => Promise.reject(new DOMException('denied', 'SecurityError')),
      delete: async () => false,
      keys: async () => [],
    };
    expect(await CacheStorageModelStore.isAvailable(refusing)).toBe(false);
  });
});
