/**
 * The behaviour every ModelStore shares, as one parameterised suite: each implementation's test file calls
 * `describeModelStore` with a factory, so the memory store and the Cache Storage store are held to the same rules
 * (OPFS needs a browser and is covered by the e2e suite).
 */
import { describe, expect, it } from 'vitest';
import { ModelFileError, StorageFullError } from '../core/errors';
import type { ModelStore } from '../engine/storage/modelStore';
import { makeManifest } from './manifestFixture';

export interface StoreUnderTest {
  store: ModelStore;
  /** A store over the same storage, as the page would open after a reload. */
  reopen(): ModelStore;
}

export type StoreFactory = (options: { quotaBytes?: number; now?: () => number }) => StoreUnderTest;

const bytes = (...values: number[]) => new Uint8Array(values);
const read = async (blob: Blob) => Array.from(new Uint8Array(await blob.arrayBuffer()));

async function writeFile(store: ModelStore, modelId: string, path: string, data: Uint8Array): Promise<void> {
  const partial = await store.beginWrite(modelId, path, data.length);
  await partial.append(data);
  await partial.commit();
}

export function describeModelStore(name: string, create: StoreFactory): void {
  describe(`${name} (ModelStore contract)`, () => {
    it('keeps a partial under no final name until commit, and resumes it after a reload', async () => {
      const { store, reopen } = create({});
      const first = await store.beginWrite('m', 'a.onnx', 5);
      await first.append(bytes(1, 2));
      await first.close();
      expect(await store.fileInfo('m', 'a.onnx')).toEqual({ committedBytes: null, partialBytes: 2 });
      await expect(store.readFile('m', 'a.onnx')).rejects.toBeInstanceOf(ModelFileError);

      const reloaded = reopen();
      const resumed = await reloaded.beginWrite('m', 'a.onnx', 5);
      expect(resumed.bytesWritten).toBe(2);
      await resumed.append(bytes(3, 4, 5));
      expect(await read(await resumed.contents())).toEqual([1, 2, 3, 4, 5]);
      await resumed.commit();
      expect(await read(await reloaded.readFile('m', 'a.onnx'))).toEqual([1, 2, 3, 4, 5]);
      expect(await reloaded.fileInfo('m', 'a.onnx')).toEqual({ committedBytes: 5, partialBytes: null });
    });

    it('refuses to commit a file of the wrong size', async () => {
      const { store } = create({});
      const partial = await store.beginWrite('m', 'a.onnx', 5);
      await partial.append(bytes(1, 2));
      await expect(partial.commit()).rejects.toThrow(
        'a.onnx cannot be stored: 2 of its 5 bytes were written.',
      );
      expect((await store.fileInfo('m', 'a.onnx')).committedBytes).toBeNull();
    });

    it('copies appended chunks (the caller may reuse its buffer)', async () => {
      const { store } = create({});
      const partial = await store.beginWrite('m', 'a', 2);
      const chunk = bytes(7, 8);
      await partial.append(chunk);
      chunk.fill(0);
      await partial.commit();
      expect(await read(await store.readFile('m', 'a'))).toEqual([7, 8]);
    });

    it('starts over when a partial is longer than the file now expected, and on restart()', async () => {
      const { store } = create({});
      const long = await store.beginWrite('m', 'a', 10);
      await long.append(bytes(1, 2, 3, 4));
      await long.close();
      expect((await store.beginWrite('m', 'a', 3)).bytesWritten).toBe(0);
      const partial = await store.beginWrite('m', 'a', 3);
      await partial.append(bytes(9));
      await partial.restart();
      expect(partial.bytesWritten).toBe(0);
      await partial.close();
      expect((await store.fileInfo('m', 'a')).partialBytes).toBe(0);
    });

    it('replaces a committed file when the same path is committed again', async () => {
      const { store } = create({});
      await writeFile(store, 'm', 'a', bytes(1, 2, 3));
      await writeFile(store, 'm', 'a', bytes(4, 5));
      expect(await read(await store.readFile('m', 'a'))).toEqual([4, 5]);
      expect(await store.fileInfo('m', 'a')).toEqual({ committedBytes: 2, partialBytes: null });
    });

    it('abort deletes the partial and keeps the committed file', async () => {
      const { store } = create({});
      await writeFile(store, 'm', 'a', bytes(1, 2, 3));
      const partial = await store.beginWrite('m', 'a', 3);
      await partial.append(bytes(9));
      await partial.abort();
      expect(await store.fileInfo('m', 'a')).toEqual({ committedBytes: 3, partialBytes: null });
      expect(await read(await store.readFile('m', 'a'))).toEqual([1, 2, 3]);
    });

    it('lists a model only once its manifest is stored, with its committed bytes', async () => {
      const { store } = create({ now: () => 1234 });
      const manifest = { ...makeManifest(), id: 'm' };
      await writeFile(store, 'm', 'a', bytes(1, 2, 3));
      expect(await store.list()).toEqual([]);
      expect(await store.has('m')).toBe(false);
      await store.putManifest(manifest);
      expect(await store.has('m')).toBe(true);
      expect(await store.list()).toEqual([
        { id: 'm', name: manifest.name, bytes: 3, storedAt: 1234, manifest },
      ]);
    });

    it('lists folders with files but no manifest as incomplete, with committed and partial bytes', async () => {
      const { store } = create({});
      await writeFile(store, 'half', 'a', bytes(1, 2, 3));
      const partial = await store.beginWrite('half', 'b', 10);
      await partial.append(bytes(1, 2, 3, 4));
      await partial.close();
      const started = await store.beginWrite('started', 'a', 10);
      await started.close();
      await writeFile(store, 'done', 'a', bytes(1));
      await store.putManifest({ ...makeManifest(), id: 'done' });
      const aborted = await store.beginWrite('aborted', 'a', 10);
      await aborted.append(bytes(1));
      await aborted.abort();
      await expect(store.readFile('never', 'a')).rejects.toBeInstanceOf(ModelFileError);
      await store.fileInfo('never', 'a');

      const incomplete = (await store.listIncomplete()).sort((a, b) => a.modelId.localeCompare(b.modelId));
      expect(incomplete).toEqual([
        { modelId: 'half', bytes: 7 },
        { modelId: 'started', bytes: 0 },
      ]);
      expect((await store.list()).map((m) => m.id)).toEqual(['done']);
    });

    it('keeps model ids and paths with slashes, spaces and symbols apart', async () => {
      const { store } = create({});
      await writeFile(store, 'org/model v2#1', 'sub/dir/a b.onnx', bytes(1, 2));
      await writeFile(store, 'org', 'model v2#1/sub/dir/a b.onnx', bytes(3));
      expect(await read(await store.readFile('org/model v2#1', 'sub/dir/a b.onnx'))).toEqual([1, 2]);
      expect(await read(await store.readFile('org', 'model v2#1/sub/dir/a b.onnx'))).toEqual([3]);
      const ids = (await store.listIncomplete()).map((m) => m.modelId).sort();
      expect(ids).toEqual(['org', 'org/model v2#1']);
    });

    it('delete removes manifest, files and partials of that model only', async () => {
      const { store } = create({});
      for (const id of ['m', 'other']) {
        await writeFile(store, id, 'a', bytes(1));
        const partial = await store.beginWrite(id, 'b', 4);
        await partial.append(bytes(1, 2));
        await partial.close();
        await store.putManifest({ ...makeManifest(), id });
      }
      await store.delete('m');
      expect(await store.has('m')).toBe(false);
      expect(await store.fileInfo('m', 'a')).toEqual({ committedBytes: null, partialBytes: null });
      expect(await store.fileInfo('m', 'b')).toEqual({ committedBytes: null, partialBytes: null });
      expect(await store.fileInfo('other', 'b')).toEqual({ committedBytes: null, partialBytes: 2 });
      expect((await store.list()).map((m) => m.id)).toEqual(['other']);
      expect(await store.listIncomplete()).toEqual([]);
    });

    it('turns a quota error into a StorageFullError; the partial keeps what it had, nothing else goes', async () => {
      const { store } = create({ quotaBytes: 10 });
      await writeFile(store, 'kept', 'a', bytes(1, 2, 3, 4, 5, 6));
      const partial = await store.beginWrite('m', 'big.onnx', 8);
      await partial.append(bytes(1, 2));
      const error = await partial.append(bytes(3, 4, 5)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageFullError);
      expect(error).toMatchObject({ name: 'StorageFullError', neededBytes: 6, freeBytes: 2 });
      expect(partial.bytesWritten).toBe(2);
      expect(await read(await store.readFile('kept', 'a'))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await store.estimate()).toEqual({ quota: 10, usage: 8 });
    });
  });
}
