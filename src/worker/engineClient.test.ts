import { describe, expect, it } from 'vitest';
import {
  BackendError,
  CancelledError,
  ManifestError,
  ModelFileError,
  StorageFullError,
} from '../core/errors';
import { MemoryModelStore } from '../engine/storage/memoryModelStore';
import { ModelLibrary } from '../engine/library/modelLibrary';
import { EngineClient, rehydrateError } from './engineClient';
import { WorkerHandler, type HandlerEngine, type HandlerLibrary } from './handler';
import type { ModelTransferEvent, WorkerMessage, WorkerRequest } from '../core/protocol';
import { makeManifest } from '../test/manifestFixture';
import { SERVED_MANIFEST_URL, rangeServer, servedModel } from '../test/rangeServer';

type Listener = (event: { data?: unknown; message?: string; preventDefault?: () => void }) => void;

/** Enough of a Worker for the client: records posted requests and lets the test deliver replies. */
class FakeWorker {
  readonly sent: WorkerRequest[] = [];
  terminated = false;
  private readonly listeners = new Map<string, Listener[]>();
  onPost: (request: WorkerRequest) => void = () => undefined;

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  postMessage(request: WorkerRequest): void {
    this.sent.push(request);
    this.onPost(request);
  }

  terminate(): void {
    this.terminated = true;
  }

  deliver(message: WorkerMessage): void {
    for (const listener of this.listeners.get('message') ?? []) listener({ data: message });
  }

  crash(message: string): void {
    for (const listener of this.listeners.get('error') ?? [])
      listener({ message, preventDefault: () => undefined });
  }
}

function setup() {
  const worker = new FakeWorker();
  return { worker, client: new EngineClient(worker as unknown as Worker) };
}

describe('EngineClient', () => {
  it('matches replies to requests by id, in any order', async () => {
    const { worker, client } = setup();
    const labels = client.call('embedLabels', { labels: ['a'], templates: ['{}'] });
    const model = client.call('loadModel', {
      source: { kind: 'url', manifestUrl: '/m.json' },
      backend: 'auto',
    });
    expect(worker.sent.map((r) => [r.id, r.type])).toEqual([
      [1, 'embedLabels'],
      [2, 'loadModel'],
    ]);
    const loaded = {
      manifest: makeManifest(),
      backend: 'wasm',
      dtype: 'fp32',
      probeCosine: { image: 1, text: 1 },
      fallbackNotes: [],
      loadMs: 1,
      loadStages: {},
      threads: 1,
    };
    worker.deliver({ kind: 'result', id: 2, value: loaded as never });
    worker.deliver({
      kind: 'result',
      id: 1,
      value: { embeddings: new Float32Array([1]), dim: 1, truncated: [false], ms: 1 },
    });
    await expect(model).resolves.toEqual(loaded);
    await expect(labels).resolves.toMatchObject({ dim: 1 });
  });

  it('rejects with the error class named by the worker', async () => {
    const { worker, client } = setup();
    const model = client.call('loadModel', {
      source: { kind: 'url', manifestUrl: '/m.json' },
      backend: 'auto',
    });
    worker.deliver({ kind: 'error', id: 1, name: 'ManifestError', message: 'id is missing.' });
    await expect(model).rejects.toBeInstanceOf(ManifestError);
    await expect(model).rejects.toMatchObject({ name: 'ManifestError', message: 'id is missing.' });
  });

  it('keeps unknown error names', () => {
    const error = rehydrateError('RangeError', 'out of range');
    expect(error.name).toBe('RangeError');
    expect(error.message).toBe('out of range');
    expect(rehydrateError('BackendError', 'x')).toBeInstanceOf(BackendError);
  });

  it('routes image events to the request that asked for them and cancels it', async () => {
    const { worker, client } = setup();
    const seen: string[] = [];
    const run = client.start(
      'embedImages',
      { images: [{ imageId: 'a', file: new Blob(['x']), name: 'a.png' }], thumbnailSize: 64 },
      (e) =>
        seen.push(e.type === 'imageEmbedded' ? `image ${e.imageId}` : `failed ${e.imageId}: ${e.message}`),
    );
    worker.deliver({
      kind: 'event',
      event: {
        type: 'imageEmbedded',
        requestId: 1,
        imageId: 'a',
        embedding: new Float32Array(2),
        width: 1,
        height: 1,
        thumbnail: null,
        ms: 1,
      },
    });
    worker.deliver({
      kind: 'event',
      event: { type: 'imageFailed', requestId: 1, imageId: 'b', message: 'broken' },
    });
    worker.deliver({
      kind: 'event',
      event: { type: 'imageFailed', requestId: 99, imageId: 'other', message: 'not ours' },
    });
    run.cancel();
    expect(worker.sent.at(-1)).toEqual({ id: 2, type: 'cancel', params: { targetId: 1 } });
    worker.deliver({ kind: 'result', id: 2, value: { cancelled: true } });
    worker.deliver({ kind: 'result', id: 1, value: { embedded: 1, failed: 1, cancelled: true, ms: 5 } });
    await expect(run.done).resolves.toEqual({ embedded: 1, failed: 1, cancelled: true, ms: 5 });
    expect(seen).toEqual(['image a', 'failed b: broken']);
    run.cancel(); // finished: nothing more is sent
    expect(worker.sent).toHaveLength(2);
  });

  it('forwards load events to listeners until they unsubscribe', () => {
    const { worker, client } = setup();
    const events: string[] = [];
    const stop = client.onEvent((e) => events.push(e.type));
    worker.deliver({
      kind: 'event',
      event: { type: 'loadProgress', stage: 'manifest', loaded: 0, total: 1 },
    });
    worker.deliver({
      kind: 'event',
      event: {
        type: 'backendChanged',
        backend: 'wasm',
        dtype: 'int8',
        reason: 'WebGPU fp16 failed the probe.',
      },
    });
    stop();
    worker.deliver({
      kind: 'event',
      event: { type: 'loadProgress', stage: 'manifest', loaded: 1, total: 1 },
    });
    expect(events).toEqual(['loadProgress', 'backendChanged']);
  });

  it('rejects pending and later requests after a worker crash or dispose', async () => {
    const crashed = setup();
    const pending = crashed.client.call('loadModel', {
      source: { kind: 'url', manifestUrl: '/m.json' },
      backend: 'auto',
    });
    crashed.worker.crash('Failed to fetch dynamically imported module');
    await expect(pending).rejects.toThrow(/inference worker stopped: Failed to fetch/);
    await expect(crashed.client.call('embedLabels', { labels: [], templates: [] })).rejects.toBeInstanceOf(
      BackendError,
    );

    const disposed = setup();
    const waiting = disposed.client.call('embedLabels', { labels: ['a'], templates: ['{}'] });
    disposed.client.dispose();
    expect(disposed.worker.terminated).toBe(true);
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
  });

  it('works end to end with the real handler through structured cloning', async () => {
    const worker = new FakeWorker();
    const engine: HandlerEngine = {
      load: async () => {
        throw new BackendError('No backend could run this model.');
      },
      embedLabels: async ({ labels }) => ({
        embeddings: new Float32Array(labels.length * 2).fill(0.5),
        dim: 2,
        truncated: labels.map(() => false),
        ms: 1,
      }),
      embedImages: async () => ({ embedded: 0, failed: 0, cancelled: false, ms: 0 }),
      embeddingCacheInfo: async () => ({ entries: 0, disabledReason: null }),
      clearEmbeddingCache: async () => ({ removed: 0 }),
      dispose: () => undefined,
    };
    const library: HandlerLibrary = new ModelLibrary({ openStore: async () => new MemoryModelStore() });
    const handler = new WorkerHandler(engine, library, (message, transfer) =>
      worker.deliver(structuredClone(message, { transfer })),
    );
    worker.onPost = (request) => void handler.handle(structuredClone(request));
    const client = new EngineClient(worker as unknown as Worker);
    const result = await client.call('embedLabels', { labels: ['a', 'b'], templates: ['{}'] });
    expect(Array.from(result.embeddings)).toEqual([0.5, 0.5, 0.5, 0.5]);
    await expect(
      client.call('loadModel', { source: { kind: 'url', manifestUrl: '/m.json' }, backend: 'auto' }),
    ).rejects.toBeInstanceOf(BackendError);
  });

  it('routes labelProgress events to the label set that asked for them, and cancels it', async () => {
    const { worker, client } = setup();
    const heard: string[] = [];
    const request = client.start('embedLabels', { labels: ['a'], templates: ['{}'] }, (e) =>
      heard.push(`${e.requestId} ${e.done}/${e.total}`),
    );
    expect(worker.sent[0]).toEqual({
      id: 1,
      type: 'embedLabels',
      params: { labels: ['a'], templates: ['{}'] },
    });
    worker.deliver({ kind: 'event', event: { type: 'labelProgress', requestId: 1, done: 32, total: 80 } });
    worker.deliver({ kind: 'event', event: { type: 'labelProgress', requestId: 7, done: 1, total: 1 } });
    request.cancel();
    expect(worker.sent.at(-1)).toEqual({ id: 2, type: 'cancel', params: { targetId: 1 } });
    worker.deliver({
      kind: 'error',
      id: 1,
      name: 'CancelledError',
      message: 'Embedding the labels was cancelled.',
    });
    await expect(request.done).rejects.toBeInstanceOf(CancelledError);
    expect(heard).toEqual(['1 32/80']);
  });

  it('routes modelTransfer events to the download that asked for them, and cancels it', async () => {
    const { worker, client } = setup();
    const heard: string[] = [];
    const listened: string[] = [];
    client.onEvent((e) => listened.push(e.type));
    const transfer = (requestId: number, loaded: number): ModelTransferEvent => ({
      type: 'modelTransfer',
      requestId,
      modelId: 'm',
      stage: 'download',
      file: 'image.int8.onnx',
      loaded,
      total: 10,
      bytesPerSecond: 1,
      secondsLeft: 10 - loaded,
    });
    const download = client.start(
      'downloadModel',
      { manifestUrl: 'https://m/manifest.json', dtypes: ['int8'] },
      (e) => heard.push(`${e.requestId} ${e.loaded}`),
    );
    expect(worker.sent[0]).toEqual({
      id: 1,
      type: 'downloadModel',
      params: { manifestUrl: 'https://m/manifest.json', dtypes: ['int8'] },
    });
    worker.deliver({ kind: 'event', event: transfer(1, 4) });
    worker.deliver({ kind: 'event', event: transfer(99, 5) });
    download.cancel();
    expect(worker.sent.at(-1)).toEqual({ id: 2, type: 'cancel', params: { targetId: 1 } });
    worker.deliver({ kind: 'result', id: 2, value: { cancelled: true } });
    worker.deliver({
      kind: 'error',
      id: 1,
      name: 'CancelledError',
      message: 'The model download was cancelled.',
    });
    await expect(download.done).rejects.toBeInstanceOf(CancelledError);
    expect(heard).toEqual(['1 4']);
    expect(listened).toEqual([]);
  });

  it('sends listStoredModels, importModel and deleteStoredModel as the protocol says', () => {
    const { worker, client } = setup();
    void client.call('listStoredModels', {});
    const file = new Blob(['{}']);
    void client.start('importModel', { files: [{ path: 'm/manifest.json', file }] }, () => undefined).done;
    void client.call('deleteStoredModel', { modelId: 'm' });
    expect(worker.sent).toEqual([
      { id: 1, type: 'listStoredModels', params: {} },
      { id: 2, type: 'importModel', params: { files: [{ path: 'm/manifest.json', file }] } },
      { id: 3, type: 'deleteStoredModel', params: { modelId: 'm' } },
    ]);
  });

  it('downloads, cancels, imports and reports storage errors end to end through structured cloning', async () => {
    const model = await servedModel();
    const server = rangeServer(model.files);
    const store = new MemoryModelStore({ quotaBytes: 5000 });
    const worker = new FakeWorker();
    const engine: HandlerEngine = {
      load: async () => {
        throw new BackendError('unused');
      },
      embedLabels: async () => ({ embeddings: new Float32Array(0), dim: 0, truncated: [], ms: 0 }),
      embedImages: async () => ({ embedded: 0, failed: 0, cancelled: false, ms: 0 }),
      embeddingCacheInfo: async () => ({ entries: 0, disabledReason: null }),
      clearEmbeddingCache: async () => ({ removed: 0 }),
      dispose: () => undefined,
    };
    const library = new ModelLibrary({ openStore: async () => store, fetch: server.fetch, locks: null });
    const handler = new WorkerHandler(engine, library, (message, transfer) =>
      worker.deliver(structuredClone(message, { transfer })),
    );
    worker.onPost = (request) => void handler.handle(structuredClone(request));
    const client = new EngineClient(worker as unknown as Worker);

    // A cancelled download: CancelledError on the page, the partial listed as incomplete.
    const events: ModelTransferEvent[] = [];
    const download = client.start(
      'downloadModel',
      { manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] },
      (e) => {
        events.push(e);
        if (e.file === 'image.int8.onnx' && e.loaded >= 1000) download.cancel();
      },
    );
    await expect(download.done).rejects.toBeInstanceOf(CancelledError);
    expect(events.every((e) => e.requestId === 1)).toBe(true);
    expect(events[0]).toMatchObject({ stage: 'manifest', modelId: null });
    const report = await client.call('listStoredModels', {});
    expect(report).toMatchObject({ kind: 'memory', models: [], quota: 5000 });
    expect(report.incomplete).toHaveLength(1);

    // The resumed download completes.
    const info = await client.start(
      'downloadModel',
      { manifestUrl: SERVED_MANIFEST_URL, dtypes: ['int8'] },
      () => undefined,
    ).done;
    expect(info).toMatchObject({ id: 'store-test', dtypes: ['int8'], bytes: 4200 });

    // No room for the q4 variant: StorageFullError keeps its class across the boundary.
    const full = await client
      .start('downloadModel', { manifestUrl: SERVED_MANIFEST_URL, dtypes: ['q4'] }, () => undefined)
      .done.catch((e: unknown) => e);
    expect(full).toBeInstanceOf(StorageFullError);
    expect(full).toMatchObject({ name: 'StorageFullError' });
    expect((full as Error).message).toMatch(
      /^Not enough storage for Store test model: it needs 2\.10 kB more/,
    );

    // An import with a corrupted file: ModelFileError naming it; the stored model is untouched.
    await client.call('deleteStoredModel', { modelId: 'store-test' });
    const corrupted = model.bytesOf('text.int8.onnx').slice();
    corrupted[0] = corrupted[0]! ^ 1;
    const files = [
      { path: 'm/manifest.json', file: new Blob([JSON.stringify(model.manifest)]) },
      { path: 'm/tokenizer.json', file: new Blob([model.bytesOf('tokenizer.json').slice()]) },
      { path: 'm/image.int8.onnx', file: new Blob([model.bytesOf('image.int8.onnx').slice()]) },
      { path: 'm/text.int8.onnx', file: new Blob([corrupted]) },
    ];
    const failed = await client
      .start('importModel', { files }, () => undefined)
      .done.catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(ModelFileError);
    expect((failed as Error).message).toMatch(
      /^text\.int8\.onnx does not match the checksum in m\/manifest\.json/,
    );
    expect(await client.call('listStoredModels', {})).toMatchObject({ models: [], incomplete: [] });
  });
});
