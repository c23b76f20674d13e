import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManifestError } from '../core/errors';
import { DEMO_MODEL_ID, HUB_BUILDS } from './catalog';
import { configureEngineBridge, getModelFromOfficialWeights, loadModel, switchModel } from './engineBridge';
import {
  FakeEngine,
  connectFakeEngine,
  disconnectFakeEngine,
  fakeLoadedModel,
  settle,
} from './fakeEngine.testing';
import {
  buildFromOfficialWeights,
  cancelTransfer,
  deleteStoredModel,
  downloadCatalogModel,
  refreshCatalog,
  setHubServer,
} from './modelTransfers';
import { useLensStore } from './store';
import type { StoredModelInfo } from '../core/protocol';

const state = () => useLensStore.getState();
let engine: FakeEngine;
let frames: (() => void)[];
const runFrames = () => frames.splice(0).forEach((flush) => flush());

function storedInfo(id: string): StoredModelInfo {
  const manifest = { ...fakeLoadedModel().manifest, id, name: `Model ${id}` };
  return { id, name: manifest.name, bytes: 1000, storedAt: 1, dtypes: ['int8'], manifest };
}

beforeEach(() => {
  engine = new FakeEngine();
  frames = [];
  connectFakeEngine(engine, (flush) => frames.push(flush));
});

afterEach(disconnectFakeEngine);

describe('downloads', () => {
  it('shows progress once per frame, then lists the stored model', async () => {
    state().setModelBaseUrl('https://models.test/');
    const done = downloadCatalogModel('eva02-clip-b-16', 'int8');
    await settle();
    const transfer = engine.transfers[0]!;
    expect(transfer.params).toEqual({
      manifestUrl: 'https://models.test/eva02-clip-b-16/manifest.json',
      dtypes: ['int8'],
    });
    const event = {
      type: 'modelTransfer' as const,
      requestId: 1,
      modelId: 'eva02-clip-b-16',
      file: 'image.int8.onnx',
    };
    transfer.onProgress({
      ...event,
      stage: 'download',
      loaded: 10,
      total: 100,
      bytesPerSecond: 5,
      secondsLeft: 18,
    } as const);
    transfer.onProgress({
      ...event,
      stage: 'download',
      loaded: 40,
      total: 100,
      bytesPerSecond: 5,
      secondsLeft: 12,
    } as const);
    runFrames();
    expect(state().transfers['eva02-clip-b-16']).toMatchObject({
      status: 'running',
      loaded: 40,
      secondsLeft: 12,
    });
    engine.stored.push(storedInfo('eva02-clip-b-16'));
    transfer.done.resolve(storedInfo('eva02-clip-b-16'));
    await done;
    expect(state().transfers['eva02-clip-b-16']).toBeUndefined();
    expect(state().storageReport?.models.map((m) => m.id)).toEqual(['eva02-clip-b-16']);
  });

  it('keeps a cancelled download as paused, and a failed one with its message and error name', async () => {
    const first = downloadCatalogModel('eva02-clip-b-16', 'int8');
    await settle();
    cancelTransfer('eva02-clip-b-16');
    await first;
    expect(state().transfers['eva02-clip-b-16']).toMatchObject({ status: 'cancelled', error: null });

    const second = downloadCatalogModel('eva02-clip-b-16', 'int8');
    await settle();
    const full = new Error('Not enough storage for EVA02-CLIP-B/16.');
    full.name = 'StorageFullError';
    engine.transfers[1]!.done.reject(full);
    await second;
    expect(state().transfers['eva02-clip-b-16']).toMatchObject({
      status: 'error',
      errorName: 'StorageFullError',
      error: 'Not enough storage for EVA02-CLIP-B/16.',
    });
  });
});

describe('the model in use', () => {
  it('loads a stored model from storage and remembers it', async () => {
    await loadModel();
    expect(await switchModel('eva02-clip-b-16')).toBe(true);
    expect(engine.loadModel.mock.calls.at(-1)![0].source).toEqual({
      kind: 'stored',
      modelId: 'eva02-clip-b-16',
    });
    expect(state().activeModelId).toBe('eva02-clip-b-16');
  });

  it('goes back to the previous model when the chosen one fails to load', async () => {
    await loadModel();
    engine.loadModel.mockRejectedValueOnce(new Error('The model could not be opened on any backend.'));
    expect(await switchModel('eva02-clip-b-16')).toBe(false);
    expect(state().activeModelId).toBe(DEMO_MODEL_ID);
    expect(state().modelStatus).toBe('ready');
    expect(
      state()
        .notices.map((n) => n.text)
        .join(),
    ).toMatch(/could not be used/);
  });

  it('falls back to the demo model when the remembered stored model is gone', async () => {
    state().setActiveModelId('eva02-clip-b-16');
    engine.loadModel.mockRejectedValueOnce(
      new ManifestError("The model eva02-clip-b-16 is not in this browser's model storage."),
    );
    await loadModel();
    expect(state().modelStatus).toBe('ready');
    expect(state().activeModelId).toBe(DEMO_MODEL_ID);
    expect(engine.loadModel.mock.calls.at(-1)![0].source.kind).toBe('url');
    expect(
      state()
        .notices.map((n) => n.text)
        .join(),
    ).toMatch(/Using the demo model instead/);
  });

  it('the closed-vocabulary note, once dismissed, returns when the model in use changes', async () => {
    await loadModel();
    state().dismissVocabularyNote();
    state().setActiveModelId(DEMO_MODEL_ID);
    expect(state().isVocabularyNoteDismissed).toBe(true);
    await switchModel('eva02-clip-b-16');
    expect(state().isVocabularyNoteDismissed).toBe(false);
  });

  it('switches to the demo model when the model in use is deleted', async () => {
    engine.stored.push(storedInfo('eva02-clip-b-16'));
    await loadModel();
    await switchModel('eva02-clip-b-16');
    await deleteStoredModel('eva02-clip-b-16', switchModel);
    expect(engine.deleteStoredModel).toHaveBeenCalledWith('eva02-clip-b-16');
    expect(state().activeModelId).toBe(DEMO_MODEL_ID);
    expect(state().storageReport?.models).toEqual([]);
  });
});

describe('server catalog', () => {
  it("adds a server's models and ignores a missing or broken catalog.json", async () => {
    const catalog = { models: [{ id: 'hosted', name: 'Hosted', variants: [{ dtype: 'int8', bytes: 5 }] }] };
    configureEngineBridge({ fetch: vi.fn(async () => Response.json(catalog)) as unknown as typeof fetch });
    await refreshCatalog();
    expect(state().catalog.map((e) => e.id)).toContain('hosted');
    configureEngineBridge({
      fetch: vi.fn(
        async () => new Response('<html>', { headers: { 'content-type': 'text/html' } }),
      ) as unknown as typeof fetch,
    });
    await refreshCatalog();
    expect(state().catalog.map((e) => e.id)).not.toContain('hosted');
  });

  it('records which catalog models the server hosts (their manifest answers JSON)', async () => {
    state().setModelBaseUrl('https://models.test/');
    const fetchFn = vi.fn(async (url: string) =>
      url === 'https://models.test/eva02-clip-b-16/manifest.json'
        ? Response.json({ id: 'eva02-clip-b-16' })
        : new Response('Not found', { status: 404 }),
    );
    configureEngineBridge({ fetch: fetchFn as unknown as typeof fetch });
    await refreshCatalog();
    expect(state().hosting).toEqual({
      baseUrl: 'https://models.test/',
      offline: false,
      unreachable: false,
      byId: { 'eva02-clip-b-16': 'hosted', 'eva02-clip-l-14': 'absent', 'eva02-clip-l-14-336': 'absent' },
    });
    // The embedded demo is never asked for.
    expect(fetchFn.mock.calls.map(([url]) => url)).not.toContain(
      'https://models.test/eva-lens-demo/manifest.json',
    );
  });

  it('offline, asks nothing (no catalog.json, no manifests) and says so', async () => {
    vi.stubGlobal('navigator', { onLine: false });
    const fetchFn = vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')));
    configureEngineBridge({ fetch: fetchFn as unknown as typeof fetch });
    try {
      await refreshCatalog();
    } finally {
      vi.unstubAllGlobals();
    }
    expect(fetchFn).not.toHaveBeenCalled();
    expect(state().hosting).toMatchObject({ offline: true });
    expect(state().catalog.length).toBeGreaterThan(1);
  });
});

describe('building from the official weights', () => {
  const entry = HUB_BUILDS[0]!;

  it('asks the worker to build int8 and q4 from the recipe and the hub; shows the step and tensor', async () => {
    expect(setHubServer('https://hf-mirror.test/')).toBe(true);
    const done = buildFromOfficialWeights(entry);
    await settle();
    const transfer = engine.transfers[0]!;
    expect(transfer.kind).toBe('build');
    expect(transfer.params).toEqual({
      recipeUrl: new URL('/hub/EVA02-CLIP-B-16/recipe.json', globalThis.location?.href ?? 'http://localhost/')
        .href,
      hubBaseUrl: 'https://hf-mirror.test',
      dtypes: ['int8', 'q4'],
    });
    transfer.onProgress({
      type: 'modelTransfer',
      requestId: 1,
      modelId: entry.id,
      stage: 'quantize',
      file: 'image: visual.trunk.blocks.0.mlp.w1.weight',
      loaded: 12,
      total: 402,
      bytesPerSecond: 0,
      secondsLeft: null,
    });
    runFrames();
    expect(state().transfers[entry.id]).toMatchObject({
      kind: 'build',
      stage: 'quantize',
      loaded: 12,
      file: 'image: visual.trunk.blocks.0.mlp.w1.weight',
    });
    transfer.done.resolve(storedInfo(entry.id));
    await done;
    expect(state().transfers[entry.id]).toBeUndefined();
    expect(state().notices.at(-1)?.text).toContain('was built in this browser and passed its probe check');
  });

  it('a failed build keeps its message (with the step) and the model in use', async () => {
    await loadModel();
    const done = buildFromOfficialWeights(entry);
    await settle();
    engine.transfers[0]!.done.reject(new ManifestError('Converting failed: the checkpoint is not B/16.'));
    await done;
    expect(state().transfers[entry.id]).toMatchObject({
      status: 'error',
      error: 'Converting failed: the checkpoint is not B/16.',
    });
    expect(state().activeModelId).toBe(DEMO_MODEL_ID);
  });

  it('the one-click action builds, then puts the built model in use', async () => {
    await loadModel();
    const done = getModelFromOfficialWeights(entry);
    await settle();
    engine.stored.push(storedInfo(entry.id));
    engine.transfers[0]!.done.resolve(storedInfo(entry.id));
    expect(await done).toBe(true);
    expect(state().activeModelId).toBe(entry.id);
    expect(engine.loadModel.mock.calls.at(-1)![0].source).toEqual({ kind: 'stored', modelId: entry.id });
    expect(state().notices.at(-1)?.text).toContain('is now in use');
  });

  it('a person who cancels the one-click build keeps the demo', async () => {
    await loadModel();
    const done = getModelFromOfficialWeights(entry);
    await settle();
    const cancelled = new Error('Cancelled.');
    cancelled.name = 'CancelledError';
    engine.transfers[0]!.done.reject(cancelled);
    expect(await done).toBe(false);
    expect(state().activeModelId).toBe(DEMO_MODEL_ID);
    expect(state().transfers[entry.id]?.status).toBe('cancelled');
  });

  it('refuses a hub address that is not a web address', () => {
    expect(setHubServer('not a url')).toBe(false);
    expect(setHubServer('ftp://x.test')).toBe(false);
    expect(state().hubBaseUrl).toBe('https://huggingface.co');
    expect(state().notices.at(-1)?.text).toBe('"ftp://x.test" is not a web address.');
  });
});
