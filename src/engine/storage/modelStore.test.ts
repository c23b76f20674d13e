import { describe, expect, it } from 'vitest';
import { CacheStorageModelStore } from './cacheModelStore';
import { MemoryModelStore } from './memoryModelStore';
import { StorageFullError, isQuotaError, storageFullError } from './modelStore';
import { FakeCacheStorage } from '../../test/fakeCacheStorage';
import { describeModelStore } from '../../test/modelStoreContract';

const bytes = (...values: number[]) => new Uint8Array(values);

// The memory store keeps partials in the instance: the same instance is what a reload would find.
describeModelStore('MemoryModelStore', (options) => {
  const store = new MemoryModelStore(options);
  return { store, reopen: () => store };
});

// One-byte chunks: every append is stored at once, as the contract's quota and resume checks expect.
describeModelStore('CacheStorageModelStore', ({ quotaBytes, now }) => {
  const caches = new FakeCacheStorage(quotaBytes);
  const open = () =>
    new CacheStorageModelStore({
      caches,
      chunkBytes: 1,
      estimate: () => caches.estimate(),
      ...(now ? { now } : {}),
    });
  return { store: open(), reopen: open };
});

describe('MemoryModelStore', () => {
  it('says what a write needed and what was free when the quota is reached', async () => {
    const store = new MemoryModelStore({ quotaBytes: 10 });
    const kept = await store.beginWrite('kept', 'a', 6);
    await kept.append(bytes(1, 2, 3, 4, 5, 6));
    await kept.commit();
    const partial = await store.beginWrite('m', 'big.onnx', 8);
    await partial.append(bytes(1, 2));
    const error = await partial.append(bytes(3, 4, 5)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect((error as StorageFullError).message).toBe(
      "Not enough storage for big.onnx: it needs 6 bytes more, but only 2 bytes is free in this browser's " +
        'storage for this site. Delete a stored model or free disk space, then retry.',
    );
  });

  it('reports no estimate without a simulated quota', async () => {
    expect(await new MemoryModelStore().estimate()).toBeNull();
  });
});

describe('storage errors', () => {
  it('recognises quota errors by name', () => {
    expect(isQuotaError(new DOMException('full', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError(new DOMException('gone', 'NotFoundError'))).toBe(false);
    expect(isQuotaError('QuotaExceededError')).toBe(false);
  });

  it('says the browser refused when it gives no estimate', () => {
    expect(storageFullError('EVA-B/16', 5_000_000, null).message).toBe(
      'The browser refused to store EVA-B/16: it needs 5.00 MB more and the storage is full. ' +
        'Delete a stored model or free disk space, then retry.',
    );
  });
});
