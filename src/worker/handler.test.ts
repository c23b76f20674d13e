import { describe, expect, it } from 'vitest';
import { BackendError, ManifestError } from '../engine/errors';
import type { ImageSink } from '../engine/imageBatches';
import type { LoadEvent } from '../engine/zeroShotEngine';
import { WorkerHandler, type HandlerEngine } from './handler';
import type { EmbedImagesParams, EmbedImagesResult, LoadedModel, WorkerMessage } from './protocol';
import { makeManifest } from '../test/manifestFixture';

const loaded: LoadedModel = {
  manifest: makeManifest(),
  backend: 'wasm',
  dtype: 'int8',
  probeCosine: { image: 0.999, text: 1 },
  fallbackNotes: [],
  loadMs: 12,
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

  async embedLabels() {
    return { embeddings: new Float32Array([1, 0, 0, 1]), dim: 2, truncated: [false, false], ms: 3 };
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

function setup() {
  const engine = new FakeEngine();
  const posted: { message: WorkerMessage; transfer: Transferable[] }[] = [];
  const handler = new WorkerHandler(engine, (message, transfer) => posted.push({ message, transfer }));
  return { engine, posted, handler };
}

const image = (imageId: string, name = imageId) => ({ imageId, name, file: new Blob(['x']) });

describe('WorkerHandler', () => {
  it('replies to loadModel with the result after forwarding progress events', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 1, type: 'loadModel', params: { manifestUrl: '/m.json', backend: 'auto' } });
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
    await handler.handle({ id: 7, type: 'loadModel', params: { manifestUrl: '/m.json', backend: 'auto' } });
    expect(posted.at(-1)!.message).toEqual({
      kind: 'error',
      id: 7,
      name: 'ManifestError',
      message: 'The model manifest at /m.json is invalid: id is missing.',
    });
    engine.loadError = new BackendError('No backend could run this model.');
    await handler.handle({ id: 8, type: 'loadModel', params: { manifestUrl: '/m.json', backend: 'auto' } });
    expect(posted.at(-1)!.message).toMatchObject({ kind: 'error', id: 8, name: 'BackendError' });
  });

  it('transfers label embeddings instead of copying them', async () => {
    const { posted, handler } = setup();
    await handler.handle({ id: 2, type: 'embedLabels', params: { labels: ['a', 'b'], templates: ['{}'] } });
    const { message, transfer } = posted[0]!;
    expect(message).toMatchObject({ kind: 'result', id: 2, value: { dim: 2, truncated: [false, false] } });
    const value = (message as { value: { embeddings: Float32Array } }).value;
    expect(transfer).toEqual([value.embeddings.buffer]);
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
});
