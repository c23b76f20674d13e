import { describe, expect, it } from 'vitest';
import { BackendError, CancelledError, ManifestError } from '../engine/errors';
import { EngineClient, rehydrateError } from './engineClient';
import { WorkerHandler, type HandlerEngine } from './handler';
import type { WorkerMessage, WorkerRequest } from './protocol';
import { makeManifest } from '../test/manifestFixture';

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
    const labels = client.embedLabels({ labels: ['a'], templates: ['{}'] });
    const model = client.loadModel({ manifestUrl: '/m.json', backend: 'auto' });
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
    const model = client.loadModel({ manifestUrl: '/m.json', backend: 'auto' });
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
    const run = client.embedImages(
      { images: [{ imageId: 'a', file: new Blob(['x']), name: 'a.png' }], thumbnailSize: 64 },
      {
        image: (e) => seen.push(`image ${e.imageId}`),
        failed: (e) => seen.push(`failed ${e.imageId}: ${e.message}`),
      },
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
    const pending = crashed.client.loadModel({ manifestUrl: '/m.json', backend: 'auto' });
    crashed.worker.crash('Failed to fetch dynamically imported module');
    await expect(pending).rejects.toThrow(/inference worker stopped: Failed to fetch/);
    await expect(crashed.client.embedLabels({ labels: [], templates: [] })).rejects.toBeInstanceOf(
      BackendError,
    );

    const disposed = setup();
    const waiting = disposed.client.embedLabels({ labels: ['a'], templates: ['{}'] });
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
      dispose: () => undefined,
    };
    const handler = new WorkerHandler(engine, (message, transfer) =>
      worker.deliver(structuredClone(message, { transfer })),
    );
    worker.onPost = (request) => void handler.handle(structuredClone(request));
    const client = new EngineClient(worker as unknown as Worker);
    const result = await client.embedLabels({ labels: ['a', 'b'], templates: ['{}'] });
    expect(Array.from(result.embeddings)).toEqual([0.5, 0.5, 0.5, 0.5]);
    await expect(client.loadModel({ manifestUrl: '/m.json', backend: 'auto' })).rejects.toBeInstanceOf(
      BackendError,
    );
  });
});
