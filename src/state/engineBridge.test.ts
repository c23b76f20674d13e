import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  addFiles,
  addLabel,
  cancel,
  cancelLabelEmbedding,
  configureEngineBridge,
  loadModel,
  loadSamples,
  removeLabel,
  setBackendPreference,
  setLabels,
} from './engineBridge';
import {
  FakeEngine,
  connectFakeEngine,
  disconnectFakeEngine,
  colourVector,
  deferred,
  imageFile,
  settle,
} from './fakeEngine.testing';
import { CANCELLED_MESSAGE, IMAGES_PER_REQUEST } from './imagePipeline';
import { selectMsPerPrompt } from './labelsSlice';
import { selectTopLabels } from './selectors';
import { useLensStore } from './store';
import type { EmbedLabelsResult } from '../core/protocol';

const state = () => useLensStore.getState();
let engine: FakeEngine;
/** Flushes queued by the bridge; the test runs them, standing in for animation frames. */
let frames: (() => void)[];
const runFrames = () => frames.splice(0).forEach((flush) => flush());

beforeEach(() => {
  engine = new FakeEngine();
  frames = [];
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => `blob:${Math.random()}`);
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => {});
  connectFakeEngine(engine, (flush) => frames.push(flush));
});

afterEach(disconnectFakeEngine);

describe('loadModel', () => {
  it('reports progress, then the loaded model, and embeds the labels once ready', async () => {
    setLabels(['red circle', 'blue square']);
    const load = deferred<ReturnType<typeof engine.loadModel> extends Promise<infer T> ? T : never>();
    engine.loadModel.mockReturnValueOnce(load.promise);
    const loading = loadModel();
    expect(state().modelStatus).toBe('loading');
    engine.emit({ type: 'loadProgress', stage: 'download', file: 'image.int8.onnx', loaded: 5, total: 10 });
    expect(state().loadProgress).toEqual({
      stage: 'download',
      file: 'image.int8.onnx',
      loaded: 5,
      total: 10,
    });
    expect(loadModel()).toBe(loading);
    load.resolve((await import('./fakeEngine.testing')).fakeLoadedModel());
    await loading;
    expect(state().modelStatus).toBe('ready');
    expect(engine.loadModel).toHaveBeenCalledTimes(1);
    expect(engine.loadModel.mock.calls[0]![0]).toEqual({
      source: { kind: 'url', manifestUrl: '/models/eva-lens-demo/manifest.json' },
      backend: 'auto',
    });
    expect(state().labelEmbeddings?.labelTexts).toEqual(['red circle', 'blue square']);
    expect(engine.embedLabels.mock.calls[0]![0].templates).toEqual(['a photo of a {}.']);
  });

  it('turns a failed load into a message and can load again', async () => {
    const failure = Object.assign(new Error('The model file image.int8.onnx is missing (HTTP 404).'), {
      name: 'ModelFileError',
    });
    engine.loadModel.mockRejectedValueOnce(failure);
    await loadModel();
    expect(state().modelStatus).toBe('error');
    expect(state().modelError).toBe('The model file image.int8.onnx is missing (HTTP 404).');
    await loadModel();
    expect(state().modelStatus).toBe('ready');
  });
});

describe('addFiles', () => {
  it('names the files it skips, a few of them when there are many', () => {
    addFiles(['a.txt', 'b.pdf', 'c.doc', 'd.md', 'e.csv'].map((name) => imageFile(name, 'text/plain')));
    expect(state().notices.map((notice) => notice.text)).toEqual([
      'Skipped 5 files that are not images: a.txt, b.pdf, c.doc and 2 more.',
    ]);
  });

  it('skips non-images and duplicates with a notice, and embeds the rest in small requests', async () => {
    await loadModel();
    const names = Array.from({ length: IMAGES_PER_REQUEST + 2 }, (_, i) => `red-${i}.png`);
    const summary = addFiles([
      ...names.map((name) => imageFile(name)),
      imageFile('notes.txt', 'text/plain'),
      imageFile('red-0.png'),
    ]);
    expect(summary).toEqual({
      added: names.length,
      duplicates: 1,
      notImages: 1,
      notImageNames: ['notes.txt'],
    });
    expect(state().notices.map((notice) => notice.text)).toEqual([
      'Skipped notes.txt: it is not an image.',
      '1 image was already added.',
    ]);
    expect(engine.imageRequests).toHaveLength(1);
    expect(engine.imageRequests[0]!.params.images).toHaveLength(IMAGES_PER_REQUEST);
    expect(state().run).toMatchObject({ isRunning: true, total: names.length });

    engine.imageRequests[0]!.finish();
    await settle();
    // Results were flushed once when the request settled, in one store update.
    expect(state().run.embedded).toBe(IMAGES_PER_REQUEST);
    expect(engine.imageRequests).toHaveLength(2);
    engine.imageRequests[1]!.finish();
    await settle();
    expect(state().run).toMatchObject({ isRunning: false, embedded: names.length, failed: 0 });
    expect(Object.values(state().images).every((image) => image.status === 'done')).toBe(true);
  });

  it('batches streamed results into one store update per frame', async () => {
    await loadModel();
    addFiles(['red-a.png', 'red-b.png', 'red-c.png'].map((name) => imageFile(name)));
    const request = engine.imageRequests[0]!;
    const updates = vi.fn();
    const unsubscribe = useLensStore.subscribe(updates);
    for (const image of request.params.images.slice(0, 2)) {
      request.on.image({
        type: 'imageEmbedded',
        requestId: 1,
        imageId: image.imageId,
        embedding: colourVector(image.name),
        width: 1,
        height: 1,
        thumbnail: null,
        ms: 10,
      });
    }
    expect(updates).not.toHaveBeenCalled();
    expect(frames).toHaveLength(1);
    runFrames();
    expect(updates).toHaveBeenCalledTimes(1);
    expect(state().run.embedded).toBe(2);
    unsubscribe();
  });

  it('queues files while the model loads and starts once it is ready', async () => {
    const load = deferred<Awaited<ReturnType<typeof engine.loadModel>>>();
    engine.loadModel.mockReturnValueOnce(load.promise);
    addFiles([imageFile('blue.png')]);
    expect(state().modelStatus).toBe('loading');
    expect(engine.imageRequests).toHaveLength(0);
    load.resolve((await import('./fakeEngine.testing')).fakeLoadedModel());
    await settle();
    expect(engine.imageRequests).toHaveLength(1);
  });

  it('gives scored top labels once images and labels are embedded', async () => {
    setLabels(['red', 'green', 'blue']);
    await loadModel();
    addFiles([imageFile('a green leaf.png')]);
    engine.imageRequests[0]!.finish();
    await settle();
    const id = state().imageIds[0]!;
    expect(selectTopLabels(state(), id, 1)[0]?.label).toBe('green');
  });
});

describe('cancel', () => {
  it('stops the request in flight and marks every unfinished image as cancelled', async () => {
    await loadModel();
    addFiles(Array.from({ length: IMAGES_PER_REQUEST + 3 }, (_, i) => imageFile(`red-${i}.png`)));
    const request = engine.imageRequests[0]!;
    const first = request.params.images[0]!;
    request.on.image({
      type: 'imageEmbedded',
      requestId: 1,
      imageId: first.imageId,
      embedding: colourVector('red'),
      width: 1,
      height: 1,
      thumbnail: null,
      ms: 10,
    });
    cancel();
    expect(request.cancel).toHaveBeenCalledTimes(1);
    await settle();
    const statuses = state().imageIds.map((id) => state().images[id]!.status);
    expect(statuses.filter((status) => status === 'done')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'failed')).toHaveLength(IMAGES_PER_REQUEST + 2);
    expect(state().images[state().imageIds[5]!]!.error).toBe(CANCELLED_MESSAGE);
    expect(state().run).toMatchObject({ isRunning: false, wasCancelled: true });
    expect(engine.imageRequests).toHaveLength(1);
  });

  it('lets a cancelled file be added again', async () => {
    await loadModel();
    addFiles([imageFile('red.png')]);
    cancel();
    await settle();
    expect(addFiles([imageFile('red.png')]).added).toBe(1);
    expect(state().imageIds).toHaveLength(1);
    expect(engine.imageRequests).toHaveLength(2);
  });
});

describe('labels', () => {
  it('re-embeds after edits and keeps only the newest result when requests overlap', async () => {
    await loadModel();
    const slow = deferred<EmbedLabelsResult>();
    engine.embedLabels.mockImplementationOnce(() => slow.promise);
    addLabel('red');
    await new Promise((resolve) => setTimeout(resolve, 5));
    addLabel('blue');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(state().labelEmbeddings?.labelTexts).toEqual(['red', 'blue']);
    slow.resolve({ embeddings: colourVector('red'), dim: 3, truncated: [false], ms: 1 });
    await settle();
    expect(state().labelEmbeddings?.labelTexts).toEqual(['red', 'blue']);

    removeLabel(state().labels[0]!.id);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(state().labelEmbeddings?.labelTexts).toEqual(['blue']);
  });
});

describe('label embedding progress and Cancel', () => {
  it('shows done/total while embedding; Cancel stops the worker and goes back to the labels the cards are for', async () => {
    setLabels(['red', 'blue']);
    await loadModel();
    expect(state().labelEmbeddingStatus).toBe('ready');
    const shown = state().labels;

    const slow = deferred<EmbedLabelsResult>();
    engine.embedLabels.mockImplementationOnce(() => slow.promise);
    setLabels(['green', 'red', 'blue', 'yellow']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(state().labelEmbeddingStatus).toBe('embedding');
    expect(state().labelEmbeddingProgress).toMatchObject({ done: 0, total: 4 });

    cancelLabelEmbedding();
    expect(engine.labelSetCancels.at(-1)).toHaveBeenCalledTimes(1);
    expect(state().labels).toEqual(shown);
    expect(state().labelEmbeddingStatus).toBe('ready');
    expect(state().labelEmbeddingProgress).toBeNull();
    expect(state().labelUndo.at(-1)?.description).toBe('cancel embedding');
    // The worker's answer to the cancelled request (its CancelledError) changes nothing.
    slow.reject(Object.assign(new Error('Embedding the labels was cancelled.'), { name: 'CancelledError' }));
    await settle();
    expect(state().labelEmbeddingStatus).toBe('ready');
    expect(state().labelEmbeddingError).toBeNull();
    expect(state().labelEmbeddings?.labelTexts).toEqual(['red', 'blue']);
  });

  it('with no earlier embeddings, Cancel keeps the labels and says they are not embedded', async () => {
    await loadModel();
    const slow = deferred<EmbedLabelsResult>();
    engine.embedLabels.mockImplementationOnce(() => slow.promise);
    setLabels(['green']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    cancelLabelEmbedding();
    expect(state().labels.map((label) => label.text)).toEqual(['green']);
    expect(state().labelEmbeddingStatus).toBe('cancelled');
  });

  it('keeps the measured time per prompt for the model in use only', async () => {
    await loadModel();
    engine.embedLabels.mockResolvedValueOnce({
      embeddings: colourVector('red'),
      dim: 3,
      truncated: [false],
      ms: 1,
      promptsRun: 64,
      towerMs: 128,
    });
    setLabels(['red']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(selectMsPerPrompt(state())).toBe(2);
    useLensStore.setState({ activeModelId: 'another-model' });
    expect(selectMsPerPrompt(state())).toBeNull();
  });
});

describe('setBackendPreference', () => {
  it('reloads the model with the new backend and embeds the images again', async () => {
    await loadModel();
    addFiles([imageFile('red.png')]);
    engine.imageRequests[0]!.finish();
    await settle();
    await setBackendPreference('wasm');
    expect(engine.loadModel).toHaveBeenCalledTimes(2);
    expect(engine.loadModel.mock.calls[1]![0].backend).toBe('wasm');
    expect(state().backendPreference).toBe('wasm');
    expect(engine.imageRequests).toHaveLength(2);
  });
});

describe('loadSamples', () => {
  it('fetches the sample list and images, sets their labels and adds them', async () => {
    const responses: Record<string, () => Response> = {
      '/samples/samples.json': () =>
        Response.json([
          { file: 'red-circle-1.png', label: 'a red circle' },
          { file: 'blue-square-1.png', label: 'a blue square' },
          { file: 'red-circle-2.png', label: 'a red circle' },
        ]),
    };
    const fetchMock = vi.fn(async (url: string | URL | Request) => {
      const make = responses[String(url)];
      if (make) return make();
      return String(url).endsWith('.png')
        ? new Response(new Blob(['png'], { type: 'image/png' }))
        : new Response('', { status: 404 });
    });
    configureEngineBridge({ fetch: fetchMock });
    await loadSamples();
    expect(state().labels.map((label) => label.text)).toEqual(['a red circle', 'a blue square']);
    expect(state().imageIds.map((id) => state().images[id]!.name)).toEqual([
      'red-circle-1.png',
      'blue-square-1.png',
      'red-circle-2.png',
    ]);
    expect(state().modelStatus).not.toBe('idle');
  });

  it('says so when the samples are missing', async () => {
    configureEngineBridge({ fetch: async () => new Response('', { status: 404 }) });
    await loadSamples();
    expect(state().notices[0]).toMatchObject({ tone: 'error' });
    expect(state().notices[0]!.text).toContain('HTTP 404');
  });
});
