import { describe, expect, it } from 'vitest';
import { BackendError, CancelledError, ManifestError, StorageFullError } from '../core/errors';
import type { ImageSink } from '../engine/image/imageBatches';
import type { ModelTransferUpdate } from '../engine/library/modelLibrary';
import type { LoadEvent } from '../engine/inference/zeroShotEngine';
import type { EmbedLabelsRun } from '../engine/text/textEmbedder';
import { WorkerHandler, type HandlerEngine, type HandlerLibrary } from './handler';
import type {
  EmbedImagesParams,
  EmbedImagesResult,
  LoadedModel,
  StorageReport,
  StoredModelInfo,
  WorkerMessage,
} from '../core/protocol';
import { makeManifest } from '../test/manifestFixture';

const loaded: LoadedModel = {
  manifest: makeManifest(),
  backend: 'wasm',
  dtype: 'int8',
  probeCosine: { image: 0.999, text: 1 },
  fallbackNotes: [],
  loadMs: 12,
  loadStages: {},
  threads: 2,
};

/** A fake engine whose embedImages reports one image per input, waiting for `release()` between images. */
class FakeEngine implements HandlerEngine {
  disposed = 0;
  loadError: Error | null = null;
  private gate: (() => void) | null = null;

  async load(_params: unknown, emit: (e: LoadEvent) => void): Promise<LoadedModel> {
    emit({ type: 'loadProgress', stage: 'download', file: 'image.int8.onnx', loaded: 5, total: 10 });
    if (this.loadError) throw this.loadError;
    return loaded;
  }

  /** While set, embedLabels reports one batch and then waits for it (so a test can cancel in between). */
  labelGate: Promise<void> | null = null;

  async embedLabels(_params: unknown, run: EmbedLabelsRun = {}) {
    run.onProgress?.({ done: 0, total: 64 });
    if (this.labelGate) {
      run.onProgress?.({ done: 32, total: 64 });
      await this.labelGate;
      if (run.signal?.aborted) throw new CancelledError('Embedding the labels was cancelled.');
    }
    run.onProgress?.({ done: 64, total: 64 });
    return { embeddings: new Float32Array([1, 0, 0, 1]), dim: 2, truncated: [false, false], ms: 3 };
  }

  async embeddingCacheInfo() {
    return { entries: 7, disabledReason: null };
  }

  async clearEmbeddingCache() {
    return { removed: 7 };
  }

  async embedImages(
    params: EmbedImagesParams,
    sink: ImageSink,
    signal: AbortSignal,
  ): Promise<EmbedImagesResult> {
    let embedded = 0;
    for (const image of params.images) {
      if (signal.aborted) return { embedded, failed: 0, cancelled: true, ms: 1 };
      if (image.name === 'bad') {
        sink.failed({ imageId: image.imageId, message: 'bad could not be read as an image.' });
        continue;
      }
      sink.image({
        imageId: image.imageId,
        embedding: new Float32Array([0.6, 0.8]),
        width: 4,
        height: 3,
        thumbnail: null,
        ms: 2,
      });
      embedded++;
      await new Promise<void>((resolve) => (this.gate = resolve));
    }
    return { embedded, failed: params.images.length - embedded, cancelled: false, ms: 1 };
  }

  release(): void {
    this.gate?.();
  }

  dispose(): void {
    this.disposed++;
  }
}

const storedInfo: StoredModelInfo = {
  id: 'test-model',
  name: 'Test model',
  bytes: 30,
  storedAt: 1,
  dtypes: ['fp32'],
  manifest: makeManifest(),
};

const update = (stage: ModelTransferUpdate['stage'], loaded: number): ModelTransferUpdate => ({
  modelId: 'test-model',
  stage,
  file: stage === 'manifest' ? null : 'image.fp32.onnx',
  loaded,
  total: 30,
  bytesPerSecond: 0,
  secondsLeft: null,
});

/**
 * A fake model library: download reports two updates, then waits until `finish()` or until cancelled (like the
 * real one, it then throws a CancelledError); import fails with `importError` when set.
 */
class FakeLibrary implements HandlerLibrary {
  deleted: string[] = [];
  importError: Error | null = null;
  private finishDownload: (() => void) | null = null;

  async report(): Promise<StorageReport> {
    return { kind: 'memory', models: [storedInfo], incomplete: [], quota: null, usage: null };
  }

  async download(
    _params: unknown,
    onProgress: (u: ModelTransferUpdate) => void,
    signal: AbortSignal,
  ): Promise<StoredModelInfo> {
    onProgress(update('manifest', 0));
    onProgress(update('download', 10));
    await new Promise<void>((resolve, reject) => {
      this.finishDownload = resolve;
      signal.addEventListener('abort', () => reject(new CancelledError('The model download was cancelled.')));
    });
    return storedInfo;
  }

  async import(_params: unknown, onProgress: (u: ModelTransferUpdate) => void): Promise<StoredModelInfo> {
    onProgress(update('verify', 0));
    if (this.importError) throw this.importError;
    return storedInfo;
  }

  async buildFromHub(
    _params: unknown,
    onProgress: (u: ModelTransferUpdate) => void,
  ): Promise<StoredModelInfo> {
    onProgress(update('convert', 3));
    return storedInfo;
  }

  async delete(modelId: string): Promise<void> {
    this.deleted.push(modelId);
  }

  async deleteAll(): Promise<number> {
    this.deleted.push('*');
    return 2;
  }

  finish(): void {
    this.finishDownload?.();
  }
}

function setup() {
  const engine = new FakeEngine();
  const library = new FakeLibrary();
  const posted: { message: WorkerMessage; transfer: Transferable[] }[] = [];
  const handler = new WorkerHandler(engine, library, (message, transfer) =>
    posted.push({ message, transfer }),
  );
  return { engine, library, posted, handler };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

const image = (imageId: string, name = imageId) => ({ imageId, name, file: new Blob(['x']) });

describe('WorkerHandler', () => {
  it('answers the embedding-cache requests from the engine', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 1, type: 'embeddingCacheInfo', params: {} });
    await handler.handle({ id: 2, type: 'clearEmbeddingCache', params: {} });
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'result', id: 1, value: { entries: 7, disabledReason: null } },
      { kind: 'result', id: 2, value: { removed: 7 } },
    ]);
  });

  it('replies to loadModel with the result after forwarding progress events', async () => {
    const { posted, handler } = setup();
    await handler.handle({
      id: 1,
      type: 'loadModel',
      params: { source: { kind: 'url', manifestUrl: '/m.json' }, backend: 'auto' },
    });
    expect(posted.map((p) => p.message)).toEqual([
      {
        kind: 'event',
        event: { type: 'loadProgress', stage: 'download', file: 'image.int8.onnx', loaded: 5, total: 10 },
      },
      { kind: 'result', id: 1, value: loaded },
    ]);
  });

  it('replies with the error name and message when the engine throws', async () => {
    const { engine, posted, handler } = setup();
    engine.loadError = new ManifestError('The model manifest at /m.json is invalid: id is missing.');
    await handler.handle({
      id: 7,
      type: 'loadModel',
      params: { source: { kind: 'url', manifestUrl: '/m.json' }, backend: 'auto' },
    });
    expect(posted.at(-1)!.message).toEqual({
      kind: 'error',
      id: 7,
      name: 'ManifestError',
      message: 'The model manifest at /m.json is invalid: id is missing.',
    });
    engine.loadError = new BackendError('No backend could run this model.');
    await handler.handle({
      id: 8,
      type: 'loadModel',
      params: { source: { kind: 'url', manifestUrl: '/m.json' }, backend: 'auto' },
    });
    expect(posted.at(-1)!.message).toMatchObject({ kind: 'error', id: 8, name: 'BackendError' });
  });

  it('transfers label embeddings instead of copying them', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 2, type: 'embedLabels', params: { labels: ['a', 'b'], templates: ['{}'] } });
    const { message, transfer } = posted.at(-1)!;
    expect(message).toMatchObject({ kind: 'result', id: 2, value: { dim: 2, truncated: [false, false] } });
    const value = (message as { value: { embeddings: Float32Array } }).value;
    expect(transfer).toEqual([value.embeddings.buffer]);
  });

  it('streams labelProgress events tagged with the request id, then the embeddings', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 3, type: 'embedLabels', params: { labels: ['a', 'b'], templates: ['{}'] } });
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'event', event: { type: 'labelProgress', requestId: 3, done: 0, total: 64 } },
      { kind: 'event', event: { type: 'labelProgress', requestId: 3, done: 64, total: 64 } },
      expect.objectContaining({ kind: 'result', id: 3 }),
    ]);
  });

  it('cancels a running embedLabels request: it replies with a CancelledError', async () => {
    const { engine, posted, handler } = setup();
    let open!: () => void;
    engine.labelGate = new Promise((resolve) => (open = resolve));
    const done = handler.handle({ id: 4, type: 'embedLabels', params: { labels: ['a'], templates: ['{}'] } });
    await Promise.resolve();
    await handler.handle({ id: 5, type: 'cancel', params: { targetId: 4 } });
    open();
    await done;
    expect(posted.at(-2)!.message).toEqual({ kind: 'result', id: 5, value: { cancelled: true } });
    expect(posted.at(-1)!.message).toMatchObject({ kind: 'error', id: 4, name: 'CancelledError' });
  });

  it('streams image events tagged with the request id, then the result', async () => {
    const { engine, posted, handler } = setup();
    const done = handler.handle({
      id: 3,
      type: 'embedImages',
      params: { images: [image('a'), image('x', 'bad')], thumbnailSize: 64 },
    });
    await Promise.resolve();
    engine.release();
    await done;
    expect(posted.map((p) => p.message)).toEqual([
      {
        kind: 'event',
        event: {
          type: 'imageEmbedded',
          requestId: 3,
          imageId: 'a',
          embedding: new Float32Array([0.6, 0.8]),
          width: 4,
          height: 3,
          thumbnail: null,
          ms: 2,
        },
      },
      {
        kind: 'event',
        event: {
          type: 'imageFailed',
          requestId: 3,
          imageId: 'x',
          message: 'bad could not be read as an image.',
        },
      },
      { kind: 'result', id: 3, value: { embedded: 1, failed: 1, cancelled: false, ms: 1 } },
    ]);
    expect(posted[0]!.transfer).toHaveLength(1);
  });

  it('cancels a running embedImages request', async () => {
    const { engine, posted, handler } = setup();
    const done = handler.handle({
      id: 4,
      type: 'embedImages',
      params: { images: [image('a'), image('b'), image('c')], thumbnailSize: 0 },
    });
    await Promise.resolve();
    await handler.handle({ id: 5, type: 'cancel', params: { targetId: 4 } });
    engine.release();
    await done;
    const replies = posted.filter((p) => p.message.kind === 'result').map((p) => p.message);
    expect(replies).toEqual([
      { kind: 'result', id: 5, value: { cancelled: true } },
      { kind: 'result', id: 4, value: { embedded: 1, failed: 0, cancelled: true, ms: 1 } },
    ]);
    await handler.handle({ id: 6, type: 'cancel', params: { targetId: 4 } });
    expect(posted.at(-1)!.message).toEqual({ kind: 'result', id: 6, value: { cancelled: false } });
  });

  it('disposes the engine', async () => {
    const { engine, posted, handler } = setup();
    await handler.handle({ id: 9, type: 'dispose', params: {} });
    expect(engine.disposed).toBe(1);
    expect(posted[0]!.message).toEqual({ kind: 'result', id: 9, value: null });
  });

  it('answers malformed requests with a ProtocolError and ignores id-less noise', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 10, type: 'classify', params: {} });
    expect(posted[0]!.message).toMatchObject({ kind: 'error', id: 10, name: 'ProtocolError' });
    await handler.handle('hello');
    await handler.handle(null);
    expect(posted).toHaveLength(1);
  });

  it('answers listStoredModels and deleteStoredModel from the model library', async () => {
    const { library, posted, handler } = setup();
    await handler.handle({ id: 11, type: 'listStoredModels', params: {} });
    await handler.handle({ id: 12, type: 'deleteStoredModel', params: { modelId: 'test-model' } });
    expect(posted.map((p) => p.message)).toEqual([
      {
        kind: 'result',
        id: 11,
        value: { kind: 'memory', models: [storedInfo], incomplete: [], quota: null, usage: null },
      },
      { kind: 'result', id: 12, value: null },
    ]);
    expect(library.deleted).toEqual(['test-model']);
  });

  it('forgets everything: stops the engine, deletes every stored model, empties the cache', async () => {
    const { engine, library, posted, handler } = setup();
    await handler.handle({ id: 13, type: 'forgetEverything', params: {} });
    expect(engine.disposed).toBe(1);
    expect(library.deleted).toEqual(['*']);
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'result', id: 13, value: { models: 2, images: 7 } },
    ]);
  });

  it('streams modelTransfer events tagged with the request id, then the stored model', async () => {
    const { library, posted, handler } = setup();
    const done = handler.handle({
      id: 13,
      type: 'downloadModel',
      params: { manifestUrl: 'https://m/manifest.json', dtypes: ['fp32'] },
    });
    await tick();
    library.finish();
    await done;
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'event', event: { type: 'modelTransfer', requestId: 13, ...update('manifest', 0) } },
      { kind: 'event', event: { type: 'modelTransfer', requestId: 13, ...update('download', 10) } },
      { kind: 'result', id: 13, value: storedInfo },
    ]);
  });

  it('cancels a running download: the download replies with a CancelledError', async () => {
    const { posted, handler } = setup();
    const done = handler.handle({
      id: 14,
      type: 'downloadModel',
      params: { manifestUrl: 'https://m/manifest.json', dtypes: ['fp32'] },
    });
    await tick();
    await handler.handle({ id: 15, type: 'cancel', params: { targetId: 14 } });
    await done;
    const replies = posted.filter((p) => p.message.kind !== 'event').map((p) => p.message);
    expect(replies).toEqual([
      { kind: 'result', id: 15, value: { cancelled: true } },
      { kind: 'error', id: 14, name: 'CancelledError', message: 'The model download was cancelled.' },
    ]);
  });

  it('replies to a failed import with the error name, after its events', async () => {
    const { library, posted, handler } = setup();
    library.importError = new StorageFullError('Not enough storage for Test model.', 10, 2);
    await handler.handle({ id: 16, type: 'importModel', params: { files: [] } });
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'event', event: { type: 'modelTransfer', requestId: 16, ...update('verify', 0) } },
      { kind: 'error', id: 16, name: 'StorageFullError', message: 'Not enough storage for Test model.' },
    ]);
  });

  it('routes a hub build to the library; its progress arrives as modelTransfer events', async () => {
    const { posted, handler } = setup();
    const params = {
      recipeUrl: 'https://app.test/hub/B/recipe.json',
      hubBaseUrl: 'https://hub.test',
      dtypes: ['int8' as const],
    };
    await handler.handle({ id: 17, type: 'buildModelFromHub', params });
    expect(posted.map((p) => p.message)).toEqual([
      { kind: 'event', event: { type: 'modelTransfer', requestId: 17, ...update('convert', 3) } },
      { kind: 'result', id: 17, value: storedInfo },
    ]);
  });

  it('groups near-duplicates by image id in the worker, largest group first', async () => {
    const { posted, handler } = setup();
    const s = Math.SQRT1_2;
    // a ≈ b (cosine 0.99…), c alone, d = e.
    const rows = [1, 0, 0.999, 0.0447, 0, 1, s, s, s, s];
    await handler.handle({
      id: 18,
      type: 'nearDuplicates',
      params: {
        embeddings: Float32Array.from(rows),
        dim: 2,
        imageIds: ['a', 'b', 'c', 'd', 'e'],
        threshold: 0.99,
      },
    });
    const reply = posted[0]!.message;
    expect(reply).toMatchObject({ kind: 'result', id: 18 });
    const { groups } = (reply as { value: { groups: { imageIds: string[]; weakestLink: number }[] } }).value;
    expect(groups.map((group) => [...group.imageIds].sort())).toEqual(
      expect.arrayContaining([
        ['a', 'b'],
        ['d', 'e'],
      ]),
    );
    expect(groups).toHaveLength(2);
    expect(groups.every((group) => group.weakestLink >= 0.99)).toBe(true);
  });

  it('refuses a request type the handler table does not have, with the id it came with', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 19, type: 'embedEverything', params: {} });
    expect(posted[0]!.message).toMatchObject({ kind: 'error', id: 19, name: 'ProtocolError' });
  });
});
