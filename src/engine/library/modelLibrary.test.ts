import { describe, expect, it } from 'vitest';
import { CancelledError, ModelBusyError, StorageFullError } from '../../core/errors';
import { MemoryModelStore } from '../storage/memoryModelStore';
import { ModelLibrary, type ModelTransferUpdate } from './modelLibrary';
import type { LockManagerLike } from '../storage/modelLocks';
import { SERVED_MANIFEST_URL, rangeServer, servedModel } from '../../test/rangeServer';

/** Web Locks with ifAvailable: a held name is refused (callback(null)); `held` can mark one as another tab's. */
class FakeLocks implements LockManagerLike {
  readonly held = new Set<string>();
  readonly requested: string[] = [];

  async request<T>(name: string, _options: { ifAvailable: boolean }, callback: (lock: object | null) => T) {
    this.requested.push(name);
    if (this.held.has(name)) return callback(null);
    this.held.add(name);
    try {
      const result = callback({ name });
      await result;
      return result;
    } finally {
      this.held.delete(name);
    }
  }
}

async function setup(options: { quotaBytes?: number } = {}) {
  const model = await servedModel();
  const server = rangeServer(model.files);
  const store = new MemoryModelStore(options);
  const locks = new FakeLocks();
  const library = new ModelLibrary({
    openStore: async () => store,
    fetch: server.fetch,
    locks,
    now: () => 0,
  });
  return { model, server, store, locks, library };
}

describe('ModelLibrary', () => {
  it('downloads under the model lock, reporting the manifest stage first, then the files with the model id', async () => {
    const { library, locks } = await setup();
    const updates: ModelTransferUpdate[] = [];
    const info = await library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, (u) =>
      updates.push(u),
    );
    expect(info).toMatchObject({ id: 'store-test', name: 'Store test model', bytes: 4200, dtypes: ['int8'] });
    expect(locks.requested).toEqual(['eva-lens-model:store-test']);
    expect(updates.slice(0, 2)).toEqual([
      {
        modelId: null,
        stage: 'manifest',
        file: null,
        loaded: 0,
        total: 0,
        bytesPerSecond: 0,
        secondsLeft: null,
      },
      {
        modelId: 'store-test',
        stage: 'manifest',
        file: null,
        loaded: 0,
        total: 4200,
        bytesPerSecond: 0,
        secondsLeft: null,
      },
    ]);
    expect(updates.slice(2).every((u) => u.modelId === 'store-test' && u.total === 4200)).toBe(true);
    expect(new Set(updates.slice(2).map((u) => u.stage))).toEqual(new Set(['download', 'verify']));
    expect(updates.at(-1)).toMatchObject({ stage: 'verify', file: 'text.int8.onnx', loaded: 4200 });

    const report = await library.report();
    expect(report).toEqual({ kind: 'memory', models: [info], incomplete: [], quota: null, usage: null });
  });

  it('keeps the partials of a cancelled download, lists them as incomplete, and resumes', async () => {
    const { library, server } = await setup();
    const controller = new AbortController();
    const error = await library
      .download(
        { manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] },
        (u) => {
          if (u.file === 'image.int8.onnx' && u.loaded >= 1700) controller.abort();
        },
        controller.signal,
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((await library.report()).incomplete).toEqual([{ modelId: 'store-test', bytes: 700 + 1024 }]);

    server.requests.length = 0;
    await library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, () => undefined);
    expect(server.requests.map((r) => r.range).filter(Boolean)).toEqual(['bytes=1024-']);
    const report = await library.report();
    expect(report.incomplete).toEqual([]);
    expect(report.models.map((m) => m.id)).toEqual(['store-test']);
  });

  it('refuses to download a model another tab is downloading, before writing anything', async () => {
    const { library, locks, store, server } = await setup();
    locks.held.add('eva-lens-model:store-test');
    const error = await library
      .download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, () => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelBusyError);
    expect((error as Error).message).toBe(
      'Another EVA Lens tab is downloading Store test model (or importing it). Wait until it finishes there, or ' +
        'cancel it there, then try again.',
    );
    expect(server.requests.map((r) => r.url)).toEqual([SERVED_MANIFEST_URL]);
    expect(await store.listIncomplete()).toEqual([]);
  });

  it('refuses a second transfer of the same model in this worker', async () => {
    const { library } = await setup();
    const first = library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, () => undefined);
    const second = library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['q4'] }, () => undefined);
    await expect(second).rejects.toThrow(
      new ModelBusyError('Store test model is already being downloaded or imported. Wait until it finishes.'),
    );
    await expect(first).resolves.toMatchObject({ dtypes: ['int8'] });
  });

  it('delete stops a running download of the model first, then removes everything of it', async () => {
    const { library, store } = await setup();
    let deleting: Promise<void> | null = null;
    const download = library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, (u) => {
      if (u.file === 'image.int8.onnx' && !deleting) deleting = library.delete('store-test');
    });
    await expect(download).rejects.toBeInstanceOf(CancelledError);
    await deleting;
    expect(await store.list()).toEqual([]);
    expect(await store.listIncomplete()).toEqual([]);
  });

  it('deleteAll removes stored models and partial downloads alike', async () => {
    const { library, store } = await setup();
    await library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, () => undefined);
    const partial = await store.beginWrite('half-downloaded', 'image.int8.onnx', 100);
    await partial.append(new Uint8Array(10));
    await partial.close();
    expect((await store.listIncomplete()).map((m) => m.modelId)).toContain('half-downloaded');
    expect(await library.deleteAll()).toBe(2);
    expect(await store.list()).toEqual([]);
    expect(await store.listIncomplete()).toEqual([]);
  });

  it('refuses to delete a model another tab is writing', async () => {
    const { library, locks } = await setup();
    await library.download({ manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] }, () => undefined);
    locks.held.add('eva-lens-model:store-test');
    await expect(library.delete('store-test')).rejects.toBeInstanceOf(ModelBusyError);
    locks.held.clear();
    await library.delete('store-test');
    expect((await library.report()).models).toEqual([]);
  });

  it('imports a folder, and reports a full storage as a StorageFullError', async () => {
    const { library, model } = await setup({ quotaBytes: 1000 });
    const files = [
      { path: 'm/manifest.json', file: new Blob([JSON.stringify(model.manifest)]) },
      ...['tokenizer.json', 'image.int8.onnx', 'text.int8.onnx'].map((path) => ({
        path: `m/${path}`,
        file: new Blob([model.bytesOf(path).slice()]),
      })),
    ];
    const updates: ModelTransferUpdate[] = [];
    const error = await library.import({ files }, (u) => updates.push(u)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageFullError);
    expect(updates.map((u) => `${u.stage} ${u.modelId} ${u.total}`)).toEqual([
      'manifest null 0',
      'manifest store-test 4200',
    ]);

    const roomy = await setup();
    const info = await roomy.library.import({ files }, () => undefined);
    expect(info).toMatchObject({ id: 'store-test', dtypes: ['int8'], bytes: 4200 });
    expect(roomy.locks.requested).toEqual(['eva-lens-model:store-test']);
  });
});
