import { describe, expect, it } from 'vitest';
import { ModelFileError } from './errors';
import {
  MemoryModelStore,
  StorageFullError,
  formatBytes,
  isQuotaError,
  storageFullError,
} from './modelStore';
import { makeManifest } from '../test/manifestFixture';

const bytes = (...values: number[]) => new Uint8Array(values);
const read = async (blob: Blob) => Array.from(new Uint8Array(await blob.arrayBuffer()));

describe('MemoryModelStore', () => {
  it('keeps a partial under no final name until commit, and resumes it from bytesWritten', async () => {
    const store = new MemoryModelStore();
    const first = await store.beginWrite('m', 'a.onnx', 5);
    await first.append(bytes(1, 2));
    await first.close();
    expect(await store.fileInfo('m', 'a.onnx')).toEqual({ committedBytes: null, partialBytes: 2 });
    await expect(store.readFile('m', 'a.onnx')).rejects.toBeInstanceOf(ModelFileError);

    const resumed = await store.beginWrite('m', 'a.onnx', 5);
    expect(resumed.bytesWritten).toBe(2);
    await resumed.append(bytes(3, 4, 5));
    expect(await read(await resumed.contents())).toEqual([1, 2, 3, 4, 5]);
    await resumed.commit();
    expect(await read(await store.readFile('m', 'a.onnx'))).toEqual([1, 2, 3, 4, 5]);
    expect(await store.fileInfo('m', 'a.onnx')).toEqual({ committedBytes: 5, partialBytes: null });
  });

  it('refuses to commit a file of the wrong size', async () => {
    const store = new MemoryModelStore();
    const partial = await store.beginWrite('m', 'a.onnx', 5);
    await partial.append(bytes(1, 2));
    await expect(partial.commit()).rejects.toThrow('a.onnx cannot be stored: 2 of its 5 bytes were written.');
    expect((await store.fileInfo('m', 'a.onnx')).committedBytes).toBeNull();
  });

  it('copies appended chunks (the caller may reuse its buffer)', async () => {
    const store = new MemoryModelStore();
    const partial = await store.beginWrite('m', 'a', 2);
    const chunk = bytes(7, 8);
    await partial.append(chunk);
    chunk.fill(0);
    await partial.commit();
    expect(await read(await store.readFile('m', 'a'))).toEqual([7, 8]);
  });

  it('starts over when a partial is longer than the file now expected, and on restart()', async () => {
    const store = new MemoryModelStore();
    const long = await store.beginWrite('m', 'a', 10);
    await long.append(bytes(1, 2, 3, 4));
    expect((await store.beginWrite('m', 'a', 3)).bytesWritten).toBe(0);
    const partial = await store.beginWrite('m', 'a', 3);
    await partial.append(bytes(9));
    await partial.restart();
    expect(partial.bytesWritten).toBe(0);
    expect((await store.fileInfo('m', 'a')).partialBytes).toBe(0);
  });

  it('lists a model only once its manifest is stored, with its committed bytes', async () => {
    const store = new MemoryModelStore({ now: () => 1234 });
    const manifest = { ...makeManifest(), id: 'm' };
    const partial = await store.beginWrite('m', 'a', 3);
    await partial.append(bytes(1, 2, 3));
    await partial.commit();
    expect(await store.list()).toEqual([]);
    expect(await store.has('m')).toBe(false);
    await store.putManifest(manifest);
    expect(await store.has('m')).toBe(true);
    expect(await store.list()).toEqual([
      { id: 'm', name: manifest.name, bytes: 3, storedAt: 1234, manifest },
    ]);
  });

  it('delete removes manifest, files and partials of that model only', async () => {
    const store = new MemoryModelStore();
    for (const id of ['m', 'other']) {
      const done = await store.beginWrite(id, 'a', 1);
      await done.append(bytes(1));
      await done.commit();
      await (await store.beginWrite(id, 'b', 4)).append(bytes(1, 2));
      await store.putManifest({ ...makeManifest(), id });
    }
    await store.delete('m');
    expect(await store.has('m')).toBe(false);
    expect(await store.fileInfo('m', 'a')).toEqual({ committedBytes: null, partialBytes: null });
    expect(await store.fileInfo('m', 'b')).toEqual({ committedBytes: null, partialBytes: null });
    expect(await store.fileInfo('other', 'b')).toEqual({ committedBytes: null, partialBytes: 2 });
    expect((await store.list()).map((m) => m.id)).toEqual(['other']);
  });

  it('turns a quota error into a StorageFullError saying what was needed and what is free; nothing else goes', async () => {
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
    expect(error).toMatchObject({ neededBytes: 6, freeBytes: 2 });
    expect(partial.bytesWritten).toBe(2);
    expect(await read(await store.readFile('kept', 'a'))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await store.estimate()).toEqual({ quota: 10, usage: 8 });
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

  it('formats sizes in decimal units', () => {
    expect(formatBytes(812)).toBe('812 bytes');
    expect(formatBytes(4_200_000)).toBe('4.20 MB');
    expect(formatBytes(151_000_000)).toBe('151.0 MB');
    expect(formatBytes(1_310_000_000)).toBe('1.31 GB');
  });

  it('says the browser refused when it gives no estimate', () => {
    expect(storageFullError('EVA-B/16', 5_000_000, null).message).toBe(
      'The browser refused to store EVA-B/16: it needs 5.00 MB more and the storage is full. ' +
        'Delete a stored model or free disk space, then retry.',
    );
  });
});
